"""``arenas new <id>``: a working minimal arena folder that passes the conformance kit as generated.

The generated arena is small but complete (deterministic tasks per split, a tool, a pure
verifier, oracle and random policies, re-scoring from the record), so a new arena starts green
and grows from there. Everything is in one folder; the registry discovers it by its manifest.
"""

from __future__ import annotations

import keyword
from pathlib import Path

MANIFEST = '''# The {id} arena: discovered by its folder (see README "Adding an arena").
id = "{id}"
version = 0
entry = "{package}.arena:{cls}Arena"
summary = "Arithmetic word problems (a scaffold: replace with the domain)"
# extra = "{id}"            # the pyproject extra holding its dependencies
# apt = []                  # Debian packages `scripts/install.sh --all` installs
# install = "install.sh"    # a script in this folder run at install time
# build = "{package}.tasks:build"   # data built ahead of time by `arenas build-data`

[suite]
split = "test"
n = 20

[demo]
agents = ["oracle", "random"]
n = 20
'''

INIT = '''"""The {id} arena (scaffolded by ``arenas new``)."""
'''

TASKS = '''"""Tasks of the {id} arena: deterministic for (version, split)."""

from __future__ import annotations

import numpy as np

from arenas.types import Task

SPLIT_SEEDS = {{"train": 0, "dev": 1, "test": 2}}
TASKS_PER_SPLIT = 50


def make_tasks(split: str) -> list[Task]:
    """``TASKS_PER_SPLIT`` problems ``a * b + c`` drawn from a seed fixed per split."""
    rng = np.random.default_rng(SPLIT_SEEDS[split])
    tasks = []
    for i in range(TASKS_PER_SPLIT):
        a, b, c = (int(x) for x in rng.integers(2, 50, size=3))
        tasks.append(Task(id=f"{id}/{{split}}/{{i}}", split=split,
                          prompt={{"question": f"What is {{a}} * {{b}} + {{c}}?"}},
                          reference={{"answer": a * b + c}}))
    return tasks
'''

VERIFIER = '''"""The {id} arena's verifier: a pure function of (candidate, reference, context)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arenas.verifiers.base import Component, Rubric, Verdict


def exact_answer(candidate: Any, reference: Mapping[str, Any], context: Mapping[str, Any]) -> Verdict:
    """1 when the submitted integer equals the reference answer."""
    ok = candidate is not None and candidate == reference["answer"]
    return Verdict(1.0 if ok else 0.0, ok, {{"submitted": candidate, "expected": reference["answer"]}})


RUBRIC = Rubric([Component("correct", exact_answer, 1.0)])
'''

ARENA = '''"""The {id} arena: one question, answered with the ``answer`` tool."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from arenas.arena import ArenaConfig, ToolArena
from arenas.tools import TOOL_CALL_FORMAT, tool
from arenas.types import Action, Observation, RewardBreakdown, Task, Termination
from {package}.tasks import make_tasks
from {package}.verifier import RUBRIC


@dataclass
class {cls}Config(ArenaConfig):
    max_turns: int = 3
    """Actions per episode."""


class {cls}Arena(ToolArena):
    """Answer an arithmetic question; reward 1 for the exact value."""

    id = "{id}"
    version = 0
    description = "Arithmetic word problems answered with a tool call"
    reward_components = RUBRIC.names
    policies = ("oracle", "random")
    config_class = {cls}Config

    def __init__(self, **config: Any):
        super().__init__(**config)
        self._tasks: dict[str, list[Task]] = {{}}

    def tasks(self, split: str) -> list[Task]:
        if split not in self._tasks:
            self._tasks[split] = make_tasks(split)
        return self._tasks[split]

    def first_observation(self, task: Task) -> Observation:
        return Observation([{{"role": "system", "content": "Answer with the answer tool.\\n" + TOOL_CALL_FORMAT}},
                            {{"role": "user", "content": task.prompt["question"]}}])

    @tool
    def answer(self, value: int) -> str:
        """Submit the final answer.

        Args:
            value: the integer result
        """
        self.finish(RUBRIC.score(value, self.task.reference, {{}}), Termination.SUBMITTED)
        return "Answer recorded."

    def _on_forced_end(self) -> dict[str, Any]:
        self.finish(RUBRIC.score(None, self.task.reference, {{}}), Termination.MAX_TURNS)
        return {{}}

    def rescore(self, task: Task, turns: list[dict[str, Any]]) -> RewardBreakdown:
        for turn in turns:
            for call in Action.from_dict(turn["action"]).tool_calls:
                args, error = self._tool_table()["answer"][1].validate(call.arguments) \\
                    if call.name == "answer" else ({{}}, "other tool")
                if not error:
                    return RUBRIC.score(args["value"], task.reference, {{}})
        return RUBRIC.score(None, task.reference, {{}})

    def policy(self, name: str):
        if name == "oracle":
            return lambda obs: self._call(self.task.reference["answer"])
        if name == "random":
            rng = np.random.default_rng(int(self.np_random.integers(2**31)))
            return lambda obs: self._call(int(rng.integers(0, 2500)))
        return None

    @staticmethod
    def _call(value: int) -> str:
        return f'<tool_call>{{{{"name": "answer", "arguments": {{{{"value": {{value}}}}}}}}}}</tool_call>'
'''

TEST = '''"""The {id} arena passes the conformance kit."""

from arenas.testing import check_arena


def test_conformance():
    check_arena("{id}")
'''


def scaffold(arena_id: str, root: Path, package: str | None = None) -> list[Path]:
    """Writes ``root/<arena_id>/``; ``package`` is its import name (``arenas.<id>`` when ``root``
    is the arenas package folder, else ``<id>`` with ``root`` on ``sys.path``)."""
    if not arena_id.isidentifier() or keyword.iskeyword(arena_id) or not arena_id.islower():
        raise ValueError(f"arena id {arena_id!r} must be a lower-case Python identifier")
    folder = Path(root) / arena_id
    if folder.exists():
        raise FileExistsError(f"{folder} already exists")
    if package is None:
        package = f"arenas.{arena_id}" if Path(root).resolve() == Path(__file__).resolve().parent else arena_id
    cls = "".join(part.capitalize() for part in arena_id.split("_"))
    files = {"arena.toml": MANIFEST, "__init__.py": INIT, "tasks.py": TASKS, "verifier.py": VERIFIER,
             "arena.py": ARENA, "test_arena.py": TEST}
    folder.mkdir(parents=True)
    written = []
    for name, template in files.items():
        path = folder / name
        path.write_text(template.format(id=arena_id, package=package, cls=cls))
        written.append(path)
    return written
