"""GRPO whose episodes are played by a separate vLLM-style server that receives the weights after
every update (stand-in server on 127.0.0.1: tests/agents/vllm_standin.py)."""

import json

import pytest
import torch

import arenas
from arenas.agents.grpo.config import GRPOConfig
from arenas.agents.llm.vllm_worker import LOAD, READY
from arenas.config import ConfigError
from tests.agents.vllm_standin import StandInVLLM
from tests.grpo.test_trainer import ReplyArena


@pytest.fixture
def guess():
    arenas.register("guess-sync", ReplyArena)
    yield
    from arenas import registry

    registry._REGISTRY.pop("guess-sync", None)


def _config(model_dir, url, out, sync_dir, **kw):
    return GRPOConfig(model=str(model_dir), out=str(out), steps=2, tasks_per_step=2, group_size=2, max_new_tokens=10,
                      learning_rate=1e-2, temperature=0.7, max_dead_steps=0, tensorboard=False,
                      generator="openai", weight_sync_dir=str(sync_dir),
                      generator_options={"base_url": url, "api": "completions", "tokenizer": str(model_dir)},
                      arenas=[{"arena": "guess-sync", "config": {"max_turns": 1}}], **kw)


def test_the_server_plays_each_step_with_the_weights_of_the_last_update(tiny_model_dir, tmp_path, guess):
    from arenas.agents.grpo.trainer import GRPOTrainer

    server = StandInVLLM(str(tiny_model_dir)).start()
    try:
        trainer = GRPOTrainer(_config(tiny_model_dir, server.url, tmp_path / "run", tmp_path / "sync"))
        try:
            trainer.train(progress=False)
            served = server.model.state_dict()
            for name, tensor in trainer.model.state_dict().items():
                assert torch.equal(served[name], tensor), name
        finally:
            trainer.close()
    finally:
        server.stop()
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r.get("skipped_update") for r in rows] == [None, None]
    assert server.log == [f"rpc:{READY}"] + [f"rpc:{LOAD}", "reset_prefix_cache"] * 2
    # step 2's episodes were sampled by the server with the weights of update 1, which the learner
    # holds before its second update: sampler and learner agree (a stale server would not)
    assert rows[1]["mismatch_kl"] < 1e-6 and rows[1]["mismatch_max_abs"] < 1e-3
    assert rows[1]["ratio_mean"] == pytest.approx(1.0, abs=1e-3)


def test_weight_sync_needs_the_openai_generator_and_a_reachable_dev_server(tiny_model_dir, tmp_path, guess):
    from arenas.agents.grpo.generation import AgentGenerator

    cfg = _config(tiny_model_dir, "http://127.0.0.1:9/v1", tmp_path / "run", tmp_path / "sync")
    with pytest.raises(ConfigError, match="weight sync unavailable"):
        AgentGenerator(cfg, None, None)
    cfg.generator = "hf"
    with pytest.raises(ConfigError, match="generator='openai'"):
        AgentGenerator(cfg, None, None)
