"""A client for the Lean REPL's JSON protocol (leanprover-community/repl).

The REPL reads one JSON request per blank-line-separated block on stdin and writes one JSON
response per blank-line-separated block on stdout. Requests: ``{"cmd", "env"?}`` (command mode,
answers a new ``env`` id with ``messages`` and ``sorries``), ``{"tactic", "proofState"}`` (tactic
mode, answers a new ``proofState`` with ``goals``), ``{"path"}`` (file mode) and the pickling
requests. A request the REPL rejects answers ``{"message": ...}``.

:class:`ReplProcess` runs one REPL process: every request has a deadline, and a process that
times out, exits or exceeds its memory limit is killed (by its PID's process group) and restarted
at the next request. Env and proof-state ids do not survive a restart, so each carries the
process generation it came from and an id from a dead process is refused before it reaches Lean.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


class ReplError(Exception):
    """The REPL could not answer (crash, timeout, protocol violation, stale id)."""


class ReplTimeout(ReplError):
    """A request ran past its deadline; the process was killed and will be restarted."""


@dataclass(frozen=True)
class Pos:
    line: int
    column: int


@dataclass(frozen=True)
class Message:
    """A diagnostic: ``severity`` is ``error``, ``warning``, ``info`` or ``trace``."""

    severity: str
    data: str
    pos: Pos | None = None
    end_pos: Pos | None = None


@dataclass(frozen=True)
class Sorry:
    """A ``sorry`` in a command, with its goal and the proof state that starts there."""

    goal: str
    proof_state: int | None = None
    pos: Pos | None = None
    end_pos: Pos | None = None


@dataclass
class Response:
    """One parsed REPL response. ``env`` is set by command mode, ``proof_state``/``goals`` by
    tactic mode; ``error`` holds the REPL's rejection message (unknown env, bad JSON, ...)."""

    raw: dict[str, Any]
    env: int | None = None
    proof_state: int | None = None
    goals: list[str] | None = None
    proof_status: str | None = None
    messages: list[Message] = field(default_factory=list)
    sorries: list[Sorry] = field(default_factory=list)
    tactics: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    generation: int = 0

    @property
    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.severity == "error"]

    @property
    def ok(self) -> bool:
        """No rejection and no error message."""
        return self.error is None and not self.errors

    @property
    def complete(self) -> bool:
        """Accepted with no ``sorry`` left (a finished command or a closed tactic proof)."""
        if not self.ok or self.sorries:
            return False
        if self.goals is not None:
            return not self.goals
        return not any("declaration uses 'sorry'" in m.data or "declaration uses `sorry`" in m.data
                       for m in self.messages)


def _pos(d: Any) -> Pos | None:
    return Pos(int(d["line"]), int(d["column"])) if isinstance(d, dict) else None


def parse_response(obj: dict[str, Any], generation: int = 0) -> Response:
    """Turns a decoded REPL response into a :class:`Response` (raises ReplError if it is not one)."""
    if not isinstance(obj, dict):
        raise ReplError(f"REPL response is not a JSON object: {obj!r:.200}")
    messages = [Message(str(m.get("severity", "error")), str(m.get("data", "")), _pos(m.get("pos")),
                        _pos(m.get("endPos"))) for m in obj.get("messages", [])]
    sorries = [Sorry(str(s.get("goal", "")), s.get("proofState"), _pos(s.get("pos")), _pos(s.get("endPos")))
               for s in obj.get("sorries", [])]
    error = obj.get("message") if set(obj) == {"message"} else None
    return Response(raw=obj, env=obj.get("env"), proof_state=obj.get("proofState"), goals=obj.get("goals"),
                    proof_status=obj.get("proofStatus"), messages=messages, sorries=sorries,
                    tactics=list(obj.get("tactics", [])), error=error, generation=generation)


def split_blocks(text: str) -> list[str]:
    """Splits a stream of blank-line-separated JSON blocks (the REPL's framing)."""
    blocks, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def encode_request(request: dict[str, Any]) -> str:
    """One request as the REPL reads it: single-line JSON, then a blank line."""
    return json.dumps(request, ensure_ascii=False) + "\n\n"


class ReplProcess:
    """One REPL process with per-request deadlines and restart after a crash or timeout.

    ``command`` is the argv that starts the REPL (e.g. ``["lake", "env", ".../repl"]`` run in a
    Mathlib project, or ``["docker", "exec", "-i", ...]``); ``cwd`` its working folder.
    """

    def __init__(self, command: Sequence[str], cwd: str | None = None, timeout_s: float = 60.0,
                 memory_limit_mb: int | None = None, env: dict[str, str] | None = None):
        self.command = list(command)
        self.cwd = cwd
        self.timeout_s = timeout_s
        self.memory_limit_mb = memory_limit_mb
        self.env = env
        self.generation = 0
        self.restarts = 0
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()

    # ---- process lifecycle -------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _limit_memory(self) -> None:  # runs in the child before exec
        os.setsid()
        if self.memory_limit_mb:
            import resource

            limit = self.memory_limit_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def start(self) -> None:
        if self.alive:
            return
        self._lines = queue.Queue()
        try:
            self._proc = subprocess.Popen(self.command, cwd=self.cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True, encoding="utf-8", bufsize=1,
                                          preexec_fn=self._limit_memory, env=self.env)
        except OSError as e:
            raise ReplError(f"could not start the Lean REPL ({' '.join(self.command)}): {e}") from e
        self.generation += 1
        threading.Thread(target=self._pump, args=(self._proc, self._lines), daemon=True).start()

    @staticmethod
    def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def stop(self) -> None:
        """Kills the REPL's process group (by PID) and reaps it."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    def restart(self) -> None:
        self.stop()
        self.restarts += 1
        self.start()

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> ReplProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- requests ------------------------------------------------------------------------------
    def send(self, request: dict[str, Any], timeout_s: float | None = None) -> Response:
        """Sends one request and returns its parsed response. An ``env``/``proofState`` from an
        earlier process generation raises ReplError; a timeout kills the process (ReplTimeout)."""
        with self._lock:
            if not self.alive:
                self.start()
            deadline = timeout_s or self.timeout_s
            try:
                assert self._proc is not None and self._proc.stdin is not None
                self._proc.stdin.write(encode_request(request))
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError) as e:
                self.stop()
                raise ReplError(f"the Lean REPL exited before reading the request: {e}") from e
            obj = self._read(time.monotonic() + deadline)
            return parse_response(obj, self.generation)

    def _read(self, deadline: float) -> dict[str, Any]:
        buffer: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise ReplTimeout("the Lean REPL did not answer in time; it was restarted")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                tail = "".join(buffer)[-500:]
                self.stop()
                raise ReplError(f"the Lean REPL exited (crash or memory limit); output: {tail!r}")
            if line.strip():
                buffer.append(line)
                continue
            if not buffer:
                continue
            try:
                return json.loads("".join(buffer))
            except json.JSONDecodeError:
                # not a response (e.g. a line lake printed while building): keep reading
                if not "".join(buffer).lstrip().startswith("{"):
                    buffer.clear()


class ReplSession:
    """Request helpers over a :class:`ReplProcess` that remember which ids are live.

    ``header`` (e.g. ``import Mathlib``) is elaborated once per process generation, with its own
    deadline (loading Mathlib takes minutes on a cold cache), and reused as the base environment
    of every command, which is how a Mathlib REPL stays fast.
    """

    def __init__(self, process: ReplProcess, header: str = "", header_timeout_s: float = 600.0):
        self.process = process
        self.header = header
        self.header_timeout_s = header_timeout_s
        self._base: tuple[int, int] | None = None  # (generation, env)

    def base_env(self) -> int | None:
        if not self.header.strip():
            return None
        if self._base is None or self._base[0] != self.process.generation or not self.process.alive:
            r = self.process.send({"cmd": self.header}, timeout_s=self.header_timeout_s)
            if not r.ok or r.env is None:
                raise ReplError(f"the header did not elaborate: {r.error or [m.data for m in r.errors]}")
            self._base = (r.generation, r.env)
        return self._base[1]

    def _check_generation(self, generation: int | None) -> None:
        if generation is not None and (generation != self.process.generation or not self.process.alive):
            raise ReplError("that environment or proof state belonged to a REPL process that was restarted")

    def command(self, code: str, env: int | None = None, generation: int | None = None,
                timeout_s: float | None = None, **options: Any) -> Response:
        """Runs ``code`` in ``env`` (default: the header's environment)."""
        if env is None:
            env = self.base_env()
        else:
            self._check_generation(generation)
        request: dict[str, Any] = {"cmd": code, **options}
        if env is not None:
            request["env"] = env
        return self.process.send(request, timeout_s)

    def tactic(self, tactic: str, proof_state: int, generation: int | None = None,
               timeout_s: float | None = None) -> Response:
        self._check_generation(generation)
        return self.process.send({"tactic": tactic, "proofState": proof_state}, timeout_s)
