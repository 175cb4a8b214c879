import numpy as np
import pytest

from arenas.portfolio.data import Universe, load_universe


@pytest.fixture(scope="session")
def sp500() -> Universe:
    return load_universe("sp500")


@pytest.fixture
def perturbed_after():
    return _perturbed_after


def _perturbed_after(universe: Universe, t: int, seed: int = 0) -> Universe:
    """The same universe with every price after day ``t`` shuffled in time and rescaled."""
    rng = np.random.default_rng(seed)
    prices = np.array(universe.prices)
    future = prices[t + 1:]
    prices[t + 1:] = future[rng.permutation(len(future))] * rng.lognormal(0.0, 0.3, future.shape)
    return Universe.from_prices(universe.name, universe.tickers, universe.dates, prices, "perturbed")
