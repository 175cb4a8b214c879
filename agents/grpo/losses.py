"""GRPO losses: group-relative advantages and the token-level clipped policy loss.

The loss is split in two so gradient accumulation stays exact: :func:`token_losses` gives one
loss per token, :func:`aggregate` sums a micro-batch with a normaliser computed over the whole
mini-batch (:func:`normalizer`). Summing the aggregated micro-batch losses then equals the loss of
the mini-batch in one piece, for every variant.

Variants (``LOSS_VARIANTS``):

- ``grpo``: mean over each sequence's agent tokens, then mean over sequences (DeepSeekMath).
- ``dr_grpo``: sum over all agent tokens divided by a constant (sequences x the generation
  budget), which removes the length bias of the per-sequence mean (Dr. GRPO, Liu et al. 2025);
  no std scaling of advantages.
- ``dapo``: sum over all agent tokens divided by the number of agent tokens in the batch, so
  long answers weigh per token (DAPO, Yu et al. 2025); used with clip-higher (``eps_high`` >
  ``eps_low``), overlong filtering/penalty and dynamic sampling.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import torch

LOSS_VARIANTS = ("grpo", "dr_grpo", "dapo")


def group_advantages(rewards: Sequence[float], groups: Sequence[Hashable], scale_std: bool = False,
                     eps: float = 1e-6) -> list[float]:
    """Reward minus its group's mean, optionally divided by the group's std (unbiased=False).

    Dr. GRPO argues against the std scaling (it up-weights near-solved and near-failed groups),
    so it is off by default. A group of one gets advantage 0.
    """
    pairs = [(float(r), g) for r, g in zip(rewards, groups, strict=True)]
    by_group: dict[Hashable, list[float]] = {}
    for r, g in pairs:
        by_group.setdefault(g, []).append(r)
    stats = {}
    for g, rs in by_group.items():
        mean = sum(rs) / len(rs)
        std = (sum((r - mean) ** 2 for r in rs) / len(rs)) ** 0.5
        stats[g] = (mean, std)
    out = []
    for r, g in pairs:
        mean, std = stats[g]
        a = r - mean
        if scale_std:
            a /= std + eps
        out.append(a)
    return out


def zero_variance_groups(rewards: Sequence[float], groups: Sequence[Hashable], tol: float = 1e-9) -> set[Hashable]:
    """Groups whose rewards are all equal: they carry no signal (DAPO's dynamic sampling drops them)."""
    by_group: dict[Hashable, list[float]] = {}
    for r, g in zip(rewards, groups, strict=True):
        by_group.setdefault(g, []).append(float(r))
    return {g for g, rs in by_group.items() if max(rs) - min(rs) <= tol}


def overlong_penalty(length: int, max_length: int, buffer: int) -> float:
    """DAPO's soft overlong punishment: 0 up to ``max_length - buffer`` agent tokens, then a
    linear ramp to -1 at ``max_length`` (and -1 beyond)."""
    if buffer <= 0 or length <= max_length - buffer:
        return 0.0 if length <= max_length else -1.0
    return max(-1.0, (max_length - buffer - length) / buffer)


def selective_logprobs(logits: torch.Tensor, targets: torch.Tensor, temperature: float = 1.0,
                       chunk: int = 1) -> torch.Tensor:
    """``log_softmax(logits / temperature)`` at ``targets`` without materialising the full
    float32 log-softmax: rows are processed ``chunk`` at a time in float32."""
    out = []
    for i in range(0, logits.shape[0], chunk):
        lg = logits[i:i + chunk].float()
        if temperature != 1.0:
            lg = lg / temperature
        picked = lg.gather(-1, targets[i:i + chunk].unsqueeze(-1)).squeeze(-1)
        out.append(picked - torch.logsumexp(lg, dim=-1))
    return torch.cat(out)


def entropy_from_logits(logits: torch.Tensor, temperature: float = 1.0, chunk: int = 1) -> torch.Tensor:
    """Per-token entropy of the (tempered) next-token distribution, chunked over rows."""
    out = []
    for i in range(0, logits.shape[0], chunk):
        lg = logits[i:i + chunk].float() / temperature
        logp = torch.log_softmax(lg, dim=-1)
        out.append(-(logp.exp() * logp).sum(-1))
    return torch.cat(out)


@dataclass
class LossStats:
    """Sums over a micro-batch's agent tokens (divide by ``tokens`` for means). Values stay
    0-dim tensors on the loss's device until read with :meth:`means`, so accumulating them
    never waits for the GPU."""

    tokens: torch.Tensor | float = 0.0
    clipped: torch.Tensor | float = 0.0
    kl: torch.Tensor | float = 0.0
    """k3 KL to the reference model."""
    kl_old: torch.Tensor | float = 0.0
    """k3 KL to the policy that the ratio is taken against (how far the updates have moved)."""
    ratio: torch.Tensor | float = 0.0

    def add(self, other: LossStats) -> None:
        self.tokens = self.tokens + other.tokens
        self.clipped = self.clipped + other.clipped
        self.kl = self.kl + other.kl
        self.kl_old = self.kl_old + other.kl_old
        self.ratio = self.ratio + other.ratio

    def means(self) -> dict[str, float]:
        """Per-token means as floats (one device sync), plus the token count."""
        tokens = max(float(self.tokens), 1.0)
        return {"tokens": float(self.tokens), "clip_fraction": float(self.clipped) / tokens,
                "kl": float(self.kl) / tokens, "kl_to_old": float(self.kl_old) / tokens,
                "ratio_mean": float(self.ratio) / tokens}


def token_losses(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor,
                 mask: torch.Tensor, eps_low: float = 0.2, eps_high: float = 0.2,
                 ref_logprobs: torch.Tensor | None = None, kl_coef: float = 0.0,
                 weights: torch.Tensor | None = None) -> tuple[torch.Tensor, LossStats]:
    """Clipped surrogate per token (times ``weights``, the truncated importance weights of TIS,
    when given), plus ``kl_coef`` x the k3 KL estimate to a reference.

    ``logprobs``/``old_logprobs``/``mask``: ``[B, T]``; ``advantages``: ``[B]`` (broadcast to
    every agent token of the episode). The ratio is taken against ``old_logprobs`` (the sampler's
    logprobs, or the policy's before this batch's updates), which corrects for generation that
    lags the policy. Positions where ``mask`` is 0 get loss 0 and no gradient, whatever their
    logits (``torch.where``, so even a non-finite value there cannot leak).
    """
    m = mask.bool()
    delta = torch.where(m, logprobs - old_logprobs, torch.zeros_like(logprobs))
    ratio = torch.exp(delta)
    adv = advantages.to(logprobs.dtype)
    adv = adv.unsqueeze(-1) if adv.dim() == 1 else adv  # per episode, or per token (packed rows)
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high) * adv
    loss = -torch.minimum(unclipped, clipped)
    if weights is not None:
        loss = loss * weights.to(loss.dtype)
    kl_sum: torch.Tensor | float = 0.0
    if ref_logprobs is not None:
        d = torch.where(m, ref_logprobs - logprobs, torch.zeros_like(logprobs))
        kl = torch.exp(d) - d - 1.0
        if kl_coef:
            loss = loss + kl_coef * kl
        kl_sum = kl.detach()[m].sum()
    loss = torch.where(m, loss, torch.zeros_like(loss))
    with torch.no_grad():
        is_clipped = (clipped < unclipped) & m
        k3_old = (ratio - delta - 1.0)[m].sum()  # KL(old || new) from samples of old
        stats = LossStats(tokens=m.sum(), clipped=is_clipped.sum(), kl=kl_sum, kl_old=k3_old,
                          ratio=ratio[m].sum())
    return loss, stats


def normalizer(variant: str, masks: Sequence[torch.Tensor], max_tokens: int | None = None,
               reduce: Callable[[float, float], tuple[float, float]] | None = None,
               sequences: Sequence[int] | None = None) -> float:
    """The divisor of a whole mini-batch given its micro-batches' masks (and their episode counts,
    ``sequences``, when a row holds several packed episodes; default one episode per row).

    ``grpo``: number of sequences (each sequence is first averaged over its own tokens);
    ``dr_grpo``: sequences x ``max_tokens``, the generation budget (a constant that does not
    depend on the batch; the padded length only when None, as a fallback for hand-made batches);
    ``dapo``: number of agent tokens. ``reduce`` maps this process's (sequences, agent tokens) to
    their totals over all data-parallel ranks, whose mini-batches together form the batch.
    """
    if variant not in LOSS_VARIANTS:
        raise ValueError(f"unknown loss variant {variant!r}; choose one of {LOSS_VARIANTS}")
    n_seq = float(sum(sequences) if sequences is not None else sum(int(m.shape[0]) for m in masks))
    tokens = sum(float(m.sum()) for m in masks) if variant == "dapo" else 0.0
    if reduce is not None:
        n_seq, tokens = reduce(n_seq, tokens)
    if variant == "grpo":
        return max(n_seq, 1.0)
    if variant == "dr_grpo":
        length = max_tokens if max_tokens is not None else max((int(m.shape[1]) for m in masks), default=1)
        return max(n_seq * length, 1.0)
    return max(tokens, 1.0)


def aggregate(losses: torch.Tensor, mask: torch.Tensor, variant: str, norm: float,
              sequence_weights: torch.Tensor | None = None) -> torch.Tensor:
    """A micro-batch's share of the mini-batch loss (see :func:`normalizer`). For packed rows
    ``sequence_weights`` (1 / agent tokens of each token's episode) gives grpo's per-episode mean."""
    if variant == "grpo":
        if sequence_weights is not None:
            return (losses * sequence_weights).sum() / norm
        per_seq = losses.sum(-1) / mask.sum(-1).clamp(min=1)
        return per_seq.sum() / norm
    if variant in ("dr_grpo", "dapo"):
        return losses.sum() / norm
    raise ValueError(f"unknown loss variant {variant!r}; choose one of {LOSS_VARIANTS}")


def policy_loss(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor,
                mask: torch.Tensor, variant: str = "grpo", eps_low: float = 0.2, eps_high: float = 0.2,
                ref_logprobs: torch.Tensor | None = None, kl_coef: float = 0.0,
                max_tokens: int | None = None) -> tuple[torch.Tensor, LossStats]:
    """The loss of one batch in one piece (the trainer uses the split form for accumulation)."""
    losses, stats = token_losses(logprobs, old_logprobs, advantages, mask, eps_low, eps_high,
                                 ref_logprobs, kl_coef)
    return aggregate(losses, mask, variant, normalizer(variant, [mask], max_tokens)), stats
