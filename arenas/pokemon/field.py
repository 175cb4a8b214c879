"""What a player tracks by hand: weather, terrain and room turns from the battle log, and speed.

poke-env records the turn of the *last* ``-weather`` line, and the server repeats that line with
``[upkeep]`` every turn, so its start turn moves with the battle. The timers here are read from
the server's log instead: a condition set during turn T counts T as its first turn; one set
after the end-of-turn upkeep (a switch-in replacing a fainted Pokémon) or before turn 1 starts
with the next turn. It lasts 5 turns (8 when its setter holds the matching rock or a Terrain
Extender); primal weathers last while their setter stays in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from poke_env.battle.double_battle import DoubleBattle
from poke_env.battle.pokemon import Pokemon
from poke_env.battle.status import Status

WEATHER_NAMES = {
    "raindance": "rain",
    "sunnyday": "sun",
    "sandstorm": "sand",
    "snowscape": "snow",
    "hail": "hail",
    "desolateland": "harsh sun (primal)",
    "primordialsea": "heavy rain (primal)",
    "deltastream": "strong winds (primal)",
}
PRIMAL = {"desolateland", "primordialsea", "deltastream"}
EXTENDERS = {
    "raindance": "damprock",
    "sunnyday": "heatrock",
    "sandstorm": "smoothrock",
    "snowscape": "icyrock",
    "hail": "icyrock",
    "electricterrain": "terrainextender",
    "grassyterrain": "terrainextender",
    "mistyterrain": "terrainextender",
    "psychicterrain": "terrainextender",
}
FIELD_TURNS = {"trickroom": 5, "gravity": 5, "magicroom": 5, "wonderroom": 5}


def _id(text: str) -> str:
    return "".join(c for c in text.split(":")[-1].lower() if c.isalnum())


@dataclass(frozen=True)
class Timer:
    name: str
    """Condition id: ``raindance``, ``electricterrain``, ``trickroom``..."""
    start: int
    """The condition's first turn."""
    setter: str
    """Protocol ident of the Pokémon that set it (``p1a: Kyogre``), or ""."""

    def duration(self, item_of) -> int | None:
        """Turns in all (None: no limit); ``item_of(ident)`` gives the setter's item if known."""
        if self.name in PRIMAL:
            return None
        if self.name in EXTENDERS:
            return 8 if self.setter and item_of(self.setter) == EXTENDERS[self.name] else 5
        return FIELD_TURNS.get(self.name)

    def last_turn(self, item_of) -> int | None:
        turns = self.duration(item_of)
        return None if turns is None else self.start + turns - 1


def timers(log: list[str]) -> dict[str, Timer]:
    """Weather, terrain and room timers in force after the log's last line."""
    turn, after_upkeep, last_user = 0, False, ""
    out: dict[str, Timer] = {}
    for line in log:
        parts = line.split("|")
        tag = parts[1] if len(parts) > 1 else ""
        if tag == "turn":
            turn, after_upkeep = int(parts[2]), False
        elif tag == "upkeep":
            after_upkeep = True
        elif tag == "move" and len(parts) > 2:
            last_user = parts[2]
        elif tag in ("-weather", "-fieldstart", "-fieldend") and len(parts) > 2:
            if "[upkeep]" in parts:
                continue
            of = next((p[5:] for p in parts if p.startswith("[of] ")), "")
            from_ability = any(p.startswith("[from] ability") for p in parts)
            setter = of or ("" if from_ability else last_user)
            name = _id(parts[2])
            start = turn + 1 if after_upkeep or turn == 0 else turn
            if tag == "-weather":
                out = {k: v for k, v in out.items() if k not in WEATHER_NAMES}
                if name != "none":
                    out[name] = Timer(name, start, setter)
            elif tag == "-fieldend":
                out.pop(name, None)
            else:
                if name.endswith("terrain"):
                    out = {k: v for k, v in out.items() if not k.endswith("terrain")}
                out[name] = Timer(name, start, setter)
    return out


def item_lookup(b: DoubleBattle, sheets: dict[str, Pokemon]):
    """``ident -> item id`` over both teams (the opponent's from its open team sheet)."""

    def item_of(ident: str) -> str:
        side, name = ident[:2], ident.split(": ", 1)[-1]
        mons = b.team if side == b.player_role else b.opponent_team
        mon = mons.get(f"{side}: {name}")
        item = mon.item if mon is not None else None
        if (not item or item == "unknown_item") and mon is not None and mon.species in sheets:
            item = sheets[mon.species].item
        return item or ""

    return item_of


def field_lines(b: DoubleBattle, log: list[str], sheets: dict[str, Pokemon]) -> list[str]:
    """``name (N turns left, this one included)`` for each weather/terrain/room timer."""
    item_of = item_lookup(b, sheets)
    out = []
    for t in timers(log).values():
        label = WEATHER_NAMES.get(t.name, t.name)
        last = t.last_turn(item_of)
        out.append(
            f"{label} (while its setter stays in)"
            if last is None and t.name in PRIMAL
            else f"{label} ({max(last - b.turn + 1, 0)} turns left)"
            if last is not None
            else label
        )
    return out


def speed_range(base: int, level: int) -> tuple[int, int]:
    """The speed stat from 0 IV/EV with a hindering nature to 31 IV/252 EV with a boosting one."""
    lo = math.floor(math.floor(2 * base * level / 100 + 5) * 0.9)
    hi = math.floor(math.floor((2 * base + 31 + 63) * level / 100 + 5) * 1.1)
    return lo, hi


def speed_factor(mon: Pokemon, tailwind: bool, weather: set[str], item: str) -> float:
    """Boost stage, paralysis, Tailwind, Choice Scarf, booster speed and weather speed abilities."""
    stage = mon.boosts.get("spe", 0)
    f = (2 + stage) / 2 if stage >= 0 else 2 / (2 - stage)
    if mon.status == Status.PAR:
        f *= 0.5
    if tailwind:
        f *= 2
    if item == "choicescarf":
        f *= 1.5
    if any(_id(e.name) in ("protosynthesisspe", "quarkdrivespe") for e in mon.effects):
        f *= 1.5
    ability = (mon.ability or "").lower()
    doubled = {
        "swiftswim": "raindance",
        "chlorophyll": "sunnyday",
        "sandrush": "sandstorm",
        "slushrush": "snowscape",
    }
    if ability in doubled and doubled[ability] in weather:
        f *= 2
    return f
