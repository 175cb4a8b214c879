"""The GRPO trainer's episodes on Ray (``ray_address``): against a model server they equal the
episodes played by threads in the trainer's process, and a step trains on them; a generator whose
weights live in the trainer's process is refused."""

from __future__ import annotations

import os

import numpy as np
import pytest

from arenas.agent_spec import make_agent_factory
from arenas.agents.grpo.config import GRPOConfig
from arenas.config import ConfigError
from tests.agents.model_server import serve_model

ARENA = {"arena": "memory", "config": {"workloads": "mlp_small", "max_turns": 2, "invalid_action_penalty": 1.0}}


def test_an_in_process_generator_is_refused():
    with pytest.raises(ConfigError, match="weights live in the trainer's process"):
        GRPOConfig(model="m", arenas=[ARENA], ray_address="auto")
    with pytest.raises(ConfigError, match="in-process 'vllm'"):
        GRPOConfig(model="m", arenas=[ARENA], ray_address="auto", generator="vllm")
    with pytest.raises(ConfigError, match="base_url"):
        GRPOConfig(model="m", arenas=[ARENA], ray_address="auto", generator="openai")
    GRPOConfig(model="m", arenas=[ARENA], ray_address="auto", generator="openai",
               generator_options={"base_url": "http://127.0.0.1:1/v1"})


@pytest.fixture(scope="module")
def ray_cluster():
    if not os.environ.get("ARENAS_TEST_RAY"):
        # Ray's cluster listens on the machine's network address, not only on 127.0.0.1: opt in
        pytest.skip("Ray tests run with ARENAS_TEST_RAY=1")
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from arenas.agents.llm.tiny_model import create_tiny_model

    return create_tiny_model(tmp_path_factory.mktemp("tiny") / "model", vocab_size=512, hidden=32, layers=2,
                             heads=2, seed=0)


@pytest.fixture(scope="module")
def tiny_server(tiny_model_dir, ray_cluster):
    """``arenas serve-model`` on the tiny model, one request per generate call (so a reply does not
    depend on which requests share its batch); yields its base URL; stopped by PID."""
    with serve_model(tiny_model_dir, "--max-batch", "1") as url:
        yield url


class ServedGenerator:
    """The model server as the trainer's generator, counting the episodes played by the trainer's
    own factory. The tests train at learning rate 0, so the served weights stay current without a sync."""

    def __init__(self, config: GRPOConfig):
        options = {"temperature": 0.0, "max_tokens": config.max_new_tokens, **config.generator_options}
        self.inner = make_agent_factory(f"openai:{config.model}", **options)
        self.local_episodes = 0

        def factory():
            self.local_episodes += 1
            return self.inner()

        factory.recipe = self.inner.recipe  # what a Ray worker rebuilds it from
        self.factory = factory

    def agent_factory(self):
        return self.factory

    def sync(self, model) -> None:
        pass

    def close(self) -> None:
        self.inner.backend.close()


def _view(traj) -> tuple:
    """An episode without its timings."""
    actions = [{**t.action, "meta": {k: v for k, v in t.action.get("meta", {}).items() if k != "latency"}}
               for t in traj.turns]
    return (traj.task_id, traj.seed, traj.rollout, traj.error, traj.termination, traj.reward, actions,
            [t.reward for t in traj.turns], traj.tokens)


def test_trainer_episodes_on_ray_equal_those_of_local_threads(tiny_model_dir, tiny_server, tmp_path):
    from arenas.agents.grpo.trainer import GRPOTrainer

    config = GRPOConfig(model=str(tiny_model_dir), out=str(tmp_path / "run"), arenas=[ARENA], steps=1,
                        tasks_per_step=3, group_size=2, max_new_tokens=8, learning_rate=0.0, concurrency=4,
                        generator="openai", tensorboard=False, ray_address="auto", max_dead_steps=0,
                        generator_options={"base_url": tiny_server, "tokenizer": str(tiny_model_dir)})
    generator = ServedGenerator(config)
    trainer = GRPOTrainer(config, generator=generator)
    try:
        picks = trainer._pick_tasks(np.random.default_rng(7), 3)
        on_ray = trainer.rollouts(picks, 2)
        assert generator.local_episodes == 0  # every episode was played by a Ray worker's own client
        ray_episodes, trainer._ray = trainer._ray, None
        local = trainer.rollouts(picks, 2)
        assert generator.local_episodes == 6
        assert all(t.error is None and t.tokens and t.turns for t in on_ray)
        assert sorted(map(_view, on_ray)) == sorted(map(_view, local))
        trainer._ray = ray_episodes
        metrics = trainer.train_step()  # a step trains on the episodes Ray played
        assert metrics["episodes"] == 6 and metrics["error_rate"] == 0.0 and generator.local_episodes == 6
    finally:
        trainer.close()
