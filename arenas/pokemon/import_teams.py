"""Imports the tournament teams of VGC-Bench (MIT licence) into the team pool.

``python -m arenas.pokemon.import_teams PATH/vgc_bench/src/teams.py COMMIT`` reads the ``TEAMS``
literal (with :func:`ast.literal_eval`, never executing the file), keeps the Reg I teams, drops a
team whose six species repeat one already in the pool, validates every kept team with the
server's own validator in each format, and writes ``teams/vgcb_*.txt`` plus their index entries.

Held out: every team from an event dated March 2025 or later (the newest events of the list), so
the generalisation test asks about teams built after the ones trained on.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

from arenas.pokemon import server, teams

REPO = "https://github.com/cameronangliss/VGC-Bench"
HELD_OUT_FROM = (2025, 3)
MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "JANUARY",
            "FEBRUARY",
            "MARCH",
            "APRIL",
            "MAY",
            "JUNE",
            "JULY",
            "AUGUST",
            "SEPTEMBER",
            "OCTOBER",
            "NOVEMBER",
            "DECEMBER",
        ),
        1,
    )
}
HEADER = re.compile(r"^\s*### (.*?) \(\d+ teams?\) ###")
LIST = re.compile(r'^\s*"(reg\w+)": \[')


def parse(source: str) -> list[tuple[str, str, str]]:
    """(list key, event or "", team text) for every team of ``TEAMS``, in file order."""
    literal = next(
        node.value
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "TEAMS"
    )
    lists = ast.literal_eval(literal)
    events: dict[str, list[str]] = {}
    key, event, inside = None, "", False
    for line in source.splitlines():
        if not inside and (m := LIST.match(line)):
            key, event = m.group(1), ""
        elif not inside and (m := HEADER.match(line)):
            event = m.group(1)
        elif key is not None and (n := line.count('"""')):
            if not inside:
                events.setdefault(key, []).append(event)
            inside = inside != (n == 1)
    return [
        (k, ev, text.strip()) for k, texts in lists.items() for ev, text in zip(events[k], texts, strict=True)
    ]


def event_date(event: str) -> tuple[int, int]:
    words = event.split()
    return (int(words[-1]), MONTHS[words[-2]]) if len(words) >= 2 and words[-1].isdigit() else (0, 0)


def slug(key: str, event: str) -> str:
    if not event:
        return key
    place = "".join(
        w.lower() for w in event.split()[:-2] if w.isalpha() and w not in ("REGIONALS", "NATIONAL")
    )
    return f"{place[:16]}{event.split()[-1]}"


def species(text: str) -> tuple[str, ...]:
    blocks = [b for b in text.split("\n\n") if b.strip()]
    return tuple(sorted(teams.species_of(b.strip().splitlines()[0]) for b in blocks))


def main(path: str, commit: str) -> None:
    found = [t for t in parse(Path(path).read_text()) if t[0] in ("regi", "regiactual")]
    index = {
        k: v
        for k, v in json.loads((teams.TEAMS_DIR / "index.json").read_text()).items()
        if not k.startswith("vgcb_")
    }
    seen = {species(teams.team(name).text) for name in index}
    kept: list[tuple[str, str, str]] = []
    for key, event, text in found:
        if species(text) not in seen:
            seen.add(species(text))
            kept.append((key, event, text))
    verdicts = {
        fmt: server.validate_teams([t for _, _, t in kept], fmt)
        for fmt in (teams.DEFAULT_FORMAT, teams.REG_G_FORMAT)
    }
    counts: dict[str, int] = {}
    for old in teams.TEAMS_DIR.glob("vgcb_*.txt"):
        old.unlink()
    for i, (key, event, text) in enumerate(kept):
        formats = [fmt for fmt, v in verdicts.items() if not v[i]]
        if not formats:
            print(f"skipped (illegal): {event or key} #{i}: {verdicts[teams.DEFAULT_FORMAT][i][:2]}")
            continue
        base = f"vgcb_{slug(key, event)}"
        counts[base] = counts.get(base, 0) + 1
        name = f"{base}_{counts[base]:02d}"
        (teams.TEAMS_DIR / f"{name}.txt").write_text(text + "\n")
        where = event.title() if event else "Reg I list (event not recorded)"
        index[name] = {
            "archetype": "tournament team: " + ", ".join(species(text)),
            "formats": formats,
            "held_out": event_date(event) >= HELD_OUT_FROM,
            "source": f"VGC-Bench {REPO} @ {commit[:12]}, vgc_bench/src/teams.py; {where}; MIT",
        }
    (teams.TEAMS_DIR / "index.json").write_text(json.dumps(dict(sorted(index.items())), indent=1) + "\n")
    print(
        f"{len(kept)} teams imported from {len(found)}; pool {len(index)}, "
        f"held out {sum(v['held_out'] for v in index.values())}"
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
