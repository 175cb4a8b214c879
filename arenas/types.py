"""The data that crosses the agent/arena boundary: tasks, observations, actions, step results.

Everything here is a plain dataclass that serialises to JSON, so trajectories, servers and
external agents all speak the same shapes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

Message = dict[str, Any]
"""One chat message, OpenAI style: ``{"role": ..., "content": ..., ["tool_call_id"|"tool_calls"]}``."""


@dataclass(frozen=True)
class Task:
    """One problem instance.

    ``prompt`` is what the agent may see; ``reference`` is for the verifier (and the oracle) only.
    The same (arena version, split, seed) always yields the same tasks.
    """

    id: str
    split: str
    prompt: dict[str, Any]
    reference: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ToolCall:
    """A request to call one of the arena's tools. ``arguments`` is already-decoded JSON."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str = ""

    def to_openai(self) -> dict[str, Any]:
        import json

        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments)},
        }


@dataclass
class Action:
    """What one assistant message says: free text and/or tool calls.

    ``structured`` carries a non-text action (an int or an array) for classic-RL agents that use
    an arena's structured view. ``parse_errors`` lists tool calls that could not be decoded; the
    arena turns them into feedback rather than raising.
    """

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    structured: Any = None
    parse_errors: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    """Agent-side record of how the action was made (token ids, logprobs, latency)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.tool_calls:
            out["tool_calls"] = [asdict(c) for c in self.tool_calls]
        if self.structured is not None:
            s = self.structured
            out["structured"] = s.tolist() if hasattr(s, "tolist") else s
        if self.parse_errors:
            out["parse_errors"] = list(self.parse_errors)
        if self.meta:
            out["meta"] = self.meta
        return out


@dataclass
class Observation:
    """What the agent receives after reset/step.

    ``messages`` are the *new* chat messages (the agent keeps its own history). ``data`` is an
    optional structured view (arrays/dicts, with ``action_mask`` for discrete actions).
    """

    messages: list[Message] = field(default_factory=list)
    data: dict[str, Any] | None = None
    images: list[Any] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The new messages as one string (the text face of gymnasium)."""
        return "\n\n".join(str(m.get("content") or "") for m in self.messages)

    def to_dict(self) -> dict[str, Any]:
        return {"messages": self.messages}


@dataclass
class StepResult:
    """Gymnasium's five-tuple as a named record."""

    observation: Observation
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated
