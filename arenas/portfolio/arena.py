"""PortfolioArena: rebalance a long-only portfolio on real daily prices, with costs, no look-ahead.

Two faces on one episode:

* text (LLMs): each decision shows a compact summary (value, weights, recent returns,
  volatility, correlation); the agent replies with JSON weights (``{"AAPL": 0.1, "CASH": 0.9}``),
  ``HOLD``, or tool calls (``returns``, ``covariance``, ``drawdown``, ``prices``, ``rebalance``).
  Tool calls answer without moving time; a reply with weights moves to the next decision.
* structured (classic RL): ``action_space = Box(0, 1, (n + 1,))`` (assets then cash), normalised
  by dividing by the sum; ``observation_space`` is a Dict of the last ``lookback`` daily log
  returns (clipped to [-1, 1]), the current drifted weights and the elapsed fraction. After a
  structured action the observation carries no text, so the step loop stays numpy-only.

By default (``anonymize=True``) the text view, the task ids and prompts show the market under a
disguise (labels, shifted dates, prices rescaled by powers of two; see
:func:`~arenas.portfolio.data.anonymised`) so an LLM cannot recall the period; rewards are
bit-identical to the real-name view.

Rewards come from :mod:`arenas.verifiers.portfolio`: each step's reward is the period's net
log return (config ``reward="excess"``: minus the equal-weight benchmark's); the last step adds
the final breakdown to ``info``. An agent that uses up ``max_turns`` on tool calls holds its
weights for the remaining periods.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from arenas.arena import ArenaConfig, Policy, ToolArena, ToolError
from arenas.portfolio import render
from arenas.portfolio.baselines import HEURISTIC, NAMES, BaselinePolicy
from arenas.portfolio.data import Universe, anonymised, load_universe
from arenas.portfolio.market import Market
from arenas.portfolio.tasks import PERIOD_DAYS, make_tasks, periods_per_year
from arenas.tools import Tool, tool
from arenas.types import Action, Observation, RewardBreakdown, StepResult, Task
from arenas.verifiers import portfolio as pv

MIN_HISTORY = 60
"""Days of history every episode start has (the text summary's 60-day statistics)."""


@dataclass
class PortfolioConfig(ArenaConfig):
    max_turns: int = 0
    """Cap on agent turns; 0 = one per period plus ``tool_turns``."""
    universe: str = "sp500"
    """``sp500`` (20 stocks, 1990-2022), ``factors`` (5 ETFs, 2014-2022; a held-out market with only
    a test split) or ``indices`` (S&P 500 and NASDAQ, 1999-2018); see :mod:`arenas.portfolio.data`."""
    anonymize: bool = True
    """Show the text view (what an LLM reads) under stable labels (A01..), dates shifted by a fixed
    50-100 years and prices rescaled per asset, so a model cannot recall what happened; returns and
    rewards are bit-identical. The structured view carries no names, dates or prices either way."""
    rebalance: str = "weekly"
    """``daily`` (1 trading day), ``weekly`` (5) or ``monthly`` (21)."""
    horizon_days: int = 252
    """Trading days per episode; 0 = one episode spanning the whole era of the split."""
    lookback: int = 60
    """Days of daily log returns in the structured observation."""
    cost_bps: float = 10.0
    """Transaction cost in basis points of the turnover."""
    cost_model: str = "proportional"
    """``proportional`` or ``trf`` (transaction remainder factor, Jiang et al. 2017)."""
    reward: str = "log_return"
    """Step reward: ``log_return`` (net of costs) or ``excess`` (minus the benchmark's)."""
    esg_rate: float = 0.0
    """Annual rate of the optional ESG-style grant/tax (e.g. 0.02); 0 = off."""
    invalid_penalty: float = 0.001
    """Reward subtracted for an invalid action (weights are still executed as repaired)."""
    tasks_per_split: int = 64
    """Episode windows per split (sampled once, deterministically)."""
    tool_turns: int = -1
    """Turns beyond one per period available for tool calls; -1 = as many as periods."""

    def __post_init__(self) -> None:
        if self.rebalance not in PERIOD_DAYS:
            raise ValueError(f"rebalance must be one of {', '.join(PERIOD_DAYS)}")
        if self.cost_model not in pv.COST_MODELS:
            raise ValueError(f"cost_model must be one of {', '.join(pv.COST_MODELS)}")
        if self.reward not in pv.REWARDS:
            raise ValueError(f"reward must be one of {', '.join(pv.REWARDS)}")
        if self.lookback < 2:
            raise ValueError("lookback must be at least 2 days")


REBALANCE_TOOL = Tool(
    name="rebalance",
    description="Submit target weights for this decision (same as replying with the JSON object).",
    parameters={"type": "object", "required": ["weights"], "properties": {"weights": {
        "type": "object", "description": 'ticker -> weight, e.g. {"AAPL": 0.1, "CASH": 0.9}',
        "additionalProperties": {"type": "number"}}}},
)


class PortfolioArena(ToolArena):
    id = "portfolio"
    version = 0
    description = "Portfolio rebalancing on real daily prices with costs and no look-ahead"
    reward_components = tuple(pv.DEFAULT_WEIGHTS)
    policies = ("heuristic", "random", "oracle", *(n for n in NAMES if n not in ("random", "oracle")))
    config_class = PortfolioConfig
    action_grammar = ('target weights as JSON, e.g. {"AAPL": 0.1, "CASH": 0.9} (normalised), or HOLD, or tool '
                      'calls (returns, covariance, drawdown, prices answer without moving time; rebalance trades)')

    def __init__(self, universe: str | Universe = "sp500", **config: Any):
        """``universe`` may also be a loaded :class:`~arenas.portfolio.data.Universe` (tests)."""
        self.data = universe if isinstance(universe, Universe) else load_universe(universe)
        super().__init__(universe=self.data.name, **config)
        self.view = anonymised(self.data) if self.cfg.anonymize else self.data
        """What the episode shows and trades on: the data itself, or its anonymised twin."""
        self._max_turns_cap = self.cfg.max_turns or None
        self.max_turns = self._turn_budget(max(1, self.cfg.horizon_days // PERIOD_DAYS[self.cfg.rebalance]))
        self.invalid_action_penalty = self.cfg.invalid_penalty
        n, lookback = self.data.n_assets, self.cfg.lookback
        self._obs_returns = np.clip(self.view.log_returns, -1.0, 1.0).astype(np.float32)
        self._obs_returns.flags.writeable = False
        self.action_space = spaces.Box(0.0, 1.0, (n + 1,), np.float32)
        self.observation_space = spaces.Dict({
            "returns": spaces.Box(-1.0, 1.0, (lookback, n), np.float32),
            "weights": spaces.Box(0.0, 1.0, (n + 1,), np.float32),
            "progress": spaces.Box(0.0, 1.0, (1,), np.float32),
        })
        self._tasks: dict[str, list[Task]] = {}
        self.market: Market | None = None

    def info(self) -> dict[str, Any]:
        d = super().info()
        if self.cfg.anonymize:
            d["description"] += ("; text view anonymised (default): tickers as stable labels A01.., dates "
                                 "shifted 50-100 years, prices rescaled per asset (-c anonymize=false: real names)")
        return d

    # ---- tasks ------------------------------------------------------------------------
    def tasks(self, split: str) -> list[Task]:
        if split not in self._tasks:
            c = self.cfg
            made = make_tasks(self.data, split, c.rebalance, c.horizon_days, max(c.lookback, MIN_HISTORY),
                              c.tasks_per_split, self.version)
            self._tasks[split] = [self._disguised(t) for t in made] if c.anonymize else made
        return self._tasks[split]

    def _disguised(self, task: Task) -> Task:
        """The task as an anonymised agent may see it: id and prompt carry labels and shifted dates."""
        real, shown = task.prompt["start"], self.view.date(task.reference["t0"])
        return dataclasses.replace(task, id=task.id.replace(real, shown),
                                   prompt={**task.prompt, "tickers": list(self.view.tickers), "start": shown})

    def episode_reference(self, task: Task) -> pv.EpisodeReference:
        """What the verifier needs to score ``task`` (its window's price relatives and the rules)."""
        ref = task.reference
        market = Market(self.view, ref["t0"], ref["period_days"], ref["periods"])
        c = self.cfg
        return pv.EpisodeReference(
            tickers=list(self.view.tickers), gross=market.gross_returns(), cost_bps=c.cost_bps,
            cost_model=c.cost_model, periods_per_year=periods_per_year(ref["period_days"]), reward=c.reward,
            invalid_penalty=c.invalid_penalty, esg_rate=c.esg_rate, esg_scores=self.data.esg_scores(),
            span=(ref["t0"], ref["t0"] + ref["periods"] * ref["period_days"]))

    # ---- episode ----------------------------------------------------------------------
    def first_observation(self, task: Task) -> Observation:
        ref = task.reference
        c = self.cfg
        self.market = Market(self.view, ref["t0"], ref["period_days"], ref["periods"], c.cost_bps, c.cost_model)
        self._reference = self.episode_reference(task)
        periods, n = ref["periods"], self.data.n_assets
        self._targets = np.zeros((periods, n + 1))
        self._invalid = np.zeros(periods)
        bench = pv.simulate(pv.equal_weight_targets(periods, n), self._reference.gross,
                            self._reference.cost_rate, c.cost_model)
        self._benchmark = bench.log_returns if c.reward == "excess" else np.zeros(periods)
        self._esg = np.zeros(n + 1)
        if c.esg_rate:
            self._esg[:n] = c.esg_rate / self._reference.periods_per_year * (self.data.esg_scores() - 50) / 50
        self.max_turns = self._turn_budget(periods)
        names = [t.name for t in self.tools()]
        system = render.rules(self.view.tickers, c.rebalance, periods, c.cost_bps, c.cost_model, names,
                              c.esg_rate, c.reward)
        return Observation(messages=[{"role": "system", "content": system},
                                     {"role": "user", "content": render.summary(self.market, c.rebalance)}],
                           data=self._data())

    def _turn_budget(self, periods: int) -> int:
        extra = periods if self.cfg.tool_turns < 0 else self.cfg.tool_turns
        return self._max_turns_cap or periods + extra

    def _data(self) -> dict[str, Any]:
        m = self.market
        return {"returns": m.history(self.cfg.lookback, self._obs_returns),
                "weights": m.weights.astype(np.float32),  # in [0, 1] exactly: held_i / sum(held)
                "progress": np.array([m.k / m.periods], dtype=np.float32)}

    def _step(self, action: Action) -> StepResult:
        if action.structured is not None:
            return self._advance(action.structured, text=False)
        rebalances = [c for c in action.tool_calls if c.name == REBALANCE_TOOL.name]
        queries = [c for c in action.tool_calls if c.name != REBALANCE_TOOL.name]
        messages: list[dict[str, Any]] = []
        invalid = False
        if queries or action.parse_errors:
            answered = super()._step(Action(tool_calls=queries, parse_errors=action.parse_errors))
            messages = answered.observation.messages
            invalid = bool(answered.info.get("invalid_action"))
        if rebalances:
            extra = ["only one rebalance per turn; the first was used"] if len(rebalances) > 1 else []
            call = rebalances[0]
            return self._advance(call.arguments.get("weights", call.arguments), text=True, from_tool=True,
                                 messages=messages, extra_problems=extra, invalid=invalid)
        if messages:
            return self._tool_turn(messages, invalid)
        return self._advance(action.text, text=True)

    def _tool_turn(self, messages: list[dict[str, Any]], invalid: bool) -> StepResult:
        info: dict[str, Any] = {"invalid_action": invalid}
        if self.turn + 1 < self.max_turns:
            return StepResult(Observation(messages=messages, data=self._data()), 0.0, False, False, info)
        reward = self._hold_to_end()
        info["reward_breakdown"] = self._breakdown()
        info["termination"] = "max_turns"
        return StepResult(Observation(messages=messages, data=self._data()), reward, True, False, info)

    def _advance(self, submission: Any, text: bool, from_tool: bool = False,
                 messages: list[dict[str, Any]] | None = None, extra_problems: list[str] | None = None,
                 invalid: bool = False) -> StepResult:
        """Executes one decision. ``info["submission"]`` records a rebalance tool's weights (the
        action log holds everything else), so :func:`rescore` can replay the episode."""
        m = self.market
        k = m.k
        target, problems = pv.repair_weights(submission, self.view.tickers, m.weights)
        if extra_problems:
            problems = problems + extra_problems
        log_return, turnover = m.rebalance(target)
        self._targets[k] = target
        self._invalid[k] = 1.0 if problems else 0.0
        reward = log_return - self._benchmark[k]
        if self.cfg.esg_rate:
            reward += float(self._esg @ target)
        info: dict[str, Any] = {"invalid_action": bool(problems) or invalid, "period": k,
                                "log_return": log_return, "turnover": turnover}
        if problems:
            info["invalid_reason"] = "; ".join(problems)
        if from_tool:
            info["submission"] = submission
        done = m.finished
        if not done and self.turn + 1 >= self.max_turns:
            reward += self._hold_to_end()
            done = True
            info["termination"] = "max_turns"
        if done:
            info["reward_breakdown"] = self._breakdown()
            info.setdefault("termination", "end_of_window")
        out = list(messages or [])
        if text and not done:
            out.append({"role": "user", "content": render.summary(m, self.cfg.rebalance, problems)})
        elif text:
            out.append({"role": "user", "content": f"Episode over: final value {np.exp(m.log_value):.4f}."})
        return StepResult(Observation(messages=out, data=self._data()), reward, done, False, info)

    def _hold_to_end(self) -> float:
        """No trades for the remaining periods; returns their summed reward."""
        m = self.market
        total = 0.0
        while not m.finished:
            k = m.k
            target = m.weights.copy()
            log_return, _ = m.rebalance(target)
            self._targets[k] = target
            total += log_return - self._benchmark[k] + float(self._esg @ target)
        return total

    def _breakdown(self) -> dict[str, Any]:
        return pv.score(self._targets, self._reference, self._invalid).to_dict()

    # ---- tools (data up to the decision day only) -------------------------------------
    def tools(self) -> list[Tool]:
        return [*super().tools(), REBALANCE_TOOL]

    def _days(self, days: int) -> int:
        if days < 2:
            raise ToolError("days must be at least 2")
        return min(days, self.market.t)

    @tool
    def returns(self, days: int = 20) -> str:
        """Per-asset total return, annualised mean and volatility of daily log returns over the last
        `days` trading days up to today.

        Args:
            days: window length in trading days (at least 2)
        """
        return render.returns_table(self.market, self._days(days))

    @tool
    def covariance(self, days: int = 60) -> str:
        """Annualised volatilities and the correlation matrix of daily returns over the last `days`.

        Args:
            days: window length in trading days (at least 2)
        """
        return render.covariance_table(self.market, self._days(days))

    @tool
    def drawdown(self, days: int = 252) -> str:
        """Maximum and current drawdown of every asset over the last `days`, and of your portfolio.

        Args:
            days: window length in trading days (at least 2)
        """
        return render.drawdown_table(self.market, self._days(days))

    @tool
    def prices(self, ticker: str, days: int = 10) -> str:
        """Adjusted daily closes of one ticker for the last `days` trading days.

        Args:
            ticker: one of the universe's tickers
            days: number of days (at least 2)
        """
        names = [t.upper() for t in self.view.tickers]
        if ticker.strip().upper() not in names:
            raise ToolError(f"unknown ticker {ticker!r}; tickers: {', '.join(self.view.tickers)}")
        return render.price_table(self.market, names.index(ticker.strip().upper()), self._days(days))

    # ---- baselines --------------------------------------------------------------------
    def policy(self, name: str) -> Policy | None:
        """``heuristic`` (= :data:`~arenas.portfolio.baselines.HEURISTIC`), ``random``, ``oracle``
        or any rule in :data:`~arenas.portfolio.baselines.NAMES`."""
        name = HEURISTIC if name == "heuristic" else name
        return BaselinePolicy(name, self) if name in NAMES else None


    def replay(self, task: Task, turns: list[dict[str, Any]]) -> pv.Replay:
        """Recomputes a recorded episode of ``task`` from its action log alone."""
        submissions = [_submission(turn) for turn in turns if "period" in turn["info"]]
        return pv.replay(submissions, self.episode_reference(task))

    def rescore(self, task: Task, turns: list[dict[str, Any]]) -> RewardBreakdown:
        return self.replay(task, turns).breakdown


def rescore(trajectory: Any, **config: Any) -> pv.Replay:
    """Recomputes a recorded episode (a :class:`~arenas.trajectory.Trajectory` or its JSON dict)
    from its action log alone. ``config`` must be the arena config the episode ran with."""
    t = trajectory if isinstance(trajectory, dict) else dataclasses.asdict(trajectory)
    arena = PortfolioArena(split=t["split"], **config)
    task = next((x for x in arena.tasks(t["split"]) if x.id == t["task_id"]), None)
    if task is None:
        raise KeyError(f"task {t['task_id']!r} is not in split {t['split']!r} under this config")
    return arena.replay(task, t["turns"])


def _submission(turn: dict[str, Any]) -> Any:
    """What a recorded decision turn submitted: rebalance-tool weights, a vector or the text."""
    if "submission" in turn["info"]:
        return turn["info"]["submission"]
    action = Action.from_dict(turn["action"])
    return action.structured if action.structured is not None else action.text
