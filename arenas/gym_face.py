"""Gymnasium face: every registered arena is ``gymnasium.make("arenas/<id>-v<N>")``.

``view="text"`` (default): observations are the new messages as one string and actions are
strings (an assistant message, tool calls in the documented text form). ``view="structured"``:
the arena's own spaces (e.g. ``Discrete`` + ``action_mask`` in info), for classic RL.
"""

from __future__ import annotations

import string
from typing import Any

import gymnasium as gym
from gymnasium import spaces

#: characters a text observation/action may contain (printable ASCII plus common Unicode)
CHARSET = frozenset(string.printable) | frozenset(chr(c) for c in range(0xA0, 0x2FFF))
MAX_TEXT = 1 << 20


class TextSpace(spaces.Text):
    """``spaces.Text`` whose repr does not print its 12,000-character charset."""

    def __repr__(self) -> str:
        return f"Text(max_length={self.max_length}, charset=<{len(self.character_set)} characters>)"


def _sanitize(text: str) -> str:
    return "".join(c if c in CHARSET else "?" for c in text)[:MAX_TEXT]


class ArenaEnv(gym.Env):
    """Wraps an :class:`~arenas.arena.Arena` as a ``gymnasium.Env``."""

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(self, arena_id: str, view: str = "text", render_mode: str | None = None, **config: Any):
        from arenas.registry import make

        self.arena = make(arena_id, **config)
        self.view = view
        self.render_mode = render_mode
        self._last_text = ""
        self._last_mask: Any = None
        if view == "structured":
            if self.arena.action_space is None:
                raise ValueError(f"arena {arena_id!r} has no structured view; use view='text'")
            self.observation_space = self.arena.observation_space
            self.action_space = self.arena.action_space
        elif view == "text":
            self.observation_space = TextSpace(max_length=MAX_TEXT, min_length=0, charset=CHARSET)
            self.action_space = TextSpace(max_length=4096, min_length=0, charset=CHARSET)
        else:
            raise ValueError(f"view must be 'text' or 'structured', got {view!r}")

    def _convert(self, obs: Any) -> tuple[Any, dict[str, Any]]:
        info: dict[str, Any] = {"messages": obs.messages}
        if obs.data is not None and "action_mask" in obs.data:
            info["action_mask"] = self._last_mask = obs.data["action_mask"]
        if self.view == "structured":
            return {k: v for k, v in obs.data.items() if k in self.observation_space.spaces} \
                if isinstance(self.observation_space, spaces.Dict) else obs.data["observation"], info
        self._last_text = _sanitize(obs.text)
        return self._last_text, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        task = (options or {}).get("task")
        if seed is None and task is None:
            seed = int(self.np_random.integers(2**31))
        obs = self.arena.reset(task=task, seed=seed)
        return self._convert(obs)

    def step(self, action: Any):
        if self.view == "structured":
            from arenas.types import Action

            action = Action(structured=action)
        result = self.arena.step(action)
        obs, info = self._convert(result.observation)
        info.update(result.info)
        return obs, float(result.reward), bool(result.terminated), bool(result.truncated), info

    def action_masks(self) -> Any:
        """The legal actions now (sb3-contrib's ``MaskablePPO`` calls this), as booleans; all
        legal when the arena sends no mask."""
        import numpy as np

        if self._last_mask is None:
            n = getattr(self.action_space, "n", None)
            return np.ones(int(n), dtype=bool) if n is not None else None
        return np.asarray(self._last_mask, dtype=bool)

    def render(self) -> str | None:
        return self._last_text if self.render_mode == "ansi" else None

    def close(self) -> None:
        self.arena.close()


def register_gym(spec: Any) -> None:
    """Registers ``arenas/<id>-v<N>`` with gymnasium (idempotent)."""
    if spec.gym_id in gym.registry:
        return
    gym.register(id=spec.gym_id, entry_point="arenas.gym_face:ArenaEnv",
                 kwargs={"arena_id": spec.id}, disable_env_checker=True)
