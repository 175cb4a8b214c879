"""The generation side of GRPO: the LLM agent plays the episodes, the trainer keeps its weights current.

Generation is done by the LLM agent's backends (``arenas.agents.llm``), reached through the
ordinary agent spec (``hf:<dir>``, ``vllm:<dir>``), so training episodes are played exactly as
evaluation episodes are. ``hf`` on the trainer's device shares the trained model object with the
backend (colocated: the generator always sees the newest weights, no copy). Any other backend
receives the weights after each update: through its ``load_weights(named_tensors)`` hook, or,
for an in-process transformers copy (another device or dtype), by copying into its ``model``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import torch

from arenas.agent import AgentFactory
from arenas.agent_spec import make_agent_factory
from arenas.agents.grpo.config import GRPOConfig


class Generator(Protocol):
    """What the trainer needs from a generator."""

    def agent_factory(self) -> AgentFactory:
        """A factory of agents that sample from the current weights."""

    def sync(self, model: torch.nn.Module) -> None:
        """Makes the next episodes use ``model``'s current weights."""

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
        self.colocated = config.generator == "hf" and "device" not in options
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
            if not (hasattr(self.backend, "load_weights") or isinstance(getattr(self.backend, "model", None),
                                                                        torch.nn.Module)):
                self.close()
                raise RuntimeError(f"the {self.spec} backend offers no way to load new weights (load_weights "
                                   "or a transformers model): its episodes would not follow the trained policy")

    def agent_factory(self) -> AgentFactory:
        return self._factory

    def sync(self, model: torch.nn.Module) -> None:
        model.eval()
        if self.colocated:
            return
        load = getattr(self.backend, "load_weights", None)
        if load is not None:
            load(merged_weights(model))
            return
        with torch.no_grad():  # an in-process transformers copy (other device/dtype)
            state = self.backend.model.state_dict()
            for name, tensor in merged_weights(model):
                state[name].copy_(tensor)

    def close(self) -> None:
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()


def make_generator(config: GRPOConfig, model: torch.nn.Module, tokenizer: Any) -> Generator:
    return AgentGenerator(config, model, tokenizer)
