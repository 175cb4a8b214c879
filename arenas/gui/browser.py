"""One headless Chromium per process, shared by every GUI arena in it.

Playwright's sync API is bound to the thread that started it, while the rollout engine plays
episodes on a thread pool. So the browser lives on its own event-loop thread (Playwright's async
API) and arenas on any thread submit coroutines to it: concurrent episodes overlap their browser
round trips, and one process holds one browser.

A crashed browser (killed, out of memory) is detected on the next call: the host starts a new one
and the call raises :class:`BrowserCrashed`, so the episode is recorded as an error and the next
episode runs on the new browser.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium",
                       "/usr/bin/google-chrome")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-extensions",
               "--disable-background-networking", "--no-first-run", "--mute-audio",
               "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
               "--disable-backgrounding-occluded-windows",
               "--process-per-site",  # an arena's pooled task pages (one site: file://) share one renderer
               # no network: every host name and address resolves to nothing, and no proxy is used, so
               # pages load their own file:// files only (no request interception, which costs a round
               # trip through this process per file)
               "--host-resolver-rules=MAP * ~NOTFOUND", "--no-proxy-server"]
CALL_TIMEOUT_S = 30.0


class BrowserCrashed(RuntimeError):
    """The browser process died during an episode; the host has started a new one."""


def chromium_path() -> str:
    """The Chromium binary: ``$ARENAS_CHROMIUM``, else Debian's package, else one on PATH."""
    env = os.environ.get("ARENAS_CHROMIUM")
    if env:
        return env
    for path in CHROMIUM_CANDIDATES:
        if os.path.exists(path):
            return path
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    raise FileNotFoundError("Chromium not found: install it (apt-get install -y chromium) "
                            "or set ARENAS_CHROMIUM to its binary")


class BrowserHost:
    """The process's browser and the event loop that drives it."""

    _shared: BrowserHost | None = None
    _shared_lock = threading.Lock()

    def __init__(self, executable: str | None = None):
        self.executable = executable or chromium_path()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="gui-browser", daemon=True)
        self.thread.start()
        self.generation = 0
        self.restarts = 0
        self._restart_lock = threading.Lock()
        self._pw: Any = None
        self.browser: Any = None
        self.run(self._launch())

    @classmethod
    def shared(cls) -> BrowserHost:
        """The process-wide host (started on first use; restarted after a fork)."""
        with cls._shared_lock:
            host = cls._shared
            if host is None or host.pid_owner != os.getpid() or not host.thread.is_alive():
                host = cls._shared = cls()
                atexit.register(host.close)
            return host

    @property
    def pid_owner(self) -> int:
        return self._owner

    async def _launch(self) -> None:
        from playwright.async_api import async_playwright

        self._owner = os.getpid()
        if self._pw is None:
            self._pw = await async_playwright().start()
        before = _chromium_pids()
        self.browser = await self._pw.chromium.launch(executable_path=self.executable, args=LAUNCH_ARGS,
                                                      headless=True)
        self.browser_pid = _main_browser_pid(before, self.executable)
        self.generation += 1

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = CALL_TIMEOUT_S) -> Any:
        """Runs ``coro`` on the browser loop and returns its result (from any thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def connected(self) -> bool:
        return self.browser is not None and self.browser.is_connected()

    def new_context(self, width: int, height: int) -> tuple[Any, int]:
        """A fresh browser context and the generation of the browser that owns it."""

        async def make() -> Any:
            return await self.browser.new_context(viewport={"width": width, "height": height},
                                                  device_scale_factor=1, java_script_enabled=True)

        return self.run(make()), self.generation

    def restart_if_dead(self, generation: int) -> bool:
        """Starts a new browser if the one of ``generation`` is gone; True when it had died."""
        with self._restart_lock:
            if self.generation != generation:
                return True
            if self.connected():
                return False

            async def relaunch() -> None:
                try:
                    await self.browser.close()
                except Exception:  # already dead
                    pass
                await self._launch()

            self.run(relaunch(), timeout=60)
            self.restarts += 1
            return True

    def close(self) -> None:
        async def shut() -> None:
            if self.browser is not None:
                await self.browser.close()
            if self._pw is not None:
                await self._pw.stop()

        try:
            self.run(shut(), timeout=10)
        except Exception:  # already gone (killed, or the loop stopped at exit)
            pass
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)


def _chromium_pids() -> set[int]:
    return {int(p) for p in os.listdir("/proc") if p.isdigit()}


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _descends_from(pid: int, ancestor: int) -> bool:
    for _ in range(64):
        if pid in (0, 1):
            return False
        if pid == ancestor:
            return True
        pid = _parent(pid)
    return False


def _main_browser_pid(before: set[int], executable: str) -> int | None:
    """The browser this process just launched: a Chromium started after ``before``, descending
    from this process (through Playwright's driver), that is not a helper (no ``--type=``)."""
    name = Path(os.path.realpath(executable)).name
    for pid in sorted(_chromium_pids() - before):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and name.encode() in Path(cmd[0].decode(errors="replace")).name.encode() \
                and not any(a.startswith(b"--type=") for a in cmd) and _descends_from(pid, os.getpid()):
            return pid
    return None
