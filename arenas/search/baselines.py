"""Baseline policies of the search arena, in both modes; their scores calibrate the benchmark.

- ``raw``: the utterance as it is (the floor a rewriter must beat);
- ``concat``: every earlier question and the current one, joined;
- ``heuristic``: the current topic entity tracked from the naming questions ("What is X?",
  "Tell me about X."), pronouns replaced by it (appended when there is none), and the previous
  question's keywords added to an elliptical question ("What about the canal?");
- ``oracle``: the gold rewrite (agent mode: it also cites the gold passage);
- ``random``: six words drawn from a random passage of the corpus.

In agent mode a policy searches its query and answers with the top passage in the same action.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from arenas.types import Observation

_NAMING = (re.compile(r"^(?:who|what)\s+(?:is|was|are|were)\s+(.+?)[?.!]*$", re.I),
           re.compile(r"^(?:tell me about|what do you know about|i'd like to know about)\s+(.+?)[?.!]*$", re.I))
_SUBJECT = re.compile(r"\b(he|she|it|they|him|them|her)\b", re.I)
_POSSESSIVE = re.compile(r"\b(his|its|their)\b", re.I)
_ELLIPSIS = re.compile(r"^(?:and what about|what about|how about|and)\s+", re.I)
_QUESTION_WORDS = {"what", "who", "how", "why", "when", "where", "which", "does", "did", "do", "is", "was", "tell",
                   "me", "more", "about", "the", "a", "an", "and", "of", "to", "for", "it", "he", "she", "him",
                   "her", "his", "its", "their", "they", "them", "with", "have", "has", "play", "role",
                   "important", "related", "connection", "between"}


def _call(name: str, **arguments: Any) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def track_topic(history: list[tuple[str, str]]) -> str:
    """The entity named by the latest naming question ("Who is X?", "Tell me about X.")."""
    for utterance, _ in reversed(history):
        for pattern in _NAMING:
            m = pattern.match(utterance.strip())
            if m and not _SUBJECT.search(m.group(1)) and not _POSSESSIVE.search(m.group(1)) \
                    and " and " not in m.group(1) and len(m.group(1).split()) <= 6:
                return m.group(1)
    return ""


def keywords(utterance: str) -> list[str]:
    return [w for w in re.findall(r"[\w'-]+", utterance) if w.lower() not in _QUESTION_WORDS]


def heuristic_rewrite(history: list[tuple[str, str]], utterance: str) -> str:
    topic = track_topic(history)
    if not topic:
        return utterance
    resolved = _POSSESSIVE.sub(f"{topic}'s", utterance)
    resolved = _SUBJECT.sub(topic, resolved)
    if resolved == utterance:
        resolved = f"{utterance} {topic}"
    if _ELLIPSIS.match(utterance) and history:
        resolved = f"{resolved} {' '.join(keywords(history[-1][0]))}"
    return resolved


class Policy:
    """Computes a query from what the agent has seen (the oracle also reads the reference)."""

    def __init__(self, name: str, arena: Any, seed: int):
        self.name = name
        self.arena = arena
        self.rng = random.Random(seed)

    def query(self) -> str:
        history, utterance = self.arena.history()
        if self.name == "oracle":
            return self.arena._reference()["rewrite"]
        if self.name == "concat":
            return " ".join([u for u, _ in history] + [utterance])
        if self.name == "heuristic":
            return heuristic_rewrite(history, utterance)
        if self.name == "random":
            passages = self.arena.index.texts
            ws = passages[self.rng.randrange(len(passages))].split()
            return " ".join(self.rng.sample(ws, min(6, len(ws))))
        return utterance

    def __call__(self, observation: Observation) -> str:
        query = self.query()
        if self.arena.cfg.mode == "rewrite":
            return f"<think>{self.name} baseline</think>\n<rewrite>{query}</rewrite>"
        if self.name == "oracle":
            ref = self.arena._reference()
            cited, text = ref["gold"], ref["answer_span"] or ""
        else:
            hits = self.arena.index.top(query, 1)
            cited = hits[0][0] if hits else self.arena.index.ids[0]
            text = self.arena.index.text(cited)[:80]
        return _call("search", query=query, k=5) + _call("answer", passage_id=cited, text=text)


def make_policy(name: str, arena: Any, seed: int) -> Policy:
    return Policy(name, arena, seed)
