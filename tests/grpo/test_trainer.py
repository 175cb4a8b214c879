"""Trajectories -> samples (advantages, dynamic sampling, overlong rules), and the loop end to end."""

import json

import pytest

import arenas
from arenas.agents.grpo.batch import build_samples, collate
from arenas.agents.grpo.config import GRPOConfig
from arenas.trajectory import Trajectory
from arenas.verifiers import Component, Rubric, Verdict
from tests.core.guess_arena import GuessArena


class ReplyArena(GuessArena):
    """The guess arena where a plain-text reply ends the episode with a reward that grows with its
    length: even a random-init model's groups then have unequal rewards (a learning signal)."""

    rubric = Rubric([Component("length", lambda c, r, ctx: Verdict(min(len(c), 24) / 24, True), 1.0)])

    def on_text(self, action):
        self.finish(self.rubric.score(action.text, self.task.reference, {}))
        return "noted"


def _traj(task, reward, n_agent=3, seed=0, rollout=0, termination="submitted", error=None):
    ids = list(range(10, 14)) + list(range(20, 20 + n_agent)) + [5, 6]
    mask = [0] * 4 + [1] * n_agent + [0, 0]
    lps = [0.0] * 4 + [-1.0] * n_agent + [0.0, 0.0]
    return Trajectory(arena="guess", arena_version=0, task_id=task, split="train", seed=seed, rollout=rollout,
                      agent="hf:x", reward=reward, termination=termination, error=error,
                      tokens={"ids": ids, "mask": mask, "logprobs": lps})


def _config(**kw):
    return GRPOConfig(model="unused", **kw)


def test_advantages_are_group_relative_and_broadcast_to_agent_tokens():
    trajs = [_traj("a", 1.0), _traj("a", 0.0, rollout=1), _traj("b", 3.0), _traj("b", 1.0, rollout=1)]
    samples, stats = build_samples(trajs, _config(scale_rewards=False))
    assert [s.advantage for s in samples] == [0.5, -0.5, 1.0, -1.0]
    batch = collate(samples)
    # every agent token of an episode carries its advantage; env tokens are masked out
    assert batch.loss_mask[0].tolist() == [0, 0, 0, 1, 1, 1, 0, 0]
    assert batch.sampler_logprobs[0, 3].item() == -1.0
    assert stats["groups"] == 2


def test_dynamic_sampling_drops_zero_variance_groups():
    trajs = [_traj("a", 1.0), _traj("a", 1.0, rollout=1), _traj("b", 1.0), _traj("b", 0.0, rollout=1)]
    samples, stats = build_samples(trajs, _config(dynamic_sampling=True))
    assert len(samples) == 2 and stats["groups_dropped"] == 1
    samples, _ = build_samples(trajs, _config(dynamic_sampling=False))
    assert len(samples) == 4


def test_overlong_filter_and_soft_penalty():
    trajs = [_traj("a", 1.0, n_agent=3), _traj("a", 1.0, n_agent=9, rollout=1, termination="max_turns")]
    samples, stats = build_samples(trajs, _config(overlong_filter=True, scale_rewards=False))
    assert stats["episodes_overlong_filtered"] == 1
    assert sum(samples[1].mask) == 0 and sum(samples[0].mask) == 3
    # soft penalty: 9 agent tokens, budget 10, buffer 4 -> (6 - 9) / 4 = -0.75 on the long one
    samples, _ = build_samples(trajs, _config(max_agent_tokens=10, overlong_buffer=4, scale_rewards=False))
    assert [s.advantage for s in samples] == pytest.approx([0.375, -0.375])


def test_failed_and_tokenless_episodes_are_left_out():
    bad = _traj("a", 5.0, rollout=2, error="boom")
    tokenless = _traj("a", 5.0, rollout=3)
    tokenless.tokens = None
    samples, stats = build_samples([_traj("a", 1.0), _traj("a", 0.0, rollout=1), bad, tokenless], _config())
    assert len(samples) == 2 and stats["episodes_without_tokens"] == 2


@pytest.fixture
def guess_arenas():
    arenas.register("guess", ReplyArena)
    arenas.register("guess-b", ReplyArena)
    yield
    from arenas import registry

    registry._REGISTRY.pop("guess", None)
    registry._REGISTRY.pop("guess-b", None)


def test_loop_end_to_end_with_mixing_checkpoints_and_resume(tiny_model_dir, tmp_path, guess_arenas):
    from arenas.agents.grpo.trainer import GRPOTrainer

    out = tmp_path / "run"
    cfg = dict(model=str(tiny_model_dir), out=str(out), steps=2, tasks_per_step=2, group_size=2,
               max_new_tokens=12, learning_rate=1e-3, save_every=1, tensorboard=True, temperature=0.7,
               eval_tasks=1, eval_every=1, max_dead_steps=0,
               arenas=[{"arena": "guess", "weight": 1.0, "config": {"max_turns": 2}},
                       {"arena": "guess-b", "weight": 1.0, "config": {"max_turns": 2}}])
    trainer = GRPOTrainer(GRPOConfig(**cfg))
    assert trainer.learner.generation_budget == 24  # dr_grpo's constant: max_new_tokens x max_turns
    try:
        summary = trainer.train(progress=False)
    finally:
        trainer.close()
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    rows = [r for r in lines if "reward_mean" in r]
    assert [r["step"] for r in rows] == [1, 2]
    # held-out evaluation before training, after step 1 and after the last step, on the same fixed tasks
    assert [r["step"] for r in lines if "eval/episodes" in r] == [0, 1, 2]
    evals = [json.loads(line) for line in (out / "trajectories" / "eval.jsonl").read_text().splitlines()]
    trains = [json.loads(line) for line in (out / "trajectories" / "train.jsonl").read_text().splitlines()]
    assert len(evals) == 3 * 2 and len(trains) == 2 * 4 and all(t["tokens"] is None for t in trains)
    assert len({t["task_id"] for t in evals}) == 1 and {t["split"] for t in evals} == {"dev"}
    assert not {t["task_id"] for t in evals} & {t["task_id"] for t in trains}
    for key in ("reward_mean", "invalid_action_rate", "generation_s", "train_s", "train_tokens_per_s",
                "clip_fraction", "entropy", "kl", "kl_to_old", "step_s", "guess/reward_mean", "guess-b/episodes"):
        assert key in rows[0], key
    # at temperature 0.7 the learner's tempered logprobs equal the sampler's: ratio 1, no mismatch
    assert rows[0]["ratio_mean"] == pytest.approx(1.0, abs=1e-3)
    assert rows[0]["mismatch_kl"] < 1e-6 and rows[0]["mismatch_max_abs"] < 1e-3
    assert 0.0 <= rows[0]["dead_group_share"] <= 1.0
    assert rows[0]["guess/episodes"] + rows[0]["guess-b/episodes"] == 4
    assert (out / "learning_curve.png").stat().st_size > 0
    assert any((out / "tb").iterdir())
    assert (out / "model" / "config.json").exists() and summary["steps"] == 2
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-000001", "step-000002"]

    resumed = GRPOTrainer(GRPOConfig(**{**cfg, "steps": 3, "resume": True}))
    try:
        resumed.train(progress=False)
    finally:
        resumed.close()
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "reward_mean" in r] == [1, 2, 3]


@pytest.mark.parametrize("lora_rank", [0, 4])
def test_a_separate_generator_copy_receives_the_trained_weights(tiny_model_dir, lora_rank):
    import torch

    from arenas.agents.grpo.generation import AgentGenerator, merged_weights
    from arenas.agents.grpo.learner import load_policy

    cfg = GRPOConfig(model=str(tiny_model_dir), lora_rank=lora_rank, generator_options={"device": "cpu"})
    model, tok = load_policy(cfg.model, torch.device("cpu"), cfg)
    gen = AgentGenerator(cfg, model, tok)
    try:
        assert not gen.colocated and gen.backend.model is not model
        with torch.no_grad():
            for p in model.parameters():
                if p.requires_grad:
                    p.add_(0.1)
        gen.sync(model)
        served = gen.backend.model.state_dict()
        for name, tensor in merged_weights(model):
            assert torch.equal(served[name], tensor), name
        assert any(not torch.equal(served[n], t) for n, t in _fresh_state(tiny_model_dir).items())
    finally:
        gen.close()


def _fresh_state(path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path).state_dict()
