"""Arenas in TRL's GRPOTrainer: the reward function replays completions in the arena (its verifier
scores them), the rollout function plays whole episodes on the trainer's model; both drive real
TRL training steps on a tiny random-init model."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl", reason="TRL is not installed (pip install 'arenas[trl]')")

import torch  # noqa: E402

import arenas  # noqa: E402
from arenas import ToolError, registry, tool  # noqa: E402
from arenas.integrations.trl import (  # noqa: E402
    ROW_KEY,
    ArenaReward,
    ArenaRollout,
    arena_dataset,
    completion_actions,
    episode_reward,
)
from arenas.registry import make  # noqa: E402
from arenas.verifiers import Component, Rubric, Verdict  # noqa: E402
from tests.core.guess_arena import GuessArena  # noqa: E402

COLUMNS = ("arena", "arena_config", "split", "task_id", "seed")


def length_score(text: str) -> float:
    """The test arena's verifier, written out: longer replies score more, up to 24 characters."""
    return min(len(text), 24) / 24


class TwoReplies(GuessArena):
    """Plain-text replies, the ``needed``-th ends the episode scored by its length (so even a
    random-init model's groups have unequal rewards). Guessing is refused (feedback, not invalid);
    an unknown tool or an unparsable call is an invalid action, costing 0.5."""

    needed = 2
    rubric = Rubric([Component("length", lambda c, r, ctx: Verdict(length_score(c), True), 1.0)])
    invalid_action_penalty = 0.5

    def first_observation(self, task):
        self.replies = 0
        return super().first_observation(task)

    def on_text(self, action):
        self.replies += 1
        if self.replies < self.needed:
            return "once more"
        self.finish(self.rubric.score(action.text, self.task.reference, {}))
        return "noted"

    @tool
    def guess(self, number: int) -> str:
        """Guess the secret.

        Args:
            number: an integer in [0, 16)
        """
        raise ToolError("no guessing here")


class OneReply(TwoReplies):
    needed = 1


@pytest.fixture(scope="module", autouse=True)
def reply_arenas():
    registry.register("two-replies", TwoReplies)
    registry.register("one-reply", OneReply)
    yield
    registry._REGISTRY.pop("two-replies", None)
    registry._REGISTRY.pop("one-reply", None)


def _columns(dataset):
    return {k: dataset[k] for k in COLUMNS}


def _grpo_args(tmp_path, **kw):
    from trl import GRPOConfig

    return GRPOConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=4, num_generations=2,
                      max_completion_length=8, max_steps=2, learning_rate=1e-2, logging_steps=1, report_to=[],
                      use_cpu=True, bf16=False, save_strategy="no", seed=0, **kw)


def _model(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir), AutoTokenizer.from_pretrained(tiny_model_dir)


def test_dataset_rows_name_their_tasks_and_open_with_the_first_observation():
    data = arena_dataset("two-replies", split="dev", n=3, seed=5, arena_config={"max_turns": 3})
    assert data["seed"] == [5, 6, 7] and set(data["split"]) == {"dev"}
    with make("two-replies", max_turns=3) as arena:
        assert data["task_id"] == [t.id for t in arena.sample_tasks("dev", 3, 5)]
        first = arena.reset(arena.sample_tasks("dev", 3, 5)[0], seed=5).messages
    prompt = data[0]["prompt"]
    assert prompt[-1]["content"] == first[-1]["content"]
    assert '"name": "guess"' in prompt[0]["content"] and "<tool_call>" in prompt[0]["content"]  # tools in text
    assert json.loads(prompt[0][ROW_KEY]) == {k: data[0][k] for k in COLUMNS}
    assert prompt[1][ROW_KEY] is None
    with pytest.raises(arenas.ConfigError, match="no tasks in split"):
        arena_dataset("two-replies", split="nope")


def _oracle_actions(arena, task, seed):
    """The oracle's actions of a whole episode (one per question of a multi-question task)."""
    obs = arena.reset(task, seed=seed)
    policy, actions = arena.policy("oracle"), []
    while True:
        actions.append(policy(obs))
        result = arena.step(actions[-1])
        obs = result.observation
        if result.done:
            assert result.info["reward_breakdown"]["passed"]
            return actions


def test_the_sql_verifier_scores_replayed_completions():
    data = arena_dataset("sql", n=3, seed=1)
    reward = ArenaReward()
    with make("sql") as arena:
        tasks = {t.id: t for t in arena.tasks("train")}
        oracle = [_oracle_actions(arena, tasks[row["task_id"]], row["seed"]) for row in data]
    assert sorted(len(a) for a in oracle)[-1] > 1  # a task of several questions, answered one per turn
    explore = '<tool_call>{"name": "list_tables", "arguments": {}}</tool_call>'
    wrong = '<tool_call>{"name": "submit_sql", "arguments": {"query": "SELECT 1"}}</tool_call>'

    def conversation(texts):
        out = []
        for text in texts:
            out += [{"role": "assistant", "content": text}, {"role": "user", "content": "(the arena's reply)"}]
        return out[:-1]

    try:
        assert reward(data["prompt"], [conversation(a) for a in oracle], **_columns(data)) == [1.0, 1.0, 1.0]
        # every assistant message is one action: exploring first changes nothing
        assert reward(data["prompt"], [conversation([explore, *a]) for a in oracle], **_columns(data)) == [1.0] * 3
        # a standard (text) completion is one action: it answers one question of a task that has several
        partial = reward(data["prompt"], [a[0] for a in oracle], **_columns(data))
        assert [p == 1.0 for p in partial] == [len(a) == 1 for a in oracle] and min(partial) > 0.0
        # native tool calls as TRL parses them
        native = [conversation([""] * len(a)) for a in oracle]
        for messages, texts in zip(native, oracle, strict=True):
            for message, text in zip(messages[::2], texts, strict=True):
                message["tool_calls"] = [{"type": "function", "function": {
                    "name": "submit_sql", "arguments": completion_actions(text)[0].tool_calls[0].arguments}}]
        assert reward(data["prompt"], native, **_columns(data)) == [1.0, 1.0, 1.0]
        assert reward(data["prompt"], [wrong] * 3, **_columns(data)) == [0.0, 0.0, 0.0]
        assert reward(data["prompt"], ["garbage"] * 3, **_columns(data)) == [0.0, 0.0, 0.0]
    finally:
        reward.close()


def test_invalid_and_unfinished_completions_score_as_the_arena_scores_them():
    data = arena_dataset("two-replies", n=2, arena_config={"max_turns": 3})
    reward = ArenaReward()
    try:
        unknown = '<tool_call>{"name": "shout", "arguments": {}}</tool_call>'
        refused = '<tool_call>{"name": "guess", "arguments": {"number": 3}}</tool_call>'
        rows = [["a", "twelve chars"], [unknown, "a", "x" * 30], ["only one reply"], [unknown], [refused, "a"]]
        completions = [[{"role": "assistant", "content": t} for t in row] for row in rows]
        n = len(rows)
        scores = reward([data["prompt"][0]] * n, completions, **{k: [v[0]] * n for k, v in _columns(data).items()})
        # the second reply ends the episode, whose return is then its breakdown's total (the arena's contract
        # settles earlier penalties); an episode the completion leaves unfinished is ended by the turn cap,
        # which scores no reply (0) and keeps the 0.5 penalty of an unknown tool; a refused guess is feedback
        assert scores == pytest.approx([12 / 24, 1.0, 0.0, -0.5, 0.0])
        with pytest.raises(ValueError, match="columns of arena_dataset"):
            reward(data["prompt"], ["x", "y"])
        with pytest.raises(ValueError, match="no task 'guess-999'"):
            reward(["p"], ["x"], arena=["two-replies"], arena_config=['{"max_turns": 3}'], split=["train"],
                   task_id=["guess-999"], seed=[0])
    finally:
        reward.close()


def test_trl_grpo_trains_on_the_rewards_of_the_arena(tiny_model_dir, tmp_path):
    from trl import GRPOTrainer

    data = arena_dataset("one-reply", n=4)
    model, tokenizer = _model(tiny_model_dir)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    scored: list[tuple[list, list]] = []
    arena_reward = ArenaReward()

    def spy(prompts, completions, **columns):
        rewards = arena_reward(prompts, completions, **columns)
        scored.append((completions, rewards))
        return rewards

    spy.__name__ = "arena_reward"
    trainer = GRPOTrainer(model, reward_funcs=spy, args=_grpo_args(tmp_path), train_dataset=data,
                          processing_class=tokenizer)
    try:
        trainer.train()
    finally:
        arena_reward.close()
    logs = [h for h in trainer.state.log_history if "rewards/arena_reward/mean" in h]
    assert len(logs) == len(scored) == 2
    for (completions, rewards), log in zip(scored, logs, strict=True):
        # the reply's length as the verifier scores it; stray tool-call markup is an invalid action (-0.5)
        texts = [c[0]["content"] for c in completions]
        assert rewards == pytest.approx([-0.5 if "tool_call>" in t else length_score(t) for t in texts])
        assert len(set(rewards)) > 1
        assert log["rewards/arena_reward/mean"] == pytest.approx(sum(rewards) / len(rewards), abs=1e-6)
    assert trainer.state.global_step == 2
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_rollout_func_plays_whole_episodes_on_the_trainers_model(tiny_model_dir, tmp_path):
    from trl import GRPOTrainer

    from tests.agents.conftest import forward_logprobs

    data = arena_dataset("two-replies", n=4, arena_config={"max_turns": 3})
    model, tokenizer = _model(tiny_model_dir)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rollout = ArenaRollout(concurrency=4)
    trainer = GRPOTrainer(model, reward_funcs=episode_reward, args=_grpo_args(tmp_path, temperature=0.7),
                          train_dataset=data, processing_class=tokenizer, rollout_func=rollout)
    prompts = [data[0]["prompt"]] * 2 + [data[1]["prompt"]] * 2
    model.train()
    try:
        out = rollout(prompts, trainer)
        trajs = rollout.last_trajectories
        assert [(t.task_id, t.seed, t.rollout) for t in trajs] == [
            (data[0]["task_id"], 0, 0), (data[0]["task_id"], 0, 1), (data[1]["task_id"], 1, 0), (data[1]["task_id"], 1, 1)]
        assert model.training  # generation ran in eval mode; the trainer's mode is restored
        for i, traj in enumerate(trajs):
            ids, mask = traj.tokens["ids"], traj.tokens["mask"]
            first, last = mask.index(1), len(mask) - 1 - mask[::-1].index(1)
            assert len(traj.turns) == 2 and traj.termination == "submitted"
            assert out["prompt_ids"][i] == ids[:first] and out["completion_ids"][i] == ids[first:last + 1]
            assert out["env_mask"][i] == mask[first:last + 1] and 0 in out["env_mask"][i]  # the arena's reply
            assert out["arena_reward"][i] == pytest.approx(traj.reward)
            reply = traj.turns[-1].action["text"]
            assert traj.reward == pytest.approx(length_score(reply))
            # the sampler's logprobs line up with the completion tokens (tempered at the trainer's 0.7)
            with torch.no_grad():
                expected = forward_logprobs(_tempered(model, 0.7), out["prompt_ids"][i] + out["completion_ids"][i])
            agent = [j for j, m in enumerate(out["env_mask"][i]) if m]
            got = [out["logprobs"][i][j] for j in agent]
            want = [expected[len(out["prompt_ids"][i]) + j] for j in agent]
            assert got == pytest.approx(want, abs=1e-4)
        trainer.train()
    finally:
        rollout.close()
    logs = [h for h in trainer.state.log_history if "rewards/episode_reward/mean" in h]
    assert len(logs) == 2 and trainer.state.global_step == 2
    last = rollout.last_trajectories
    assert logs[-1]["rewards/episode_reward/mean"] == pytest.approx(sum(t.reward for t in last) / len(last), abs=1e-6)
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())  # unequal rewards: an update


def _tempered(model, temperature):
    """The model with its logits divided by ``temperature`` (what the sampler's logprobs describe)."""
    class Tempered(torch.nn.Module):
        def forward(self, input_ids):
            out = model(input_ids)
            out.logits = out.logits / temperature
            return out

    model.eval()
    return Tempered()


def test_rollout_func_refuses_prompts_it_cannot_place():
    rollout = ArenaRollout()
    with pytest.raises(ValueError, match="first message names its task"):
        rollout._job([{"role": "user", "content": "hi"}], [])
    with pytest.raises(ValueError, match="arena_reward column"):
        episode_reward(["x"])
