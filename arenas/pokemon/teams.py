"""The VGC team pool and the VGC-Bench protocol over it.

Teams are Showdown export files in ``teams/`` described by ``teams/index.json`` (archetype, the
formats each team is legal in, whether it is held out, where it comes from; ``teams/SOURCES.md``).
The protocol: a seeded *team set* of 1, 4, 16 or 64 in-distribution teams is what an agent trains
on; held-out teams are never in a team set, so evaluation can be in-distribution or on unseen
teams. Mirror matches only when asked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

TEAMS_DIR = Path(__file__).parent / "teams"
DEFAULT_FORMAT = "gen9vgc2025regi"
REG_G_FORMAT = "gen9vgc2024regg"


@dataclass(frozen=True)
class Team:
    name: str
    archetype: str
    formats: tuple[str, ...]
    held_out: bool
    text: str
    """Showdown export format."""

    @property
    def species(self) -> list[str]:
        blocks = [b for b in self.text.strip().split("\n\n") if b.strip()]
        return [species_of(b.strip().splitlines()[0]) for b in blocks]


def species_of(line: str) -> str:
    """The species on a set's first line: ``Nickname (Species) (F) @ Item`` -> ``Species``."""
    name = re.sub(r" \([MF]\)$", "", line.split(" @ ")[0].strip())
    m = re.search(r"\(([^()]+)\)$", name)
    return m.group(1) if m else name


@cache
def all_teams() -> tuple[Team, ...]:
    index = json.loads((TEAMS_DIR / "index.json").read_text())
    return tuple(Team(name, meta["archetype"], tuple(meta["formats"]), bool(meta["held_out"]),
                      (TEAMS_DIR / f"{name}.txt").read_text()) for name, meta in sorted(index.items()))


def teams_for(battle_format: str) -> list[Team]:
    """Teams legal in ``battle_format`` (as recorded in the index and checked by the tests)."""
    return [t for t in all_teams() if battle_format in t.formats]


def team(name: str) -> Team:
    for t in all_teams():
        if t.name == name:
            return t
    raise KeyError(f"no team {name!r}; teams: {', '.join(t.name for t in all_teams())}")


def team_set(battle_format: str, size: int, seed: int = 0) -> list[Team]:
    """A seeded set of ``size`` in-distribution teams (all of them when fewer are legal)."""
    pool = [t for t in teams_for(battle_format) if not t.held_out]
    order = np.random.default_rng(seed).permutation(len(pool))
    return [pool[i] for i in sorted(order[:size])]


def held_out(battle_format: str) -> list[Team]:
    return [t for t in teams_for(battle_format) if t.held_out]


def matchups(mine: list[Team], theirs: list[Team], mirror: bool = False) -> list[tuple[Team, Team]]:
    """Ordered (my team, opponent team) pairs; a team never meets itself unless ``mirror``
    (a single-team set always plays mirrors: there is nothing else)."""
    pairs = [(a, b) for a in mine for b in theirs if mirror or a.name != b.name]
    return pairs or [(a, b) for a in mine for b in theirs]
