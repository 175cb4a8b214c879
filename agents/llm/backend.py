"""What a model backend returns, and the micro-batching queue the in-process engines share.

Two kinds of backend exist. *Token* backends (``hf``, ``vllm``) take prompt token ids and return
sampled token ids with their logprobs; the agent renders the chat template itself, so the
episode's token sequence is exactly what the model saw. *Chat* backends (``openai``) take chat
messages and return text, plus token ids and logprobs when the server provides them.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar


class BackendError(RuntimeError):
    """A request failed for good (after retries); the episode records it as its error."""


class ToolsRejected(BackendError):
    """The server refused native ``tools`` (e.g. vLLM started without a tool-call parser)."""


class ContextLengthError(BackendError):
    """The server refused the prompt as longer than the model's context."""


@dataclass
class SamplingParams:
    temperature: float = 1.0
    """0 means greedy."""
    top_p: float = 1.0
    max_tokens: int = 512
    """Cap on sampled tokens for this turn."""
    seed: int | None = None
    """Per-request seed where the backend honours one (vLLM, OpenAI-compatible servers)."""


@dataclass
class Completion:
    """One model reply. Token fields are None where the backend could not provide them."""

    text: str = ""
    prompt_ids: list[int] | None = None
    completion_ids: list[int] | None = None
    logprobs: list[float] | None = None
    """Logprob of each sampled token under the unmodified model distribution (temperature 1)."""
    finish_reason: str = "stop"
    """``stop`` (end-of-turn token or stop string) or ``length`` (hit max_tokens)."""
    tool_calls: list[dict[str, Any]] | None = None
    """Native OpenAI tool calls (chat backends only)."""
    reasoning: str | None = None
    """Reasoning the server returned separately (vLLM's ``reasoning_content``)."""
    latency: float = 0.0
    usage: dict[str, int] = field(default_factory=dict)
    retries: int = 0


@dataclass
class TokenRequest:
    prompt_ids: list[int]
    params: SamplingParams


Req = TypeVar("Req")
Res = TypeVar("Res")


class MicroBatcher(Generic[Req, Res]):
    """Turns blocking calls from many episode threads into batched calls on one worker thread.

    Requests that arrive while a batch runs form the next one. Before running, a batch keeps
    gathering, while requests keep coming (gaps under ``max_wait_s``, ten gaps at most), until
    it holds as many as the largest of the last few batches (the number of episodes that are
    actually concurrent; ``max_batch`` for the first batch). So episodes whose turns drift apart still share one ``generate``
    call, and a lone sequential client never waits.
    """

    def __init__(self, run_batch: Callable[[list[Req]], list[Res]], max_batch: int = 64,
                 max_wait_s: float = 0.05, name: str = "micro-batcher"):
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.name = name
        self.batch_sizes: list[int] = []
        """Size of every batch run so far (for benchmarks and tests)."""
        self._recent: deque[int] = deque(maxlen=8)
        self._queue: queue.Queue[tuple[Req, Future] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, request: Req) -> Res:
        """Blocks until the batch holding ``request`` has run; re-raises its exception."""
        fut: Future = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
        self._queue.put((request, fut))
        return fut.result()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            target = min(max(self._recent, default=self.max_batch), self.max_batch)
            cap = time.monotonic() + 10 * self.max_wait_s
            stopping = False
            while len(batch) < self.max_batch and not stopping:
                remaining = min(self.max_wait_s, cap - time.monotonic()) if len(batch) < target else 0.0
                try:
                    item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    stopping = True
                else:
                    batch.append(item)
            self._recent.append(len(batch))
            self.batch_sizes.append(len(batch))
            try:
                results = self.run_batch([req for req, _ in batch])
                for (_, fut), res in zip(batch, results, strict=True):
                    fut.set_result(res)
            except Exception as e:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)
