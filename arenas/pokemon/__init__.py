"""Pokémon VGC doubles on a local Pokémon Showdown server.

- :mod:`~arenas.pokemon.arena`: :class:`PokemonArena`, one seat against an opponent (the registered arena);
- :mod:`~arenas.pokemon.battle`: :class:`PokemonBattleArena`, both seats as agents (multi-agent contract);
- :mod:`~arenas.pokemon.pettingzoo_env`: the PettingZoo ``ParallelEnv`` face;
- :mod:`~arenas.pokemon.evaluation`: cross-evaluation (payoff matrix, ratings);
- :mod:`~arenas.pokemon.server`, :mod:`~arenas.pokemon.teams`: the server and the team pool.

Install the pinned server with ``bash arenas/pokemon/install.sh``.
"""
