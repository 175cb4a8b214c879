"""The PettingZoo face passes PettingZoo's own parallel API test on real battles, and the
single-agent view passes gymnasium's ``check_env``."""

from __future__ import annotations

from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

from arenas.pokemon import actions
from arenas.pokemon.pettingzoo_env import (
    FEATURES,
    OBS_SIZE,
    TYPES,
    PokemonGymEnv,
    PokemonParallelEnv,
    slot_tables,
)
from tests.pokemon.conftest import requires_showdown

pytestmark = requires_showdown


def test_parallel_api_test(showdown):
    env = PokemonParallelEnv(max_battle_turns=30)
    try:
        parallel_api_test(env, num_cycles=200)
    finally:
        env.close()


def test_masked_random_self_play_finishes_with_zero_sum_rewards(showdown):
    env = PokemonParallelEnv(max_battle_turns=40)
    try:
        obs, infos = env.reset(seed=3)
        assert "Turn" in infos["p1"]["text"] and infos["p1"]["pending"]
        assert env.observation_space("p1").contains(obs["p1"])
        conflicts = 0
        while env.agents:
            acts = {a: env.action_space(a).sample(mask=obs[a]["action_mask"]) for a in env.agents}
            for seat in env.inner.pending:  # every unmasked index is a legal order of its slot
                battle = env.inner._battle_of(seat)
                tables = slot_tables(battle)
                texts = [tables[slot][int(acts[seat][slot])] for slot in (0, 1)]
                error = actions.parse_action(battle, ", ".join(texts)).error
                joint = ("terastallize", "same Pokémon", "both slots pass")  # what per-slot masks cannot say
                assert not error or any(j in error for j in joint), error
                conflicts += bool(error)
            obs, rewards, terms, truncs, infos = env.step(acts)
            assert sum(i["corrected_action"] for i in infos.values()) <= conflicts
        assert sum(rewards.values()) == 0.0
        assert all(terms.values()) or all(truncs.values())
    finally:
        env.close()


def test_vector_is_documented_and_filled():
    assert len(FEATURES) == OBS_SIZE == 314 and len(set(FEATURES)) == OBS_SIZE
    assert FEATURES[:2] == ("my1_hp", "my1_fainted") and FEATURES[-1] == "screens_theirs"


def test_single_agent_view_passes_check_env_and_reads_the_field(showdown):
    env = PokemonGymEnv(opponent="max_power", max_battle_turns=20)
    try:
        check_env(env, skip_render_check=True)
        obs, _ = env.reset(seed=5)
        vec = dict(zip(FEATURES, obs["observation"], strict=True))
        assert sum(vec[f"my{i}_active"] for i in range(1, 7)) == 2 and vec["my1_hp"] > 0
        assert sum(vec[f"my1_type_{t}"] for t in TYPES) in (1, 2)
        done = False
        while not done:
            mask = obs["action_mask"]
            obs, reward, term, trunc, info = env.step(env.action_space.sample(mask=mask))
            done = term or trunc
        assert reward in (-1.0, 0.0, 1.0)
    finally:
        env.close()
