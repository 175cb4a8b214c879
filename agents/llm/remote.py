"""The ``openai`` backend: any OpenAI-compatible server, over httpx.

Chat requests (the default, ``api="chat"``) ask for logprobs and token ids the way vLLM provides them (``logprobs``,
``return_tokens_as_token_ids``, ``return_token_ids``); a server that rejects those fields is
asked again without them and the episodes become text-only. Likewise a server that rejects
``tools`` is asked again with the tools described in the system prompt (by the agent). Rate limits (429), server errors (5xx),
timeouts and unreadable replies are retried with exponential backoff; a request that still
fails raises :class:`BackendError`, which ends that episode (recorded as its error) and no other.
``api="completions"`` sends token-id prompts to ``/v1/completions`` instead (see
:class:`OpenAIBackend`). ``concurrency`` bounds requests in flight across all episodes.
"""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from typing import Any

from arenas.agents.llm.backend import (
    BackendError,
    Completion,
    ContextLengthError,
    SamplingParams,
    ToolsRejected,
)
from arenas.agents.llm.template import stop_ids

_TOKEN_FIELDS = {"logprobs": True, "return_tokens_as_token_ids": True, "return_token_ids": True}
_CONTEXT_HINTS = ("context length", "maximum context", "context_length", "too long", "max_model_len")


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _Rejected(Exception):
    """A 4xx answer: retrying the same request cannot help."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class OpenAIBackend:
    """An OpenAI-compatible server at ``base_url`` (e.g. ``http://127.0.0.1:8000/v1``).

    ``api="chat"`` sends chat messages (the server renders the template). ``api="completions"``
    sends the prompt as token ids to ``/v1/completions`` (vLLM accepts them), with the template
    rendered here by the local tokenizer: the backend is then a *token* backend and episodes
    are exact token sequences, as with ``hf`` and ``vllm``.
    """

    def __init__(self, model: str, base_url: str = "http://127.0.0.1:8000/v1", api_key: str | None = None,
                 concurrency: int = 64, timeout_s: float = 120.0, max_retries: int = 4, backoff_s: float = 0.5,
                 max_context: int | None = None, tokenizer: str | None = None, api: str = "chat",
                 deadline_s: float = 300.0, max_response_bytes: int = 8_000_000):
        import httpx

        if api not in ("chat", "completions"):
            raise ValueError(f"api must be 'chat' or 'completions', got {api!r}")
        self.model = model
        self.tokenizer = _load_tokenizer(tokenizer or (model if Path(model).is_dir() else None))
        """Local copy of the served model's tokenizer (``tokenizer=`` option, or the model name
        when it is a local folder): lets episodes continue their token sequence exactly when the
        server's re-rendered prompt disagrees with the sampled tokens."""
        if api == "completions" and self.tokenizer is None:
            raise ValueError("api=completions renders prompts locally: pass tokenizer=<folder or name>")
        self.kind = "tokens" if api == "completions" else "chat"
        self.eos_ids = stop_ids(self.tokenizer) if self.tokenizer is not None else []
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.deadline_s = deadline_s
        """Wall-clock limit of one request with all its retries: a stalled turn costs at most this."""
        self.max_response_bytes = max_response_bytes
        """A larger response (a server ignoring ``max_tokens``) is refused, not stored."""
        self.max_context = max_context
        self.native_tools = True
        """Cleared for good when the server rejects a request that carries ``tools``."""
        self.token_ids = True
        """Cleared for good when the server rejects the logprob/token-id fields."""
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._slots = threading.BoundedSemaphore(concurrency)
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s),
                                    limits=httpx.Limits(max_connections=concurrency,
                                                        max_keepalive_connections=concurrency))

    def probe(self, timeout_s: float = 10.0) -> None:
        """One request before a run starts (``GET /models``): a wrong ``--base-url`` or a server
        that is down fails the run at once with one clear line, instead of erroring every episode."""
        import httpx

        from arenas.config import ConfigError

        try:
            r = self._client.get(self.base_url + "/models", timeout=timeout_s)
        except httpx.HTTPError as e:
            raise ConfigError(f"cannot reach the model server at {self.base_url}: {type(e).__name__}: {e}") from e
        if r.status_code in (401, 403):
            raise ConfigError(f"the model server at {self.base_url} refused the API key (HTTP {r.status_code})")

    def chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
             params: SamplingParams) -> Completion:
        body: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": params.max_tokens,
                                "temperature": params.temperature, "top_p": params.top_p}
        if params.seed is not None:
            body["seed"] = params.seed
        if tools and self.native_tools:
            body["tools"] = tools
        if self.token_ids:
            body.update(_TOKEN_FIELDS)
        start = time.perf_counter()
        with self._slots:
            data, retries = self._post_with_retries("/chat/completions", body)
        completion = parse_chat_response(data)
        completion.latency = time.perf_counter() - start
        completion.retries = retries
        return completion

    def generate(self, prompt_ids: list[int], params: SamplingParams) -> Completion:
        """Token ids in, sampled ids and logprobs out (``api="completions"``)."""
        body: dict[str, Any] = {"model": self.model, "prompt": list(prompt_ids), "max_tokens": params.max_tokens,
                                "temperature": params.temperature, "top_p": params.top_p, "logprobs": 1,
                                "return_tokens_as_token_ids": True, "return_token_ids": True,
                                "skip_special_tokens": False, "stop_token_ids": self.eos_ids}
        if params.seed is not None:
            body["seed"] = params.seed
        start = time.perf_counter()
        with self._slots:
            data, retries = self._post_with_retries("/completions", body, required=True)
        choice = data["choices"][0]
        logprobs = choice.get("logprobs") or {}
        ids = choice.get("token_ids") or _ids_from_logprobs([{"token": t} for t in logprobs.get("tokens") or []])
        values = logprobs.get("token_logprobs")
        if ids is None or values is None or len(ids) != len(values):
            raise BackendError("the server returned no token ids/logprobs for /completions; use api=chat")
        return Completion(text=self.tokenizer.decode(ids, skip_special_tokens=False), prompt_ids=list(prompt_ids),
                          completion_ids=[int(t) for t in ids], logprobs=[float(v) for v in values],
                          finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
                          latency=time.perf_counter() - start, retries=retries,
                          usage={"prompt_tokens": len(prompt_ids), "completion_tokens": len(ids)})

    def _post_with_retries(self, path: str, body: dict[str, Any], required: bool = False
                           ) -> tuple[dict[str, Any], int]:
        """POSTs with retries. Unless the token fields are ``required``, a server that rejects
        them is asked again without them."""
        attempt = 0
        end = time.monotonic() + self.deadline_s
        while True:
            left = end - time.monotonic()
            try:
                if left <= 0:
                    raise _Retryable("no time left")
                return self._post(path, body, min(self.timeout_s, left)), attempt
            except _Retryable as e:
                delay = e.retry_after if e.retry_after is not None else self.backoff_s * 2 ** attempt
                delay = min(delay, 30.0) * (1 + 0.25 * random.random())
                if attempt >= self.max_retries or time.monotonic() + delay >= end:
                    raise BackendError(f"{e} (after {attempt + 1} attempts, {self.deadline_s:g} s deadline)") from None
                time.sleep(delay)
                attempt += 1
            except _Rejected as e:
                invalid = e.status in (400, 422)
                if invalid and "tool" in str(e).lower() and "tools" in body and self.native_tools:
                    self.native_tools = False
                    raise ToolsRejected(f"server rejected native tools ({e}); tools go in the system prompt "
                                        "from now on") from None
                if invalid and not required and self.token_ids and any(k in body for k in _TOKEN_FIELDS):
                    self.token_ids = False
                    body = {k: v for k, v in body.items() if k not in _TOKEN_FIELDS}
                    continue
                raise BackendError(str(e)) from None

    def _post(self, path: str, body: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        import httpx

        try:
            with self._client.stream("POST", self.base_url + path, json=body, timeout=timeout_s) as r:
                status, retry_after = r.status_code, r.headers.get("retry-after")
                chunks, size = [], 0
                for chunk in r.iter_bytes():
                    size += len(chunk)
                    if size > self.max_response_bytes:
                        raise _Rejected(f"response larger than {self.max_response_bytes:,} bytes (the server "
                                        "ignores max_tokens?)", 413)
                    chunks.append(chunk)
        except httpx.TimeoutException as e:
            raise _Retryable(f"timeout: {type(e).__name__}") from None
        except httpx.TransportError as e:
            raise _Retryable(f"connection error: {type(e).__name__}: {e}") from None
        raw = b"".join(chunks)
        text = raw.decode("utf-8", "replace")
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}: {text[:200]}",
                             float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None)
        if status >= 400:
            if any(h in text[:500].lower() for h in _CONTEXT_HINTS):
                raise ContextLengthError(f"HTTP {status}: {text[:500]}")
            raise _Rejected(f"HTTP {status}: {text[:500]}", status)
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or not data.get("choices"):
                raise ValueError("no choices")
            return data
        except ValueError as e:
            raise _Retryable(f"malformed response ({e}): {text[:200]!r}") from None

    def close(self) -> None:
        self._client.close()


def parse_chat_response(data: dict[str, Any]) -> Completion:
    """A chat-completions response -> Completion, with token ids when the server sent them."""
    choice = data["choices"][0]
    message = choice.get("message") or {}
    finish = choice.get("finish_reason") or "stop"
    completion = Completion(text=message.get("content") or "", tool_calls=message.get("tool_calls") or None,
                            reasoning=message.get("reasoning_content") or message.get("reasoning") or None,
                            finish_reason="length" if finish == "length" else "stop",
                            usage={k: int(v) for k, v in (data.get("usage") or {}).items()
                                   if k in ("prompt_tokens", "completion_tokens")})
    content = (choice.get("logprobs") or {}).get("content")
    if content is not None:
        ids = _ids_from_logprobs(content)
        completion.logprobs = [float(c.get("logprob", 0.0)) for c in content]
        completion.completion_ids = choice.get("token_ids") or ids
    prompt_ids = data.get("prompt_token_ids") or choice.get("prompt_token_ids")
    if prompt_ids:
        completion.prompt_ids = [int(t) for t in prompt_ids]
    if completion.completion_ids is None or completion.logprobs is None or \
            len(completion.completion_ids) != len(completion.logprobs):
        completion.completion_ids = completion.logprobs = None
    return completion


def _ids_from_logprobs(content: list[dict[str, Any]]) -> list[int] | None:
    """vLLM's ``return_tokens_as_token_ids`` spells each token ``"token_id:<id>"``."""
    ids = []
    for c in content:
        token = str(c.get("token", ""))
        if not token.startswith("token_id:"):
            return None
        ids.append(int(token[len("token_id:"):]))
    return ids


def _load_tokenizer(name: str | None) -> Any:
    if name is None:
        return None
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name)
