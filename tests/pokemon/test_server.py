"""Server management: clear errors when Node or the package is missing, the written config,
start/health/stop by PID."""

from __future__ import annotations

import os

import pytest

from arenas.pokemon import server
from tests.pokemon.conftest import requires_showdown


def test_missing_node_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(server.shutil, "which", lambda name: None)
    with pytest.raises(server.ShowdownError, match="Node.js is not installed.*install.sh"):
        server.node_binary()


def test_missing_package_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(server, "PACKAGE_DIR", tmp_path / "node_modules" / "pokemon-showdown")
    with pytest.raises(server.ShowdownError, match="not installed.*install.sh"):
        server.package_dir()


def test_config_is_private_and_single_process():
    for line in ("bindaddress = '127.0.0.1'", "subprocesses = 0", "repl = false", "nothrottle = true",
                 "noguestsecurity = true"):
        assert f"exports.{line};" in server.CONFIG_JS


@requires_showdown
def test_start_health_and_stop_by_pid():
    assert server.installed_version() == "0.11.11"
    srv = server.ShowdownServer().start()
    pid = srv.proc.pid
    try:
        assert srv.healthy() and srv.running
        assert (server.package_dir() / "config" / "config.js").read_text() == server.CONFIG_JS
    finally:
        srv.stop()
    assert not srv.running and not srv.healthy()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@requires_showdown
def test_server_does_not_outlive_a_killed_parent():
    import signal
    import subprocess
    import sys
    import time

    code = ("from arenas.pokemon import server; s = server.ShowdownServer().start(); "
            "print(s.proc.pid, flush=True); import time; time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGTERM)
    raise AssertionError("the server outlived the process that started it")
