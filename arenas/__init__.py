"""arenas: standardized multi-turn environments with verifiable rewards for LLM agents.

    import arenas
    arena = arenas.make("sql")
    obs = arena.reset(seed=0)
    result = arena.step('<tool_call>{"name": "list_tables", "arguments": {}}</tool_call>')
"""

from arenas import gym_face, registry
from arenas.arena import Arena, Policy, ToolArena, ToolError
from arenas.config import ArenaConfig, ConfigError
from arenas.multiagent import MultiAgentArena, SingleAgentView
from arenas.registry import list_arenas, make, register, spec
from arenas.tools import TOOL_CALL_FORMAT, Tool, as_action, parse_tool_calls, tool
from arenas.types import (
    Action,
    Message,
    Observation,
    RewardBreakdown,
    StepResult,
    Task,
    Termination,
    ToolCall,
)

__version__ = "0.1.0"


def list() -> list[str]:  # noqa: A001 - the documented public name
    """Ids of all registered arenas."""
    return [s.id for s in list_arenas()]


registry.discover()
registry.add_listener(gym_face.register_gym)

__all__ = [
    "Action", "Arena", "ArenaConfig", "ConfigError", "Message", "MultiAgentArena", "Observation", "Policy", "RewardBreakdown", "SingleAgentView",
    "StepResult", "Termination", "TOOL_CALL_FORMAT", "Task", "Tool", "ToolArena", "ToolCall", "ToolError",
    "as_action", "list", "list_arenas", "make", "parse_tool_calls", "register", "spec", "tool",
]
