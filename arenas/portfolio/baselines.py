"""Classic allocation rules, each a policy that sees only history up to the decision day.

Estimates use the last ``estimation_days`` daily log returns (fewer early in the data). The
estimation-based rules re-fit every ``refit_days`` trading days and in between rebalance back to
their last fitted weights, which is how such funds are run and keeps a daily episode fast.

* ``equal_weight`` - 1/n in every asset, rebalanced every period (the reward's benchmark).
* ``buy_and_hold`` - 1/n once, then never trades.
* ``inverse_variance`` - weights proportional to 1 / variance.
* ``min_variance`` - long-only minimum variance (exact active-set QP) on a covariance shrunk 10%
  toward its diagonal.
* ``mean_variance`` - long-only maximiser of ``mu'w - (gamma/2) w'Sigma w`` with gamma = 5 and
  the mean shrunk halfway to the cross-sectional average.
* ``momentum`` - 12-1 momentum: the top quarter of assets by log return from t-252 to t-21,
  1/k each, if positive; the slots without a positive-momentum asset stay in cash.
* ``random`` - Dirichlet(1) weights (seeded by the episode).
* ``oracle`` - all-in on the asset (or cash) with the best *next* period: it reads the future on
  purpose, as an upper bound, and never through the observations.

``heuristic`` is :data:`HEURISTIC`, the non-oracle rule with the best mean reward (net log
return) over the sp500 dev era's episode windows, chosen without looking at the test era (see
``benchmarks/portfolio_baselines.py --split dev``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from arenas.types import Action, Observation

HEURISTIC = "momentum"
TRADING_DAYS = 252


def equal_weight(n: int) -> np.ndarray:
    w = np.full(n + 1, 1.0 / n)
    w[n] = 0.0
    return w


def _with_cash(risky: np.ndarray) -> np.ndarray:
    return np.append(risky, max(0.0, 1.0 - float(risky.sum())))


def covariance(returns: np.ndarray, shrink: float = 0.1) -> np.ndarray:
    """Annualised sample covariance shrunk toward its diagonal (keeps it well conditioned)."""
    s = np.cov(returns, rowvar=False) * TRADING_DAYS
    s = np.atleast_2d(s)
    return (1 - shrink) * s + shrink * np.diag(np.diag(s))


def inverse_variance(returns: np.ndarray) -> np.ndarray:
    inv = 1.0 / np.maximum(returns.var(0, ddof=1), 1e-12)
    return _with_cash(inv / inv.sum())


def simplex_qp(q: np.ndarray, c: np.ndarray, tol: float = 1e-12, max_iter: int = 500) -> np.ndarray:
    """Exact ``argmin 1/2 w'Qw - c'w`` over long-only fully-invested weights (Q positive
    definite), by a primal active-set method (Nocedal & Wright, Alg. 16.3): a few small linear
    solves, deterministic, and free of the thread contention a general solver suffers on busy
    machines."""
    n = len(c)
    w = np.full(n, 1.0 / n)
    free = np.ones(n, dtype=bool)
    for _ in range(max_iter):
        f = np.flatnonzero(free)
        m = len(f)
        kkt = np.zeros((m + 1, m + 1))
        kkt[:m, :m] = q[np.ix_(f, f)]
        kkt[:m, m] = kkt[m, :m] = 1.0
        sol = np.linalg.solve(kkt, np.append(c[f], 1.0))
        step = sol[:m] - w[f]
        blocking = step < -tol
        ratios = np.full(m, np.inf)
        ratios[blocking] = w[f][blocking] / -step[blocking]
        j = int(np.argmin(ratios))
        if ratios[j] < 1.0:  # a weight hits zero first: fix it there
            w[f] += ratios[j] * step
            w[f[j]] = 0.0
            free[f[j]] = False
            continue
        w[f] = np.maximum(sol[:m], 0.0)
        multipliers = q @ w - c + sol[m]
        multipliers[free] = np.inf
        i = int(np.argmin(multipliers))
        if multipliers[i] >= -tol:
            break
        free[i] = True
    return w / w.sum()


def min_variance(returns: np.ndarray) -> np.ndarray:
    sigma = covariance(returns)
    return _with_cash(simplex_qp(sigma, np.zeros(len(sigma))))


def mean_variance(returns: np.ndarray, risk_aversion: float = 5.0) -> np.ndarray:
    sigma = covariance(returns)
    mu = returns.mean(0) * TRADING_DAYS
    mu = 0.5 * mu + 0.5 * mu.mean()
    return _with_cash(simplex_qp(risk_aversion * sigma, mu))


def momentum(returns: np.ndarray, skip: int = 21) -> np.ndarray:
    n = returns.shape[1]
    k = max(1, n // 4)
    if len(returns) <= skip:
        return equal_weight(n)
    score = returns[:-skip].sum(0)
    w = np.zeros(n)
    for i in np.argsort(-score, kind="stable")[:k]:
        if score[i] > 0:
            w[i] = 1.0 / k
    return _with_cash(w)


ESTIMATORS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "inverse_variance": inverse_variance, "min_variance": min_variance, "mean_variance": mean_variance,
    "momentum": momentum,
}
NAMES = ("equal_weight", "buy_and_hold", *ESTIMATORS, "random", "oracle")


class BaselinePolicy:
    """One named rule playing the arena's current episode: observation -> weight vector."""

    def __init__(self, name: str, arena: Any, estimation_days: int = TRADING_DAYS, refit_days: int = 21):
        if name not in NAMES:
            raise KeyError(f"unknown portfolio policy {name!r}; known: {', '.join(NAMES)}")
        self.name = name
        self.arena = arena
        self.estimation_days = estimation_days
        self.refit_days = refit_days
        self._fit_day: int | None = None
        self._fitted: np.ndarray | None = None

    def weights(self) -> np.ndarray:
        market = self.arena.market
        n = market.n
        if self.name == "equal_weight":
            return equal_weight(n)
        if self.name == "buy_and_hold":
            return equal_weight(n) if market.k == 0 else market.weights.copy()
        if self.name == "random":
            return self.arena.np_random.dirichlet(np.ones(n + 1))
        if self.name == "oracle":
            return np.eye(n + 1)[int(np.argmax(market.next_growth()))]
        if self._fitted is None or market.t - self._fit_day >= self.refit_days:
            history = market.history(self.estimation_days)
            if market.t + 1 == len(history):
                history = history[1:]  # day 0 has no return
            self._fitted = ESTIMATORS[self.name](history) if len(history) >= 20 else equal_weight(n)
            self._fit_day = market.t
        return self._fitted

    def __call__(self, observation: Observation) -> Action:
        return Action(structured=self.weights())
