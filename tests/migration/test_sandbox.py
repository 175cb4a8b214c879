"""Every limit of the subprocess sandbox, exercised for real in a library venv."""

import os
import time

import pytest

from arenas.engines.sandbox import (
    Limits,
    docker_status,
    namespaces_available,
    run_docker,
    run_subprocess,
)
from arenas.migration import envs


@pytest.fixture(scope="module")
def python(built):
    return envs.venv_python(envs.VenvSpec("numpy", "new"))


def snippet(python, code, limits=Limits(), isolate=None, solution="x = 1\n"):
    return run_subprocess(python, {"mode": "snippet", "module": "numpy"},
                          {"snippet.py": code, "solution.py": solution}, limits, isolate)


@pytest.mark.parametrize("isolate", [True, False])
def test_network_is_blocked(python, isolate):
    if isolate and not namespaces_available():
        pytest.skip("unshare not permitted here")
    code = ("import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\n    print('CONNECTED')\n"
            "except OSError as e:\n    print('BLOCKED', e)\n"
            "s = socket.socket()\ntry:\n    s.connect(('127.0.0.1', 22))\nexcept OSError:\n    print('BLOCKED2')\n")
    r = snippet(python, code, isolate=isolate)
    assert "CONNECTED" not in r.stdout and "BLOCKED" in r.stdout and "BLOCKED2" in r.stdout


def _dead(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return "State:\tZ" in f.read()
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("escape", [False, True])
def test_wall_timeout_kills_every_process(python, escape):
    if escape and not namespaces_available():
        pytest.skip("a process that calls setsid() is only contained by the PID namespace")
    code = ("import os, time\nif os.fork() == 0:\n" + ("    os.setsid()\n" if escape else "")
            + "    print(os.readlink('/proc/self'), flush=True)\n    time.sleep(60)\nelse:\n    time.sleep(60)\n")
    t0 = time.perf_counter()
    r = snippet(python, code, Limits(wall_s=2.0))
    assert r.timed_out and time.perf_counter() - t0 < 10
    child = int(r.stdout.split()[0])  # a host pid: /proc is the host's
    time.sleep(0.3)
    assert _dead(child)


@pytest.mark.skipif(os.getuid() == 0, reason="the kernel does not apply RLIMIT_NPROC to root")
def test_fork_bomb_is_capped(python):
    code = ("import os\nn = 0\ntry:\n    for _ in range(500):\n        if os.fork() == 0:\n"
            "            import time; time.sleep(30)\n        n += 1\nexcept OSError:\n    pass\n"
            "print('forked', n, flush=True)\n")
    r = snippet(python, code, Limits(wall_s=10, processes=16))
    assert "forked" in r.stdout and int(r.stdout.split()[1]) <= 16


def test_cpu_limit(python):
    r = snippet(python, "while True:\n    pass\n", Limits(cpu_s=1, wall_s=20))
    assert not r.timed_out and r.returncode != 0 and r.wall_s < 15


def test_memory_limit(python):
    r = snippet(python, "x = bytearray(2_000_000_000)\nprint('ALLOCATED')\n", Limits(memory_mb=512))
    assert "ALLOCATED" not in r.stdout and "MemoryError" in r.stderr


def test_output_is_capped(python):
    r = snippet(python, "import sys\nfor _ in range(100000):\n    sys.stdout.write('y' * 100 + '\\n')\n",
                Limits(output_bytes=10_000))
    assert len(r.stdout) < 11_000 and "truncated" in r.stdout


def test_minimal_environment_and_fresh_directory(python, monkeypatch):
    monkeypatch.setenv("ARENAS_SECRET_TOKEN", "leak")
    code = "import os\nprint(sorted(os.environ))\nprint(sorted(os.listdir('.')))\nprint(os.getcwd())\n"
    first, second = snippet(python, code), snippet(python, code)
    assert "ARENAS_SECRET_TOKEN" not in first.stdout
    listing = first.stdout.splitlines()[1]
    assert "snippet.py" in listing and "solution.py" in listing and "tasks" not in listing
    assert first.stdout.splitlines()[2] != second.stdout.splitlines()[2]


def test_hidden_data_and_other_venvs_are_out_of_reach(python):
    if not namespaces_available():
        pytest.skip("the fallback does not hide directories (documented)")
    from arenas.engines.cache import arenas_home

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = (f"import os\nprint(os.listdir({str(arenas_home())!r}))\nprint(os.listdir({root!r}))\n"
            "import numpy\nprint(numpy.__version__)\n")
    r = snippet(python, code)
    assert r.stdout.splitlines()[:3] == ["[]", "[]", envs.LIBRARIES["numpy"][2]]


def test_docker_backend_reports_unavailable_without_a_daemon(python):
    status = docker_status()
    assert status == "available" or status.startswith("unavailable")
    if status != "available":
        with pytest.raises(RuntimeError, match="unavailable"):
            run_docker("numpy-new", {"mode": "doc", "module": "numpy", "symbol": "numpy.sum"}, {})
    else:  # a daemon is reachable: the same harness, in the image, with no network
        r = run_docker("numpy-new", {"mode": "doc", "module": "numpy", "symbol": "numpy.sum"}, {})
        assert r.payload and "numpy.sum" in r.payload["doc"]


def test_second_venv_build_is_cached(built):
    times = envs.ensure_all()
    assert set(times) == {s.name for s in envs.all_specs()} and max(times.values()) < 1.0
