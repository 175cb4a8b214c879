"""One-step off-policy rollouts: the next step's batch is generated in a background thread while
the learner updates on the current one.

A step k of the trainer with ``async_rollouts``: take batch k (generated during update k-1) ->
sync the generator, idle at this point, to the weights after update k-1 -> start generating batch
k+1 -> update k on batch k. The generator works on its own copy of the weights, so it never reads
a tensor the optimizer is writing, and every batch is trained on exactly one update after the
weights that played it. The loss corrects for that lag with the sampler's recorded logprobs as the
ratio's denominator (or TIS weights): :class:`arenas.agents.grpo.learner.Learner`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import torch

from arenas.agents.grpo.batch import Sample
from arenas.trajectory import Trajectory


@dataclass
class RolloutBatch:
    """One step's episodes and the samples built from them."""

    trajs: list[Trajectory]
    samples: list[Sample]
    stats: dict[str, float]
    generation_s: float
    version: int
    """Updates applied to the weights that played these episodes (the policy version)."""


class Prefetcher:
    """Generates at most one future batch in a background thread."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grpo-rollouts")
        self._pending: tuple[int, Future[RolloutBatch]] | None = None

    def submit(self, step: int, produce: Callable[[int], RolloutBatch]) -> None:
        """Starts ``produce(step)``; the generator must already hold the weights it is to play."""
        if self._pending is not None:
            raise RuntimeError(f"batch of step {self._pending[0]} is still in flight")
        self._pending = (step, self._pool.submit(produce, step))

    def take(self, step: int) -> RolloutBatch | None:
        """The batch of ``step`` when one was started (waits for it; re-raises its error), else None."""
        if self._pending is None or self._pending[0] != step:
            return None
        _, future = self._pending
        self._pending = None
        return future.result()

    def wait(self) -> None:
        """Blocks until the batch in flight, if any, is done (it stays available to :meth:`take`)."""
        if self._pending is not None:
            self._pending[1].exception()

    def close(self) -> None:
        """Waits for the batch in flight (so nothing still uses the arenas or the generator) and drops it."""
        self.wait()
        self._pending = None
        self._pool.shutdown(wait=True)


def require_sampler_logprobs(samples: Sequence[Sample], generator: str) -> None:
    """Off-policy batches can only be corrected with the logprobs their sampler recorded."""
    missing = sum(s.logprobs is None for s in samples)
    if missing:
        raise RuntimeError(f"async_rollouts: {missing} of {len(samples)} episodes carry no sampler logprobs "
                           f"(generator {generator!r}), so their one-step lag cannot be corrected; "
                           "turn async_rollouts off or use a backend that records logprobs")


def own_copy_options(model: torch.nn.Module, options: dict[str, Any]) -> dict[str, Any]:
    """Backend options that give an ``hf`` generator its own copy of ``model`` on the same device
    and dtype (so it samples exactly as the shared model would) instead of sharing the object."""
    param = next(model.parameters())
    return {"device": str(param.device), "dtype": str(param.dtype).removeprefix("torch."), **options}
