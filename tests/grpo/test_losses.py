"""The GRPO losses against values computed by hand."""

import math

import pytest
import torch

from arenas.agents.grpo.losses import (
    aggregate,
    group_advantages,
    normalizer,
    overlong_penalty,
    policy_loss,
    selective_logprobs,
    token_losses,
    zero_variance_groups,
)

# Two sequences, ratios chosen directly (old logprobs 0, new = log ratio).
#   seq 0: ratios [1.0, 1.5, 0.5], mask [1, 1, 0], A = +1
#   seq 1: ratios [0.5, 1.1, 2.0], mask [1, 1, 1], A = -2
RATIOS = torch.tensor([[1.0, 1.5, 0.5], [0.5, 1.1, 2.0]])
MASK = torch.tensor([[1, 1, 0], [1, 1, 1]])
ADV = torch.tensor([1.0, -2.0])
OLD = torch.zeros(2, 3)


def _loss(variant, **kw):
    return policy_loss(RATIOS.log(), OLD, ADV, MASK, variant=variant, **kw)


def test_token_losses_by_hand():
    losses, stats = token_losses(RATIOS.log(), OLD, ADV, MASK)
    # seq 0: -min(1, 1) = -1; -min(1.5, 1.2) = -1.2 (clipped); masked -> 0
    # seq 1: -min(-1, -1.6) = 1.6 (clipped); -min(-2.2, -2.2) = 2.2; -min(-4, -2.4) = 4
    expected = torch.tensor([[-1.0, -1.2, 0.0], [1.6, 2.2, 4.0]])
    assert torch.allclose(losses, expected, atol=1e-6)
    assert float(stats.tokens) == 5 and float(stats.clipped) == 2


def test_grpo_is_sequence_mean_then_batch_mean():
    loss, _ = _loss("grpo")
    # (-1 - 1.2) / 2 = -1.1 ; (1.6 + 2.2 + 4) / 3 = 2.6 ; mean = 0.75
    assert loss.item() == pytest.approx(0.75, abs=1e-6)


def test_dr_grpo_uses_a_constant_normaliser():
    loss, _ = _loss("dr_grpo", max_tokens=4)
    # (-2.2 + 7.8) / (2 sequences * 4 tokens)
    assert loss.item() == pytest.approx(5.6 / 8, abs=1e-6)
    loss_padded, _ = _loss("dr_grpo")  # padded length 3 when no constant is given
    assert loss_padded.item() == pytest.approx(5.6 / 6, abs=1e-6)


def test_dapo_token_mean_with_clip_higher():
    loss, _ = _loss("dapo")
    assert loss.item() == pytest.approx(5.6 / 5, abs=1e-6)
    loss, stats = _loss("dapo", eps_low=0.2, eps_high=0.28)
    # seq 0 token 1 clipped at 1.28 instead of 1.2: -1 - 1.28 + 1.6 + 2.2 + 4 = 5.52
    assert loss.item() == pytest.approx(5.52 / 5, abs=1e-6)
    assert float(stats.clipped) == 2


def test_k3_kl_to_reference():
    logp = torch.tensor([[math.log(0.5)]])
    ref = torch.tensor([[math.log(0.25)]])
    mask = torch.ones(1, 1)
    loss, stats = policy_loss(logp, logp.detach(), torch.zeros(1), mask, ref_logprobs=ref, kl_coef=0.1)
    k3 = 0.5 + math.log(2) - 1  # exp(d) - d - 1 with d = log(0.25 / 0.5)
    assert float(stats.kl) == pytest.approx(k3, abs=1e-6)
    assert loss.item() == pytest.approx(0.1 * k3, abs=1e-6)


def test_kl_to_the_old_policy_is_reported():
    logp = torch.tensor([[math.log(2.0), 0.0]])
    _, stats = policy_loss(logp, torch.zeros(1, 2), torch.zeros(1), torch.tensor([[1, 0]]))
    assert float(stats.kl_old) == pytest.approx(2.0 - math.log(2.0) - 1.0, abs=1e-6)  # r - log r - 1, r = 2


def test_gradient_at_ratio_one_is_advantage_weighted_logprob_gradient():
    logp = torch.tensor([[-1.0, -2.0]], requires_grad=True)
    loss, _ = policy_loss(logp, logp.detach(), torch.tensor([3.0]), torch.ones(1, 2), variant="dapo")
    loss.backward()
    assert torch.allclose(logp.grad, torch.tensor([[-1.5, -1.5]]))


def test_micro_batches_sum_to_the_whole_batch_for_every_variant():
    torch.manual_seed(0)
    logp = torch.randn(6, 5) * 0.1
    old = torch.randn(6, 5) * 0.1
    adv = torch.randn(6)
    mask = (torch.rand(6, 5) > 0.3).long()
    mask[:, 0] = 1
    for variant in ("grpo", "dr_grpo", "dapo"):
        whole, _ = policy_loss(logp, old, adv, mask, variant=variant, max_tokens=8)
        masks = [mask[:2], mask[2:]]
        norm = normalizer(variant, masks, max_tokens=8)
        parts = 0.0
        for sl in (slice(0, 2), slice(2, 6)):
            losses, _ = token_losses(logp[sl], old[sl], adv[sl], mask[sl])
            parts = parts + aggregate(losses, mask[sl], variant, norm)
        assert parts.item() == pytest.approx(whole.item(), abs=1e-6), variant


def test_group_advantages_mean_centred_and_std_scaled():
    rewards = [1, 0, 0, 1, 2, 2]
    groups = ["a", "a", "a", "a", "b", "b"]
    assert group_advantages(rewards, groups) == pytest.approx([0.5, -0.5, -0.5, 0.5, 0, 0])
    assert group_advantages(rewards, groups, scale_std=True) == pytest.approx([1, -1, -1, 1, 0, 0], abs=1e-5)
    assert zero_variance_groups(rewards, groups) == {"b"}


def test_overlong_penalty_ramp():
    assert overlong_penalty(6, 10, 4) == 0.0
    assert overlong_penalty(8, 10, 4) == pytest.approx(-0.5)
    assert overlong_penalty(10, 10, 4) == pytest.approx(-1.0)
    assert overlong_penalty(12, 10, 4) == -1.0
    assert overlong_penalty(12, 10, 0) == -1.0


def test_selective_logprobs_matches_log_softmax():
    torch.manual_seed(0)
    logits = torch.randn(3, 4, 11)
    targets = torch.randint(0, 11, (3, 4))
    expected = torch.log_softmax(logits / 0.7, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    assert torch.allclose(selective_logprobs(logits, targets, temperature=0.7, chunk=2), expected, atol=1e-6)


def test_unknown_variant_is_rejected():
    with pytest.raises(ValueError):
        _loss("ppo")
