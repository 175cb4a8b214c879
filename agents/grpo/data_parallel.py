"""Multi-process data parallel GRPO over ``torch.distributed`` (``torchrun --nproc_per_node N``).

Every rank holds a full replica of the policy (wrapped in DDP) and its own generator. Each step,
all ranks draw the same seeded task picks; rank ``r`` plays the groups ``r, r + N, ...`` (a group
is never split), and the episodes are all-gathered so that advantages, dynamic sampling, the
skip decision and the episode metrics are computed on the whole batch, identically everywhere.
Each rank then trains on a token-balanced share of the samples. Loss normalisers are summed over
ranks (sequences for ``grpo``/``dr_grpo``, agent tokens for ``dapo``) and divided by the world
size, so DDP's averaged gradient equals the single-process gradient of the whole batch.

Ranks may still hold different numbers of micro-batches (shares differ in count; packed rows
differ in number). DDP all-reduces
on the one backward per mini-batch that runs outside ``no_sync``; a rank with fewer micro-batches
runs zero-loss backward passes (:meth:`DataParallel.idle_steps`) so every rank joins that all-reduce.
Only rank 0 writes metrics, trajectories, checkpoints and the final model.
"""

from __future__ import annotations

import contextlib
import datetime
import inspect
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch

T = TypeVar("T")

TOKEN_MEANS = ("clip_fraction", "ratio_mean", "kl", "kl_to_old", "entropy", "mismatch_kl", "tis_weight_mean")
"""Learner metrics that are means over agent tokens: combined across ranks weighted by each rank's tokens."""
SUMS = ("train_tokens", "train_agent_tokens")
MAXES = ("train_s", "mismatch_max_abs")


def env_world() -> tuple[int, int, int]:
    """(world size, rank, local rank) as set by ``torchrun``; (1, 0, 0) in a plain process."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as e:
        raise ValueError(f"WORLD_SIZE/RANK/LOCAL_RANK must be integers: {e}") from e
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"bad torchrun environment: RANK={rank} WORLD_SIZE={world}")
    return world, rank, local


@dataclass
class DataParallel:
    """This process's place in the run; a world of one makes every method a no-op."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    episodes: Any = None
    """A gloo group of its own for gathering episodes: generation may run in another thread than
    the update, and collectives of two threads must not share a group."""

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls, device: str | None = None, timeout_s: float = 1800.0) -> DataParallel:
        """Joins the process group that ``torchrun`` describes (nccl on CUDA, gloo on CPU); the
        device is ``cuda:LOCAL_RANK`` unless ``device`` says ``cpu``. One process: no group."""
        import torch.distributed as dist

        world, rank, local = env_world()
        use_cuda = torch.cuda.is_available() and (device is None or not device.startswith("cpu"))
        if world == 1:
            dev = torch.device(device) if device else torch.device("cuda" if use_cuda else "cpu")
            return cls(device=dev)
        if device and device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for but CUDA is not available")
        if use_cuda:
            torch.cuda.set_device(local)
            dev = torch.device("cuda", local)
        else:
            dev = torch.device("cpu")
        if rank:  # rank 0 speaks for the run
            logging.getLogger("arenas.grpo").setLevel(logging.ERROR)
        if not dist.is_initialized():
            dist.init_process_group("nccl" if use_cuda else "gloo", rank=rank, world_size=world,
                                    timeout=datetime.timedelta(seconds=timeout_s))
        return cls(world, rank, local, dev, dist.new_group(backend="gloo"))

    # ---- who does what ----------------------------------------------------------------------
    def shard(self, items: Sequence[T]) -> list[T]:
        """This rank's share of a list every rank holds: items ``rank, rank + N, ...``."""
        return list(items)[self.rank::self.world_size] if self.enabled else list(items)

    def shard_samples(self, samples: Sequence[Any], size: Callable[[Any], int] = lambda s: len(s.ids)) -> list[Any]:
        """A share of the samples with about 1/N of the tokens: longest first, each to the rank
        with the fewest tokens so far (ties by rank). Deterministic, so the shares are disjoint."""
        if not self.enabled:
            return list(samples)
        load = [0] * self.world_size
        mine = []
        for i in sorted(range(len(samples)), key=lambda i: (-size(samples[i]), i)):
            r = min(range(self.world_size), key=lambda r: (load[r], r))
            load[r] += size(samples[i])
            if r == self.rank:
                mine.append(samples[i])
        return mine

    def gather(self, items: Sequence[T]) -> list[T]:
        """Every rank's ``items``, concatenated in rank order, on every rank."""
        if not self.enabled:
            return list(items)
        import torch.distributed as dist

        parts: list[Any] = [None] * self.world_size
        dist.all_gather_object(parts, list(items), group=self.episodes)
        return [x for part in parts for x in part]

    @staticmethod
    def wait_for_all() -> None:
        """Blocks until every rank got here (nothing without a process group)."""
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.barrier()

    # ---- the update -------------------------------------------------------------------------
    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """DDP around ``model`` (parameters broadcast from rank 0); the model itself in one process.
        Buffers are not broadcast: a forward then runs no collective, so no-grad forwards (old and
        reference logprobs) may differ in number between ranks."""
        if not self.enabled:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters:  # newer torch
            return DistributedDataParallel(model, device_ids=ids, forward_sync_buffers=False)
        return DistributedDataParallel(model, device_ids=ids, broadcast_buffers=False)

    def all_sum(self, values: Sequence[float]) -> list[float]:
        if not self.enabled:
            return [float(v) for v in values]
        import torch.distributed as dist

        t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()

    def agree_max(self, n: int) -> int:
        """The largest ``n`` over ranks (how many micro-batches each rank steps through)."""
        if not self.enabled:
            return n
        import torch.distributed as dist

        t = torch.tensor([n], dtype=torch.long, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return int(t.item())

    def reduce_counts(self, n_seq: float, tokens: float) -> tuple[float, float]:
        """Sequences and agent tokens of a mini-batch summed over ranks (the loss normaliser's
        inputs; see :func:`arenas.agents.grpo.losses.normalizer`)."""
        n, t = self.all_sum([n_seq, tokens])
        return n, t

    def no_sync(self, model: torch.nn.Module, accumulate: bool) -> contextlib.AbstractContextManager:
        """DDP's ``no_sync`` while ``accumulate`` (the gradient all-reduce waits for the last backward)."""
        if accumulate and hasattr(model, "no_sync"):
            return model.no_sync()
        return contextlib.nullcontext()

    def idle_steps(self, model: torch.nn.Module, count: int, pad_id: int = 0) -> None:
        """``count`` zero-loss forward/backward passes; the last one joins the all-reduce that the
        ranks with more micro-batches run on their last real backward. Adds nothing to the gradients."""
        for k in range(count):
            with self.no_sync(model, accumulate=k < count - 1):
                ids = torch.full((1, 2), pad_id, dtype=torch.long, device=self.device)
                logits = model(input_ids=ids, use_cache=False).logits
            (logits.float().sum() * 0.0).backward()

    def reduce_update_metrics(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """The learner's metrics for the whole batch: token means weighted by each rank's agent
        tokens, counts summed, times and maxima as the largest, everything else averaged (the
        loss, which each rank scales by the world size, becomes the whole batch's loss)."""
        if not self.enabled:
            return metrics
        import torch.distributed as dist

        parts: list[Any] = [None] * self.world_size
        dist.all_gather_object(parts, metrics)
        out: dict[str, Any] = {}
        for key in dict.fromkeys(k for p in parts for k in p):
            have = [p for p in parts if isinstance(p.get(key), int | float)]
            values = [float(p[key]) for p in have]
            if not have:
                out[key] = metrics.get(key)
            elif key in TOKEN_MEANS:
                weights = [float(p.get("train_agent_tokens", 0.0)) for p in have]
                total = sum(weights)
                out[key] = (sum(v * w for v, w in zip(values, weights, strict=True)) / total if total
                            else sum(values) / len(values))
            elif key in SUMS:
                out[key] = sum(values)
            elif key in MAXES:
                out[key] = max(values)
            else:
                out[key] = sum(values) / len(values)
        if out.get("train_s"):
            out["train_tokens_per_s"] = out.get("train_tokens", 0) / out["train_s"]
        return out

    def close(self) -> None:
        if self.enabled:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()
