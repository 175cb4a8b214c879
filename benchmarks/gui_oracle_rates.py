"""Measures the scripted oracle of every candidate MiniWoB task type and writes the inclusion list.

A task type enters the GUI arena only when its oracle solves at least 95% of the measured seeds
(seeds 900000.., apart from every split). ``--types`` re-measures some types and merges them into
the existing file. The printed table (type, rate, ms per episode) is the README's inclusion table.

    python benchmarks/gui_oracle_rates.py --seeds 100 --write
"""

from __future__ import annotations

import argparse
import json

from arenas.gui.arena import GUIArena
from arenas.gui.baselines import oracle_action
from arenas.gui.measure import measure, probe_task, write_rates
from arenas.gui.tasks import INCLUDE_AT, RATES_FILE


def candidate_types(arena: GUIArena) -> list[str]:
    arena.reset(task=probe_task("click-button", 0))
    oracle_action(arena.page, "click-button")
    return list(arena.page.evaluate("__oracles.types"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--types", default="", help="comma-separated subset (merged into the existing file)")
    ap.add_argument("--write", action="store_true", help=f"write {RATES_FILE.name}")
    args = ap.parse_args()
    arena = GUIArena(max_turns=40)
    try:
        types = [t for t in args.types.split(",") if t] or candidate_types(arena)
        rates = measure(arena, types, args.seeds)
    finally:
        arena.close()
    included = [t for t, r in rates.items() if r["rate"] >= INCLUDE_AT]
    print(f"\n{len(included)} of {len(rates)} measured types reach {INCLUDE_AT:.0%}")
    for t, r in rates.items():
        if r["failures"]:
            print(f"  {t}: {json.dumps(r['failures'][:2])[:300]}")
    if args.write:
        old = json.loads(RATES_FILE.read_text())["rates"] if RATES_FILE.exists() and args.types else {}
        merged = {**{t: {"rate": v["rate"], "n": v["n"], "failures": [], "s_per_episode": 0.0} for t, v in old.items()},
                  **rates}
        write_rates(merged)
        print(f"wrote {RATES_FILE}")


if __name__ == "__main__":
    main()
