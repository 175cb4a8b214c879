"""From trajectories to padded token tensors, and per-token logprobs of a model on them.

The trainer never re-tokenizes: every episode arrives as ``Trajectory.tokens`` (ids, a loss mask
with 1 on the agent's sampled tokens, and the sampler's logprobs), so the loss sees exactly the
tokens that were sampled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import torch

from arenas.agents.grpo.config import GRPOConfig
from arenas.agents.grpo.losses import (
    entropy_from_logits,
    group_advantages,
    overlong_penalty,
    selective_logprobs,
    zero_variance_groups,
)
from arenas.trajectory import Trajectory


@dataclass
class Sample:
    """One episode's tokens and its advantage."""

    ids: list[int]
    mask: list[int]
    """1 on agent-sampled tokens (trained on), 0 on environment/template tokens."""
    logprobs: list[float] | None
    """The sampler's logprob of each token (0 where ``mask`` is 0); None if it did not record them."""
    advantage: float

    @property
    def agent_tokens(self) -> int:
        return sum(self.mask)


def sample_from_trajectory(traj: Trajectory, advantage: float, max_seq_len: int,
                           train: bool = True) -> Sample | None:
    """The episode's tokens cut to ``max_seq_len``; None when it has no tokens or no agent token.
    ``train=False`` keeps the sample with an all-zero mask (overlong filtering)."""
    tokens = traj.tokens or {}
    ids = list(tokens.get("ids") or [])[:max_seq_len]
    mask = [int(m) for m in (tokens.get("mask") or [])][:max_seq_len]
    if not ids or len(mask) != len(ids) or not any(mask[1:]):
        return None
    lp = tokens.get("logprobs")
    logprobs = [float(x) for x in lp][:max_seq_len] if lp is not None and len(lp) >= len(ids) else None
    if not train:
        mask = [0] * len(mask)
    return Sample(ids, mask, logprobs, float(advantage))


GroupKey = tuple[str, str, int]
"""(arena, task id, seed): the episodes of one group share all three."""


def group_key(traj: Trajectory) -> GroupKey:
    return (traj.arena, traj.task_id, traj.seed)


def agent_tokens(traj: Trajectory) -> int:
    return sum((traj.tokens or {}).get("mask") or [])


def shaped_reward(traj: Trajectory, config: GRPOConfig) -> float:
    """The episode's return plus DAPO's soft overlong penalty when configured."""
    reward = traj.reward
    if config.max_agent_tokens and config.overlong_buffer:
        reward += overlong_penalty(agent_tokens(traj), config.max_agent_tokens, config.overlong_buffer)
    return reward


CUT_SHORT = ("max_turns", "truncated", "context_exhausted", "episode_token_budget", "episode_timeout",
             "agent_timeout")


def is_overlong(traj: Trajectory, config: GRPOConfig) -> bool:
    """Cut short (turn cap, full context, token or time budget), or at the agent-token budget:
    its reward is not the answer's."""
    if traj.termination in CUT_SHORT:
        return True
    return bool(config.max_agent_tokens and agent_tokens(traj) >= config.max_agent_tokens)


def build_samples(trajs: Sequence[Trajectory], config: GRPOConfig) -> tuple[list[Sample], dict[str, float]]:
    """Group-relative advantages, dynamic sampling and the overlong rules: trajectories -> samples.

    Episodes that failed or carry no tokens are left out before the group statistics. Groups whose
    rewards are all equal are dead (advantage 0 everywhere: no signal); ``dead_group_share`` counts them.
    """
    usable = [t for t in trajs if t.error is None and t.tokens]
    rewards = [shaped_reward(t, config) for t in usable]
    keys = [group_key(t) for t in usable]
    dead = zero_variance_groups(rewards, keys)
    dropped = dead if config.dynamic_sampling else set()
    advantages = group_advantages(rewards, keys, scale_std=config.scale_rewards)
    samples: list[Sample] = []
    filtered = 0
    for traj, adv, key in zip(usable, advantages, keys, strict=True):
        if key in dropped:
            continue
        train = not (config.overlong_filter and is_overlong(traj, config))
        filtered += not train
        sample = sample_from_trajectory(traj, adv, config.max_seq_len, train=train)
        if sample is not None:
            samples.append(sample)
    groups = len(set(keys))
    stats = {"groups": float(groups), "groups_dropped": float(len(dropped)), "groups_dead": float(len(dead)),
             "dead_group_share": len(dead) / groups if groups else 1.0,
             "episodes_without_tokens": float(len(trajs) - len(usable)),
             "episodes_overlong_filtered": float(filtered)}
    return samples, stats


@dataclass
class TokenBatch:
    """Right-padded tensors of a micro-batch. Position ``t`` of the ``[B, T-1]`` tensors scores
    token ``t + 1`` (the logits at ``t`` predict it)."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor | None
    """None for packed rows (the position ids mark the episodes)."""
    targets: torch.Tensor
    loss_mask: torch.Tensor
    sampler_logprobs: torch.Tensor | None
    advantages: torch.Tensor
    """``[B]``, one per episode, or ``[B, T-1]`` per token (packed rows)."""
    tokens: int = 0
    """Real (unpadded) tokens in the batch."""
    start: int = 0
    """First position of the ``[B, T-1]`` tensors that scores an agent token (logits before it
    are never needed)."""
    position_ids: torch.Tensor | None = None
    """Packed rows: positions restarting at 0 at each episode (see :mod:`~arenas.agents.grpo.packing`)."""
    sequences: int | None = None
    """Episodes in the batch (None: one per row)."""
    sequence_weights: torch.Tensor | None = None
    """Packed rows: ``[B, T-1]``, 1 / agent tokens of the token's episode (grpo's per-episode mean)."""

    @property
    def episodes(self) -> int:
        return self.sequences if self.sequences is not None else int(self.input_ids.shape[0])

    def to(self, device: torch.device | str) -> TokenBatch:
        moved = {f.name: getattr(self, f.name).to(device, non_blocking=True) for f in fields(self)
                 if isinstance(getattr(self, f.name), torch.Tensor)}
        return replace(self, **moved)


def collate(samples: Sequence[Sample], pad_id: int = 0) -> TokenBatch:
    length = max(len(s.ids) for s in samples)
    n = len(samples)
    ids = torch.full((n, length), pad_id, dtype=torch.long)
    attn = torch.zeros((n, length), dtype=torch.long)
    mask = torch.zeros((n, length), dtype=torch.float32)
    have_lp = all(s.logprobs is not None for s in samples)
    lps = torch.zeros((n, length), dtype=torch.float32) if have_lp else None
    for i, s in enumerate(samples):
        k = len(s.ids)
        ids[i, :k] = torch.tensor(s.ids)
        attn[i, :k] = 1
        mask[i, :k] = torch.tensor(s.mask, dtype=torch.float32)
        if lps is not None:
            lps[i, :k] = torch.tensor(s.logprobs[:k])
    adv = torch.tensor([s.advantage for s in samples], dtype=torch.float32)
    firsts = [s.mask.index(1, 1) - 1 for s in samples if 1 in s.mask[1:]]
    return TokenBatch(ids, attn, ids[:, 1:], mask[:, 1:], lps[:, 1:] if lps is not None else None, adv,
                      tokens=sum(len(s.ids) for s in samples), start=min(firsts, default=0))


def micro_batches(samples: Sequence[Sample], size: int) -> list[list[Sample]]:
    """Groups samples of similar length (less padding), ``size`` at a time."""
    order = sorted(samples, key=lambda s: len(s.ids))
    return [order[i:i + size] for i in range(0, len(order), max(size, 1))]


def token_logprobs(model: torch.nn.Module, batch: TokenBatch, temperature: float = 1.0,
                   with_entropy: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-token logprobs ``[B, T-1]`` of ``batch.targets`` under ``model`` (and, detached, the
    entropy of each next-token distribution when asked); 0 before the batch's first agent token.

    Logits are computed only from the first position that predicts an agent token
    (``logits_to_keep``): the shared prompt of a multi-turn episode costs no vocabulary projection.
    """
    start = batch.start
    keep = batch.input_ids.shape[1] - start
    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, position_ids=batch.position_ids,
                   use_cache=False, logits_to_keep=keep).logits[:, -keep:-1]
    targets = batch.targets[:, start:]
    picked = selective_logprobs(logits, targets, temperature)
    logprobs = torch.nn.functional.pad(picked, (start, 0))
    entropy = None
    if with_entropy:
        with torch.no_grad():
            entropy = torch.nn.functional.pad(entropy_from_logits(logits.detach(), temperature), (start, 0))
    return logprobs, entropy
