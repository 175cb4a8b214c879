"""Registration of the built-in arenas (by import path: nothing heavy is imported here)."""

from arenas.registry import register

register("sql", "arenas.sql.arena:SQLArena", version=0,
         summary="Table/SQL reasoning over real relational databases, test-suite execution verifier")
register("memory", "arenas.memory.arena:MemoryArena", version=0,
         summary="mallocGame: map tensor buffers of real model graphs to fast/slow memory")
register("portfolio", "arenas.portfolio.arena:PortfolioArena", version=0, extra="portfolio",
         summary="Portfolio rebalancing on real daily prices with costs and no look-ahead")
register("pokemon", "arenas.pokemon.arena:PokemonArena", version=0, extra="pokemon",
         summary="Pokemon VGC doubles on a real Showdown server")
