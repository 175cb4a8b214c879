"""``RemoteArena``: an arena served by ``arenas serve-env`` that looks local.

One instance is one server session over one WebSocket, so the rollout engine's pool, the
trainer and the conformance kit use it unchanged (``arenas.make(id, remote="http://…")``, or
``arenas run <id> -c remote=http://…``). The server keeps the arena, its reward bookkeeping and
the task references; this side holds the public tasks, the last step's counters, and asks the
server for what needs the reference (baseline policies, rescoring).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Sequence
from typing import Any

from arenas.arena import Arena, Policy
from arenas.config import ConfigError
from arenas.tools import Tool, as_action
from arenas.types import WIRE_VERSION, Observation, RewardBreakdown, StepResult, Task, encode, from_wire

TOKEN_ENV = "ARENAS_SERVER_TOKEN"


class RemoteError(RuntimeError):
    """The server answered with an error (its code and message) or went away."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


class RemoteArena(Arena):
    """An arena served elsewhere. ``config`` keys are session overrides the server allows
    (``max_turns`` by default); ``token`` defaults to ``$ARENAS_SERVER_TOKEN``."""

    def __init__(self, url: str, arena_id: str | None = None, token: str | None = None,
                 timeout_s: float = 600.0, **config: Any):
        from websockets.sync.client import connect

        self.url = url.rstrip("/")
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https", "ws", "wss"):
            raise ConfigError(f"remote must be an http(s):// or ws(s):// URL, got {url!r}")
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        query = "?" + urllib.parse.urlencode({"config": json.dumps(encode(config))}) if config else ""
        token = token or os.environ.get(TOKEN_ENV)
        headers = {"Authorization": f"Bearer {token}"} if token else None
        self.timeout_s = timeout_s
        try:
            self.ws = connect(f"{scheme}://{parts.netloc}{parts.path}/ws{query}", additional_headers=headers,
                              max_size=None, open_timeout=30, close_timeout=5)
        except Exception as e:
            raise ConfigError(f"cannot reach the env server at {url}: {e}") from e
        try:
            info = self._request("info")
            if arena_id is not None and info["id"] != arena_id:
                raise ConfigError(f"the server at {url} serves {info['id']!r}, not {arena_id!r}")
        except BaseException:
            self.ws.close()
            raise
        self.id, self.version, self.description = info["id"], info["version"], info["description"]
        self.splits = tuple(info["splits"])
        self.reward_components = tuple(info["reward_components"])
        self.policies = tuple(info["policies"])
        self.action_grammar = info["action_grammar"]
        self._info = info
        self._tools = [Tool(t["function"]["name"], t["function"].get("description", ""),
                            t["function"].get("parameters") or {"type": "object", "properties": {}})
                       for t in info["tools"]]
        self._tasks: dict[str, list[Task]] = {}
        self.max_turns = int(info["max_turns"])
        self.split = str(info.get("split", "test"))
        self.task: Task | None = None
        self.turn = self.invalid_actions = 0
        self.done = True
        self.config_overrides = config

    @property
    def config(self) -> dict[str, Any]:
        return {"remote": self.url, **self.config_overrides}

    # ---- the wire ------------------------------------------------------------------------
    def _request(self, kind: str, data: Any = None) -> Any:
        message: dict[str, Any] = {"type": kind}
        if data is not None:
            message["data"] = data
        try:
            self.ws.send(json.dumps(message))
            reply = json.loads(self.ws.recv(timeout=self.timeout_s))
        except TimeoutError as e:
            raise RemoteError("TIMEOUT", f"no answer to {kind!r} within {self.timeout_s:g} s") from e
        except Exception as e:
            if type(e).__name__.startswith("ConnectionClosed"):
                raise RemoteError("CONNECTION_CLOSED", f"the server closed the session: {e}") from e
            raise
        if reply.get("type") == "error":
            err = reply.get("data") or {}
            raise RemoteError(str(err.get("code", "UNKNOWN")), str(err.get("message", "")))
        body = reply.get("data")
        if isinstance(body, dict) and body.get("wire", WIRE_VERSION) > WIRE_VERSION:
            raise RemoteError("WIRE_VERSION", f"the server speaks wire {body['wire']}, this side {WIRE_VERSION}")
        return body

    # ---- the Arena surface ---------------------------------------------------------------
    def tasks(self, split: str) -> Sequence[Task]:
        if split not in self._tasks:
            if split not in self.splits:
                return []
            self._tasks[split] = [Task.from_dict(t) for t in self._request("tasks", {"split": split})["tasks"]]
        return self._tasks[split]

    def tools(self) -> list[Tool]:
        return list(self._tools)

    def info(self) -> dict[str, Any]:
        return dict(self._info)

    def reset(self, task: Task | None = None, seed: int | None = None) -> Observation:
        data: dict[str, Any] = {"seed": seed}
        if task is not None:
            data.update(task_id=task.id, split=task.split)
        body = self._request("reset", data)
        self.task = task if task is not None else Task.from_dict(body["task"])
        self.turn = self.invalid_actions = 0
        self.done = False
        return Observation.from_dict(body["observation"])

    def step(self, action: Any) -> StepResult:
        if self.done:
            raise RuntimeError(f"{self.id}: step() called on a finished episode; call reset() first")
        return self._track(self._request("step", as_action(action).to_dict()))

    def end_episode(self, reason: str) -> StepResult:
        if self.done:
            raise RuntimeError(f"{self.id}: end_episode() called on a finished episode")
        return self._track(self._request("end_episode", {"reason": str(reason)}))

    def _track(self, body: dict[str, Any]) -> StepResult:
        result = StepResult.from_dict(body)
        self.turn = int(result.info.get("turn", self.turn + 1))
        self.invalid_actions = int(result.info.get("invalid_actions", self.invalid_actions))
        self.done = result.done
        return result

    def policy(self, name: str) -> Policy | None:
        """The server's baseline policy: each call asks the server for the action it would take
        on the current observation (the server holds the reference and the policy's state)."""
        if name not in self.policies:
            return None
        return lambda observation: from_wire(self._request("policy", {"name": name}))

    def rescore(self, task: Task, turns: list[dict[str, Any]]) -> RewardBreakdown:
        try:
            body = self._request("rescore", {"task_id": task.id, "split": task.split, "turns": encode(turns)})
        except RemoteError as e:
            if e.code == "NOT_SUPPORTED":
                raise NotImplementedError(str(e)) from e
            raise
        return from_wire(body)

    def _reset(self, task: Task) -> Observation:  # the server's arena does the work
        raise NotImplementedError

    def _step(self, action: Any) -> StepResult:
        raise NotImplementedError

    def close(self) -> None:
        try:
            self.ws.send(json.dumps({"type": "close"}))
        except Exception:
            pass
        self.ws.close()
