"""Pushes a trainer's weights to a running ``vllm serve`` after each update.

The trainer writes the full model (Hugging Face names, LoRA merged) as one safetensors file in a
directory the server can read, then asks every vLLM worker to load it through vLLM's dev-mode
``POST /collective_rpc`` (method :data:`~arenas.agents.llm.vllm_worker.LOAD` of the worker
extension :class:`~arenas.agents.llm.vllm_worker.WeightSync`), checks each worker's fingerprint
of what it read against what was written, and drops the cached prefixes computed with the old
weights (``POST /reset_prefix_cache``). The server must run with ``VLLM_SERVER_DEV_MODE=1`` and
``--worker-extension-cls arenas.agents.llm.vllm_worker.WeightSync``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from arenas.agents.llm.vllm_worker import LOAD, READY, Fingerprint
from arenas.config import ConfigError

SERVE_HINT = ("start the server as: VLLM_SERVER_DEV_MODE=1 vllm serve <model> "
              "--worker-extension-cls arenas.agents.llm.vllm_worker.WeightSync")


class WeightSyncError(RuntimeError):
    """The server did not load the weights that were written (the run must not go on with stale ones)."""


def write_weights(named_tensors: Iterable[tuple[str, Any]], path: Path, dtype: str | None = None) -> Fingerprint:
    """Writes ``named_tensors`` to ``path`` (atomically: a temporary file renamed into place).
    Tied weights (one storage under two names, e.g. ``lm_head.weight``) are written once, under
    the first name: vLLM ties them itself. ``dtype`` (e.g. ``bfloat16``) casts on the way."""
    import torch
    from safetensors.torch import save_file

    cast = getattr(torch, dtype) if dtype else None
    if cast is not None and not isinstance(cast, torch.dtype):
        raise ValueError(f"weight_sync_dtype must be a torch dtype name such as bfloat16, got {dtype!r}")
    seen_storage: set[tuple[int, tuple[int, ...]]] = set()
    tensors: dict[str, Any] = {}
    fingerprint = Fingerprint()
    for name, tensor in named_tensors:
        key = (tensor.untyped_storage().data_ptr(), tuple(tensor.shape))
        if key in seen_storage:
            continue
        seen_storage.add(key)
        t = tensor.detach()
        t = (t.to(cast) if cast is not None else t).to("cpu").contiguous()
        tensors[name] = t
    for name in sorted(tensors):  # the order safetensors stores them in
        fingerprint.add(tensors[name])
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)
    return fingerprint


class VLLMServerSync:
    """Weight pushes to the ``vllm serve`` at ``base_url`` through files under ``directory``.

    ``directory`` must be readable by the server's workers at the same path (same machine, or a
    shared file system). Only the newest ``keep`` files are kept.
    """

    def __init__(self, base_url: str, directory: str | Path, api_key: str | None = None, timeout_s: float = 600.0,
                 dtype: str | None = None, keep: int = 1):
        import httpx

        self.root = base_url.rstrip("/").removesuffix("/v1")
        self.directory = Path(directory).resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.timeout_s = timeout_s
        self.dtype = dtype
        self.keep = max(keep, 1)
        self.version = 0
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s))

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        import httpx

        try:
            r = self._client.post(self.root + path, json=body)
        except httpx.HTTPError as e:
            raise WeightSyncError(f"cannot reach the vLLM server at {self.root}: {type(e).__name__}: {e}") from e
        if r.status_code == 404:
            raise ConfigError(f"the server at {self.root} has no {path} endpoint (not in dev mode); {SERVE_HINT}")
        if r.status_code >= 400:
            raise WeightSyncError(f"{path} failed with HTTP {r.status_code}: {r.text[:500]}")
        return r.json() if r.content else None

    def probe(self) -> int:
        """Checks that the server runs in dev mode with the extension loaded; returns its worker count."""
        try:
            data = self._post("/collective_rpc", {"method": READY})
        except WeightSyncError as e:
            raise ConfigError(f"weight sync unavailable: {e}. Is the extension loaded? {SERVE_HINT}") from e
        results = (data or {}).get("results") or []
        if not results or not all(isinstance(r, dict) and r.get("ready") for r in results):
            raise ConfigError(f"the server at {self.root} did not confirm the weight-sync extension "
                              f"({results!r}); {SERVE_HINT}")
        return len(results)

    def push(self, named_tensors: Iterable[tuple[str, Any]]) -> dict[str, float]:
        """Writes the weights, has every worker load them, verifies, resets the prefix cache."""
        start = time.perf_counter()
        self.version += 1
        path = self.directory / f"weights-{self.version:06d}.safetensors"
        written = write_weights(named_tensors, path, self.dtype)
        nbytes = path.stat().st_size
        data = self._post("/collective_rpc", {"method": LOAD, "args": [str(path), str(self.version), str(nbytes)],
                                              "timeout": self.timeout_s})
        results = (data or {}).get("results") or []
        if not results:
            raise WeightSyncError(f"the server returned no worker results for {path}")
        expected = written.as_dict()
        for i, got in enumerate(results):
            if not isinstance(got, dict) or got.get("version") != str(self.version):
                raise WeightSyncError(f"worker {i} answered {got!r} to loading version {self.version}")
            if (got.get("tensors"), got.get("numel")) != (expected["tensors"], expected["numel"]) or not math.isclose(
                    float(got.get("checksum", math.nan)), expected["checksum"], rel_tol=1e-9, abs_tol=1e-6):
                raise WeightSyncError(f"worker {i} read {got!r} from {path}, but {expected!r} was written")
        self._post("/reset_prefix_cache")
        for old in sorted(self.directory.glob("weights-*.safetensors"))[:-self.keep]:
            old.unlink(missing_ok=True)
        return {"sync_bytes": float(nbytes), "sync_workers": float(len(results)),
                "sync_push_s": time.perf_counter() - start}

    def close(self) -> None:
        self._client.close()
