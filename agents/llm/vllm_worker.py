"""A vLLM worker extension that loads a trainer's new weights from a safetensors file.

Start the server with it (dev mode exposes ``POST /collective_rpc``)::

    VLLM_SERVER_DEV_MODE=1 vllm serve <model dir> \\
        --worker-extension-cls arenas.agents.llm.vllm_worker.WeightSync

vLLM adds this class to the bases of its GPU worker, so the methods run inside every worker
process (one per tensor-parallel rank) with the worker as ``self`` (``self.model_runner.model``,
``self.device``). The trainer side is :class:`arenas.agents.llm.weight_sync.VLLMServerSync`; the
file travels through a directory both can read, so no extra process group or port is needed.
This module imports neither vLLM nor anything heavy at import time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

READY = "arenas_weight_sync_ready"
LOAD = "arenas_load_weights"
"""Method names the trainer calls through ``/collective_rpc``."""


def file_tensors(path: str) -> Iterator[tuple[str, Any]]:
    """(name, CPU tensor) of a safetensors file, one at a time (no second copy of the model)."""
    from safetensors import safe_open

    with safe_open(path, framework="pt", device="cpu") as f:
        for name in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
            yield name, f.get_tensor(name)


class Fingerprint:
    """Tensor count, element count and a float64 sum of every tensor: what was written must be
    what was read. Cheap next to the copy itself; the sum is a checksum, not a hash."""

    def __init__(self) -> None:
        self.tensors = 0
        self.numel = 0
        self.checksum = 0.0

    def add(self, tensor: Any) -> Any:
        self.tensors += 1
        self.numel += int(tensor.numel())
        self.checksum += float(tensor.double().sum())
        return tensor

    def as_dict(self) -> dict[str, Any]:
        return {"tensors": self.tensors, "numel": self.numel, "checksum": self.checksum}


class WeightSync:
    """Mixed into vLLM's worker by ``--worker-extension-cls``. Arguments arrive as strings
    (``/collective_rpc`` passes JSON strings through); results are JSON dicts, one per worker."""

    def arenas_weight_sync_ready(self) -> dict[str, Any]:
        """The trainer's probe: the extension is loaded (an unknown method would fail the call)."""
        return {"ready": True, "device": str(getattr(self, "device", "?"))}

    def arenas_load_weights(self, path: str, version: str, nbytes: str) -> dict[str, Any]:
        """Loads the Hugging Face-named tensors of ``path`` into this worker's model (vLLM's own
        ``load_weights`` maps the names and slices for tensor parallelism). ``nbytes`` is the
        size the trainer wrote: a shorter file (a copy still in flight, a stale network cache)
        is refused before anything is loaded."""
        size = os.path.getsize(path)
        if size != int(nbytes):
            raise ValueError(f"{path} has {size} bytes, the trainer wrote {nbytes}: not loading a partial file")
        seen = Fingerprint()
        model = self.model_runner.model  # type: ignore[attr-defined]
        model.load_weights(weights=((name, seen.add(t)) for name, t in file_tensors(path)))
        return {"version": str(version), **seen.as_dict()}
