"""The PettingZoo face passes PettingZoo's own parallel API test on real battles."""

from __future__ import annotations

from pettingzoo.test import parallel_api_test

from arenas.pokemon import actions
from arenas.pokemon.pettingzoo_env import PokemonParallelEnv, slot_tables
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
                assert not error or "terastallize" in error or "same Pokémon" in error, error
                conflicts += bool(error)
            obs, rewards, terms, truncs, infos = env.step(acts)
            assert sum(i["corrected_action"] for i in infos.values()) <= conflicts
        assert sum(rewards.values()) == 0.0
        assert all(terms.values()) or all(truncs.values())
    finally:
        env.close()
