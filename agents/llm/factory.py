"""``openai:<model>``, ``vllm:<path>`` and ``hf:<path>`` agent specs -> agent factories.

The factory loads (or connects to) one backend and hands every episode a fresh
:class:`~arenas.agents.llm.agent.LLMAgent` that shares it, so concurrent episodes batch on it.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from arenas.agent import AgentFactory
from arenas.agents.llm.agent import LLMAgent, LLMConfig
from arenas.config import ConfigError

BACKEND_OPTIONS: dict[str, tuple[str, ...]] = {
    "openai": ("base_url", "api_key", "concurrency", "timeout_s", "max_retries", "backoff_s", "tokenizer", "api",
               "deadline_s", "max_response_bytes"),
    # model/tokenizer: objects already in memory (a trainer's model, shared instead of loaded)
    "hf": ("device", "dtype", "max_batch", "batch_wait_ms", "model", "tokenizer"),
    "vllm": ("max_batch", "batch_wait_ms", "dtype", "gpu_memory_utilization", "max_model_len",
             "tensor_parallel_size", "enable_sleep_mode"),
}
"""Options each backend accepts (everything else is an :class:`LLMConfig` field)."""

_ALIASES = {"concurrency": "max_batch"}
"""``--concurrency``-style options that in-process backends read as their batch size."""


def make_backend(kind: str, target: str, **options: Any) -> Any:
    if kind == "hf":
        from arenas.agents.llm.hf import HFBackend

        return HFBackend(target, **options)
    if kind == "vllm":
        from arenas.agents.llm.vllm_backend import VLLMBackend

        return VLLMBackend(target, **options)
    if kind == "openai":
        from arenas.agents.llm.remote import OpenAIBackend

        return OpenAIBackend(target, **options)
    raise ValueError(f"unknown LLM backend {kind!r}; use openai, vllm or hf")


def split_options(kind: str, options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(backend options, LLMConfig options); unknown names raise with the accepted list."""
    config_names = {f.name for f in fields(LLMConfig)}
    allowed = BACKEND_OPTIONS.get(kind, ())
    backend: dict[str, Any] = {}
    config: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        if key in config_names:
            config[key] = value
        elif key in allowed:
            backend[key] = value
        elif _ALIASES.get(key) in allowed:
            backend.setdefault(_ALIASES[key], value)
        elif key in ("device", "base_url", "api_key", "timeout_s", "concurrency"):
            continue  # a CLI-wide option that this backend does not use
        else:
            raise ConfigError(f"unknown option {key!r} for {kind}: agent options are "
                             f"{', '.join(sorted(config_names))}; backend options are {', '.join(allowed)}")
    return backend, config


def make_llm_factory(kind: str, target: str, **options: Any) -> AgentFactory:
    """Builds the backend once; each call of the returned factory makes a fresh agent."""
    backend_options, config_options = split_options(kind, options)
    config = LLMConfig(**config_options)
    if config.think not in ("keep", "strip"):
        raise ValueError(f"think must be 'keep' or 'strip', got {config.think!r}")
    backend = make_backend(kind, target, **backend_options)

    def factory() -> LLMAgent:
        return LLMAgent(backend, config)

    factory.backend = backend  # type: ignore[attr-defined]
    # the spec and options it is made from: a Ray worker rebuilds it so (its client cannot be pickled)
    factory.recipe = (f"{kind}:{target}", dict(options))  # type: ignore[attr-defined]
    if hasattr(backend, "probe"):
        factory.probe = backend.probe  # type: ignore[attr-defined]  (the rollout engine calls it once)
    return factory
