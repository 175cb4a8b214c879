"""Env servers for the tests: in-process (a uvicorn thread, so test arenas registered here are
served) or as a real ``arenas serve-env`` process started by :class:`Service`."""

from __future__ import annotations

import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from arenas import Action, ToolArena, registry
from arenas.engines.services import Service, free_port
from arenas.server import ServerConfig, create_app
from tests.core.guess_arena import GuessArena


class ServedGuessArena(GuessArena):
    """The core tests' guess arena, made to pass the conformance kit (a boolean is no guess)."""

    id = "guess-served"

    def _step(self, action):
        if isinstance(action.structured, bool):
            action = Action(parse_errors=["structured action must be an integer, got a boolean"])
        return super()._step(action)

    def rescore(self, task, turns):
        """The breakdown from the recorded guesses (valid ones count; the first right one ends)."""
        from arenas.types import RewardBreakdown

        guesses, last = 0, None
        for turn in turns:
            action = Action.from_dict(turn["action"])
            numbers = [action.structured] if isinstance(action.structured, int) and not isinstance(
                action.structured, bool) else [c.arguments.get("number") for c in action.tool_calls if c.name == "guess"]
            for number in numbers:
                if isinstance(number, int) and 0 <= number < 16:
                    guesses, last = guesses + 1, number
                    if number == task.reference["secret"]:
                        return self.rubric.score(number, task.reference, {"guesses": guesses})
        if last is None:
            return RewardBreakdown(0.0, {"exact": 0.0, "efficiency": 0.0})
        return self.rubric.score(last, task.reference, {"guesses": guesses})


class BoomArena(GuessArena):
    """A guess arena whose instance breaks on the text ``boom`` (an arena bug, not an agent's)."""

    id = "guess-boom"

    def on_text(self, action):
        if action.text == "boom":
            raise RuntimeError("the arena broke")
        return ToolArena.on_text(self, action)


registry.register("guess-served", ServedGuessArena)
registry.register("guess-boom", BoomArena)


@contextmanager
def serve_in_thread(arena: str, **options: Any) -> Iterator[str]:
    """Serves ``arena`` on a free loopback port in this process; yields its base URL."""
    import uvicorn

    cfg = ServerConfig(arena=arena, port=free_port(), **options)
    server = uvicorn.Server(uvicorn.Config(create_app(cfg), host=cfg.host, port=cfg.port, log_level="warning",
                                           ws_max_size=4 * cfg.max_request_bytes, ws_ping_interval=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the env server did not start"
    try:
        yield f"http://127.0.0.1:{cfg.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _healthy(service: Service) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{service.port}/health", timeout=1).status == 200
    except OSError:
        return False


def serve_env_process(arena: str, *args: str) -> Service:
    """``arenas serve-env <arena>`` as a process on a free port (stopped by PID)."""
    return Service(f"env-server-{arena}", lambda port: [sys.executable, "-m", "arenas.cli", "serve-env", arena,
                                                        "--port", str(port), *args], health=_healthy).start()


@pytest.fixture
def served() -> Callable[..., Any]:
    return serve_in_thread
