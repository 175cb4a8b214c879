"""Baselines: oracle (the reference migration), identity (the old code unchanged), heuristic (a
rule-based rewriter that knows a handful of changes, like a codemod) and random."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

from arenas.types import Observation, Task

#: (pattern, replacement) codemods for well-known removals; deliberately incomplete
RULES: list[tuple[str, str]] = [
    (r"\bnp\.float_\b", "np.float64"),
    (r"\bnp\.complex_\b", "np.complex128"),
    (r"\bnp\.unicode_\b", "np.str_"),
    (r"\bnp\.product\(", "np.prod("),
    (r"\bnp\.cumproduct\(", "np.cumprod("),
    (r"\bnp\.NaN\b", "np.nan"),
    (r"\bnp\.Inf\b", "np.inf"),
    (r"\bnp\.round_\(", "np.round("),
    (r"\bnp\.alltrue\(", "np.all("),
    (r"\bnp\.sometrue\(", "np.any("),
    (r"\.iteritems\(\)", ".items()"),
    (r"\.is_monotonic\b(?!_)", ".is_monotonic_increasing"),
    (r"(\w+) = \1\.append\((\w+), ignore_index=True\)", r"\1 = pd.concat([\1, pd.DataFrame([\2])], ignore_index=True)"),
    (r"from jinja2 import Markup", "from markupsafe import Markup"),
    (r"from jinja2 import escape", "from markupsafe import escape"),
    (r"\bcontextfilter\b", "pass_context"),
    (r"\bcontextfunction\b", "pass_context"),
    (r"\benvironmentfilter\b", "pass_environment"),
    (r"\bselect\(\[([^\[\]]*)\]\)", r"select(\1)"),
    (r"\bnx\.to_numpy_matrix\(", "nx.to_numpy_array("),
    (r"\bnx\.from_numpy_matrix\(", "nx.from_numpy_array("),
    (r"\bnx\.OrderedGraph\(", "nx.Graph("),
    (r"Field\(\.\.\., regex=", "Field(..., pattern="),
]


def rewrite(code: str) -> str:
    """Applies every rule; what no rule covers stays as it was."""
    for pattern, replacement in RULES:
        code = re.sub(pattern, replacement, code)
    return code


def call(name: str, **arguments: Any) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


class SubmitPolicy:
    """Submits ``make(task)`` at once."""

    def __init__(self, arena: Any, make: Callable[[Task], str]):
        self.arena = arena
        self.make = make

    def __call__(self, observation: Observation) -> str:
        return call("submit", code=self.make(self.arena.task))


class RandomPolicy:
    """Runs a tool or two at random, then submits the old code with random lines deleted."""

    def __init__(self, arena: Any, seed: int):
        self.arena = arena
        self.rng = random.Random(seed)

    def __call__(self, observation: Observation) -> str:
        task = self.arena.task
        roll = self.rng.random()
        if roll < 0.2:
            return call("run_tests")
        if roll < 0.3:
            return call("show_doc", symbol=task.prompt["module"])
        lines = task.prompt["code"].splitlines()
        kept = [ln for ln in lines if self.rng.random() > 0.15]
        return call("submit", code="\n".join(kept) + "\n")
