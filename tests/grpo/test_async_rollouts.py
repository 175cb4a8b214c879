"""Asynchronous rollouts: the next batch is generated during the update, by weights one update old,
and the loss corrects for the lag; switched off, every batch is on-policy."""

import json
import threading

import pytest
import torch

import arenas
from arenas.agents.grpo.async_rollouts import require_sampler_logprobs
from arenas.agents.grpo.batch import Sample, collate, token_logprobs
from arenas.agents.grpo.config import GRPOConfig
from arenas.verifiers import Component, Rubric, Verdict
from tests.core.guess_arena import GuessArena

STEPS = 3


class ReplyArena(GuessArena):
    """A plain-text reply ends the episode with a reward growing with its length: a random-init
    model's groups get unequal rewards, so every step updates."""

    rubric = Rubric([Component("length", lambda c, r, ctx: Verdict(min(len(c), 40) / 40, True), 1.0)])

    def on_text(self, action):
        self.finish(self.rubric.score(action.text, self.task.reference, {}))
        return "noted"


@pytest.fixture
def reply_arena():
    arenas.register("reply", ReplyArena)
    yield
    from arenas import registry

    registry._REGISTRY.pop("reply", None)


def _run(model_dir, out, async_rollouts, **kw):
    """Trains STEPS steps; returns per update: (samples, learner version, weights before it), the
    weights after the last update, the metric rows and whether the generator shared the model."""
    from arenas.agents.grpo.trainer import GRPOTrainer

    cfg = GRPOConfig(model=str(model_dir), out=str(out), steps=STEPS, tasks_per_step=2, group_size=3,
                     max_new_tokens=10, learning_rate=2e-2, max_dead_steps=0, tensorboard=False,
                     save_trajectories=False, log_entropy=False, concurrency=8, async_rollouts=async_rollouts,
                     arenas=[{"arena": "reply", "config": {"max_turns": 1}}], **kw)
    trainer = GRPOTrainer(cfg)
    generating = [threading.Event() for _ in range(STEPS)]
    updating = [threading.Event() for _ in range(STEPS)]
    updates = []
    generate, update = trainer.generate_batch, trainer.learner.update

    def generate_batch(step):
        generating[step].set()
        if async_rollouts and step > 0:  # the update of the step before must be running now
            assert updating[step - 1].wait(20), f"batch {step} was not generated during update {step - 1}"
        return generate(step)

    def learner_update(samples):
        i = len(updates)
        updates.append((samples, trainer.version, _weights(trainer.model)))
        updating[i].set()
        if async_rollouts and i + 1 < STEPS:  # ... and the next batch must be under way meanwhile
            assert generating[i + 1].wait(20), f"update {i} ran without the next batch being generated"
        return update(samples)

    trainer.generate_batch = generate_batch
    trainer.learner.update = learner_update
    try:
        trainer.train(progress=False)
        shared = trainer.generator.backend.model is trainer.model
        final = _weights(trainer.model)
    finally:
        trainer.close()
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return updates, final, rows, shared


def _weights(model):
    return {n: t.detach().clone() for n, t in model.state_dict().items()}


def _logprobs(model, weights, samples, temperature):
    """Each sample's logprobs ``[T-1]`` under ``weights``."""
    model.load_state_dict(weights)
    with torch.no_grad():
        return [token_logprobs(model, collate([s]), temperature)[0][0] for s in samples]


def _played_by(model, versions, samples, temperature):
    """The versions whose weights reproduce the sampler's recorded logprobs of ``samples``."""
    found = []
    for v, weights in enumerate(versions):
        lps = _logprobs(model, weights, samples, temperature)
        gaps = [(lp - torch.tensor(s.logprobs[1:]))[torch.tensor(s.mask[1:]) == 1].abs().max() for s, lp in
                zip(samples, lps, strict=True)]
        if max(float(g) for g in gaps) < 1e-4:
            found.append(v)
    return found


@pytest.mark.parametrize("mode", ["sync", "async", "async-tis"])
def test_batches_are_played_by_weights_one_update_old_and_the_ratio_corrects_for_it(tiny_model_dir, tmp_path,
                                                                                    reply_arena, mode):
    from transformers import AutoModelForCausalLM

    async_rollouts = mode != "sync"
    tis_cap = 2.0 if mode == "async-tis" else 0.0
    updates, final, rows, shared = _run(tiny_model_dir, tmp_path, async_rollouts, tis_cap=tis_cap)
    assert len(updates) == STEPS and not any("skipped_update" in r for r in rows)
    assert shared is not async_rollouts  # async: the generator plays its own copy, never the updated object
    versions = [w for _, _, w in updates] + [final]  # versions[v]: the weights after v updates
    assert [v for _, v, _ in updates] == list(range(STEPS))
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    lag = 1 if async_rollouts else 0
    for k, (samples, version, _) in enumerate(updates):
        played = max(k - lag, 0)  # async: batch k+1 comes from the weights after update k-1
        assert _played_by(model, versions, samples, 1.0) == [played], k
        assert (rows[k]["policy_version"], rows[k]["staleness"]) == (played, version - played)
        # the ratio (or, with TIS, the capped weight) is p_learner / p_sampler on the agent tokens
        lps = _logprobs(model, versions[version], samples, 1.0)
        ratios = torch.cat([torch.exp(lp - torch.tensor(s.logprobs[1:]))[torch.tensor(s.mask[1:]) == 1]
                            for s, lp in zip(samples, lps, strict=True)])
        if tis_cap:
            assert rows[k]["ratio_mean"] == pytest.approx(1.0, abs=1e-4)
            assert rows[k]["tis_weight_mean"] == pytest.approx(float(ratios.clamp(max=tis_cap).mean()), rel=1e-4)
        else:
            assert rows[k]["ratio_mean"] == pytest.approx(float(ratios.mean()), rel=1e-4)
        if played != version:  # a stale batch: the correction is not a no-op
            assert abs(float(ratios.mean()) - 1.0) > 1e-3


def test_async_needs_the_samplers_logprobs():
    with pytest.raises(ValueError, match="sampler"):
        GRPOConfig(model="m", async_rollouts=True, old_logprobs="policy")
    GRPOConfig(model="m", async_rollouts=True, old_logprobs="policy", tis_cap=2.0)
    with pytest.raises(RuntimeError, match="no sampler logprobs"):
        require_sampler_logprobs([Sample([1, 2, 3], [0, 1, 1], None, 1.0)], "openai")
