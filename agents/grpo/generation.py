"""The generation side of GRPO: the LLM agent plays the episodes, the trainer keeps its weights current.

Generation is done by the LLM agent's backends (``arenas.agents.llm``), reached through the
ordinary agent spec (``hf:<dir>``, ``vllm:<dir>``), so training episodes are played exactly as
evaluation episodes are. ``hf`` on the trainer's device shares the trained model object with the
backend (colocated: the generator always sees the newest weights, no copy). Any other backend
receives the weights after each update: through its ``load_weights(named_tensors)`` hook, or,
for an in-process transformers copy (another device or dtype), by copying into its ``model``.
An ``openai`` generator in front of ``vllm serve`` gets them through ``weight_sync_dir``
(:mod:`arenas.agents.llm.weight_sync`); a colocated ``vllm`` engine can sleep during updates
(``vllm_sleep``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import torch

from arenas.agent import AgentFactory
from arenas.agent_spec import make_agent_factory
from arenas.agents.grpo.async_rollouts import own_copy_options
from arenas.agents.grpo.config import GRPOConfig
from arenas.agents.grpo.data_parallel import DataParallel, env_world
from arenas.agents.llm.weight_sync import VLLMServerSync
from arenas.config import ConfigError


class Generator(Protocol):
    """What the trainer needs from a generator."""

    def agent_factory(self) -> AgentFactory:
        """A factory of agents that sample from the current weights."""

    def sync(self, model: torch.nn.Module) -> None:
        """Makes the next episodes use ``model``'s current weights."""

    def sleep(self) -> None:
        """Frees the generator's accelerator memory before an update (colocated vLLM sleep mode;
        otherwise nothing). The next ``sync`` or ``agent_factory`` wakes it."""

    def close(self) -> None: ...


def merged_weights(model: torch.nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """(name, tensor) of the full model; LoRA adapters are merged into copies of the base weights,
    names as the base model's ``state_dict`` (what an inference engine loads)."""
    if type(model).__module__.startswith("peft"):
        import copy

        merged = copy.deepcopy(model).merge_and_unload()
        yield from merged.state_dict().items()
        return
    yield from model.state_dict().items()


class AgentGenerator:
    """Episodes played by :class:`arenas.agents.llm.agent.LLMAgent` on one shared backend."""

    def __init__(self, config: GRPOConfig, model: torch.nn.Module, tokenizer: Any):
        options: dict[str, Any] = {"temperature": config.temperature, "top_p": config.top_p,
                                   "max_tokens": config.max_new_tokens, "max_episode_tokens": config.max_seq_len,
                                   "min_turn_tokens": min(16, config.max_new_tokens), "seed": config.seed,
                                   **config.generator_options}
        self.spec = f"{config.generator}:{config.model}"
        if config.async_rollouts and config.generator == "hf":  # it generates while the learner updates
            options = own_copy_options(model, options)
        self.colocated = config.generator == "hf" and "device" not in options
        self.sleep_mode = config.vllm_sleep
        if self.sleep_mode:
            if config.generator != "vllm":
                raise ConfigError(f"vllm_sleep needs the in-process vllm generator, not {config.generator!r}")
            options["enable_sleep_mode"] = True
        self.weight_sync_dir = config.weight_sync_dir
        self.server_sync = server_sync(config, options)
        """Pushes weights to an external ``vllm serve`` (``weight_sync_dir``); None on other ranks."""
        if self.colocated:
            from arenas.agents.llm.agent import LLMAgent, LLMConfig
            from arenas.agents.llm.hf import HFBackend

            fields = set(LLMConfig.__dataclass_fields__)
            agent_config = LLMConfig(**{k: v for k, v in options.items() if k in fields})
            backend_options = {k: v for k, v in options.items() if k not in fields}
            self.backend = HFBackend(config.model, model=model, tokenizer=tokenizer, **backend_options)
            self._factory: AgentFactory = lambda: LLMAgent(self.backend, agent_config)
        else:
            self._factory = make_agent_factory(self.spec, **options)
            self.backend = getattr(self._factory, "backend", None)
            if not config.weight_sync_dir and not (hasattr(self.backend, "load_weights") or isinstance(getattr(self.backend, "model", None),
                                                                        torch.nn.Module)):
                self.close()
                raise RuntimeError(f"the {self.spec} backend offers no way to load new weights (load_weights "
                                   "or a transformers model): its episodes would not follow the trained policy")

    def agent_factory(self) -> AgentFactory:
        if self.sleep_mode:
            self.backend.wake_up()
        return self._factory

    def sleep(self) -> None:
        if self.sleep_mode:
            self.backend.sleep(level=1)

    def sync(self, model: torch.nn.Module) -> None:
        model.eval()
        if self.colocated:
            return
        if self.weight_sync_dir:
            if self.server_sync is not None:  # rank 0 pushes; every rank waits until the server has them
                self.server_sync.push(merged_weights(model))
            DataParallel.wait_for_all()
            return
        load = getattr(self.backend, "load_weights", None)
        if load is not None:  # a sleeping vllm engine wakes inside (weights, load, then KV cache)
            load(merged_weights(model))
            return
        with torch.no_grad():  # an in-process transformers copy (other device/dtype)
            state = self.backend.model.state_dict()
            for name, tensor in merged_weights(model):
                state[name].copy_(tensor)

    def close(self) -> None:
        if self.server_sync is not None:
            self.server_sync.close()
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()


def server_sync(config: GRPOConfig, options: dict[str, Any]) -> VLLMServerSync | None:
    """The weight pusher of ``weight_sync_dir`` (checked against the server at once), on rank 0 only."""
    if not config.weight_sync_dir:
        return None
    if config.generator != "openai" or not options.get("base_url"):
        raise ConfigError("weight_sync_dir pushes weights to a vllm serve: use generator='openai' with the "
                          "server's base_url (and api=completions, tokenizer=<model dir> for token-exact episodes)")
    if env_world()[1] != 0:
        return None
    sync = VLLMServerSync(options["base_url"], config.weight_sync_dir, api_key=options.get("api_key"),
                          dtype=config.weight_sync_dtype)
    try:
        sync.probe()
    except Exception:
        sync.close()
        raise
    return sync


def make_generator(config: GRPOConfig, model: torch.nn.Module, tokenizer: Any) -> Generator:
    return AgentGenerator(config, model, tokenizer)
