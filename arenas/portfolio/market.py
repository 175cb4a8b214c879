"""The portfolio's dynamics over one episode window, one rebalance at a time (numpy only).

Between rebalances the weights drift with prices; at a rebalance the turnover
``sum_i |target_i - drifted_i|`` (risky assets) is charged at ``cost_bps`` either proportionally
or with the transaction remainder factor. Cash earns 0. Everything the agent may observe goes
through :meth:`Market.history`, which refuses any row after the decision day ``t``.
"""

from __future__ import annotations

import math

import numpy as np

from arenas.portfolio.data import Universe


class LookAheadError(AssertionError):
    """An observation asked for data after the decision time."""


def trf_factor(pre: np.ndarray, target: np.ndarray, c: float) -> float:
    """Transaction remainder factor (Jiang et al. 2017, eq. 14, equal buy/sell rates ``c``)."""
    both = 2 * c - c * c
    mu = 1 - c * float(np.abs(target[:-1] - pre[:-1]).sum())
    for _ in range(200):
        sells = float(np.maximum(pre[:-1] - mu * target[:-1], 0.0).sum())
        new = (1 - c * pre[-1] - both * sells) / (1 - c * target[-1])
        if abs(new - mu) < 1e-15:
            return new
        mu = new
    return mu


class Market:
    """State of one window: the decision days, the drifted weights, the log value."""

    def __init__(self, universe: Universe, t0: int, period_days: int, periods: int,
                 cost_bps: float = 10.0, cost_model: str = "proportional"):
        if cost_model not in ("proportional", "trf"):
            raise ValueError(f"cost_model must be 'proportional' or 'trf', got {cost_model!r}")
        self.universe = universe
        self.days = t0 + period_days * np.arange(periods + 1)
        if self.days[-1] >= len(universe.dates):
            raise ValueError("the window runs past the end of the data")
        prices = universe.prices
        self.n = universe.n_assets
        # period price relatives, cash last; used only to move time forward, never observed
        self._growth = np.ones((periods, self.n + 1))
        self._growth[:, :self.n] = prices[self.days[1:]] / prices[self.days[:-1]]
        self.periods = periods
        self.cost_rate = cost_bps / 1e4
        self.trf = cost_model == "trf"
        self.k = 0
        self.t = t0
        """Index of the current decision day."""
        self.weights = np.zeros(self.n + 1)
        self.weights[self.n] = 1.0
        self.log_value = 0.0
        self.last_log_return = 0.0
        self.path = np.zeros(periods + 1)
        """Log value after each period (``path[:k+1]`` is known at decision ``k``)."""

    @property
    def finished(self) -> bool:
        return self.k >= self.periods

    def gross_returns(self) -> np.ndarray:
        """``(periods, n)`` price relatives of the whole window: for the verifier's reference only."""
        return self._growth[:, :self.n].copy()

    def next_growth(self) -> np.ndarray:
        """The coming period's price relatives (cash last): the future, for the oracle only."""
        return self._growth[self.k].copy()

    def history(self, days: int, source: np.ndarray | None = None) -> np.ndarray:
        """The last ``days`` rows, ending at the decision day ``t``, of a per-day array (default:
        daily log returns). Every observation and tool reads data through here."""
        return self.rows(self.t + 1 - days, self.t + 1, source)

    def rows(self, start: int, stop: int, source: np.ndarray | None = None) -> np.ndarray:
        """Rows ``start:stop`` of a per-day array; raises :class:`LookAheadError` past ``t``."""
        if stop > self.t + 1:
            raise LookAheadError(f"rows up to {stop - 1} requested at decision day {self.t}")
        return (self.universe.log_returns if source is None else source)[max(0, start):stop]

    def rebalance(self, target: np.ndarray) -> tuple[float, float]:
        """Trades to ``target`` (already valid, sums to 1), lets one period pass.
        Returns (net log return, turnover)."""
        w = self.weights
        turnover = float(np.abs(target[:-1] - w[:-1]).sum())
        factor = trf_factor(w, target, self.cost_rate) if self.trf else 1 - self.cost_rate * turnover
        held = target * self._growth[self.k]
        growth = float(held.sum())
        self.weights = held / growth
        log_return = math.log(factor) + math.log(growth)
        self.log_value += log_return
        self.last_log_return = log_return
        self.k += 1
        self.t = int(self.days[self.k])
        self.path[self.k] = self.log_value
        return log_return, turnover
