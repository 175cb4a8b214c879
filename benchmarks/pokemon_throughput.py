"""Arena vs bare poke-env throughput on the same Showdown server, in the same run.

Bare: poke-env's SimpleHeuristicsPlayer vs RandomPlayer playing entirely inside poke-env's event
loop. Arena: the same policies through PokemonArena (text actions parsed and checked, the
heuristic seat's text observation rendered, outcome scored from the server log), one arena per
thread. Prints battles/s for both and the ratio (target >= 0.70).

    python benchmarks/pokemon_throughput.py [--battles 40] [--concurrency 1 4]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from poke_env.concurrency import POKE_LOOP
from poke_env.player import RandomPlayer, SimpleHeuristicsPlayer
from poke_env.ps_client import AccountConfiguration, ServerConfiguration
from poke_env.teambuilder import Teambuilder

from arenas.pokemon import server, teams
from arenas.pokemon.arena import PokemonArena


class Cycling(Teambuilder):
    def __init__(self, texts: list[str]):
        self.packed = [self.join_team(self.parse_showdown_team(t)) for t in texts]
        self.i = 0

    def yield_team(self) -> str:
        self.i += 1
        return self.packed[self.i % len(self.packed)]


def bare(url: str, n: int, concurrency: int, tag: str) -> float:
    fmt = teams.DEFAULT_FORMAT
    pool = [t.text for t in teams.team_set(fmt, 16)]
    conf = ServerConfiguration(url, "")
    kw = dict(server_configuration=conf, battle_format=fmt, max_concurrent_battles=concurrency,
              accept_open_team_sheet=True, log_level=50)
    p1 = SimpleHeuristicsPlayer(account_configuration=AccountConfiguration(f"bh{tag}", None),
                                team=Cycling(pool), **kw)
    p2 = RandomPlayer(account_configuration=AccountConfiguration(f"br{tag}", None), team=Cycling(pool[::-1]), **kw)
    asyncio.run_coroutine_threadsafe(p1.battle_against(p2, n_battles=2), POKE_LOOP).result(300)  # warm-up
    start = time.perf_counter()
    asyncio.run_coroutine_threadsafe(p1.battle_against(p2, n_battles=n), POKE_LOOP).result(600)
    elapsed = time.perf_counter() - start
    for p in (p1, p2):
        asyncio.run_coroutine_threadsafe(p.ps_client.stop_listening(), POKE_LOOP).result(10)
    return n / elapsed


def arena_rate(n: int, concurrency: int) -> float:
    arenas_ = [PokemonArena(opponent="random", split="train") for _ in range(concurrency)]

    def play(k: int, a: PokemonArena, count: int) -> int:
        wins = 0
        for i in range(count):
            obs = a.reset(seed=k * 10_000 + i)
            policy = a.policy("heuristic")
            while True:
                r = a.step(policy(obs))
                if r.done:
                    break
                obs = r.observation
            wins += r.reward > 0
        return wins

    with ThreadPoolExecutor(concurrency) as ex:  # warm-up: players log in
        list(ex.map(lambda ka: play(ka[0], ka[1], 1), enumerate(arenas_)))
        start = time.perf_counter()
        share = [n // concurrency + (k < n % concurrency) for k in range(concurrency)]
        list(ex.map(lambda ka: play(ka[0], ka[1], share[ka[0]]), enumerate(arenas_)))
        elapsed = time.perf_counter() - start
    for a in arenas_:
        a.close()
    return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--battles", type=int, default=40)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    args = ap.parse_args()
    lease = server.acquire()
    try:
        for c in args.concurrency:
            b = bare(lease.server.websocket_url, args.battles, c, str(c))
            a = arena_rate(args.battles, c)
            print(f"concurrency {c}: bare poke-env {b:.2f} battles/s, arena {a:.2f} battles/s, "
                  f"ratio {a / b:.2f} (target >= 0.70)")
    finally:
        lease.release()


if __name__ == "__main__":
    main()
