"""Agents: the protocol, baselines, spec parsing; LLM backends and the GRPO trainer live in
sub-packages that import their heavy dependencies lazily."""

from arenas.agents.base import Agent, AgentFactory, EpisodeContext
from arenas.agents.baselines import PolicyAgent, RandomAgent
from arenas.agents.spec import make_agent_factory

__all__ = ["Agent", "AgentFactory", "EpisodeContext", "PolicyAgent", "RandomAgent", "make_agent_factory"]
