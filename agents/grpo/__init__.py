"""GRPO over multi-turn arena episodes.

    from arenas.agents.grpo import GRPOConfig, GRPOTrainer
    config = GRPOConfig(model="path/to/model", arenas=[{"arena": "memory", "config": {...}}], steps=50)
    GRPOTrainer(config).train()

Modules: :mod:`~arenas.agents.grpo.losses` (advantages and the loss variants),
:mod:`~arenas.agents.grpo.batch` (trajectories -> token tensors), :mod:`~arenas.agents.grpo.learner`
(the update step, checkpoints), :mod:`~arenas.agents.grpo.packing` (several episodes per row),
:mod:`~arenas.agents.grpo.generation` (episodes from the LLM agent, weight sync),
:mod:`~arenas.agents.grpo.async_rollouts` (the next batch generated during the update), :mod:`~arenas.agents.grpo.trainer` (the loop), :mod:`~arenas.agents.grpo.metrics`,
:mod:`~arenas.agents.grpo.sft` (the supervised warm start).
Attributes load lazily so ``arenas`` starts without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ArenaMix": "arenas.agents.grpo.config",
    "GRPOConfig": "arenas.agents.grpo.config",
    "GRPOTrainer": "arenas.agents.grpo.trainer",
    "Learner": "arenas.agents.grpo.learner",
    "group_advantages": "arenas.agents.grpo.losses",
    "policy_loss": "arenas.agents.grpo.losses",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
