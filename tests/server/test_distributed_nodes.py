"""``arenas run --ray-address`` on a cluster of two nodes, a head and a worker started as separate
processes on this machine (as ``ray start`` runs them on two hosts), driven by a fresh CLI process.
Each node offers one CPU and each actor takes one, so the run's two actors sit on different nodes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from arenas.agent_spec import make_agent_factory
from arenas.engines.services import Service
from arenas.rollout import RunConfig, run
from tests.server.test_distributed import _records

if not os.environ.get("ARENAS_TEST_RAY"):
    # Ray's cluster listens on the machine's network address, not only on 127.0.0.1: opt in
    pytest.skip("Ray tests run with ARENAS_TEST_RAY=1", allow_module_level=True)
pytest.importorskip("ray")
pytestmark = pytest.mark.slow
NODE = ["--block", "--num-cpus=1", "--disable-usage-stats", "--node-ip-address=127.0.0.1"]
ENV = {"RAY_AUTH_MODE": "disabled"}  # a loopback test cluster: no token file to share between nodes


def test_cli_rollouts_on_a_head_and_a_worker_node_match_a_local_run(tmp_path):
    ray = shutil.which("ray")
    head = Service("ray-head", lambda port: [ray, "start", "--head", f"--port={port}", "--include-dashboard=false",
                                             *NODE], env=ENV, startup_timeout_s=120).start()
    worker = Service("ray-worker", lambda port: [ray, "start", f"--address=127.0.0.1:{head.port}", *NODE],
                     env=ENV, health=lambda service: service.running, startup_timeout_s=120)
    try:
        worker.start()
        r = subprocess.run([sys.executable, "-m", "arenas.cli", "run", "memory", "--agent", "heuristic", "-n", "6",
                            "-j", "2", "--ray-address", f"127.0.0.1:{head.port}", "--out", str(tmp_path / "ray"),
                            "--quiet"], env={**os.environ, **ENV}, capture_output=True, text=True,
                           timeout=300)
    finally:
        worker.stop()
        head.stop()
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    run(RunConfig(arena="memory", agent="heuristic", n=6, concurrency=2), make_agent_factory("heuristic"),
        out=tmp_path / "local", progress=False)
    ray_records = _records(tmp_path / "ray")
    assert len(ray_records) == 6 and all(row[3] is None for row in ray_records)
    assert ray_records == _records(tmp_path / "local")
