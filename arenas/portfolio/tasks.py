"""Task source: disjoint eras per split, episode windows sampled deterministically inside them.

An episode is a window of ``periods`` rebalancing decisions, ``period_days`` trading days apart.
Decision ``k`` is taken at the close of day ``t0 + k * period_days``, seeing data up to that day
only; the returns that count lie in ``(t0, t0 + periods * period_days]``, all inside the era of
the split. Train, dev and test eras never overlap, so no test-era return is ever trained on
(the observation lookback of an early test window may reach back into dev-era prices: the past).
The ``factors`` universe is a held-out second market: it has only a test split.
"""

from __future__ import annotations

import zlib

import numpy as np

from arenas.portfolio.data import Universe
from arenas.types import Task

PERIOD_DAYS = {"daily": 1, "weekly": 5, "monthly": 21}
"""Trading days between rebalances (a fixed count of trading days, not calendar weeks/months)."""

TRADING_DAYS = 252
PERIODS_PER_YEAR = {1: 252.0, 5: 52.0, 21: 12.0}
"""Bars per year by trading days per bar (daily 252, weekly 52, monthly 12), for annualising."""


def periods_per_year(period_days: int) -> float:
    return PERIODS_PER_YEAR.get(period_days, TRADING_DAYS / period_days)


#: first and last calendar day (inclusive) whose returns belong to each split
ERAS: dict[str, dict[str, tuple[str, str]]] = {
    # 1990 is history only: RRC's first 69 closes are stale (unchanged), zero variance
    "sp500": {"train": ("1991-01-01", "2012-12-31"), "dev": ("2013-01-01", "2017-12-31"),
              "test": ("2018-01-01", "2022-12-31")},
    # held out: a second market that only has a test split, never seen in training or selection
    "factors": {"test": ("2014-04-01", "2022-12-31")},
    # the arch index series end in 2018, so this universe's test era is 2016-2018
    "indices": {"train": ("1999-01-01", "2012-12-31"), "dev": ("2013-01-01", "2015-12-31"),
                "test": ("2016-01-01", "2018-12-31")},
}


def era_bounds(universe: Universe, split: str, eras: dict[str, tuple[str, str]] | None = None) -> tuple[int, int]:
    """Inclusive day indices ``(a, b)`` of the era's returns."""
    eras = eras or ERAS.get(universe.name) or _default_eras(universe)
    if split not in eras:
        raise KeyError(f"unknown split {split!r}; known: {', '.join(eras)}")
    first, last = eras[split]
    a = universe.index_of(first)
    b = universe.index_of(last)
    if b >= len(universe.dates) or universe.dates[b] > np.datetime64(last, "D"):
        b -= 1
    return a, b


def _default_eras(universe: Universe) -> dict[str, tuple[str, str]]:
    """70/15/15 chronological split for a universe without declared eras (your own data)."""
    d = universe.dates
    cut1, cut2 = int(len(d) * 0.7), int(len(d) * 0.85)
    return {"train": (str(d[1]), str(d[cut1 - 1])), "dev": (str(d[cut1]), str(d[cut2 - 1])),
            "test": (str(d[cut2]), str(d[-1]))}


def make_tasks(universe: Universe, split: str, rebalance: str, horizon_days: int, lookback: int,
               n_tasks: int, version: int) -> list[Task]:
    """The split's episode windows, sorted by start date; deterministic for the arguments.

    ``horizon_days=0`` means one window covering the whole era.
    """
    if rebalance not in PERIOD_DAYS:
        raise ValueError(f"rebalance must be one of {', '.join(PERIOD_DAYS)}, got {rebalance!r}")
    h = PERIOD_DAYS[rebalance]
    eras = ERAS.get(universe.name) or _default_eras(universe)
    if split not in eras and split in ("train", "dev"):
        return []  # a held-out universe (only a test split)
    a, b = era_bounds(universe, split)
    lo = max(a - 1, lookback)
    span = b - lo
    periods = span // h if horizon_days <= 0 else max(1, horizon_days // h)
    hi = b - periods * h
    if periods < 1 or hi < lo:
        raise ValueError(f"{universe.name}/{split}: era too short for {periods} {rebalance} periods "
                         f"with a {lookback}-day lookback")
    starts = np.arange(lo, hi + 1)
    if horizon_days > 0 and len(starts) > n_tasks:
        key = zlib.crc32(f"{universe.name}|{split}|{rebalance}|{horizon_days}|{lookback}".encode())
        rng = np.random.default_rng([version, key])
        starts = np.sort(rng.choice(starts, size=n_tasks, replace=False))
    elif horizon_days <= 0:
        starts = starts[:1]
    return [_task(universe, split, rebalance, int(t0), h, periods) for t0 in starts]


def _task(universe: Universe, split: str, rebalance: str, t0: int, h: int, periods: int) -> Task:
    end = t0 + periods * h
    return Task(
        id=f"{universe.name}/{split}/{universe.date(t0)}/{rebalance}x{periods}",
        split=split,
        prompt={"universe": universe.name, "tickers": list(universe.tickers), "start": universe.date(t0),
                "rebalance": rebalance, "periods": periods},
        reference={"universe": universe.name, "t0": t0, "period_days": h, "periods": periods,
                   "end": universe.date(end)},
        meta={"era_days": periods * h},
    )
