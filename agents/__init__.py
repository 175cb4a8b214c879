"""Agents: LLM backends (:mod:`arenas.agents.llm`) and the GRPO trainer (:mod:`arenas.agents.grpo`),
which import their heavy dependencies lazily. The protocol, the baseline agents and spec parsing
live in the core (the rollout engine needs them); they are re-exported here for convenience."""

from arenas.agent import Agent, AgentFactory, EpisodeContext
from arenas.agent_spec import make_agent_factory
from arenas.baseline_agents import PolicyAgent, RandomAgent

__all__ = ["Agent", "AgentFactory", "EpisodeContext", "PolicyAgent", "RandomAgent", "make_agent_factory"]
