"""``arenas serve-model`` started in its own process for a test, stopped by PID."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def serve_model(model_dir: str, *options: str) -> Iterator[str]:
    """Serves ``model_dir`` on a free loopback port with extra CLI ``options``; yields the base URL."""
    proc = subprocess.Popen([sys.executable, "-m", "arenas.agents.llm.cli", "serve-model", str(model_dir),
                             "--port", "0", "--name", str(model_dir), "--device", "cpu", *options],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline, url = time.monotonic() + 60, None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError("the model server exited before it was ready")
            m = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
            url = m.group(1) if m else None
        assert url, "the model server did not report its address"
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
