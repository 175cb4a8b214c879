"""Data parallel GRPO on CPU: two gloo ranks launched by ``torch.distributed.run`` on loopback
(tests/grpo/dp_worker.py) against the same updates in this single process."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from arenas.agents.grpo.data_parallel import DataParallel, env_world
from tests.grpo.dp_worker import VARIANTS, fixed_samples, learner_update

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_ranks(tiny_model_dir, tmp_path_factory):
    """Runs both ranks once for the module; returns their output folder."""
    out = tmp_path_factory.mktemp("dp")
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
           str(ROOT / "tests" / "grpo" / "dp_worker.py"), str(tiny_model_dir), str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both ranks (a rank stuck in a collective)
        stdout, stderr = proc.communicate()
    assert proc.returncode == 0, stdout[-3000:] + stderr[-6000:]
    return out


@pytest.mark.parametrize("variant", VARIANTS)
def test_two_ranks_on_halves_update_as_one_process_on_the_whole_batch(two_ranks, tiny_model_dir, variant):
    ranks = [torch.load(two_ranks / f"{variant}-rank{r}.pt") for r in (0, 1)]
    for name, tensor in ranks[0]["state"].items():
        assert torch.equal(tensor, ranks[1]["state"][name]), name  # replicas stay identical
    state, metrics = learner_update(str(tiny_model_dir), variant, DataParallel())
    for name, tensor in state.items():
        torch.testing.assert_close(ranks[0]["state"][name], tensor, rtol=1e-4, atol=1e-6, msg=name)
    dp = ranks[0]["metrics"]
    # the pre-clip gradient norm and the loss are scale-sensitive (Adam's step is not)
    for key in ("grad_norm", "loss", "clip_fraction", "ratio_mean", "kl_to_old", "entropy", "mismatch_kl"):
        assert dp[key] == pytest.approx(metrics[key], rel=1e-4, abs=1e-7), key
    mu = 2
    assert dp["train_agent_tokens"] == metrics["train_agent_tokens"] == mu * sum(sum(s.mask[1:]) for s in fixed_samples())
    assert dp["train_tokens"] == metrics["train_tokens"]
    assert ranks[1]["metrics"]["grad_norm"] == dp["grad_norm"]
    moved = max(float((state[n] - t).abs().max()) for n, t in _initial(tiny_model_dir).items())
    assert moved > 1e-3  # the update did something


def test_a_rank_without_samples_still_joins_every_update(two_ranks, tiny_model_dir):
    ranks = [torch.load(two_ranks / f"dapo-1-rank{r}.pt") for r in (0, 1)]
    state, metrics = learner_update(str(tiny_model_dir), "dapo", DataParallel(), n=1)
    for name, tensor in state.items():
        assert torch.equal(ranks[0]["state"][name], ranks[1]["state"][name]), name
        torch.testing.assert_close(ranks[1]["state"][name], tensor, rtol=1e-4, atol=1e-6, msg=name)
    for key in ("grad_norm", "loss", "clip_fraction", "mismatch_kl", "train_agent_tokens"):
        assert ranks[1]["metrics"][key] == pytest.approx(metrics[key], rel=1e-4, abs=1e-7), key


def _initial(model_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(model_dir).state_dict()


def test_a_data_parallel_run_keeps_replicas_equal_and_writes_once(two_ranks, tiny_model_dir):
    a, b = (torch.load(two_ranks / f"trainer-rank{r}.pt")["state"] for r in (0, 1))
    assert all(torch.equal(t, b[n]) for n, t in a.items())
    assert any(not torch.equal(t, a[n]) for n, t in _initial(tiny_model_dir).items())
    run = two_ranks / "run"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]  # one writer
    assert all(r["episodes"] == 4 for r in rows)  # metrics over both ranks' episodes
    trajs = [json.loads(line) for line in (run / "trajectories" / "train.jsonl").read_text().splitlines()]
    assert len(trajs) == 2 * 4
    for step in (0, 1):  # each group (task, seed) whole, with both its episodes
        groups = {}
        for t in trajs:
            if t["meta"]["grpo_step"] == step:
                groups.setdefault((t["task_id"], t["seed"]), []).append(t["rollout"])
        assert sorted(map(sorted, groups.values())) == [[0, 1], [0, 1]]
    assert (run / "model" / "config.json").exists()
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step-000002"]


def test_token_balanced_shards_are_disjoint_and_cover_the_batch():
    samples = fixed_samples()
    shares = [DataParallel(world_size=3, rank=r).shard_samples(samples) for r in range(3)]
    ids = sorted(id(s) for share in shares for s in share)
    assert ids == sorted(id(s) for s in samples)
    loads = [sum(len(s.ids) for s in share) for share in shares]
    assert max(loads) - min(loads) <= max(len(s.ids) for s in samples)
    assert DataParallel(world_size=2, rank=1).shard(list(range(5))) == [1, 3]


def test_a_bad_torchrun_environment_is_refused(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(ValueError, match="RANK=2"):
        env_world()
    monkeypatch.setenv("RANK", "x")
    with pytest.raises(ValueError, match="integers"):
        env_world()
