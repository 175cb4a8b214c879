"""Portfolio rewards, recomputed from the submitted weights and the window's price relatives alone.

The reward of a rebalancing episode is fully determined by (a) what the agent submitted each
period and (b) the gross return of every asset over every period. This module turns (a) into
executed target weights with one documented repair rule, simulates the portfolio with costs in a
vectorised pass that shares no code with the arena's step loop, and scores it against the
equal-weight-rebalanced portfolio on the same window.

Conventions: weight vectors have ``n + 1`` entries, the risky assets in ticker order then cash
(which earns 0). Turnover is ``sum_i |target_i - drifted_i|`` over the risky assets.

Repair rule (a submission with any problem is an *invalid action*: it is still executed as
repaired, and the arena subtracts its ``invalid_penalty``):

* ``None`` or the text ``HOLD``: no trade (valid).
* text: the first JSON object (or array) in it is used; no JSON -> no trade (invalid).
* mapping ``{"TICKER": w, ..., "CASH": w}``: tickers are case-insensitive; numbers, numeric
  strings and percent strings (``"10%"``) are accepted. Unknown tickers are ignored; NaN,
  infinite, non-numeric and negative weights count as 0 (long-only). Without ``CASH`` the cash
  weight is the remainder ``1 - sum``; a sum further than :data:`SUM_TOLERANCE` from 1 is
  rescaled to 1 (invalid), a smaller mismatch is rescaled silently.
* vector of ``n + 1`` numbers (the structured view): NaN/infinite/negative entries count as 0
  (invalid), then the vector is divided by its sum - so any non-negative vector, e.g. a sample
  of ``Box(0, 1)``, is a valid action. All zeros -> all cash (invalid). Wrong length -> no trade.

Cost models: ``proportional`` (value x ``1 - c * turnover``) or ``trf``, the transaction
remainder factor of Jiang et al. (2017), solved by fixed-point iteration, with equal buy and sell
rates ``c = cost_bps / 1e4``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arenas.verifiers.base import Component, RewardBreakdown, Rubric, Verdict

CASH = "CASH"
SUM_TOLERANCE = 0.01
COST_MODELS = ("proportional", "trf")
REWARDS = ("log_return", "excess")
DEFAULT_WEIGHTS: dict[str, float] = {"excess_log_return": 1.0, "log_return": 0.0, "sharpe_diff": 0.0,
                                     "max_drawdown": 0.0, "turnover": 0.0, "esg_regulation": 1.0,
                                     "invalid_periods": 0.0}
"""Rubric weights of the final components (the breakdown total); :func:`reward_weights` sets the
return and penalty weights so the total is the sum of the step rewards of the reward mode."""


@dataclass
class EpisodeReference:
    """Everything the reward depends on besides the submissions."""

    tickers: list[str]
    gross: np.ndarray
    """``(periods, n)`` price relatives ``P[t_{k+1}] / P[t_k]`` of every period."""
    cost_bps: float = 10.0
    cost_model: str = "proportional"
    periods_per_year: float = 52.0
    reward: str = "log_return"
    """``log_return``: step reward = net log return; ``excess``: minus the benchmark's."""
    invalid_penalty: float = 0.001
    esg_rate: float = 0.0
    """Annual grant (score > 50) or tax (score < 50) rate of the regulation term; 0 = off."""
    esg_scores: np.ndarray | None = None
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    span: tuple[int, int] | None = None
    """First and last day index of the window: reported as ``details["time_span"]`` so a run's
    summary can bootstrap overlapping windows in blocks over time."""

    @property
    def n_assets(self) -> int:
        return len(self.tickers)

    @property
    def cost_rate(self) -> float:
        return self.cost_bps / 1e4


# ---- submissions -> target weights ---------------------------------------------------------
def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.floating, np.integer)):
        return float(value)
    if isinstance(value, str):
        s = value.strip()
        scale = 0.01 if s.endswith("%") else 1.0
        try:
            return float(s.rstrip("%").strip()) * scale
        except ValueError:
            return None
    return None


def extract_json(text: str) -> Any:
    """The first JSON object or array in ``text`` (fences and prose around it are fine), else None."""
    decoder = json.JSONDecoder()
    for m in re.finditer(r"[{\[]", text):
        try:
            return decoder.raw_decode(text, m.start())[0]
        except json.JSONDecodeError:
            continue
    return None


def _from_mapping(sub: Mapping[Any, Any], tickers: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    n = len(tickers)
    index = {t.upper(): i for i, t in enumerate(tickers)}
    index[CASH] = n
    w = np.zeros(n + 1)
    given: set[int] = set()
    problems: list[str] = []
    unknown, bad, negative = [], [], []
    for key, value in sub.items():
        i = index.get(str(key).strip().upper())
        if i is None:
            unknown.append(str(key))
            continue
        x = _number(value)
        if x is None or not math.isfinite(x):
            bad.append(str(key))
            x = 0.0
        elif x < 0:
            negative.append(str(key))
            x = 0.0
        if i in given:
            problems.append(f"{tickers[i] if i < n else CASH} given twice; the last value was used")
        w[i] = x
        given.add(i)
    if unknown:
        problems.append(f"unknown ticker(s) ignored: {', '.join(unknown[:5])}; tickers: {', '.join(tickers)}, CASH")
    if bad:
        problems.append(f"non-numeric or non-finite weight(s) set to 0: {', '.join(bad[:5])}")
    if negative:
        problems.append(f"negative weight(s) set to 0 (long-only): {', '.join(negative[:5])}")
    risky = float(w[:n].sum())
    if n not in given:
        if risky > 1 + SUM_TOLERANCE:
            problems.append(f"weights sum to {risky:.4g} > 1; rescaled to sum to 1 with no cash")
        w[n] = max(0.0, 1.0 - risky)
    total = float(w.sum())
    if total <= 0:
        problems.append("all weights are zero; holding all cash")
        w[:] = 0.0
        w[n] = 1.0
        return w, problems
    if n in given and abs(total - 1) > SUM_TOLERANCE:
        problems.append(f"weights sum to {total:.4g}, not 1; rescaled to sum to 1")
    return _normalised(w, total), problems


def _normalised(w: np.ndarray, total: float) -> np.ndarray:
    if not math.isfinite(total):  # huge but finite entries overflow the sum
        w = w / w.max()
        total = float(w.sum())
    return w / total


def _from_vector(sub: Any, n: int) -> tuple[np.ndarray | None, list[str]]:
    try:
        v = np.asarray(sub, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return None, ["the weight vector is not numeric; no trade"]
    if v.shape[0] != n + 1:
        return None, [f"expected {n + 1} weights ({n} assets then cash), got {v.shape[0]}; no trade"]
    total = float(v.sum())
    if 0 < total < math.inf and v.min() >= 0:  # the common case, in two reductions (NaN fails both)
        return v / total, []
    problems = []
    v = v.copy()  # repaired in place below; never the caller's array
    finite = np.isfinite(v)
    if not finite.all():
        problems.append("non-finite weight(s) set to 0")
        v[~finite] = 0.0
    if (v < 0).any():
        problems.append("negative weight(s) set to 0 (long-only)")
        v[v < 0] = 0.0
    total = v.sum()
    if total <= 0:
        problems.append("all weights are zero; holding all cash")
        v[:] = 0.0
        v[n] = 1.0
        return v, problems
    return _normalised(v, float(total)), problems


def repair_weights(submission: Any, tickers: Sequence[str], current: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Executed target weights for ``submission`` and the problems found (empty = valid).

    ``current`` are the drifted weights before trading (used for "no trade").
    """
    n = len(tickers)
    if isinstance(submission, np.ndarray):
        w, problems = _from_vector(submission, n)
        return (current.copy(), problems) if w is None else (w, problems)
    if submission is None:
        return current.copy(), []
    if isinstance(submission, str):
        if submission.strip().upper() == "HOLD":
            return current.copy(), []
        parsed = extract_json(submission)
        if parsed is None:
            return current.copy(), ['no weights found: reply with a JSON object such as {"'
                                    f'{tickers[0]}": 0.1, "{CASH}": 0.9}} (or HOLD); no trade']
        submission = parsed
    if isinstance(submission, Mapping):
        return _from_mapping(submission, tickers)
    if isinstance(submission, (list, tuple)):
        w, problems = _from_vector(submission, n)
        return (current.copy(), problems) if w is None else (w, problems)
    return current.copy(), [f"weights must be a JSON object or a list, got {type(submission).__name__}; no trade"]


# ---- the vectorised simulation ----------------------------------------------------------------
@dataclass
class Simulation:
    """Per-period arrays of one simulated portfolio."""

    targets: np.ndarray
    log_returns: np.ndarray
    turnover: np.ndarray
    cost_factor: np.ndarray


def _trf(pre: np.ndarray, targets: np.ndarray, c: float) -> np.ndarray:
    """Jiang et al. (2017) eq. 14 with c_s = c_p = c, all periods at once."""
    both = 2 * c - c * c
    mu = 1 - c * np.abs(targets[:, :-1] - pre[:, :-1]).sum(1)
    for _ in range(200):
        sells = np.maximum(pre[:, :-1] - mu[:, None] * targets[:, :-1], 0.0).sum(1)
        new = (1 - c * pre[:, -1] - both * sells) / (1 - c * targets[:, -1])
        done = np.max(np.abs(new - mu)) < 1e-15
        mu = new
        if done:
            break
    return mu


def simulate(targets: np.ndarray, gross: np.ndarray, cost_rate: float, cost_model: str = "proportional",
             initial: np.ndarray | None = None) -> Simulation:
    """Net log returns of rebalancing to ``targets`` (periods x n+1) each period.

    The portfolio starts as ``initial`` (default all cash)."""
    if cost_model not in COST_MODELS:
        raise ValueError(f"cost_model must be one of {COST_MODELS}, got {cost_model!r}")
    periods, n = gross.shape
    g = np.ones((periods, n + 1))
    g[:, :n] = gross
    held = targets * g
    growth = held.sum(1)
    pre = np.empty_like(targets)
    if initial is None:
        pre[0] = 0.0
        pre[0, n] = 1.0
    else:
        pre[0] = initial
    pre[1:] = held[:-1] / growth[:-1, None]
    turnover = np.abs(targets[:, :n] - pre[:, :n]).sum(1)
    factor = 1 - cost_rate * turnover if cost_model == "proportional" else _trf(pre, targets, cost_rate)
    return Simulation(targets, np.log(factor) + np.log(growth), turnover, factor)


def equal_weight_targets(periods: int, n: int) -> np.ndarray:
    t = np.full((periods, n + 1), 1.0 / n)
    t[:, n] = 0.0
    return t


def sharpe(log_returns: np.ndarray, periods_per_year: float) -> float:
    """Annualised Sharpe ratio of per-period log returns (0 when undefined)."""
    if len(log_returns) < 2:
        return 0.0
    sd = float(np.std(log_returns, ddof=1))
    return 0.0 if sd < 1e-12 else float(np.mean(log_returns)) / sd * math.sqrt(periods_per_year)


def max_drawdown(log_returns: np.ndarray) -> float:
    """Largest peak-to-trough loss of the equity curve, as a fraction of the peak."""
    curve = np.concatenate([[0.0], np.cumsum(log_returns)])
    return float(1 - np.exp(np.min(curve - np.maximum.accumulate(curve))))


@dataclass
class EpisodeStats:
    """The candidate the rubric scores: the agent's and the benchmark's simulations."""

    agent: Simulation
    benchmark: Simulation
    esg: np.ndarray
    invalid: np.ndarray
    periods_per_year: float

    def step_rewards(self, reference: EpisodeReference) -> np.ndarray:
        base = self.agent.log_returns - (self.benchmark.log_returns if reference.reward == "excess" else 0.0)
        return base + self.esg - reference.invalid_penalty * self.invalid


def episode_stats(targets: np.ndarray, reference: EpisodeReference, invalid: np.ndarray | None = None) -> EpisodeStats:
    periods, n = reference.gross.shape
    agent = simulate(targets, reference.gross, reference.cost_rate, reference.cost_model)
    bench = simulate(equal_weight_targets(periods, n), reference.gross, reference.cost_rate, reference.cost_model)
    esg = np.zeros(periods)
    if reference.esg_rate and reference.esg_scores is not None:
        esg = reference.esg_rate / reference.periods_per_year * (targets[:, :n] @ ((reference.esg_scores - 50) / 50))
    inv = np.zeros(periods) if invalid is None else np.asarray(invalid, dtype=np.float64)
    return EpisodeStats(agent, bench, esg, inv, reference.periods_per_year)


# ---- rubric components ------------------------------------------------------------------------
def excess_log_return(stats: EpisodeStats, reference: Any, context: Any) -> Verdict:
    mine, bench = float(stats.agent.log_returns.sum()), float(stats.benchmark.log_returns.sum())
    return Verdict(mine - bench, mine > bench, {"log_return": mine, "benchmark_log_return": bench,
                                                "final_value": math.exp(mine)})


def sharpe_diff(stats: EpisodeStats, reference: Any, context: Any) -> Verdict:
    mine = sharpe(stats.agent.log_returns, stats.periods_per_year)
    bench = sharpe(stats.benchmark.log_returns, stats.periods_per_year)
    return Verdict(mine - bench, mine > bench, {"sharpe": mine, "benchmark_sharpe": bench})


def drawdown(stats: EpisodeStats, reference: Any, context: Any) -> Verdict:
    mine, bench = max_drawdown(stats.agent.log_returns), max_drawdown(stats.benchmark.log_returns)
    return Verdict(mine, mine <= bench, {"benchmark_max_drawdown": bench})


def turnover(stats: EpisodeStats, reference: Any, context: Any) -> Verdict:
    """Annualised one-way turnover (sum of |weight changes| per year, the initial buy included)."""
    years = len(stats.agent.turnover) / stats.periods_per_year
    value = float(stats.agent.turnover.sum()) / years
    return Verdict(value, True, {"cost_paid_log": float(-np.log(stats.agent.cost_factor).sum())})


def esg_regulation(stats: EpisodeStats, reference: Any, context: Any) -> Verdict:
    value = float(stats.esg.sum())
    return Verdict(value, value >= 0)


def log_return(stats: EpisodeStats, reference: Any, context: Any) -> Verdict:
    """The net log return of the episode (costs included)."""
    value = float(stats.agent.log_returns.sum())
    return Verdict(value, value > 0, {"final_value": math.exp(value)})


def invalid_periods(stats: EpisodeStats, reference: Any, context: Any) -> Verdict:
    """Minus the number of periods with an invalid action (weight it by the per-action penalty)."""
    n = int(stats.invalid.sum())
    return Verdict(-float(n), n == 0, {"invalid": n})


def reward_weights(reference: EpisodeReference) -> dict[str, float]:
    """The reference's weights with the return and penalty weights of its reward mode, so the
    breakdown total equals the sum of the step rewards the arena paid."""
    excess = reference.reward == "excess"
    return {**reference.weights, "excess_log_return": 1.0 if excess else 0.0, "log_return": 0.0 if excess else 1.0,
            "esg_regulation": 1.0, "invalid_periods": reference.invalid_penalty}


def rubric(weights: Mapping[str, float] | None = None) -> Rubric:
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    fns = {"excess_log_return": excess_log_return, "log_return": log_return, "sharpe_diff": sharpe_diff,
           "max_drawdown": drawdown, "turnover": turnover, "esg_regulation": esg_regulation,
           "invalid_periods": invalid_periods}
    return Rubric([Component(name, fn, w[name]) for name, fn in fns.items()], success="excess_log_return")


def _breakdown(stats: EpisodeStats, reference: EpisodeReference) -> RewardBreakdown:
    out = rubric(reward_weights(reference)).score(stats, reference)
    out.details["invalid_periods"] = int(stats.invalid.sum())
    if reference.span is not None:
        out.details["time_span"] = [int(reference.span[0]), int(reference.span[1])]
    return out


def score(targets: np.ndarray, reference: EpisodeReference, invalid: np.ndarray | None = None) -> RewardBreakdown:
    """The final breakdown of an episode that executed ``targets``."""
    return _breakdown(episode_stats(targets, reference, invalid), reference)


@dataclass
class Replay:
    targets: np.ndarray
    invalid: np.ndarray
    problems: list[list[str]]
    step_rewards: np.ndarray
    """Per period, as the arena paid them (invalid penalties included)."""
    breakdown: RewardBreakdown


def replay(submissions: Sequence[Any], reference: EpisodeReference) -> Replay:
    """Recomputes an episode from its per-period submissions (missing trailing periods: no trade)."""
    periods, n = reference.gross.shape
    if len(submissions) > periods:
        raise ValueError(f"{len(submissions)} submissions for a {periods}-period window")
    targets = np.empty((periods, n + 1))
    invalid = np.zeros(periods)
    problems: list[list[str]] = []
    current = np.zeros(n + 1)
    current[n] = 1.0
    g = np.ones(n + 1)
    for k in range(periods):
        sub = submissions[k] if k < len(submissions) else None
        w, errs = repair_weights(sub, reference.tickers, current)
        targets[k], invalid[k] = w, bool(errs)
        problems.append(errs)
        g[:n] = reference.gross[k]
        held = w * g
        current = held / held.sum()
    stats = episode_stats(targets, reference, invalid)
    return Replay(targets, invalid, problems, stats.step_rewards(reference), _breakdown(stats, reference))
