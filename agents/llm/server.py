"""A small OpenAI chat-completions server for a local transformers model (``arenas serve-model``).

It answers ``POST /v1/chat/completions``, ``POST /v1/completions`` (prompts as text or token
ids) and ``GET /v1/models`` the way vLLM's server does,
including what token-level trajectories need: ``logprobs`` (with ``return_tokens_as_token_ids``
the tokens read ``"token_id:<id>"``), ``token_ids`` per choice and ``prompt_token_ids`` with
``return_token_ids``, native ``tools`` (rendered by the chat template, ``<tool_call>`` blocks
returned as ``tool_calls``). Requests from concurrent connections share the ``hf`` backend's
micro-batching queue. It binds 127.0.0.1 by default; it is meant for CPU work and tests, not
for serving production traffic (use ``vllm serve`` for that).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from arenas.agents.llm.backend import SamplingParams
from arenas.agents.llm.template import render_ids, supports_tools, tools_system_text
from arenas.tools import parse_tool_calls


class RequestError(Exception):
    """A bad request (HTTP 400) with an OpenAI-style message."""


def _with_tools_in_system(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    text = tools_system_text(tools)
    if messages and messages[0].get("role") == "system":
        return [{**messages[0], "content": f"{messages[0].get('content') or ''}\n\n{text}"}] + messages[1:]
    return [{"role": "system", "content": text}] + messages


def chat_completion(backend: Any, model_name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Answers one chat-completions request body with the ``hf`` backend."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("'messages' must be a non-empty list")
    if body.get("stream"):
        raise RequestError("streaming is not supported by this server")
    if int(body.get("n") or 1) != 1:
        raise RequestError("only n=1 is supported")
    tok = backend.tokenizer
    tools = body.get("tools") or None
    if tools and not supports_tools(tok):
        messages, tools = _with_tools_in_system(messages, tools), None
    prompt = render_ids(tok, messages, tools)
    room = backend.max_context - len(prompt)
    if room < 1:
        raise RequestError(f"This model's maximum context length is {backend.max_context} tokens; "
                           f"the messages have {len(prompt)} tokens")
    max_tokens = min(int(body.get("max_tokens") or body.get("max_completion_tokens") or 512), room)
    params = SamplingParams(float(body.get("temperature", 1.0)), float(body.get("top_p", 1.0)), max_tokens,
                            body.get("seed"))
    c = backend.generate(prompt, params)
    ids = c.completion_ids or []
    text = tok.decode(ids[:-1] if ids and ids[-1] in backend.eos_ids else ids, skip_special_tokens=False)
    message: dict[str, Any] = {"role": "assistant", "content": text}
    finish = c.finish_reason
    if body.get("tools"):
        calls, _ = parse_tool_calls(text)
        if calls:
            message["content"] = text[:text.index("<tool_call>")].strip() or None
            message["tool_calls"] = [{"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                                      "function": {"name": call.name, "arguments": json.dumps(call.arguments)}}
                                     for call in calls]
            finish = "tool_calls" if finish == "stop" else finish
    choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": finish}
    if body.get("logprobs"):
        as_ids = bool(body.get("return_tokens_as_token_ids"))
        choice["logprobs"] = {"content": [
            {"token": f"token_id:{t}" if as_ids else tok.decode([t]), "logprob": lp, "bytes": None,
             "top_logprobs": []} for t, lp in zip(c.completion_ids or [], c.logprobs or [], strict=True)]}
    response: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
        "model": model_name, "choices": [choice],
        "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(c.completion_ids or []),
                  "total_tokens": len(prompt) + len(c.completion_ids or [])}}
    if body.get("return_token_ids"):
        choice["token_ids"] = c.completion_ids
        response["prompt_token_ids"] = prompt
    return response


def text_completion(backend: Any, model_name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Answers one ``/v1/completions`` request; ``prompt`` may be token ids (as vLLM accepts)."""
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        prompt = list(backend.tokenizer.encode(prompt, add_special_tokens=False))
    if not isinstance(prompt, list) or not prompt or not all(isinstance(t, int) for t in prompt):
        raise RequestError("'prompt' must be a string or a non-empty list of token ids")
    room = backend.max_context - len(prompt)
    if room < 1:
        raise RequestError(f"This model's maximum context length is {backend.max_context} tokens; "
                           f"the prompt has {len(prompt)} tokens")
    params = SamplingParams(float(body.get("temperature", 1.0)), float(body.get("top_p", 1.0)),
                            min(int(body.get("max_tokens") or 16), room), body.get("seed"))
    c = backend.generate(prompt, params)
    ids = c.completion_ids or []
    skip = body.get("skip_special_tokens", True)
    choice: dict[str, Any] = {"index": 0, "text": backend.tokenizer.decode(ids, skip_special_tokens=skip),
                              "finish_reason": c.finish_reason}
    if body.get("logprobs") is not None:
        as_ids = bool(body.get("return_tokens_as_token_ids"))
        choice["logprobs"] = {"tokens": [f"token_id:{t}" if as_ids else backend.tokenizer.decode([t]) for t in ids],
                              "token_logprobs": c.logprobs, "top_logprobs": None, "text_offset": []}
    if body.get("return_token_ids"):
        choice["token_ids"] = ids
        choice["prompt_token_ids"] = prompt
    return {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
            "model": model_name, "choices": [choice],
            "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(ids),
                      "total_tokens": len(prompt) + len(ids)}}


ROUTES = {"/v1/chat/completions": chat_completion, "/chat/completions": chat_completion,
          "/v1/completions": text_completion, "/completions": text_completion}


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._send(200, {"object": "list", "data": [{"id": self.server.model_name, "object": "model",
                                                          "max_model_len": self.server.backend.max_context}]})
        elif self.path.rstrip("/") == "/health":
            self._send(200, {"status": "ok"})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        route = ROUTES.get(self.path.rstrip("/"))
        if route is None:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            self._send(200, route(self.server.backend, self.server.model_name, body))
        except (RequestError, json.JSONDecodeError, TypeError, ValueError) as e:
            self._send(400, {"error": {"message": str(e), "type": "invalid_request_error"}})
        except Exception as e:
            self._send(500, {"error": {"message": f"{type(e).__name__}: {e}", "type": "server_error"}})


class ChatServer(ThreadingHTTPServer):
    """``ChatServer(backend, "name", port=0).start()`` serves in a background thread."""

    daemon_threads = True

    def __init__(self, backend: Any, model_name: str, host: str = "127.0.0.1", port: int = 8000,
                 verbose: bool = False):
        super().__init__((host, port), _Handler)
        self.backend = backend
        self.model_name = model_name
        self.verbose = verbose
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ChatServer:
        self._thread = threading.Thread(target=self.serve_forever, name="chat-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
