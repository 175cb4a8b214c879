"""The API changes the migration tasks are made of.

A :class:`Change` is one breaking change of one library, cited from its changelog, with one
program written against both versions. The program text holds both sides inline:
``«old¦new»`` keeps ``old`` in the old-version program and ``new`` in the reference migration,
so the two can never drift apart outside the changed lines. ``$entity``, ``$key``, ``$value``
and ``$things`` are filled from a :data:`DOMAINS` entry, which gives each change several
realistic programs (orders, sensor readings, grades, stock) with their own test inputs.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from string import Template

Inputs = Callable[[random.Random, dict], list[str]]
"""(rng, domain) -> call argument lists (Python source, without parentheses)."""


@dataclass(frozen=True)
class Change:
    id: str
    """``<library>.<api>``, unique; the split is drawn per change."""
    library: str
    summary: str
    """What changed and what replaces it (shown in task metadata, not to the agent)."""
    cite: str
    """The changelog / deprecation notice that documents the change."""
    removed: tuple[str, ...]
    """Static patterns of the removed API (see ``verifiers.migration.removed_api_uses``)."""
    program: str
    """Module source with ``«old¦new»`` alternatives and ``$``-placeholders."""
    entry: str
    """Function the tests call (may use placeholders)."""
    description: str
    """What the program does, for the agent (may use placeholders)."""
    inputs: Inputs
    aliases: tuple[tuple[str, str], ...] = ()
    """Names available to test expressions (e.g. ``("pd", "pandas")``)."""


DOMAINS: list[dict[str, object]] = [
    {"entity": "order", "Entity": "Order", "things": "orders", "key": "customer", "value": "amount",
     "labels": ["acme", "globex", "initech", "umbrella", "hooli"]},
    {"entity": "reading", "Entity": "Reading", "things": "readings", "key": "station", "value": "temperature",
     "labels": ["north", "south", "east", "west", "summit"]},
    {"entity": "grade", "Entity": "Grade", "things": "grades", "key": "student", "value": "score",
     "labels": ["ana", "ben", "chloe", "dev", "emil"]},
    {"entity": "item", "Entity": "Item", "things": "items", "key": "product", "value": "stock",
     "labels": ["bolt", "nut", "gear", "spring", "valve"]},
]

_ALT = re.compile("«(.*?)¦(.*?)»", re.S)


def side(program: str, which: str) -> str:
    """The old or new program of a two-sided template."""
    return _ALT.sub(lambda m: m.group(1 if which == "old" else 2), program)


def fill(text: str, domain: dict) -> str:
    return Template(text).safe_substitute({k: v for k, v in domain.items() if isinstance(v, str)})


# ---- input generators shared by the changes --------------------------------------------------
def records(rng: random.Random, d: dict, n: int, low: int = 1, high: int = 99) -> list[dict]:
    return [{d["key"]: rng.choice(d["labels"]), d["value"]: rng.randint(low, high)} for _ in range(n)]


def record_lists(count: int = 6, lo: int = 3, hi: int = 8) -> Inputs:
    """Each call gets one list of records."""
    def gen(rng: random.Random, d: dict) -> list[str]:
        return [repr(records(rng, d, rng.randint(lo, hi))) for _ in range(count)]
    return gen


def record_lists_and_one(count: int = 6) -> Inputs:
    """Each call gets a list of records and one more record."""
    def gen(rng: random.Random, d: dict) -> list[str]:
        return [f"{records(rng, d, rng.randint(2, 6))!r}, {records(rng, d, 1)[0]!r}" for _ in range(count)]
    return gen


def number_lists(count: int = 6, lo: int = 3, hi: int = 9, low: int = 1, high: int = 20,
                 floats: bool = False) -> Inputs:
    def gen(rng: random.Random, d: dict) -> list[str]:
        out = []
        for _ in range(count):
            n = rng.randint(lo, hi)
            xs = [round(rng.uniform(low, high), 2) if floats else rng.randint(low, high) for _ in range(n)]
            out.append(repr(xs))
        return out
    return gen


def label_lists(count: int = 6) -> Inputs:
    def gen(rng: random.Random, d: dict) -> list[str]:
        return [repr(rng.sample(d["labels"], rng.randint(2, len(d["labels"])))) for _ in range(count)]
    return gen


def edge_lists(count: int = 6, weighted: bool = False) -> Inputs:
    """Each call gets a list of edges between domain labels (a connected-ish small graph)."""
    def gen(rng: random.Random, d: dict) -> list[str]:
        out = []
        for _ in range(count):
            nodes = rng.sample(d["labels"], rng.randint(3, len(d["labels"])))
            edges = set()
            for a, b in zip(nodes, nodes[1:], strict=False):
                edges.add((a, b))
            for _ in range(rng.randint(0, 3)):
                a, b = rng.sample(nodes, 2)
                if (b, a) not in edges:
                    edges.add((a, b))
            items = sorted(edges)
            if weighted:
                out.append(repr([(a, b, rng.randint(1, 9)) for a, b in items]))
            else:
                out.append(repr(items))
        return out
    return gen
