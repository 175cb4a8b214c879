"""Sequence packing: several episodes in one row give the same logprobs, loss and gradients as padded rows."""

import pytest
import torch

from arenas.agents.grpo.batch import Sample, collate, token_logprobs
from arenas.agents.grpo.config import GRPOConfig
from arenas.agents.grpo.learner import Learner, load_policy
from arenas.agents.grpo.packing import check_packing_support, collate_packed, pack_rows


def _samples():
    """Episodes of different lengths (7 to 40 tokens), prompt tokens then agent tokens with an
    environment reply in between, sampler logprobs slightly off the policy's."""
    g = torch.Generator().manual_seed(0)
    out = []
    for i, (n, adv) in enumerate(zip([7, 40, 12, 25, 9, 31], [1.0, -1.0, 0.5, -0.5, 2.0, -2.0], strict=True)):
        ids = torch.randint(5, 500, (n,), generator=g).tolist()
        mask = [0] * 3 + [1] * 2 + [0] * 2 + [1] * (n - 7)
        lps = [0.0 if m == 0 else -3.0 - 0.1 * i for m in mask]
        out.append(Sample(ids, mask, lps, adv))
    return out


def _learner(model_dir, **kw):
    cfg = GRPOConfig(model=str(model_dir), learning_rate=1e-2, log_entropy=True, max_grad_norm=0.0, **kw)
    torch.manual_seed(0)
    model, tok = load_policy(cfg.model, torch.device("cpu"), cfg)
    return Learner(model, cfg, torch.device("cpu"), pad_id=tok.pad_token_id)


def test_rows_respect_the_budget_and_keep_every_episode():
    samples = _samples()
    rows = pack_rows(samples, 48)
    assert sorted(id(s) for row in rows for s in row) == sorted(id(s) for s in samples)
    assert all(sum(len(s.ids) for s in row) <= 48 for row in rows)
    assert len(rows) == 3  # 124 tokens in rows of 48: first-fit decreasing needs three
    assert [len(r) for r in pack_rows(samples, 10)] == [1] * 6  # longer than the budget: a row each
    batch = collate_packed(rows[0])
    assert batch.position_ids[0].tolist() == [p for s in rows[0] for p in range(len(s.ids))]
    assert batch.attention_mask is None and batch.episodes == len(rows[0])


def test_packed_logprobs_equal_unpacked(tiny_model_dir):
    learner = _learner(tiny_model_dir)
    samples = _samples()
    packed = collate_packed(samples)
    with torch.no_grad():
        row, ent_row = token_logprobs(learner.model, packed, 0.7, with_entropy=True)
    offset = 0
    for s in samples:
        with torch.no_grad():
            alone, ent = token_logprobs(learner.model, collate([s]), 0.7, with_entropy=True)
        n = len(s.ids)
        mask = torch.tensor(s.mask[1:], dtype=torch.bool)
        # position offset + t in the packed row scores token t + 1 of this episode
        got, want = row[0, offset:offset + n - 1][mask], alone[0][mask]
        assert torch.allclose(got, want, atol=1e-5), (n, (got - want).abs().max())
        assert torch.allclose(ent_row[0, offset:offset + n - 1][mask], ent[0][mask], atol=1e-4)
        assert packed.loss_mask[0, offset - 1].item() == 0 if offset else True  # a boundary is never scored
        offset += n
    assert offset == packed.tokens


def _update_with_grads(learner, samples):
    grads = {}
    step = learner._optimizer_step

    def capture():
        grads.update({n: p.grad.clone() for n, p in learner.model.named_parameters() if p.grad is not None})
        return step()

    learner._optimizer_step = capture
    stats = learner.update(samples)
    return stats, grads


@pytest.mark.parametrize("variant", ["grpo", "dr_grpo", "dapo"])
def test_one_update_has_the_same_loss_and_gradient_packed_or_not(tiny_model_dir, variant):
    plain, plain_grads = _update_with_grads(_learner(tiny_model_dir, loss=variant, micro_batch_size=4),
                                            _samples())
    packed_learner = _learner(tiny_model_dir, loss=variant, pack_tokens=48)
    packed, packed_grads = _update_with_grads(packed_learner, _samples())
    for key in ("loss", "ratio_mean", "clip_fraction", "kl_to_old", "mismatch_kl", "entropy", "grad_norm"):
        assert packed[key] == pytest.approx(plain[key], rel=1e-4, abs=1e-7), key
    assert packed["train_tokens"] == sum(len(s.ids) for s in _samples())
    assert plain_grads.keys() == packed_grads.keys() and plain_grads
    for name, g in plain_grads.items():
        assert torch.allclose(packed_grads[name], g, atol=1e-6, rtol=1e-4), name


def test_a_model_that_attends_across_episodes_is_refused(tiny_model_dir):
    learner = _learner(tiny_model_dir)
    check_packing_support(learner.model)
    forward = learner.model.forward

    def ignore_positions(*args, position_ids=None, **kw):  # a model without packed-mask support
        return forward(*args, **kw)

    learner.model.forward = ignore_positions
    with pytest.raises(ValueError, match="pack_tokens=0"):
        check_packing_support(learner.model)
    with pytest.raises(ValueError, match="pack_tokens"):
        GRPOConfig(model="m", pack_tokens=-1)
