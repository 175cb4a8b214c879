"""Per-loss defaults, Dr. GRPO's constant, temperature-aware logprobs, TIS, dead groups, held-out eval."""

import json
import logging
import math

import pytest
import torch

from arenas.agents.grpo.batch import Sample, build_samples, collate, token_logprobs
from arenas.agents.grpo.config import GRPOConfig
from arenas.agents.grpo.learner import Learner, load_policy
from arenas.config import ConfigError
from arenas.trajectory import Trajectory


def test_each_loss_gets_its_papers_defaults_unless_set():
    grpo, dr, dapo = (GRPOConfig(model="m", loss=v) for v in ("grpo", "dr_grpo", "dapo"))
    assert (grpo.scale_rewards, grpo.eps_high, grpo.dynamic_sampling) == (True, 0.2, False)
    assert (dr.scale_rewards, dr.eps_high, dr.dynamic_sampling) == (False, 0.2, False)
    assert (dapo.scale_rewards, dapo.eps_high, dapo.dynamic_sampling) == (True, 0.28, True)
    explicit = GRPOConfig(model="m", loss="dapo", eps_high=0.3, dynamic_sampling=False, scale_rewards=False)
    assert (explicit.scale_rewards, explicit.eps_high, explicit.dynamic_sampling) == (False, 0.3, False)
    assert GRPOConfig(model="m", loss="dr_grpo", max_new_tokens=32).generation_budget(max_turns=4) == 128
    assert GRPOConfig(model="m", max_agent_tokens=100).generation_budget(max_turns=4) == 100
    assert GRPOConfig(model="m", max_new_tokens=32, max_seq_len=64).generation_budget(max_turns=10**6) == 64
    with pytest.raises(ValueError, match="temperature"):
        GRPOConfig(model="m", temperature=0.0)


def _learner(model_dir, **kw):
    cfg = GRPOConfig(model=str(model_dir), log_entropy=False, max_grad_norm=0.0, **kw)
    model, tok = load_policy(cfg.model, torch.device("cpu"), cfg)
    return Learner(model, cfg, torch.device("cpu"), pad_id=tok.pad_token_id)


def _samples(prompt_len, logprobs=None):
    g = torch.Generator().manual_seed(0)
    agent = torch.randint(5, 500, (6,), generator=g).tolist()
    out = []
    for i, adv in enumerate([1.0, -1.0, 0.5]):
        prompt = torch.randint(5, 500, (prompt_len,), generator=torch.Generator().manual_seed(i)).tolist()
        ids = prompt + agent[:3 + i]
        out.append(Sample(ids, [0] * prompt_len + [1] * (3 + i), logprobs, adv))
    return out


def test_dr_grpo_normaliser_is_the_generation_budget_not_the_padded_length(tiny_model_dir):
    # at ratio 1 each agent token's loss is -advantage; dr_grpo divides the sum by sequences x budget
    expected = -(1.0 * 3 - 1.0 * 4 + 0.5 * 5) / (3 * 64)
    for prompt_len in (4, 40):  # a 10x longer prompt must not change the effective step size
        learner = _learner(tiny_model_dir, loss="dr_grpo", max_new_tokens=64, learning_rate=0.0,
                           old_logprobs="policy")
        assert learner.generation_budget == 64
        assert learner.update(_samples(prompt_len))["loss"] == pytest.approx(expected, rel=1e-5)


def test_hf_sampler_records_tempered_logprobs_that_the_learner_reproduces_at_t07(tiny_model_dir):
    from arenas.agents.llm.backend import SamplingParams
    from arenas.agents.llm.hf import HFBackend

    learner = _learner(tiny_model_dir, temperature=0.7)
    backend = HFBackend(str(tiny_model_dir), model=learner.model, batch_wait_ms=0)
    try:
        torch.manual_seed(0)
        prompt = [5, 17, 42, 99, 7]
        c = backend.generate(prompt, SamplingParams(temperature=0.7, max_tokens=12))
    finally:
        backend.close()
    n = len(c.completion_ids)
    sample = Sample(prompt + c.completion_ids, [0] * len(prompt) + [1] * n, [0.0] * len(prompt) + c.logprobs, 1.0)
    batch = collate([sample])
    with torch.no_grad():
        tempered = token_logprobs(learner.model, batch, temperature=0.7)[0][0, -n:]
        raw = token_logprobs(learner.model, batch)[0][0, -n:]
    assert tempered.tolist() == pytest.approx(c.logprobs, abs=1e-4)
    assert not torch.allclose(raw, tempered, atol=1e-2)  # the test can tell the two apart
    # the update's ratio against the sampler is then exactly 1 and the mismatch is nil
    stats = learner.update([sample, Sample(sample.ids, sample.mask, sample.logprobs, -1.0)])
    assert stats["ratio_mean"] == pytest.approx(1.0, abs=1e-4) and stats["mismatch_kl"] < 1e-7


def _with_sampler_offset(learner, samples, offset):
    """The samples with sampler logprobs = the learner's own + ``offset`` on agent tokens."""
    out = []
    for s in samples:
        with torch.no_grad():
            lp = token_logprobs(learner.model, collate([s]), learner.config.temperature)[0][0]
        lps = [0.0] + [float(x) + offset * m for x, m in zip(lp, s.mask[1:], strict=True)]
        out.append(Sample(s.ids, s.mask, lps, s.advantage))
    return out


def test_mismatch_kl_is_logged_and_tis_weights_the_loss_by_the_capped_ratio(tiny_model_dir):
    plain = _learner(tiny_model_dir, loss="dapo", learning_rate=0.0)
    samples = _with_sampler_offset(plain, _samples(4), offset=0.1)
    stats = plain.update(samples)
    assert stats["mismatch_kl"] == pytest.approx(math.exp(-0.1) + 0.1 - 1.0, rel=1e-3)
    assert stats["mismatch_max_abs"] == pytest.approx(0.1, abs=1e-4)
    assert "tis_weight_mean" not in stats

    # sampler far less likely than the learner: weight e^5 capped at 2, ratio against the learner itself
    far = _with_sampler_offset(plain, _samples(4), offset=-5.0)
    tis = _learner(tiny_model_dir, loss="dapo", learning_rate=0.0, tis_cap=2.0).update(far)
    ref = _learner(tiny_model_dir, loss="dapo", learning_rate=0.0, old_logprobs="policy").update(far)
    assert tis["tis_weight_mean"] == pytest.approx(2.0)
    assert tis["ratio_mean"] == pytest.approx(1.0, abs=1e-5)
    assert tis["loss"] == pytest.approx(2.0 * ref["loss"], rel=1e-5)
    assert tis["grad_norm"] == pytest.approx(2.0 * ref["grad_norm"], rel=1e-4)


def _traj(task, reward, rollout):
    return Trajectory(arena="guess", arena_version=0, task_id=task, split="train", seed=0, rollout=rollout,
                      agent="hf:x", reward=reward, termination="submitted",
                      tokens={"ids": [10, 11, 20, 21, 5], "mask": [0, 0, 1, 1, 0],
                              "logprobs": [0.0, 0.0, -1.0, -1.0, 0.0]})


def test_dead_group_share_is_counted_without_dynamic_sampling():
    trajs = [_traj("a", 1.0, 0), _traj("a", 1.0, 1), _traj("b", 1.0, 0), _traj("b", 0.0, 1),
             _traj("c", 0.0, 0), _traj("c", 0.0, 1)]
    samples, stats = build_samples(trajs, GRPOConfig(model="m"))
    assert stats["groups_dead"] == 2 and stats["dead_group_share"] == pytest.approx(2 / 3)
    assert len(samples) == 6 and stats["groups_dropped"] == 0


@pytest.fixture
def guess_arena():
    import arenas
    from arenas import registry
    from tests.core.guess_arena import GuessArena

    arenas.register("guess", GuessArena)
    yield
    registry._REGISTRY.pop("guess", None)


def test_steps_without_signal_warn_skip_the_update_and_stop_the_run(tiny_model_dir, tmp_path, guess_arena,
                                                                     monkeypatch, caplog):
    from arenas.agents.grpo.trainer import GRPOTrainer

    cfg = GRPOConfig(model=str(tiny_model_dir), out=str(tmp_path), steps=10, tasks_per_step=2, group_size=2,
                     max_dead_steps=2, tensorboard=False, arenas=[{"arena": "guess"}])
    trainer = GRPOTrainer(cfg)
    monkeypatch.setattr(trainer, "rollouts", lambda picks, g: [_traj(t.id, 1.0, r) for _, t, _ in picks
                                                               for r in range(g)])
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    try:
        with caplog.at_level(logging.WARNING, logger="arenas.grpo"):
            summary = trainer.train(progress=False)
    finally:
        trainer.close()
    assert summary["steps"] == 2 and "2 consecutive steps" in summary["stopped"]
    assert sum("2 of 2 groups (100%) had all-equal rewards" in r.message for r in caplog.records) == 2
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [(r["dead_group_share"], r["skipped_update"]) for r in rows] == [(1.0, 1.0), (1.0, 1.0)]
    for n, p in trainer.model.named_parameters():
        assert torch.equal(before[n], p.detach()), n


def test_a_run_shorter_than_the_dead_step_limit_without_any_update_says_so(tiny_model_dir, tmp_path, guess_arena,
                                                                           monkeypatch):
    from arenas.agents.grpo.trainer import GRPOTrainer

    cfg = GRPOConfig(model=str(tiny_model_dir), out=str(tmp_path), steps=2, tasks_per_step=2, group_size=2,
                     max_dead_steps=5, tensorboard=False, arenas=[{"arena": "guess"}])
    trainer = GRPOTrainer(cfg)
    monkeypatch.setattr(trainer, "rollouts", lambda picks, g: [_traj(t.id, 0.0, r) for _, t, _ in picks
                                                               for r in range(g)])
    try:
        summary = trainer.train(progress=False)
    finally:
        trainer.close()
    assert summary["steps"] == 2 and summary["stopped"].startswith("made no update in 2 steps")


def test_evaluation_tasks_must_be_held_out(tiny_model_dir, tmp_path, guess_arena):
    import arenas
    from arenas import registry
    from arenas.agents.grpo.trainer import GRPOTrainer
    from tests.core.guess_arena import GuessArena

    class SameTasks(GuessArena):
        def tasks(self, split):
            return super().tasks("train")

    arenas.register("guess-same", SameTasks)
    try:
        with pytest.raises(ConfigError, match="would not be held out"):
            GRPOTrainer(GRPOConfig(model=str(tiny_model_dir), out=str(tmp_path), eval_tasks=2,
                                   arenas=[{"arena": "guess-same"}]))
    finally:
        registry._REGISTRY.pop("guess-same", None)
    trainer = GRPOTrainer(GRPOConfig(model=str(tiny_model_dir), out=str(tmp_path), eval_tasks=4,
                                     arenas=[{"arena": "guess"}]))
    try:
        import numpy as np

        train_ids = {t.id for t in trainer._arenas["guess"].tasks("train")}
        picks = trainer._pick_tasks(np.random.default_rng(0), 4, {"guess": "dev"})
        assert len(picks) == 4 and not {t.id for _, t, _ in picks} & train_ids
    finally:
        trainer.close()
