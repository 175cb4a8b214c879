"""The GRPO losses at their edges, against values worked out by hand from the papers' formulas:
PPO's clipped surrogate with DAPO's asymmetric clip range, the k3 KL estimator (Schulman 2020),
group-relative advantages (DeepSeekMath eq. 3, population std), DAPO's soft overlong
punishment (eq. 13) and the three normalisers (GRPO per-sequence mean, Dr. GRPO constant, DAPO
token mean)."""

import math

import pytest
import torch

from arenas.agents.grpo.losses import (
    LossStats,
    aggregate,
    entropy_from_logits,
    group_advantages,
    normalizer,
    overlong_penalty,
    policy_loss,
    selective_logprobs,
    token_losses,
    zero_variance_groups,
)


def _allclose(t, expected):
    assert torch.allclose(t.double(), torch.tensor(expected, dtype=torch.float64), atol=1e-6, rtol=0), t.tolist()


def _logs(*ratios):
    return torch.tensor([[math.log(r) for r in ratios]])


# ---- advantages ---------------------------------------------------------------------------------
def test_advantages_of_interleaved_groups_use_each_groups_own_mean():
    rewards = [1.0, 10.0, 3.0, 20.0, 2.0]
    groups = [0, 1, 0, 1, 0]
    # group 0: mean 2 -> [-1, 1, 0]; group 1: mean 15 -> [-5, 5]
    assert group_advantages(rewards, groups) == pytest.approx([-1.0, -5.0, 1.0, 5.0, 0.0], abs=1e-12)


def test_std_scaling_divides_by_population_std_plus_eps():
    # group of two with rewards 0 and 1: population std 0.5 (the sample std would be 0.707)
    assert group_advantages([0, 1], ["g", "g"], scale_std=True, eps=0.5) == pytest.approx([-0.5, 0.5], abs=1e-12)
    assert group_advantages([0, 1], ["g", "g"], scale_std=True, eps=0.0) == pytest.approx([-1.0, 1.0], abs=1e-12)
    # the default eps is 1e-6
    assert group_advantages([0, 1], ["g", "g"], scale_std=True)[1] == pytest.approx(0.5 / (0.5 + 1e-6), abs=1e-12)
    # without scaling, eps plays no part
    assert group_advantages([0, 4], ["g", "g"], eps=3.0) == pytest.approx([-2.0, 2.0], abs=1e-12)


def test_std_of_three_rewards_is_the_population_std():
    # rewards 0, 0, 3: mean 1, population variance (1 + 1 + 4) / 3 = 2
    adv = group_advantages([0, 0, 3], [7, 7, 7], scale_std=True, eps=0.0)
    assert adv == pytest.approx([-1 / math.sqrt(2), -1 / math.sqrt(2), 2 / math.sqrt(2)], abs=1e-12)


def test_a_group_of_one_and_a_constant_group_get_zero_advantage():
    assert group_advantages([5.0], ["a"]) == [0.0]
    assert group_advantages([5.0], ["a"], scale_std=True) == [0.0]
    assert group_advantages([2.0, 2.0], ["a", "a"], scale_std=True) == [0.0, 0.0]


def test_advantages_reject_rewards_and_groups_of_different_lengths():
    with pytest.raises(ValueError):
        group_advantages([1.0, 2.0], ["a"])
    with pytest.raises(ValueError):
        zero_variance_groups([1.0], ["a", "b"])


def test_zero_variance_groups_use_the_tolerance_inclusively():
    rewards = [0.0, 0.5, 1.0, 1.0 + 1e-12, 3.0, 4.0]
    groups = ["a", "a", "b", "b", "c", "c"]
    assert zero_variance_groups(rewards, groups) == {"b"}
    assert zero_variance_groups(rewards, groups, tol=0.5) == {"a", "b"}  # range exactly tol counts
    assert zero_variance_groups(rewards, groups, tol=0.0) == set()
    assert zero_variance_groups([1.0], ["solo"]) == {"solo"}


# ---- overlong punishment ------------------------------------------------------------------------
@pytest.mark.parametrize("length, expected", [
    (0, 0.0), (12, 0.0),             # up to L_max - L_cache: no penalty
    (13, -0.25), (14, -0.5), (15, -0.75), (16, -1.0),  # linear ramp (L_max - L_cache - |y|) / L_cache
    (17, -1.0), (100, -1.0),         # beyond L_max
])
def test_overlong_penalty_follows_dapo_eq_13(length, expected):
    assert overlong_penalty(length, max_length=16, buffer=4) == pytest.approx(expected, abs=1e-12)


def test_overlong_penalty_with_a_one_token_buffer_punishes_exactly_max_length():
    assert overlong_penalty(15, 16, 1) == 0.0
    assert overlong_penalty(16, 16, 1) == pytest.approx(-1.0, abs=1e-12)


@pytest.mark.parametrize("buffer", [0, -3])
def test_overlong_penalty_without_buffer_is_a_hard_cut_at_max_length(buffer):
    assert overlong_penalty(16, 16, buffer) == 0.0
    assert overlong_penalty(17, 16, buffer) == -1.0
    assert overlong_penalty(3, 16, buffer) == 0.0


# ---- log-probabilities and entropy ------------------------------------------------------------
def test_selective_logprobs_by_hand():
    logits = torch.tensor([[[0.0, math.log(3.0)], [math.log(2.0), 0.0]]])  # p = [1/4, 3/4]; [2/3, 1/3]
    targets = torch.tensor([[1, 1]])
    out = selective_logprobs(logits, targets)
    _allclose(out, [[math.log(0.75), math.log(1 / 3)]])
    # temperature 2 halves the logits: p ∝ [1, sqrt(3)]
    hot = selective_logprobs(logits, targets, temperature=2.0)
    assert hot[0, 0].item() == pytest.approx(math.log(math.sqrt(3) / (1 + math.sqrt(3))), abs=1e-6)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_selective_logprobs_covers_every_row_for_any_chunk(chunk):
    torch.manual_seed(1)
    logits = torch.randn(3, 2, 7)
    targets = torch.randint(0, 7, (3, 2))
    expected = torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    out = selective_logprobs(logits, targets, chunk=chunk)
    assert out.shape == (3, 2) and torch.allclose(out, expected, atol=1e-6)


def test_selective_logprobs_computes_half_precision_logits_in_float32():
    logits = torch.tensor([[[1.0, 1.0 + 1 / 64, 0.0]]], dtype=torch.bfloat16)  # exact in bfloat16
    out = selective_logprobs(logits, torch.tensor([[1]]))
    assert out.dtype == torch.float32
    p = math.exp(1 + 1 / 64) / (math.e + math.exp(1 + 1 / 64) + 1)
    assert out.item() == pytest.approx(math.log(p), abs=1e-6)


def test_entropy_by_hand():
    uniform = torch.zeros(1, 1, 4)
    assert entropy_from_logits(uniform).item() == pytest.approx(math.log(4), abs=1e-6)
    logits = torch.tensor([[[0.0, math.log(3.0)]], [[0.0, 0.0]]])  # p = [1/4, 3/4]; [1/2, 1/2]
    h = entropy_from_logits(logits)
    assert h.shape == (2, 1)
    assert h[0, 0].item() == pytest.approx(-(0.25 * math.log(0.25) + 0.75 * math.log(0.75)), abs=1e-6)
    assert h[1, 0].item() == pytest.approx(math.log(2), abs=1e-6)
    # temperature 2: p ∝ [1, sqrt(3)]
    q = math.sqrt(3) / (1 + math.sqrt(3))
    hot = entropy_from_logits(logits, temperature=2.0, chunk=2)
    assert hot[0, 0].item() == pytest.approx(-(q * math.log(q) + (1 - q) * math.log(1 - q)), abs=1e-6)


def test_entropy_covers_every_row_in_chunks():
    logits = torch.zeros(5, 1, 3)
    logits[:, 0, 0] = torch.arange(5.0)
    ref = [-sum(p * math.log(p) for p in (math.exp(k) / (math.exp(k) + 2), 1 / (math.exp(k) + 2),
                                              1 / (math.exp(k) + 2))) for k in range(5)]
    for chunk in (1, 2, 3):
        assert entropy_from_logits(logits, chunk=chunk)[:, 0].tolist() == pytest.approx(ref, abs=1e-6)
    assert entropy_from_logits(logits.bfloat16()).dtype == torch.float32


# ---- the clipped surrogate --------------------------------------------------------------------
def test_negative_advantage_is_clipped_below_by_eps_low_and_not_above():
    # A = -1: -min(r A, clip(r) A) = max(r, clip(r)) per token
    #   r = 0.7 -> clip 0.8 -> 0.8 (clipped: the ratio can fall no further for credit)
    #   r = 1.3 -> clip 1.28 -> 1.3 (not clipped: a rising bad token keeps its full gradient)
    losses, stats = token_losses(_logs(0.7, 1.3), torch.zeros(1, 2), torch.tensor([-1.0]), torch.ones(1, 2),
                                 eps_low=0.2, eps_high=0.28)
    _allclose(losses, [[0.8, 1.3]])
    assert float(stats.clipped) == 1


def test_positive_advantage_is_clipped_above_by_eps_high_and_not_below():
    #   A = 2: r = 0.7 -> min(1.4, 1.6) = 1.4 (not clipped); r = 1.3 -> min(2.6, 2.56) = 2.56 (clipped)
    losses, stats = token_losses(_logs(0.7, 1.3), torch.zeros(1, 2), torch.tensor([2.0]), torch.ones(1, 2),
                                 eps_low=0.2, eps_high=0.28)
    _allclose(losses, [[-1.4, -2.56]])
    assert float(stats.clipped) == 1


def test_default_clip_range_is_symmetric_point_two():
    losses, _ = token_losses(_logs(0.5, 1.5), torch.zeros(1, 2), torch.tensor([1.0]), torch.ones(1, 2))
    _allclose(losses, [[-0.5, -1.2]])
    losses, _ = token_losses(_logs(0.5, 1.5), torch.zeros(1, 2), torch.tensor([-1.0]), torch.ones(1, 2))
    _allclose(losses, [[0.8, 1.5]])


def test_ratio_is_new_over_old_probability():
    new = torch.tensor([[math.log(0.3)]])
    old = torch.tensor([[math.log(0.2)]])  # ratio 1.5: inside the clip range with eps 0.6
    losses, stats = token_losses(new, old, torch.tensor([1.0]), torch.ones(1, 1), eps_low=0.6, eps_high=0.6)
    assert losses.item() == pytest.approx(-1.5, abs=1e-6)
    assert float(stats.ratio) == pytest.approx(1.5, abs=1e-6)


def test_loss_keeps_the_logprobs_dtype_whatever_the_advantages_dtype():
    for adv in (torch.tensor([2.0], dtype=torch.float64), torch.tensor([2])):
        losses, _ = token_losses(_logs(1.1), torch.zeros(1, 1), adv, torch.ones(1, 1))
        assert losses.dtype == torch.float32
        _allclose(losses, [[-2.2]])


def test_truncated_importance_weights_scale_each_tokens_loss():
    losses, _ = token_losses(_logs(0.7, 1.3), torch.zeros(1, 2), torch.tensor([-1.0]), torch.ones(1, 2),
                             eps_low=0.2, eps_high=0.28, weights=torch.tensor([[0.5, 2.0]], dtype=torch.float64))
    assert losses.dtype == torch.float32
    _allclose(losses, [[0.4, 2.6]])


def test_masked_positions_give_zero_loss_and_zero_finite_gradient_whatever_their_values():
    logp = torch.tensor([[math.log(0.5), float("nan"), -float("inf")]], requires_grad=True)
    old = torch.tensor([[math.log(0.5), 0.0, 0.0]])
    ref = torch.tensor([[math.log(0.25), float("inf"), 0.0]])
    mask = torch.tensor([[1, 0, 0]])
    losses, stats = token_losses(logp, old, torch.tensor([1.0]), mask, ref_logprobs=ref, kl_coef=0.1,
                                 weights=torch.tensor([[1.0, float("nan"), 1.0]]))
    k3 = 0.5 + math.log(2) - 1  # exp(d) - d - 1, d = log(0.25 / 0.5)
    assert losses[0, 0].item() == pytest.approx(-1.0 + 0.1 * k3, abs=1e-6)
    assert losses[0, 1:].tolist() == [0.0, 0.0]
    losses.sum().backward()
    assert torch.isfinite(logp.grad).all() and logp.grad[0, 1:].tolist() == [0.0, 0.0]
    assert float(stats.tokens) == 1 and float(stats.ratio) == pytest.approx(1.0)
    assert float(stats.kl) == pytest.approx(k3, abs=1e-6) and float(stats.kl_old) == pytest.approx(0.0, abs=1e-7)


def test_kl_is_reported_but_not_added_with_a_zero_coefficient():
    logp = torch.tensor([[math.log(0.5), math.log(0.2)]])
    ref = torch.tensor([[math.log(0.25), math.log(0.4)]])
    losses, stats = token_losses(logp, logp.clone(), torch.tensor([0.0]), torch.ones(1, 2), ref_logprobs=ref)
    assert losses.tolist() == [[0.0, 0.0]]
    # d = log(ref / p): -log 2 -> 0.5 + log 2 - 1; +log 2 -> 2 - log 2 - 1
    assert float(stats.kl) == pytest.approx((0.5 + math.log(2) - 1) + (2 - math.log(2) - 1), abs=1e-6)
    _, no_ref = token_losses(logp, logp.clone(), torch.tensor([0.0]), torch.ones(1, 2))
    assert float(no_ref.kl) == 0.0


def test_k3_kl_gradient_pulls_the_policy_towards_the_reference():
    # d/dlogp [c (e^d - d - 1)], d = ref - logp, is c (1 - e^d); at p = 0.5, ref = 0.25: 0.1 * 0.5
    logp = torch.tensor([[math.log(0.5)]], requires_grad=True)
    loss, _ = policy_loss(logp, logp.detach(), torch.zeros(1), torch.ones(1, 1), variant="dapo",
                          ref_logprobs=torch.tensor([[math.log(0.25)]]), kl_coef=0.1)
    loss.backward()
    assert logp.grad.item() == pytest.approx(0.05, abs=1e-6)


def test_clipped_tokens_have_no_policy_gradient():
    logp = torch.tensor([[math.log(1.5), math.log(1.1)]], requires_grad=True)
    loss, _ = policy_loss(logp, torch.zeros(1, 2), torch.tensor([1.0]), torch.ones(1, 2), variant="dapo")
    loss.backward()
    # token 0 clipped at 1.2: zero gradient; token 1: d(-r A)/dlogp / 2 tokens = -1.1 / 2
    _allclose(logp.grad, [[0.0, -0.55]])


def test_stats_count_tokens_clips_ratio_and_kl_to_the_old_policy():
    logp = _logs(2.0, 0.5, 1.0)
    mask = torch.tensor([[1, 1, 0]])
    _, stats = token_losses(logp, torch.zeros(1, 3), torch.tensor([1.0]), mask)
    assert float(stats.tokens) == 2
    assert float(stats.clipped) == 1  # only r = 2 (A > 0 clips above)
    assert float(stats.ratio) == pytest.approx(2.5, abs=1e-6)
    # k3 to the old policy: r - log r - 1 summed over agent tokens
    assert float(stats.kl_old) == pytest.approx((2 - math.log(2) - 1) + (0.5 - math.log(0.5) - 1), abs=1e-6)


def test_loss_stats_accumulate_and_give_per_token_means():
    total = LossStats()
    total.add(LossStats(tokens=torch.tensor(2), clipped=torch.tensor(1), kl=torch.tensor(0.4),
                        kl_old=torch.tensor(0.2), ratio=torch.tensor(2.2)))
    total.add(LossStats(tokens=3.0, clipped=0.0, kl=0.1, kl_old=0.3, ratio=2.8))
    assert total.means() == pytest.approx({"tokens": 5.0, "clip_fraction": 0.2, "kl": 0.1, "kl_to_old": 0.1,
                                           "ratio_mean": 1.0})
    assert LossStats().means() == {"tokens": 0.0, "clip_fraction": 0.0, "kl": 0.0, "kl_to_old": 0.0,
                                   "ratio_mean": 0.0}
    half = LossStats(tokens=0.5, clipped=0.5, kl=0.5, kl_old=0.5, ratio=0.5)
    assert half.means()["clip_fraction"] == 0.5  # fewer than one token divides by one


# ---- normalisers and aggregation ----------------------------------------------------------------
def test_normalizers_over_several_micro_batches():
    masks = [torch.tensor([[1, 1, 0]]), torch.tensor([[1, 0, 0, 0, 0], [1, 1, 1, 1, 0]])]
    assert normalizer("grpo", masks) == 3.0
    assert normalizer("dr_grpo", masks, max_tokens=8) == 24.0
    assert normalizer("dr_grpo", masks) == 15.0  # widest padded length, 5, when no budget is given
    assert normalizer("dapo", masks) == 7.0
    assert normalizer("dapo", masks, max_tokens=8) == 7.0  # the budget plays no part
    assert normalizer("grpo", masks, max_tokens=8) == 3.0


def test_normalizers_never_divide_by_zero():
    empty = [torch.zeros(0, 4)]
    assert normalizer("grpo", empty) == 1.0
    assert normalizer("dr_grpo", empty, max_tokens=8) == 1.0
    assert normalizer("dapo", [torch.zeros(2, 3)]) == 1.0
    assert normalizer("dr_grpo", [torch.zeros(2, 3)], max_tokens=0) == 1.0
    assert normalizer("dr_grpo", []) == 1.0 and normalizer("grpo", []) == 1.0 and normalizer("dapo", []) == 1.0


@pytest.mark.parametrize("fn", [lambda v: normalizer(v, [torch.ones(1, 1)]),
                                lambda v: aggregate(torch.ones(1, 1), torch.ones(1, 1), v, 1.0)])
def test_unknown_variants_are_named_in_the_error(fn):
    with pytest.raises(ValueError, match="unknown loss variant 'ppo'.*grpo"):
        fn("ppo")


def test_grpo_aggregate_is_each_sequences_mean_over_its_own_tokens():
    losses = torch.tensor([[2.0, 4.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 0, 0]])
    # (2 + 4) / 2 + 3 / 1 + 0 (an all-masked row divides by one, not zero) = 6, over norm 4
    assert aggregate(losses, mask, "grpo", 4.0).item() == pytest.approx(1.5, abs=1e-6)
    assert aggregate(losses, mask, "dr_grpo", 4.0).item() == pytest.approx(9 / 4, abs=1e-6)
    assert aggregate(losses, mask, "dapo", 3.0).item() == pytest.approx(3.0, abs=1e-6)


def test_policy_loss_adds_no_kl_unless_a_coefficient_is_given():
    logp = torch.tensor([[math.log(0.5)]])
    loss, stats = policy_loss(logp, logp.clone(), torch.zeros(1), torch.ones(1, 1),
                              ref_logprobs=torch.tensor([[math.log(0.25)]]))
    assert loss.item() == 0.0 and float(stats.kl) == pytest.approx(0.5 + math.log(2) - 1, abs=1e-6)


def test_policy_loss_passes_clip_kl_and_budget_through():
    logp, old = _logs(1.3), torch.zeros(1, 1)
    loss, _ = policy_loss(logp, old, torch.tensor([1.0]), torch.ones(1, 1), eps_low=0.1, eps_high=0.25)
    assert loss.item() == pytest.approx(-1.25, abs=1e-6)
    loss, _ = policy_loss(_logs(0.7), old, torch.tensor([-1.0]), torch.ones(1, 1), eps_low=0.1, eps_high=0.25)
    assert loss.item() == pytest.approx(0.9, abs=1e-6)
    loss, stats = policy_loss(torch.tensor([[math.log(0.5)]]), torch.tensor([[math.log(0.5)]]), torch.zeros(1),
                              torch.ones(1, 1), ref_logprobs=torch.tensor([[math.log(0.25)]]), kl_coef=2.0)
    assert loss.item() == pytest.approx(2.0 * (0.5 + math.log(2) - 1), abs=1e-6) and float(stats.kl) > 0
    loss, _ = policy_loss(_logs(1.0), old, torch.tensor([1.0]), torch.ones(1, 1), variant="dr_grpo", max_tokens=4)
    assert loss.item() == pytest.approx(-0.25, abs=1e-6)


# ---- packed rows and data-parallel totals -----------------------------------------------------
def test_per_token_advantages_of_packed_rows():
    # one row holding two episodes: A = +1 on token 0, A = -1 on token 1
    losses, stats = token_losses(_logs(1.5, 0.7), torch.zeros(1, 2), torch.tensor([[1.0, -1.0]]), torch.ones(1, 2))
    _allclose(losses, [[-1.2, 0.8]])  # both clipped: 1.5 -> 1.2 (A > 0), 0.7 -> 0.8 (A < 0)
    assert float(stats.clipped) == 2


def test_normalizer_counts_packed_episodes():
    masks = [torch.ones(2, 3)]
    assert normalizer("grpo", masks, sequences=[3, 2]) == 5.0
    assert normalizer("dr_grpo", masks, max_tokens=4, sequences=[3, 2]) == 20.0
    assert normalizer("dapo", masks, sequences=[3, 2]) == 6.0


@pytest.mark.parametrize("variant, local, total", [
    ("grpo", (3.0, 0.0), 30.0), ("dr_grpo", (3.0, 0.0), 240.0), ("dapo", (3.0, 7.0), 700.0)])
def test_normalizer_reduces_sequences_and_tokens_over_ranks(variant, local, total):
    masks = [torch.tensor([[1, 1, 0]]), torch.tensor([[1, 0, 0, 0, 0], [1, 1, 1, 1, 0]])]
    seen = []

    def reduce(n_seq, tokens):
        seen.append((n_seq, tokens))
        return n_seq * 10, tokens * 100

    assert normalizer(variant, masks, max_tokens=8, reduce=reduce) == total
    assert seen == [local]  # agent tokens are counted only where the variant divides by them


def test_grpo_aggregate_of_packed_rows_weights_each_token_by_its_episode():
    losses = torch.tensor([[2.0, 4.0, 6.0]])
    # tokens 0-1 are one episode (1/2 each), token 2 another (1/1): (3 + 6) / 2 episodes
    out = aggregate(losses, torch.ones(1, 3), "grpo", 2.0, sequence_weights=torch.tensor([[0.5, 0.5, 1.0]]))
    assert out.item() == pytest.approx(4.5, abs=1e-6)
