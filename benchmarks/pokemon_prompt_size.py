"""Prompt size of the VGC text observation with the player's detail (types, stats, speed order,
move data, effects, tera use, field timers) against the plain view, rendered from the same battle
states in the same run.

    python benchmarks/pokemon_prompt_size.py [--battles 4]

Tokens are estimated as characters / 4 (no tokenizer is assumed to be installed).
"""

from __future__ import annotations

import argparse
import statistics
import time

from arenas.pokemon import render
from arenas.pokemon.battle import PokemonBattleArena


def sizes(battles: int) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Characters per observation, plain and detailed, for turn requests and team previews."""
    turn: dict[str, list[int]] = {"plain": [], "detail": []}
    preview: dict[str, list[int]] = {"plain": [], "detail": []}
    arena = PokemonBattleArena(split="train")
    try:
        for seed in range(battles):
            obs = arena.reset(seed=seed)
            players = {s: arena.policy("heuristic", s) for s in arena.agents}
            while True:
                for seat in arena.pending:
                    b = arena._battle_of(seat)
                    if b.teampreview:
                        for key, detail in (("plain", False), ("detail", True)):
                            preview[key].append(len(render.team_preview_text(b, detail)))
                        continue
                    log = arena.players[seat].logs.get(b.battle_tag, [])
                    turns = [i for i, ln in enumerate(log) if ln.startswith("|turn|")]
                    events = log[turns[-2] if len(turns) > 1 else 0 :]
                    for key, detail in (("plain", False), ("detail", True)):
                        turn[key].append(len(render.battle_text(b, events, "", log, detail)))
                res = arena.step({s: players[s](o) for s, o in obs.items()})
                if any(r.done for r in res.values()):
                    break
                obs = {s: res[s].observation for s in arena.pending}
    finally:
        arena.close()
    return turn, preview


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--battles", type=int, default=4)
    args = parser.parse_args()
    start = time.perf_counter()
    turn, preview = sizes(args.battles)
    print(
        f"{args.battles} heuristic-vs-heuristic battles, {len(turn['plain'])} turn requests, "
        f"{len(preview['plain'])} team previews ({time.perf_counter() - start:.0f} s)"
    )
    print("| request | plain chars (≈tokens) | with player detail | ratio |")
    print("|---|---|---|---|")
    for label, data in (("turn, mean", turn), ("turn, max", turn), ("team preview, mean", preview)):
        agg = max if "max" in label else statistics.mean
        plain, detail = agg(data["plain"]), agg(data["detail"])
        print(
            f"| {label} | {plain:.0f} (≈{plain / 4:.0f}) | {detail:.0f} (≈{detail / 4:.0f}) | "
            f"{detail / plain:.2f}× |"
        )


if __name__ == "__main__":
    main()
