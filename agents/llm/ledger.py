"""The episode's token sequence: ids, loss mask and logprobs, built turn by turn.

Sampled tokens are the truth. A prompt that does not continue the sequence built so far (a
template that re-renders history differently, or a reply whose sampled tokens are not the
canonical tokenization of its text) is recorded as a mismatch; the sequence keeps the sampled
tokens and only the new environment tokens are appended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arenas.agents.llm.template import first_divergence


@dataclass
class TokenLedger:
    ids: list[int] = field(default_factory=list)
    mask: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    """One entry per turn whose re-rendered prompt disagreed: ``{"turn", "position", "cause",
    "resynced"}``."""
    last_reply: list[int] = field(default_factory=list)

    def divergence(self, prompt_ids: list[int]) -> int | None:
        """Where ``prompt_ids`` stops continuing the sequence (None when it continues it)."""
        return first_divergence(self.ids, prompt_ids)

    def add_mismatch(self, turn: int, position: int, cause: str = "template", resynced: bool = True) -> None:
        """``cause``: ``tokenization`` when the text agrees but sampled tokens are not its
        canonical tokenization, ``template`` when the re-rendered text itself differs."""
        self.mismatches.append({"turn": turn, "position": position, "cause": cause, "resynced": resynced})

    def add_environment(self, ids: list[int]) -> None:
        self.ids.extend(ids)
        self.mask.extend([0] * len(ids))
        self.logprobs.extend([0.0] * len(ids))

    def add_prompt(self, prompt_ids: list[int]) -> None:
        """Appends the part of a consistent prompt that is new."""
        self.add_environment(prompt_ids[len(self.ids):])

    def add_reply(self, ids: list[int], logprobs: list[float]) -> None:
        if len(ids) != len(logprobs):
            raise ValueError(f"{len(ids)} sampled tokens but {len(logprobs)} logprobs")
        self.ids.extend(ids)
        self.mask.extend([1] * len(ids))
        self.logprobs.extend(float(x) for x in logprobs)
        self.last_reply = list(ids)

    def resync(self, prompt_ids: list[int], turn: int) -> bool:
        """Appends the new tail of a server-rendered prompt that disagrees with the sequence: the
        tail after the last occurrence of the previous reply's final tokens (which the template
        reproduces unless it rewrote or re-tokenized that very reply). Returns False, appending
        nothing, when that anchor is not found."""
        tail = self.last_reply[-8:]
        start = None
        for i in range(len(prompt_ids) - len(tail), -1, -1) if tail else ():
            if prompt_ids[i:i + len(tail)] == tail:
                start = i + len(tail)
                break
        self.add_mismatch(turn, self.divergence(prompt_ids) or 0, cause="unknown", resynced=start is not None)
        if start is not None:
            self.add_environment(prompt_ids[start:])
        return start is not None

    def to_dict(self) -> dict[str, list]:
        return {"ids": list(self.ids), "mask": list(self.mask), "logprobs": list(self.logprobs)}
