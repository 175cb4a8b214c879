"""Real battles on a local Showdown server: the smoke run, the illegal-action fuzz, the
multi-agent contract."""

from __future__ import annotations

import numpy as np
import pytest

from arenas.pokemon import actions
from arenas.pokemon.arena import PokemonArena
from arenas.pokemon.battle import PokemonBattleArena
from arenas.verifiers.pokemon import battle_outcome
from tests.pokemon.conftest import requires_showdown

pytestmark = requires_showdown


def play(arena: PokemonArena, policy, seed: int):
    obs = arena.reset(seed=seed)
    act = policy(arena)
    while True:
        r = arena.step(act(obs))
        if r.done:
            return r
        obs = r.observation


def test_smoke_20_battles_heuristic_vs_random(showdown):
    arena = PokemonArena(opponent="random")
    try:
        results = [play(arena, lambda a: a.policy("heuristic"), seed) for seed in range(20)]
    finally:
        arena.close()
    assert all(r.terminated for r in results)
    for r in results:
        offline = battle_outcome({"log": r.info["battle_log"], "username": r.info["username"]}, {}, {})
        assert r.reward == offline.score == r.info["reward_breakdown"]["components"]["outcome"]
        assert r.info["invalid_action_rate"] == 0.0
    wins = sum(r.reward > 0 for r in results)
    assert wins >= 15, f"heuristic won only {wins}/20 against random"


class Fuzzer:
    """Mostly garbage and illegal orders (wrong slots, double tera, switching to a fainted or
    active Pokémon, bad team preview), now and then a legal one."""

    def __init__(self, arena: PokemonArena, seed: int):
        self.arena = arena
        self.rng = np.random.default_rng(seed)
        self.legal = arena.policy("random")
        self.reasons: list[str] = []

    def __call__(self, obs):
        b = self.arena.inner._battle_of("p1")
        if b is None:
            return "pass"
        if b.teampreview:
            return str(self.rng.choice(["team 1111", "team 12", "team 7890", "teem 1234", "", "team 1234"]))
        team = actions.team_list(b)
        fainted = [i for i, m in enumerate(team, 1) if m.fainted]
        active = [i for i, m in enumerate(team, 1) if m.active]
        options = ["", "\x00\x01 garbage ))", "move 1 2", "move 9 1, move 1 1", "switch 1, switch 1",
                   "move 1 terastallize 1, move 1 terastallize 2", "move 1 5, move 2 -3", "pass, pass",
                   "move, switch", "attack!!!", "switch 42, pass"]
        if fainted:
            options.append(f"switch {fainted[0]}, pass")
        if active:
            options.append(f"switch {active[0]}, move 1 1")
        if self.rng.random() < 0.35:
            return self.legal(obs)
        return str(self.rng.choice(options))


def test_illegal_action_fuzz_finishes_every_battle(showdown):
    arena = PokemonArena(opponent="random", retries=2, max_battle_turns=40)
    reasons = []
    try:
        for seed in range(4):
            obs = arena.reset(seed=100 + seed)
            fuzz = Fuzzer(arena, seed)
            while True:
                r = arena.step(fuzz(obs))
                if r.info.get("invalid_reason"):
                    reasons.append(r.info["invalid_reason"])
                if r.done:
                    break
                obs = r.observation
                if r.info.get("invalid_action"):
                    assert "rejected" in obs.text
            assert r.info["termination"] in ("battle_over", "max_battle_turns")
            assert 0 < r.info["invalid_action_rate"] <= 1
    finally:
        arena.close()
    text = " ".join(reasons)
    for expected in ("empty action", "team preview", "expected 2 orders", "slot a: "):
        assert expected in text, expected


def test_multi_agent_contract_and_retry_budget(showdown):
    arena = PokemonBattleArena(retries=1)
    try:
        obs = arena.reset(seed=7)
        assert set(obs) == {"p1", "p2"} and arena.pending == ["p1", "p2"]
        assert "Team preview" in obs["p1"].text and obs["p1"].messages[0]["role"] == "system"
        res = arena.step({"p1": "team 99", "p2": "team 1234"})
        assert res["p1"].info["invalid_action"] and "team preview" in res["p1"].info["invalid_reason"]
        assert arena.pending == ["p1"] and "rejected" in res["p1"].observation.text
        res = arena.step({"p1": "still wrong"})  # retry budget spent: the default order is sent
        assert res["p1"].info["invalid_action"] and arena.pending == ["p1", "p2"]
        b = arena._battle_of("p1")
        assert b.turn == 1 and "Legal options" in res["p1"].observation.text
        legal = actions.legal_options(b)
        move = next(k for k in legal[0] if k.startswith("move"))
        parsed = actions.parse_action(b, f"{move}, {next(iter(legal[1]))}")
        assert not parsed.error and parsed.message.startswith("/choose ")
        teras = [next(k for k in legal[i] if "terastallize" in k) for i in (0, 1)]
        assert "only one Pokémon can terastallize" in actions.parse_action(b, ", ".join(teras)).error
        slot_b_move = next(k for k in legal[1] if k.startswith("move") and "terastallize" not in k)
        assert not actions.parse_action(b, f"{teras[0]}, {slot_b_move}").error
        assert "both slots switch" in actions.parse_action(b, "switch 3, switch 3").error
        assert "cannot switch 1" in actions.parse_action(b, "switch 1, pass").error  # 1 is active
        assert "unknown order" in actions.parse_action(b, "fly away, pass").error
        # p1 plays randomly against max_power, so it loses Pokémon before the end
        players = {"p1": arena.policy("random", "p1"), "p2": arena.policy("max_power", "p2")}
        checked_fainted = False
        while True:
            b = arena._battle_of("p1")
            if b is not None and not b.teampreview:
                fainted = [i for i, m in enumerate(actions.team_list(b), 1) if m.fainted]
                if fainted:
                    error = actions.parse_action(b, f"switch {fainted[0]}, pass").error
                    assert f"cannot switch {fainted[0]}" in error, error
                    checked_fainted = True
            res = arena.step({s: players[s](None) for s in arena.pending})
            if any(r.done for r in res.values()):
                break
        assert checked_fainted
        rewards = sorted(r.reward for r in res.values())
        assert rewards in ([-1.0, 1.0], [0.0, 0.0])
        assert all(r.info["reward_breakdown"]["components"].keys() == {"outcome", "hp_differential"}
                   for r in res.values())
        with pytest.raises(RuntimeError):
            arena.step({"p1": "pass"})
    finally:
        arena.close()


def test_seeded_battles_replay_exactly(showdown):
    arena = PokemonBattleArena()

    def events(seed: int) -> list[str]:
        obs = arena.reset(seed=seed)
        players = {s: arena.policy("random", s) for s in arena.agents}
        while True:
            res = arena.step({s: players[s](o) for s, o in obs.items()})
            if any(r.done for r in res.values()):
                return [ln for ln in res["p1"].info["battle_log"] if ln.startswith(("|move|", "|-damage|"))]
            obs = {s: res[s].observation for s in arena.pending}

    try:
        first, again, other = events(11), events(11), events(12)
    finally:
        arena.close()
    assert first == again and first != other


def test_heuristic_beats_random_in_85_percent_of_100_seeded_battles(showdown):
    arena = PokemonArena(opponent="random", split="train")
    try:
        tasks = arena.sample_tasks("train", 100, seed=0)
        wins = 0
        for i, task in enumerate(tasks):
            obs = arena.reset(task, seed=i)
            policy = arena.policy("heuristic")
            while True:
                r = arena.step(policy(obs))
                if r.done:
                    break
                obs = r.observation
            wins += r.reward > 0
    finally:
        arena.close()
    assert wins >= 85, f"heuristic won {wins}/100"


def test_any_agent_can_be_the_opponent(showdown):
    seen: list[str] = []

    class ScriptedOpponent:
        """An external agent: reads the text observation, answers from the legal list it shows."""

        def reset(self, context) -> None:
            self.fallback = context.policy("random")

        def act(self, observation):
            seen.append(observation.text)
            return self.fallback(observation)

    arena = PokemonArena(opponent=ScriptedOpponent, max_battle_turns=15)
    try:
        r = play(arena, lambda a: a.policy("max_power"), seed=2)
    finally:
        arena.close()
    assert r.done and any("Team preview" in t for t in seen) and any("Legal options" in t for t in seen)


def test_restart_policy_moves_to_a_fresh_server_and_stops_the_old_one(showdown):
    arena = PokemonBattleArena(restart_after=2, max_battle_turns=1)
    servers = []
    try:
        for seed in range(3):
            obs = arena.reset(seed=seed)
            servers.append(arena.lease.server)
            players = {s: arena.policy("random", s) for s in arena.agents}
            while True:
                res = arena.step({s: players[s](o) for s, o in obs.items()})
                if any(r.done for r in res.values()):
                    break
                obs = {s: res[s].observation for s in arena.pending}
            assert res["p1"].truncated and res["p1"].reward == 0.0
    finally:
        arena.close()
    assert servers[0] is servers[1] and servers[2] is not servers[0]
    assert (servers[0] is showdown or not servers[0].running) and not servers[2].running
    assert showdown.running


def test_a_choice_the_server_rejects_comes_back_with_the_servers_error(showdown):
    from arenas.pokemon.players import answer

    arena = PokemonBattleArena()
    try:
        arena.reset(seed=3)
        answer(arena._decisions.pop("p1"), "/team 9999")  # bypasses the arena's own check
        res = arena.step({"p2": "team 1234"})
        assert arena.pending == ["p1"]
        assert "server: [Invalid choice]" in res["p1"].observation.text
        res = arena.step({"p1": "team 1234"})
        assert set(arena.pending) == {"p1", "p2"} and "Turn 1" in res["p1"].observation.text
    finally:
        arena.close()
