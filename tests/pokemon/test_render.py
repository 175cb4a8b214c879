"""The player's view: field timers read from the log (checked against the server's own ends of
weather and terrain), speed ranges, and the detail a player reads in the text observation."""

from __future__ import annotations

from arenas.pokemon import field, teams
from arenas.pokemon.battle import PokemonBattleArena
from arenas.types import Task
from tests.pokemon.conftest import requires_showdown

LOG = [
    "|switch|p1a: Kyogre|Kyogre, L50|100/100",
    "|-weather|RainDance|[from] ability: Drizzle|[of] p1a: Kyogre",
    "|turn|1",
    "|-weather|RainDance|[upkeep]",
    "|upkeep",
    "|turn|2",
    "|move|p2a: Rillaboom|Grassy Terrain|",
    "|-fieldstart|move: Grassy Terrain",
    "|-weather|RainDance|[upkeep]",
    "|upkeep",
    "|switch|p2b: Groudon|Groudon, L50|100/100",
    "|-weather|SunnyDay|[from] ability: Drought|[of] p2b: Groudon",
    "|turn|3",
    "|move|p1a: Kyogre|Trick Room|",
    "|-fieldstart|move: Trick Room|[of] p1a: Kyogre",
]


def test_timers_count_the_turns_a_condition_was_set_not_its_upkeep_lines():
    items = {"p2b: Groudon": "heatrock"}.get
    t = field.timers(LOG[:5])
    assert t["raindance"].start == 1 and t["raindance"].last_turn(lambda _: "") == 5  # set before turn 1
    t = field.timers(LOG)
    assert "raindance" not in t  # replaced by sun
    assert t["sunnyday"].start == 3  # set after turn 2's upkeep: turn 3 is its first
    assert t["sunnyday"].last_turn(items) == 10 and t["sunnyday"].last_turn(lambda _: "") == 7  # heat rock: 8
    assert t["grassyterrain"].start == 2 and t["grassyterrain"].setter == "p2a: Rillaboom"
    assert t["trickroom"].last_turn(items) == 7
    assert "trickroom" not in field.timers(LOG + ["|-fieldend|move: Trick Room"])
    assert not {"sunnyday"} & set(field.timers(LOG + ["|-weather|none"]))


def test_speed_range_at_level_50():
    assert field.speed_range(135, 50) == (126, 205)  # Flutter Mane: 0 IV hindering to 252 EV boosting
    assert field.speed_range(20, 50) == (22, 79)  # Torkoal


MATCHES = [
    ("groudon_sun", "psychic_spam", 0),
    ("psychic_spam", "snow_offense", 3),
    ("snow_offense", "kyogre_rain", 6),
    ("pelipper_rain", "miraidon_balance", 7),
]
"""Seeded random-play battles in which rooms, terrain and weather run out on their own."""


@requires_showdown
def test_timers_match_the_servers_ends_and_the_view_shows_a_players_detail(showdown):
    arena = PokemonBattleArena(max_battle_turns=25)
    ended, texts = 0, []
    items = {
        species_id(t.species[i]): item
        for match in MATCHES
        for name in match[:2]
        for t in [teams.team(name)]
        for i, item in enumerate(held_items(t.text))
    }
    try:
        for name, other, seed in MATCHES:
            task = Task(
                f"{name}-vs-{other}",
                "train",
                {"format": teams.DEFAULT_FORMAT, "team": name, "opponent_team": other},
            )
            obs = arena.reset(task, seed=seed)
            players = {s: arena.policy("random", s) for s in arena.agents}
            while True:
                texts += [o.text for o in obs.values() if o.text]
                res = arena.step({s: players[s](o) for s, o in obs.items()})
                if any(r.done for r in res.values()):
                    break
                obs = {s: res[s].observation for s in arena.pending}
            log = res["p1"].info["battle_log"]
            turn = 0
            for i, line in enumerate(log):
                parts = line.split("|")
                turn = int(parts[2]) if parts[1:2] == ["turn"] else turn
                natural = parts[1:3] == ["-weather", "none"] or (
                    parts[1:2] == ["-fieldend"] and len(parts) == 3
                )
                natural = natural and not log[i - 1].startswith(
                    "|move|"
                )  # a second Trick Room ends the first
                if natural:
                    name_ = "" if parts[1] == "-weather" else field._id(parts[2])
                    live = field.timers(log[:i])
                    timer = next(
                        t
                        for key, t in live.items()
                        if key == name_ or (not name_ and key in field.WEATHER_NAMES)
                    )
                    last = timer.last_turn(lambda ident: items.get(species_id(ident.split(": ")[-1]), ""))
                    assert last == turn, (line, timer, turn)
                    ended += 1
    finally:
        arena.close()
    assert ended >= 4
    joined = "\n".join(texts)
    for needle in (
        "Speed now, fastest first: ",
        "Terastallization: ",
        "physical",
        " PP",
        "base ",
        "stats ",
        " turns left)",
        "priority +",
    ):
        assert needle in joined, needle


def species_id(name: str) -> str:
    return field._id(name.split("-")[0])


def held_items(text: str) -> list[str]:
    return [field._id(b.strip().splitlines()[0].split(" @ ")[-1]) for b in text.strip().split("\n\n")]
