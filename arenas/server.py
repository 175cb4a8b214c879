"""The env server: one arena served over HTTP and WebSocket to many concurrent sessions.

It speaks OpenEnv's protocol, so OpenEnv clients work unchanged: a WebSocket at ``/ws`` takes
``{"type": "reset"|"step"|"state"|"close", "data": ...}`` and answers ``{"type": "observation"|
"state"|"error", "data": ...}``, an observation's data carrying ``observation``, ``reward`` and
``done``; ``/health``, ``/metadata`` and ``/schema`` describe the server. The bodies are the
project's own wire format (``StepResult.to_dict()`` is a superset of OpenEnv's step answer), and
a few message types only :class:`arenas.remote.RemoteArena` uses (``policy``, ``end_episode``,
``rescore``, ``info``, ``tasks``) make a served arena look local to the rollout engine.

Each session borrows its own arena from an :class:`~arenas.rollout.ArenaPool` and returns it when
it ends; an arena that raises is closed (the pool makes a fresh one for the next session) and its
session ends with an error. Task references never leave the server: sessions name tasks by id.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from arenas.arena import Arena
from arenas.config import ConfigError
from arenas.registry import make
from arenas.rollout import ArenaPool
from arenas.tools import as_action
from arenas.types import WIRE_VERSION, Action, Observation, StepResult, Task, from_wire, to_wire

TOKEN_ENV = "ARENAS_SERVER_TOKEN"
MAX_POOLS = 8
"""Distinct client config overrides served at once (each keeps its own idle arenas)."""


@dataclass
class ServerConfig:
    """How ``arenas serve-env`` serves one arena."""

    arena: str
    arena_config: dict[str, Any] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    """Bearer token every request but ``/health`` must carry; required unless ``host`` is loopback."""
    max_sessions: int = 64
    idle_timeout_s: float = 300.0
    """A session with no request for this long is ended and its arena returned to the pool."""
    max_request_bytes: int = 4 * 2**20
    client_config_keys: tuple[str, ...] = ("max_turns",)
    """Arena config keys a session may override when it opens (each override gets its own pool)."""

    def check(self) -> None:
        if not self.token and not is_loopback(self.host):
            raise ConfigError(f"serving on {self.host} needs a bearer token (--token or ${TOKEN_ENV}); "
                              "only a loopback address may run without one")
        if self.max_sessions < 1 or self.idle_timeout_s <= 0 or self.max_request_bytes < 1024:
            raise ConfigError("max_sessions >= 1, idle_timeout_s > 0 and max_request_bytes >= 1024 are required")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RequestError(Exception):
    """A client mistake: answered with ``status`` (HTTP) or an error message (WebSocket)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.status = code, status


class ArenaCrashed(Exception):
    """The session's arena raised; it was closed and the session ended."""


class Session:
    """One client's arena, its last observation and the baseline policies of its episode. Calls
    are serialized by a lock (an arena is never used by two threads at once)."""

    def __init__(self, pool: ArenaPool, tasks: dict[str, dict[str, Task]]):
        self.id = uuid.uuid4().hex
        self.pool = pool
        self.tasks = tasks
        self.arena: Arena | None = pool.acquire()
        self.lock = threading.Lock()
        self.last_used = time.monotonic()
        self.observation: Observation | None = None
        self.policies: dict[str, Any] = {}
        self.episode_id: str | None = None
        self.steps = 0
        self.http = False
        """An HTTP session (ended by the reaper when idle; a WebSocket session times out by itself)."""

    def call(self, fn: Any, *args: Any) -> Any:
        """Runs ``fn(arena, *args)``; an arena exception closes the arena and ends the session."""
        with self.lock:
            self.last_used = time.monotonic()
            if self.arena is None:
                raise RequestError("SESSION_CLOSED", "this session has ended", 410)
            try:
                return fn(self.arena, *args)
            except RequestError:
                raise
            except Exception as e:
                arena, self.arena = self.arena, None
                self.pool.release(arena, broken=True)
                raise ArenaCrashed(f"the arena raised {type(e).__name__}: {e}; the session has ended") from e
            finally:
                self.last_used = time.monotonic()

    def close(self) -> None:
        with self.lock:
            arena, self.arena = self.arena, None
        if arena is not None:
            self.pool.release(arena)

    # ---- the operations (run with the arena, under the lock) -------------------------------
    def reset(self, arena: Arena, data: dict[str, Any]) -> dict[str, Any]:
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise RequestError("VALIDATION_ERROR", f"seed must be a non-negative integer, got {seed!r}")
        task = None
        if data.get("task_id") is not None:
            split = str(data.get("split") or arena.split)
            task = self.tasks_of(arena, split).get(str(data["task_id"]))
            if task is None:
                raise RequestError("UNKNOWN_TASK", f"no task {data['task_id']!r} in split {split!r}", 404)
        obs = arena.reset(task=task, seed=seed)
        self.observation, self.policies, self.steps = obs, {}, 0
        self.episode_id = str(data.get("episode_id") or uuid.uuid4().hex)
        return {"observation": obs.to_dict(), "reward": None, "done": False, "wire": WIRE_VERSION,
                "task": public_task(arena.task).to_dict(), "episode_id": self.episode_id}

    def step(self, arena: Arena, data: Any) -> dict[str, Any]:
        if arena.done:
            raise RequestError("EPISODE_DONE", "no episode is running: send reset first", 409)
        result = arena.step(parse_action(data))
        return self._answer(result)

    def end_episode(self, arena: Arena, data: dict[str, Any]) -> dict[str, Any]:
        if arena.done:
            raise RequestError("EPISODE_DONE", "no episode is running: send reset first", 409)
        return self._answer(arena.end_episode(str(data.get("reason") or "ended_by_client")))

    def _answer(self, result: StepResult) -> dict[str, Any]:
        self.observation, self.steps = result.observation, self.steps + 1
        return {**result.to_dict(), "done": result.done, "wire": WIRE_VERSION}

    def policy_action(self, arena: Arena, data: dict[str, Any]) -> dict[str, Any]:
        name = str(data.get("name") or "")
        if arena.done or self.observation is None:
            raise RequestError("EPISODE_DONE", "no episode is running: send reset first", 409)
        if name not in self.policies:
            if name not in arena.policies:
                raise RequestError("UNKNOWN_POLICY", f"the arena offers no {name!r} policy", 404)
            self.policies[name] = arena.policy(name)
        policy = self.policies[name]
        if policy is None:
            raise RequestError("UNKNOWN_POLICY", f"the arena offers no {name!r} policy for this episode", 404)
        return to_wire(as_action(policy(self.observation)))

    def rescore(self, arena: Arena, data: dict[str, Any]) -> dict[str, Any]:
        split, task_id = str(data.get("split") or arena.split), str(data.get("task_id"))
        task = self.tasks_of(arena, split).get(task_id)
        if task is None:
            raise RequestError("UNKNOWN_TASK", f"no task {task_id!r} in split {split!r}", 404)
        turns = data.get("turns")
        if not isinstance(turns, list):
            raise RequestError("VALIDATION_ERROR", "rescore needs a list of turns")
        try:
            return to_wire(arena.rescore(task, turns))
        except NotImplementedError as e:
            raise RequestError("NOT_SUPPORTED", str(e), 501) from e

    def state(self, arena: Arena) -> dict[str, Any]:
        return {"episode_id": self.episode_id, "step_count": self.steps, "session_id": self.id, "arena": arena.id,
                "task_id": arena.task.id if arena.task else None, "turn": arena.turn, "done": arena.done,
                "invalid_actions": arena.invalid_actions}

    def tasks_of(self, arena: Arena, split: str) -> dict[str, Task]:
        if split not in self.tasks:
            self.tasks[split] = {t.id: t for t in arena.tasks(split)} if split in arena.splits else {}
        return self.tasks[split]


def public_task(task: Task | None) -> Task:
    """A task without its reference (the verifier's answer never leaves the server)."""
    if task is None:
        raise RequestError("EPISODE_DONE", "no task")
    return Task(task.id, task.split, task.prompt, {}, task.meta)


def parse_action(data: Any) -> Action:
    """An action from a step body: a wire envelope, an ``Action.to_dict()``, an OpenAI message, or text."""
    if isinstance(data, dict) and "wire" in data:
        try:
            action = from_wire(data)
        except (ValueError, KeyError, TypeError) as e:
            raise RequestError("VALIDATION_ERROR", f"bad action envelope: {e}") from e
        if not isinstance(action, Action):
            raise RequestError("VALIDATION_ERROR", f"expected an Action, got {type(action).__name__}")
        return action
    if isinstance(data, dict) and "action" in data and len(data) <= 3:  # OpenEnv's StepRequest shape
        data = data["action"]
    if isinstance(data, dict) and not ("content" in data or "role" in data):
        try:
            return Action.from_dict(data)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise RequestError("VALIDATION_ERROR", f"bad action: {e}") from e
    return as_action(data)


class SessionManager:
    """The live sessions, their pools (one per config override) and the idle reaper."""

    def __init__(self, cfg: ServerConfig):
        self.cfg = cfg
        self.sessions: dict[str, Session] = {}
        self.pools: dict[str, tuple[ArenaPool, dict[str, dict[str, Task]]]] = {}
        self.lock = threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=cfg.max_sessions, thread_name_prefix="session")
        self.catalog = make(cfg.arena, **cfg.arena_config)  # fails at start on a bad arena or config
        self.catalog_lock = threading.Lock()
        self.info = self.catalog.info()
        self.public_tasks: dict[str, list[dict[str, Any]]] = {}

    def list_tasks(self, split: str) -> list[dict[str, Any]]:
        """The tasks of ``split`` without their references (the server's configuration)."""
        with self.catalog_lock:
            if split not in self.public_tasks:
                if split not in self.catalog.splits:
                    raise RequestError("UNKNOWN_SPLIT", f"no split {split!r}; splits: {list(self.catalog.splits)}",
                                       404)
                self.public_tasks[split] = [public_task(t).to_dict() for t in self.catalog.tasks(split)]
            return self.public_tasks[split]

    def open(self, overrides: dict[str, Any] | None = None, http: bool = False) -> Session:
        overrides = dict(overrides or {})
        bad = set(overrides) - set(self.cfg.client_config_keys)
        if bad:
            raise RequestError("VALIDATION_ERROR", f"config keys {sorted(bad)} may not be set by a client; "
                                                   f"allowed: {list(self.cfg.client_config_keys)}")
        key = json.dumps(overrides, sort_keys=True)
        with self.lock:
            if len(self.sessions) >= self.cfg.max_sessions:
                raise RequestError("CAPACITY_REACHED", f"the server holds its limit of {self.cfg.max_sessions} "
                                                       "sessions; retry later", 503)
            if key not in self.pools and len(self.pools) >= MAX_POOLS:
                raise RequestError("CAPACITY_REACHED", f"the server holds {MAX_POOLS} configurations already; "
                                                       "use one of theirs", 503)
            if key not in self.pools:
                config = {**self.cfg.arena_config, **overrides}
                self.pools[key] = (ArenaPool(lambda: make(self.cfg.arena, **config)), {})
            pool, tasks = self.pools[key]
            placeholder = uuid.uuid4().hex
            self.sessions[placeholder] = None  # type: ignore[assignment]  # holds the slot while the arena is made
        try:
            session = Session(pool, tasks)
        except ConfigError as e:
            raise RequestError("VALIDATION_ERROR", str(e)) from e
        finally:
            with self.lock:
                del self.sessions[placeholder]
        session.http = http
        with self.lock:
            self.sessions[session.id] = session
        return session

    def get(self, session_id: Any) -> Session:
        session = self.sessions.get(str(session_id))
        if session is None:
            raise RequestError("UNKNOWN_SESSION", f"no session {session_id!r} (ended or never opened)", 404)
        return session

    def close(self, session: Session) -> None:
        with self.lock:
            self.sessions.pop(session.id, None)
        session.close()

    async def run(self, session: Session, fn: Any, *args: Any) -> Any:
        """Runs a session operation in the worker threads; a crash removes the session."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, session.call, fn, *args)
        except ArenaCrashed:
            self.close(session)
            raise

    def reap(self) -> int:
        """Ends sessions idle longer than the timeout; returns how many."""
        cutoff = time.monotonic() - self.cfg.idle_timeout_s
        idle = [s for s in list(self.sessions.values()) if s is not None and s.http and s.last_used < cutoff
                and not s.lock.locked()]
        for session in idle:
            self.close(session)
        return len(idle)

    def shutdown(self) -> None:
        for session in [s for s in list(self.sessions.values()) if s is not None]:
            self.close(session)
        for pool, _ in self.pools.values():
            pool.close()
        self.catalog.close()
        self.executor.shutdown(wait=False, cancel_futures=True)


# ---- the HTTP/WebSocket face (Starlette) ---------------------------------------------------
STATE_SCHEMA = {"type": "object", "properties": {
    "episode_id": {"type": ["string", "null"]}, "step_count": {"type": "integer"}, "session_id": {"type": "string"},
    "task_id": {"type": ["string", "null"]}, "turn": {"type": "integer"}, "done": {"type": "boolean"},
    "invalid_actions": {"type": "integer"}}}
ACTION_SCHEMA = {"type": "object", "description": "Action.to_dict(): free text and/or tool calls", "properties": {
    "text": {"type": "string"},
    "tool_calls": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "arguments": {"type": "object"}, "id": {"type": "string"}}}},
    "structured": {"description": "a non-text action (structured view)"}}}
OBSERVATION_SCHEMA = {"type": "object", "description": "Observation.to_dict(): the new chat messages", "properties": {
    "messages": {"type": "array", "items": {"type": "object"}}, "data": {"type": ["object", "null"]},
    "images": {"type": "array"}}}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "data": {"code": code, "message": message}}


class _Guard:
    """ASGI middleware: bearer-token check (all but ``/health``) and the request size limit."""

    def __init__(self, app: Any, cfg: ServerConfig):
        self.app, self.cfg = app, cfg
        self.expected = f"Bearer {cfg.token}".encode() if cfg.token else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if self.expected is not None and scope["path"] != "/health" and not hmac.compare_digest(
                headers.get(b"authorization", b""), self.expected):
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008, "reason": "unauthorized"})
            return await _send_json(send, 401, _error("UNAUTHORIZED", "a valid bearer token is required"))
        length = headers.get(b"content-length", b"0")
        if scope["type"] == "http" and (not length.isdigit() or int(length) > self.cfg.max_request_bytes):
            return await _send_json(send, 413, _error("REQUEST_TOO_LARGE",
                                                      f"the body exceeds {self.cfg.max_request_bytes} bytes"))
        await self.app(scope, receive, send)


async def _send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


def build_app(cfg: ServerConfig, manager: SessionManager) -> Any:
    """The Starlette application over ``manager``."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    def fail(e: RequestError | ArenaCrashed) -> JSONResponse:
        if isinstance(e, ArenaCrashed):
            return JSONResponse(_error("ARENA_CRASHED", str(e)), 500)
        return JSONResponse(_error(e.code, str(e)), e.status)

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > cfg.max_request_bytes:
            raise RequestError("REQUEST_TOO_LARGE", f"the body exceeds {cfg.max_request_bytes} bytes", 413)
        try:
            data = json.loads(raw or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise RequestError("INVALID_JSON", f"invalid JSON: {e}") from e
        if not isinstance(data, dict):
            raise RequestError("VALIDATION_ERROR", "the body must be a JSON object")
        return data

    def handler(fn: Any) -> Any:
        async def wrapped(request: Request) -> JSONResponse:
            try:
                return JSONResponse(await fn(request))
            except (RequestError, ArenaCrashed) as e:
                return fail(e)
        return wrapped

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "healthy"})

    async def metadata(request: Request) -> dict[str, Any]:
        info = manager.info
        return {"name": info["id"], "description": info["description"], "version": str(info["version"]),
                "wire": WIRE_VERSION, "sessions": len(manager.sessions), "max_sessions": cfg.max_sessions,
                "splits": info["splits"], "policies": info["policies"], "max_turns": info["max_turns"]}

    async def schema(request: Request) -> dict[str, Any]:
        return {"action": ACTION_SCHEMA, "observation": OBSERVATION_SCHEMA, "state": STATE_SCHEMA,
                "tools": manager.info["tools"]}

    async def tasks(request: Request) -> dict[str, Any]:
        split = request.query_params.get("split") or manager.catalog.split
        return {"split": split, "tasks": manager.list_tasks(split)}

    async def http_reset(request: Request) -> dict[str, Any]:
        data = await body(request)
        if data.get("session_id"):
            session = manager.get(data["session_id"])
        else:
            session = manager.open(data.get("config") if isinstance(data.get("config"), dict) else None, http=True)
        return {**await manager.run(session, session.reset, data), "session_id": session.id}

    async def http_step(request: Request) -> dict[str, Any]:
        data = await body(request)
        session = manager.get(data.get("session_id"))
        if "action" not in data:
            raise RequestError("VALIDATION_ERROR", "a step body needs an 'action'")
        return await manager.run(session, session.step, data["action"])

    async def http_state(request: Request) -> dict[str, Any]:
        session = manager.get(request.query_params.get("session_id"))
        return await manager.run(session, session.state)

    async def http_close(request: Request) -> dict[str, Any]:
        manager.close(manager.get((await body(request)).get("session_id")))
        return {"closed": True}

    async def websocket(ws: WebSocket) -> None:
        await ws.accept()
        try:
            overrides = json.loads(ws.query_params.get("config") or "{}")
            if not isinstance(overrides, dict):
                raise RequestError("VALIDATION_ERROR", "the config query parameter must be a JSON object")
            session = manager.open(overrides)
        except (RequestError, json.JSONDecodeError) as e:
            code = e.code if isinstance(e, RequestError) else "INVALID_JSON"
            await ws.send_json(_error(code, str(e)))
            return await ws.close(code=1013 if code == "CAPACITY_REACHED" else 1008)
        try:
            await _serve_socket(ws, session, manager, cfg)
        except WebSocketDisconnect:
            pass
        finally:
            manager.close(session)

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        async def reaper() -> None:
            while True:
                await asyncio.sleep(min(5.0, cfg.idle_timeout_s / 4))
                manager.reap()
        task = asyncio.create_task(reaper())
        try:
            yield
        finally:
            task.cancel()
            manager.shutdown()

    routes = [Route("/health", health), Route("/metadata", handler(metadata)), Route("/schema", handler(schema)),
              Route("/tasks", handler(tasks)), Route("/reset", handler(http_reset), methods=["POST"]),
              Route("/step", handler(http_step), methods=["POST"]), Route("/state", handler(http_state)),
              Route("/close", handler(http_close), methods=["POST"]), WebSocketRoute("/ws", websocket)]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.manager = manager
    return _Guard(app, cfg)


async def _serve_socket(ws: Any, session: Session, manager: SessionManager, cfg: ServerConfig) -> None:
    """One WebSocket session: messages in order until close, disconnect, idle timeout or a crash."""
    operations = {"reset": ("observation", session.reset), "step": ("observation", session.step),
                  "end_episode": ("observation", session.end_episode), "policy": ("action", session.policy_action),
                  "rescore": ("breakdown", session.rescore)}
    while True:
        try:
            message = await asyncio.wait_for(ws.receive(), timeout=cfg.idle_timeout_s)
        except TimeoutError:
            await ws.send_json(_error("SESSION_TIMEOUT", f"no message for {cfg.idle_timeout_s:g} s; session ended"))
            return await ws.close(code=1000)
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text") if message.get("text") is not None else (message.get("bytes") or b"").decode(
            errors="replace")
        try:
            if len(raw) > cfg.max_request_bytes:
                raise RequestError("REQUEST_TOO_LARGE", f"the message exceeds {cfg.max_request_bytes} bytes")
            try:
                msg = json.loads(raw)
            except json.JSONDecodeError as e:
                raise RequestError("INVALID_JSON", f"invalid JSON: {e}") from e
            if not isinstance(msg, dict):
                raise RequestError("VALIDATION_ERROR", "a message must be a JSON object")
            kind, data = msg.get("type"), msg.get("data")
            if kind == "close":
                return await ws.close(code=1000)
            if kind == "state":
                reply = {"type": "state", "data": await manager.run(session, session.state)}
            elif kind == "info":
                reply = {"type": "info", "data": await manager.run(session, _session_info)}
            elif kind == "tasks":
                split = str((data or {}).get("split") or "")
                reply = {"type": "tasks", "data": await manager.run(session, _session_tasks, session, split)}
            elif kind in operations:
                if kind != "step" and data is not None and not isinstance(data, dict):
                    raise RequestError("VALIDATION_ERROR", f"{kind} data must be a JSON object")
                answer, fn = operations[kind]
                if kind == "step" and data is None:
                    raise RequestError("VALIDATION_ERROR", "a step message needs data (the action)")
                reply = {"type": answer, "data": await manager.run(session, fn, data if data is not None else {})}
            else:
                raise RequestError("UNKNOWN_TYPE", f"unknown message type {kind!r}; expected one of reset, step, "
                                                   "state, close, info, tasks, policy, end_episode, rescore")
        except RequestError as e:
            await ws.send_json(_error(e.code, str(e)))
            continue
        except ArenaCrashed as e:
            await ws.send_json(_error("ARENA_CRASHED", str(e)))
            return await ws.close(code=1011)
        await ws.send_text(json.dumps(reply))


def _session_info(arena: Arena) -> dict[str, Any]:
    return {**arena.info(), "split": arena.split, "wire": WIRE_VERSION}


def _session_tasks(arena: Arena, session: Session, split: str) -> dict[str, Any]:
    split = split or arena.split
    if split not in arena.splits:
        raise RequestError("UNKNOWN_SPLIT", f"no split {split!r}; splits: {list(arena.splits)}", 404)
    return {"split": split, "tasks": [public_task(t).to_dict() for t in session.tasks_of(arena, split).values()]}


def create_app(cfg: ServerConfig) -> Any:
    """The ASGI application serving ``cfg.arena`` (checks the config, makes the arena once)."""
    cfg.check()
    return build_app(cfg, SessionManager(cfg))


def serve(cfg: ServerConfig) -> None:
    """Runs the server in this process until interrupted."""
    import uvicorn

    app = create_app(cfg)
    print(f"serving {cfg.arena} on http://{cfg.host}:{cfg.port} (WebSocket ws://{cfg.host}:{cfg.port}/ws)", flush=True)
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_level="warning", ws_max_size=4 * cfg.max_request_bytes,
                ws_ping_interval=None)


def serve_env(
    arena: Annotated[str, typer.Argument(help="arena id (see `arenas list`)")],
    config: Annotated[list[str] | None, typer.Option("-c", "--config", help="arena option key=value")] = None,
    host: Annotated[str, typer.Option(help="address to bind; non-loopback needs --token")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    token: Annotated[str | None, typer.Option(help=f"bearer token (default ${TOKEN_ENV})")] = None,
    max_sessions: Annotated[int, typer.Option(help="concurrent sessions")] = 64,
    idle_timeout_s: Annotated[float, typer.Option(help="a session idle this long is ended")] = 300.0,
    max_request_bytes: Annotated[int, typer.Option(help="largest request body or message")] = 4 * 2**20,
) -> None:
    """Serve an arena over HTTP + WebSocket (OpenEnv protocol) to many concurrent sessions."""
    from arenas.cli import parse_pairs

    serve(ServerConfig(arena=arena, arena_config=parse_pairs(config), host=host, port=port,
                       token=token or os.environ.get(TOKEN_ENV) or None, max_sessions=max_sessions,
                       idle_timeout_s=idle_timeout_s, max_request_bytes=max_request_bytes))
