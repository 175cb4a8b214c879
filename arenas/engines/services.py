"""External processes an arena or a test depends on (the Showdown server, PostgreSQL, a Lean
REPL, a browser, the env server): one lifecycle for all of them.

A :class:`Service` starts its command on a free 127.0.0.1 port in a new session (its own process
group), waits until a health check passes (or the process exits, which is reported with the tail
of its log), restarts on request, and stops by signalling its process group by PID — never by
name, so nothing else on the machine with the same name is touched. Logs go to a temporary
file, read back for error messages.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


class ServiceError(RuntimeError):
    """A service did not start or died; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tcp_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Service:
    """One external process. ``command(port)`` builds its argv for the chosen port."""

    name: str
    command: Callable[[int], Sequence[str]]
    cwd: str | Path | None = None
    env: dict[str, str] | None = None
    """Extra environment variables (added to this process's environment)."""
    health: Callable[[Service], bool] | None = None
    """Returns True once the service answers; default: its port accepts TCP connections."""
    port: int = 0
    """Port on 127.0.0.1 (0: a free one, chosen at start)."""
    startup_timeout_s: float = 60.0
    stop_signal: int = signal.SIGTERM
    stop_timeout_s: float = 10.0
    proc: subprocess.Popen | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> Service:
        if self.running:
            return self
        self.port = self.port or free_port()
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(list(self.command(self.port)), cwd=self.cwd, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                     env={**os.environ, **(self.env or {})})
        atexit.register(self.stop)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                status, tail = self.proc.returncode, self.log_tail()
                self.stop()
                raise ServiceError(f"{self.name} exited with status {status}:\n{tail}")
            if self.healthy():
                return self
            time.sleep(0.1)
        tail = self.log_tail()
        self.stop()
        raise ServiceError(f"{self.name} did not answer on port {self.port} within {self.startup_timeout_s}s:\n{tail}")

    def healthy(self) -> bool:
        if not self.running:
            return False
        return self.health(self) if self.health is not None else tcp_open(self.port)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def log_tail(self, n: int = 4000) -> str:
        if self._log is None or self._log.closed:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-n:]

    def restart(self) -> Service:
        """Stops the process (if any) and starts a new one on the same port."""
        self.stop()
        return self.start()

    def stop(self) -> None:
        """Signals the process group by PID, waits, then kills it if it lingers."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            _signal_group(proc.pid, self.stop_signal)
            try:
                proc.wait(timeout=self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=self.stop_timeout_s)
        if proc is not None:
            _signal_group(proc.pid, signal.SIGKILL)  # children left in the group after the leader exited
        if self._log is not None:
            self._log.close()
            self._log = None
        atexit.unregister(self.stop)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the service was started in its own session: its group id is its PID
    except (ProcessLookupError, PermissionError):
        pass
