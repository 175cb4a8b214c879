"""Pokémon battle verifiers: the outcome and an HP differential, read from the server's log.

The candidate is ``{"log": [protocol lines], "username": the side's name, "truncated": bool}``.
Only the server's ``|player|``, ``|win|``, ``|tie``, ``|teamsize|``, ``|switch|``, ``|-damage|``,
``|-heal|`` and ``|faint|`` lines are read, so a log saved from any client scores the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arenas.verifiers.base import Verdict


def _sides(log: list[str]) -> dict[str, str]:
    """username -> side (p1/p2)."""
    out = {}
    for line in log:
        parts = line.split("|")
        if len(parts) > 3 and parts[1] == "player" and parts[3]:
            out[parts[3]] = parts[2]
    return out


def winner(log: list[str]) -> str | None:
    """The winner's username, "" for a tie, None when the battle did not finish."""
    for line in reversed(log):
        parts = line.split("|")
        if len(parts) > 1 and parts[1] == "win":
            return parts[2] if len(parts) > 2 else ""
        if len(parts) > 1 and parts[1] == "tie":
            return ""
    return None


def battle_outcome(candidate: Mapping[str, Any], reference: Any, context: Mapping[str, Any]) -> Verdict:
    """+1 for a win, -1 for a loss, 0 for a tie or an unfinished (truncated) battle."""
    log = list(candidate.get("log") or [])
    if candidate.get("truncated"):
        return Verdict(0.0, False, {"result": "truncated"})
    won_by = winner(log)
    if won_by is None:
        return Verdict.fail("the log has no result", result="unfinished")
    if won_by == "":
        return Verdict(0.0, False, {"result": "tie"})
    me = candidate.get("username", "")
    sides = _sides(log)
    if sides and me not in sides:
        return Verdict.fail(f"{me!r} is not a player of this battle", players=sorted(sides))
    if won_by == me:
        return Verdict(1.0, True, {"result": "win"})
    return Verdict(-1.0, False, {"result": "loss", "winner": won_by})


def _hp(value: str) -> float:
    token = value.split()[0] if value else "0"
    if token == "0" or "fnt" in value:
        return 0.0
    cur, _, top = token.partition("/")
    return float(cur) / float(top or 100)


def hp_fractions(log: list[str]) -> dict[str, dict[str, float]]:
    """side -> {Pokémon -> last known HP fraction} for every Pokémon that appeared."""
    out: dict[str, dict[str, float]] = {"p1": {}, "p2": {}}
    for line in log:
        parts = line.split("|")
        if len(parts) < 3:
            continue
        tag, who = parts[1], parts[2]
        side, _, name = who.partition(": ")
        side = side[:2]
        if side not in out:
            continue
        if tag in ("switch", "drag", "replace") and len(parts) > 4:
            out[side][name] = _hp(parts[4])
        elif tag in ("-damage", "-heal", "-sethp") and len(parts) > 3:
            out[side][name] = _hp(parts[3])
        elif tag == "faint":
            out[side][name] = 0.0
    return out


def hp_differential(candidate: Mapping[str, Any], reference: Any, context: Mapping[str, Any]) -> Verdict:
    """(own remaining HP - opponent's remaining HP) / Pokémon brought, in [-1, 1]: a shaped signal
    for unfinished battles and for margins. Pokémon never seen count at full HP."""
    log = list(candidate.get("log") or [])
    sides = _sides(log)
    me = sides.get(candidate.get("username", ""))
    if me is None:
        return Verdict.fail("the log does not name this side")
    size = {"p1": 0, "p2": 0}
    for line in log:
        parts = line.split("|")
        if len(parts) > 3 and parts[1] == "teamsize" and parts[2] in size:
            size[parts[2]] = int(parts[3])
    hp = hp_fractions(log)
    brought = {s: min(size[s] or 6, 4) if "vgc" in str(context.get("format", "vgc")) else size[s] or 6
               for s in size}
    left = {s: sum(hp[s].values()) + max(brought[s] - len(hp[s]), 0) for s in hp}
    other = "p2" if me == "p1" else "p1"
    score = (left[me] - left[other]) / max(brought[me], brought[other], 1)
    return Verdict(max(-1.0, min(1.0, score)), score > 0, {"hp_left": left[me], "opponent_hp_left": left[other]})
