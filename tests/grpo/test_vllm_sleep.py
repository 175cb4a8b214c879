"""Colocated vLLM with sleep mode: the engine sleeps through every update and wakes (weights
first, then the KV cache) around the weight load, before it generates again. A stand-in ``vllm``
module records the engine calls (vLLM is not installed here)."""

import random
import sys
import types
from types import SimpleNamespace

import pytest

import arenas
from arenas.agents.grpo.config import GRPOConfig
from tests.grpo.test_trainer import ReplyArena


class SleepyLLM:
    """``vllm.LLM`` as the backend and trainer use it; refuses to generate or load while asleep."""

    log: list[str] = []

    def __init__(self, model, **options):
        from transformers import AutoTokenizer

        self.options = options
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.offloaded: set[str] = set()
        self.rng = random.Random(0)
        runner = SimpleNamespace(model=SimpleNamespace(load_weights=self._load))
        self.llm_engine = SimpleNamespace(model_config=SimpleNamespace(max_model_len=512),
                                          model_executor=SimpleNamespace(driver_worker=SimpleNamespace(
                                              model_runner=runner)))

    def get_tokenizer(self):
        return self.tokenizer

    def _load(self, weights):
        assert "weights" not in self.offloaded, "weights loaded into an offloaded model"
        assert len(list(weights)) > 0
        self.log.append("load_weights")

    def generate(self, prompts, params, use_tqdm=True):
        assert not self.offloaded, f"generate while {self.offloaded} asleep"
        self.log.append("generate")
        outs = []
        for sp in params:
            ids = [self.rng.randrange(20, 400) for _ in range(self.rng.randint(1, sp.max_tokens))]
            logprobs = [{t: SimpleNamespace(logprob=-1.0)} for t in ids]
            outs.append(SimpleNamespace(outputs=[SimpleNamespace(token_ids=ids, logprobs=logprobs, finish_reason="stop",
                                                                 text=self.tokenizer.decode(ids))]))
        return outs

    def sleep(self, level=1):
        self.log.append(f"sleep({level})")
        self.offloaded = {"weights", "kv_cache"}

    def wake_up(self, tags=None):
        self.log.append(f"wake_up({tags})")
        self.offloaded -= set(tags or self.offloaded)

    def reset_prefix_cache(self):
        self.log.append("reset_prefix_cache")


@pytest.fixture
def sleepy_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM = SleepyLLM
    module.SamplingParams = lambda **kw: SimpleNamespace(**kw)
    monkeypatch.setitem(sys.modules, "vllm", module)
    SleepyLLM.log = []
    arenas.register("guess-sleep", ReplyArena)
    yield SleepyLLM.log
    from arenas import registry

    registry._REGISTRY.pop("guess-sleep", None)


def test_the_engine_sleeps_through_updates_and_wakes_before_loading_and_generating(sleepy_vllm, tiny_model_dir,
                                                                                     tmp_path):
    from arenas.agents.grpo.trainer import GRPOTrainer

    cfg = GRPOConfig(model=str(tiny_model_dir), out=str(tmp_path / "run"), steps=2, tasks_per_step=2, group_size=2,
                     max_new_tokens=8, learning_rate=1e-3, max_dead_steps=0, tensorboard=False, generator="vllm",
                     vllm_sleep=True, arenas=[{"arena": "guess-sleep", "config": {"max_turns": 1}}])
    trainer = GRPOTrainer(cfg)
    engine = trainer.generator.backend.llm
    assert engine.options["enable_sleep_mode"] is True
    update = trainer.learner.update

    def logged_update(samples):
        assert engine.offloaded == {"weights", "kv_cache"}, "updating while the engine holds the GPU"
        sleepy_vllm.append("update")
        return update(samples)

    trainer.learner.update = logged_update
    try:
        trainer.train(progress=False)
    finally:
        trainer.close()
    calls = [c for i, c in enumerate(sleepy_vllm) if not (c == "generate" and i and sleepy_vllm[i - 1] == c)]
    one_step = ["generate", "sleep(1)", "update", "wake_up(['weights'])", "load_weights", "wake_up(['kv_cache'])",
                "reset_prefix_cache"]
    assert calls == one_step * 2


def test_sleep_mode_is_refused_where_it_cannot_work(tiny_model_dir):
    from arenas.agents.grpo.generation import AgentGenerator
    from arenas.config import ConfigError

    with pytest.raises(ConfigError, match="in-process vllm"):
        AgentGenerator(GRPOConfig(model=str(tiny_model_dir), vllm_sleep=True), None, None)
    with pytest.raises(ValueError, match="async_rollouts"):
        GRPOConfig(model=str(tiny_model_dir), generator="vllm", vllm_sleep=True, async_rollouts=True)
