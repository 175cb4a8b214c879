"""Sequence packing for the learner: several episodes share one row, so no compute goes to padding.

Episodes are placed into rows of at most ``pack_tokens`` tokens (first-fit by decreasing length);
each micro-batch is one such row. Position ids restart at 0 for every episode and the 2D attention
mask is left out, so transformers derives a block-diagonal causal mask from the position ids (each
episode attends only to its own tokens; flash-attention kernels read the same boundaries from the
position ids). Per-token advantages and per-episode weights keep every loss variant equal to the
unpacked one: see :func:`arenas.agents.grpo.losses.aggregate`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from arenas.agents.grpo.batch import Sample, TokenBatch, collate, micro_batches


def pack_rows(samples: Sequence[Sample], budget: int) -> list[list[Sample]]:
    """First-fit decreasing: rows of at most ``budget`` tokens; an episode longer than the budget
    gets a row of its own."""
    rows: list[list[Sample]] = []
    free: list[int] = []
    for s in sorted(samples, key=lambda s: len(s.ids), reverse=True):
        n = len(s.ids)
        slot = next((i for i, room in enumerate(free) if room >= n), None)
        if slot is None:
            rows.append([s])
            free.append(budget - n)
        else:
            rows[slot].append(s)
            free[slot] -= n
    return rows


def collate_packed(row: Sequence[Sample]) -> TokenBatch:
    """One ``[1, T]`` row of concatenated episodes. The first token of each episode is never scored
    (nothing of its own episode predicts it), as in an unpacked row."""
    ids: list[int] = []
    mask: list[int] = []
    positions: list[int] = []
    logprobs: list[float] | None = [] if all(s.logprobs is not None for s in row) else None
    advantages: list[float] = []
    weights: list[float] = []
    for s in row:
        n = len(s.ids)
        ids += s.ids
        mask += [0] + s.mask[1:]
        positions += range(n)
        if logprobs is not None:
            logprobs += s.logprobs[:n]
        advantages += [s.advantage] * n
        weights += [1.0 / max(sum(s.mask[1:]), 1)] * n
    ids_t = torch.tensor([ids], dtype=torch.long)
    mask_t = torch.tensor([mask[1:]], dtype=torch.float32)
    first = mask.index(1, 1) - 1 if 1 in mask[1:] else 0
    return TokenBatch(
        input_ids=ids_t, attention_mask=None, targets=ids_t[:, 1:], loss_mask=mask_t,
        sampler_logprobs=torch.tensor([logprobs[1:]], dtype=torch.float32) if logprobs is not None else None,
        advantages=torch.tensor([advantages[1:]], dtype=torch.float32), tokens=len(ids), start=first,
        position_ids=torch.tensor([positions], dtype=torch.long), sequences=len(row),
        sequence_weights=torch.tensor([weights[1:]], dtype=torch.float32) * mask_t)


def learner_batches(samples: Sequence[Sample], micro_batch_size: int, pack_tokens: int = 0,
                    pad_id: int = 0) -> list[TokenBatch]:
    """The micro-batches of an update: packed rows of ``pack_tokens`` tokens, or (0) padded
    batches of ``micro_batch_size`` episodes of similar length."""
    if pack_tokens > 0:
        return [collate_packed(row) for row in pack_rows(samples, pack_tokens)]
    return [collate(group, pad_id) for group in micro_batches(samples, micro_batch_size)]


@torch.no_grad()
def check_packing_support(model: torch.nn.Module) -> None:
    """Raises when ``model`` lets a packed episode attend to the one before it (a model whose
    forward does not build its mask from restarted position ids): packing would then silently
    change the logprobs. One forward of 12 tokens."""
    device = next(model.parameters()).device
    vocab = int(model.config.vocab_size) if hasattr(model, "config") else 8
    g = torch.Generator().manual_seed(0)
    a, b = (torch.randint(0, vocab, (1, n), generator=g).to(device) for n in (5, 7))
    was_training = model.training
    model.eval()
    try:
        alone = model(input_ids=b, use_cache=False).logits.float()
        packed = model(input_ids=torch.cat([a, b], dim=1), use_cache=False,
                       position_ids=torch.tensor([list(range(5)) + list(range(7))], device=device)).logits.float()
    finally:
        model.train(was_training)
    if not torch.allclose(alone, packed[:, 5:], atol=1e-3, rtol=1e-3):
        raise ValueError(f"{type(model).__name__} attends across packed episodes (its attention does not follow "
                         "restarted position ids): set pack_tokens=0")
