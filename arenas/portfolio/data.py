"""Real daily price data, loaded once from installed packages and cached as numpy arrays.

Provenance (no network at run time; the data ship inside the wheels):

* ``sp500`` - adjusted daily closes of 20 S&P 500 stocks, 1990-01-02 .. 2022-12-28, from
  ``skfolio.datasets.load_sp500_dataset`` (skfolio's bundled ``sp500_dataset.csv.gz``).
* ``factors`` - adjusted daily closes of 5 iShares factor ETFs (MTUM, QUAL, SIZE, USMV, VLUE),
  2014-01-02 .. 2022-12-28, from ``skfolio.datasets.load_factors_dataset``.
* ``indices`` - adjusted daily closes of the S&P 500 and NASDAQ Composite indices,
  1999-01-04 .. 2018-12-31, from ``arch.data.sp500`` / ``arch.data.nasdaq`` (Yahoo Finance
  extracts bundled with ``arch``), aligned on common dates.

The first build writes one ``.npz`` per universe under ``$ARENAS_HOME/portfolio/v1`` (with
SHA-256 checksums); later loads read those arrays and never import pandas.
"""

from __future__ import annotations

import functools
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arenas.engines.cache import cached_build

CACHE_NAME = "portfolio/v1"
UNIVERSES = ("sp500", "factors", "indices")

PROVENANCE = {
    "sp500": "skfolio.datasets.load_sp500_dataset (20 S&P 500 stocks, adjusted closes)",
    "factors": "skfolio.datasets.load_factors_dataset (5 iShares factor ETFs, adjusted closes)",
    "indices": "arch.data.sp500 + arch.data.nasdaq ('Adj Close', common dates)",
}

#: Illustrative ESG-style scores (0-100) for the optional regulation term. They are NOT real
#: ratings from any provider: they only give the grant/tax mechanism something to act on.
ESG_SCORES: dict[str, float] = {
    "AAPL": 70, "AMD": 60, "BAC": 45, "BBY": 65, "CVX": 30, "GE": 50, "HD": 60, "JNJ": 65,
    "JPM": 45, "KO": 65, "LLY": 60, "MRK": 65, "MSFT": 80, "PEP": 70, "PFE": 60, "PG": 70,
    "RRC": 20, "UNH": 55, "WMT": 50, "XOM": 25,
    "MTUM": 55, "QUAL": 60, "SIZE": 50, "USMV": 60, "VLUE": 45, "SP500": 50, "NASDAQ": 55,
}


@dataclass(frozen=True, eq=False)
class Universe:
    """Aligned daily prices of one asset universe.

    ``prices[t]`` is the adjusted close of day ``dates[t]``; ``log_returns[t]`` is
    ``log(prices[t] / prices[t-1])`` (row 0 is zero). Arrays are read-only, so nothing downstream
    can edit history by accident.
    """

    name: str
    tickers: tuple[str, ...]
    dates: np.ndarray
    """``datetime64[D]``, strictly increasing."""
    prices: np.ndarray
    """``float64 (T, n)``, strictly positive."""
    log_returns: np.ndarray
    """``float64 (T, n)``."""
    source: str = ""

    @classmethod
    def from_prices(cls, name: str, tickers: tuple[str, ...] | list[str], dates: np.ndarray,
                    prices: np.ndarray, source: str = "") -> Universe:
        """Validates and freezes a price table (also the way to bring your own data)."""
        prices = np.array(prices, dtype=np.float64)
        dates = np.array(dates, dtype="datetime64[D]")
        if prices.ndim != 2 or prices.shape != (len(dates), len(tickers)):
            raise ValueError(f"prices must be (len(dates), len(tickers)), got {prices.shape}")
        if not np.all(np.isfinite(prices)) or np.any(prices <= 0):
            raise ValueError("prices must be finite and positive")
        if np.any(np.diff(dates) <= np.timedelta64(0, "D")):
            raise ValueError("dates must be strictly increasing")
        logs = np.zeros_like(prices)
        logs[1:] = np.log(prices[1:] / prices[:-1])
        for a in (prices, dates, logs):
            a.flags.writeable = False
        return cls(name, tuple(str(t).upper() for t in tickers), dates, prices, logs, source)

    @property
    def n_assets(self) -> int:
        return len(self.tickers)

    def index_of(self, date: str) -> int:
        """Index of the first trading day on or after ``date`` (``YYYY-MM-DD``)."""
        return int(np.searchsorted(self.dates, np.datetime64(date, "D")))

    def date(self, t: int) -> str:
        return str(self.dates[t])

    def esg_scores(self) -> np.ndarray:
        """The illustrative score of every ticker (50, neutral, for unknown ones)."""
        return np.array([ESG_SCORES.get(t, 50.0) for t in self.tickers], dtype=np.float64)


def _frame_to_arrays(frame) -> tuple[list[str], np.ndarray, np.ndarray]:  # pandas DataFrame
    frame = frame.sort_index().dropna(how="any")
    dates = frame.index.values.astype("datetime64[D]")
    return [str(c) for c in frame.columns], dates, frame.to_numpy(dtype=np.float64)


def _load_source(name: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    if name == "sp500":
        from skfolio.datasets import load_sp500_dataset

        return _frame_to_arrays(load_sp500_dataset())
    if name == "factors":
        from skfolio.datasets import load_factors_dataset

        return _frame_to_arrays(load_factors_dataset())
    if name == "indices":
        import pandas as pd
        from arch.data import nasdaq, sp500

        frame = pd.concat({"SP500": sp500.load()["Adj Close"], "NASDAQ": nasdaq.load()["Adj Close"]},
                          axis=1, join="inner")
        return _frame_to_arrays(frame)
    raise KeyError(f"unknown universe {name!r}; known: {', '.join(UNIVERSES)}")


def _build(folder: Path) -> None:
    meta = {}
    for name in UNIVERSES:
        tickers, dates, prices = _load_source(name)
        np.savez(folder / f"{name}.npz", tickers=np.array(tickers), dates=dates, prices=prices)
        meta[name] = {"source": PROVENANCE[name], "rows": len(dates), "first": str(dates[0]),
                      "last": str(dates[-1]), "tickers": tickers}
    (folder / "PROVENANCE.json").write_text(json.dumps(meta, indent=1))


@functools.cache
def load_universe(name: str) -> Universe:
    """The named universe, built into the cache on first use."""
    if name not in UNIVERSES:
        raise KeyError(f"unknown universe {name!r}; known: {', '.join(UNIVERSES)}")
    folder = cached_build(CACHE_NAME, _build)
    with np.load(folder / f"{name}.npz") as z:
        return Universe.from_prices(name, [str(t) for t in z["tickers"]], z["dates"], z["prices"],
                                    PROVENANCE[name])


def anonymised(universe: Universe) -> Universe:
    """The same market under a disguise an LLM cannot look up: tickers become stable labels
    (``A01``.. in a fixed shuffled order), dates move forward by a fixed 50 to 100 years (whole
    weeks, so weekdays stay) and each asset's prices are multiplied by a fixed power of two.

    Powers of two keep every price ratio, hence every return and reward, bit-identical to the
    real data; all three choices are seeded by the universe's name, so labels are stable across
    episodes and runs."""
    rng = np.random.default_rng(zlib.crc32(f"anonymise|{universe.name}".encode()))
    n = universe.n_assets
    labels = [f"A{i + 1:02d}" for i in rng.permutation(n)]
    shift = np.timedelta64(7 * int(rng.integers(2609, 5218)), "D")
    scale = np.exp2(rng.integers(-4, 5, size=n).astype(np.float64))
    return Universe.from_prices(universe.name, labels, universe.dates + shift, universe.prices * scale,
                                f"{universe.source} (anonymised)")
