"""The update step on hand-made token batches: masking, accumulation, direction, checkpoints."""

import pytest
import torch

from arenas.agents.grpo.batch import Sample, collate, token_logprobs
from arenas.agents.grpo.config import GRPOConfig
from arenas.agents.grpo.learner import Learner, load_policy


def _samples():
    # env/template tokens (mask 0) around agent tokens (mask 1), two groups' worth of advantages
    g = torch.Generator().manual_seed(0)
    out = []
    for i, adv in enumerate([1.0, -1.0, 0.5, -0.5]):
        n = 10 + 3 * i
        ids = torch.randint(5, 500, (n,), generator=g).tolist()
        mask = [0] * 4 + [1] * 3 + [0] * 2 + [1] * (n - 9)
        out.append(Sample(ids, mask, [0.0] * n, adv))
    return out


def _learner(model_dir, **kw):
    cfg = GRPOConfig(model=str(model_dir), learning_rate=kw.pop("learning_rate", 1e-2), log_entropy=False,
                     max_grad_norm=0.0, old_logprobs="policy", **kw)
    model, tok = load_policy(cfg.model, torch.device("cpu"), cfg)
    return Learner(model, cfg, torch.device("cpu"), pad_id=tok.pad_token_id), cfg


def _grads(learner, samples, bump=None):
    """Gradient of the mini-batch loss; ``bump`` adds a tensor to the logits where the next
    token is an environment token."""
    learner.model.zero_grad()
    batch = collate(samples, learner.pad_id)
    handle = None
    if bump is not None:
        env = torch.zeros(batch.input_ids.shape, dtype=torch.bool)
        env[:, :-1] = batch.loss_mask == 0
        env[:, -1] = True

        def hook(module, inputs, output):
            return output + bump(output.shape) * env[:, -output.shape[1]:].unsqueeze(-1)

        handle = learner.model.lm_head.register_forward_hook(hook)
    try:
        from arenas.agents.grpo.losses import policy_loss

        logp, _ = token_logprobs(learner.model, batch)
        loss, _ = policy_loss(logp, logp.detach(), batch.advantages, batch.loss_mask, variant="grpo")
        loss.backward()
    finally:
        if handle is not None:
            handle.remove()
    return {n: p.grad.clone() for n, p in learner.model.named_parameters() if p.grad is not None}


def test_environment_token_logits_do_not_change_the_gradient(tiny_model_dir):
    learner, _ = _learner(tiny_model_dir)
    samples = _samples()
    base = _grads(learner, samples)
    g = torch.Generator().manual_seed(1)
    bumped = _grads(learner, samples, bump=lambda shape: 50.0 * torch.randn(shape, generator=g))
    assert base and base.keys() == bumped.keys()
    for name in base:
        assert torch.allclose(base[name], bumped[name], atol=1e-6), name
    # control: bumping the agent tokens' logits does change it
    for s in samples:
        s.mask = [1 - m for m in s.mask]
    flipped = _grads(learner, samples, bump=lambda shape: 50.0 * torch.randn(shape, generator=g))
    assert any(not torch.allclose(base[n], flipped[n], atol=1e-6) for n in base)


@pytest.mark.parametrize("variant", ["grpo", "dr_grpo", "dapo"])
def test_gradient_accumulation_matches_one_batch(tiny_model_dir, variant):
    grads = []
    for micro in (4, 1):
        learner, _ = _learner(tiny_model_dir, micro_batch_size=micro, loss=variant, learning_rate=0.0)
        learner.update(_samples())
        # lr 0: the optimizer did not move the weights, and zero_grad cleared them; recompute
        # the accumulated gradient by hand through the same micro-batch path
        learner.model.zero_grad()
        from arenas.agents.grpo.batch import micro_batches
        from arenas.agents.grpo.losses import aggregate, normalizer, token_losses

        parts = [collate(p, learner.pad_id) for p in micro_batches(_samples(), micro)]
        norm = normalizer(variant, [b.loss_mask for b in parts])
        for b in parts:
            logp, _ = token_logprobs(learner.model, b)
            losses, _ = token_losses(logp, logp.detach(), b.advantages, b.loss_mask)
            aggregate(losses, b.loss_mask, variant, norm).backward()
        grads.append({n: p.grad.clone() for n, p in learner.model.named_parameters() if p.grad is not None})
    for name in grads[0]:
        assert torch.allclose(grads[0][name], grads[1][name], atol=1e-5), name


def _seq_logprob(learner, sample):
    batch = collate([sample], learner.pad_id)
    with torch.no_grad():
        logp, _ = token_logprobs(learner.model, batch)
    return float((logp * batch.loss_mask).sum())


def test_update_moves_logprobs_in_the_direction_of_the_advantage(tiny_model_dir):
    learner, _ = _learner(tiny_model_dir, mu=2, micro_batch_size=2)
    samples = _samples()
    before = [_seq_logprob(learner, s) for s in samples]
    stats = learner.update(samples)
    after = [_seq_logprob(learner, s) for s in samples]
    assert after[0] > before[0] and after[1] < before[1]
    assert stats["optimizer_steps"] == 2 and stats["train_tokens"] > 0
    assert 0.0 <= stats["clip_fraction"] <= 1.0


def test_learning_rate_zero_leaves_the_model_unchanged(tiny_model_dir):
    learner, _ = _learner(tiny_model_dir, learning_rate=0.0)
    before = {n: p.detach().clone() for n, p in learner.model.named_parameters()}
    learner.update(_samples())
    for n, p in learner.model.named_parameters():
        assert torch.equal(before[n], p.detach()), n


def test_kl_to_reference_is_zero_before_and_positive_after_updates(tiny_model_dir):
    before, _ = _learner(tiny_model_dir, kl_coef=0.1, mu=1)  # one pass: the policy is still the reference
    assert before.update(_samples())["kl"] == pytest.approx(0.0, abs=1e-7)
    learner, _ = _learner(tiny_model_dir, kl_coef=0.1, mu=3)
    stats = learner.update(_samples())
    assert stats["kl"] > 1e-6
    assert learner.reference is not None


def test_checkpoint_round_trip_restores_weights_and_optimizer(tiny_model_dir, tmp_path):
    learner, _ = _learner(tiny_model_dir)
    learner.update(_samples())
    learner.save(tmp_path / "ckpt", None, {"step": 3})
    trained = {n: p.detach().clone() for n, p in learner.model.named_parameters()}
    fresh, _ = _learner(tiny_model_dir)
    state = fresh.load(tmp_path / "ckpt")
    assert state["step"] == 3
    for n, p in fresh.model.named_parameters():
        assert torch.equal(trained[n], p.detach()), n
    assert fresh.optimizer.state_dict()["state"]


def test_lora_trains_only_adapters_and_round_trips(tiny_model_dir, tmp_path):
    learner, _ = _learner(tiny_model_dir, lora_rank=4, kl_coef=0.05)
    frozen = {n: p.detach().clone() for n, p in learner.model.named_parameters() if not p.requires_grad}
    stats = learner.update(_samples())
    assert stats["kl"] >= 0.0 and learner.reference is None  # base model with adapters off is the reference
    for n, p in learner.model.named_parameters():
        if not p.requires_grad:
            assert torch.equal(frozen[n], p.detach()), n
    learner.save(tmp_path / "lora", None, {"step": 1})
    adapters = {n: p.detach().clone() for n, p in learner.model.named_parameters() if p.requires_grad}
    fresh, _ = _learner(tiny_model_dir, lora_rank=4)
    fresh.load(tmp_path / "lora")
    for n, p in fresh.model.named_parameters():
        if p.requires_grad:
            assert torch.equal(adapters[n], p.detach()), n
