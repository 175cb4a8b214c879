"""The service lifecycle: start on a free loopback port, health check, restart, stop by PID."""

import os
import sys
import time

import pytest

from arenas.engines.services import Service, ServiceError, tcp_open

HTTP = lambda port: [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]  # noqa: E731


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_start_health_restart_and_stop_by_pid():
    service = Service("http", HTTP).start()
    try:
        assert service.healthy() and tcp_open(service.port)
        first = service.pid
        service.restart()
        assert service.pid != first and not _alive(first) and service.healthy()
    finally:
        pid = service.pid
        service.stop()
    assert not _alive(pid) and not service.running


def test_stop_takes_the_whole_process_group():
    code = ("import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
            "print(p.pid, flush=True); import http.server, socketserver;"
            "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()")
    service = Service("parent", lambda port: [sys.executable, "-c", code, str(port)]).start()
    deadline = time.monotonic() + 10
    while not service.log_tail().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(service.log_tail().split()[0])
    assert _alive(child)
    service.stop()
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_a_service_that_exits_reports_its_log():
    service = Service("broken", lambda port: [sys.executable, "-c", "print('bad config'); raise SystemExit(3)"])
    with pytest.raises(ServiceError, match="(?s)status 3.*bad config"):
        service.start()
    assert not service.running


def test_a_service_that_never_answers_times_out():
    service = Service("silent", lambda port: [sys.executable, "-c", "import time; time.sleep(30)"],
                      startup_timeout_s=0.5)
    with pytest.raises(ServiceError, match="did not answer"):
        service.start()
    assert not service.running
