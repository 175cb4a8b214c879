"""Portfolio-trading arena on real daily prices (skfolio's S&P 500 and factor sets, arch's indices).

    arena = arenas.make("portfolio", rebalance="monthly")
    obs = arena.reset(seed=0)
    result = arena.step('{"AAPL": 0.1, "MSFT": 0.1, "CASH": 0.8}')
"""

from arenas.portfolio.arena import PortfolioArena, PortfolioConfig
from arenas.portfolio.data import Universe, load_universe

__all__ = ["PortfolioArena", "PortfolioConfig", "Universe", "load_universe"]
