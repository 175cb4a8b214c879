"""The API-migration arena: make code written for an old library version work on the new one.

Description:
    Each task is a small module written against an old release (pandas 1.5, NumPy 1.26,
    SQLAlchemy 1.4, pydantic 1.10, NetworkX 2.8, Jinja2 3.0, marshmallow 2.21) that a breaking
    change of the new release (pandas 2.2, NumPy 2.2, ...) breaks. The agent runs the public tests,
    scratch code and docstrings in a sandbox of the real new version, then submits the module.
Observation:
    Chat messages: the task (library, versions, what the code does, the code, public tests), then
    tool results.
Action:
    Tool calls: ``run_tests``, ``run_python``, ``show_doc``, ``submit``.
Rewards:
    At submission (see :mod:`arenas.verifiers.migration`): the share of hidden tests that pass on
    the new version, 0 when the code still uses the task's removed API or trips the hack guard.
    Logged components: ``removed_api``, ``edit_similarity`` (ReCode), ``regression``.
Episode end:
    ``submit`` (terminated), or the turn cap (truncated, scored 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from arenas.arena import ArenaConfig, ToolArena, ToolError
from arenas.engines.sandbox import Limits, docker_client, run_sandboxed
from arenas.migration import baselines, envs
from arenas.migration.tasks import load_tasks
from arenas.tools import TOOL_CALL_FORMAT, tool
from arenas.types import Action, Observation, RewardBreakdown, Task, Termination
from arenas.verifiers import Component, Rubric
from arenas.verifiers.migration import (
    edit_similarity,
    hidden_tests,
    outcomes,
    regression,
    removed_api,
    run_calls,
)

RUBRIC = Rubric([Component("hidden_tests", hidden_tests, 1.0), Component("removed_api", removed_api, 0.0),
                 Component("edit_similarity", edit_similarity, 0.0), Component("regression", regression, 0.0)])

INSTRUCTIONS = """You migrate Python code to a new major version of a library.
The module below was written for {library} {old}; the environment has {library} {new}, where it
breaks. Make it work on {library} {new} with the same behaviour, keeping the public function
names. Tools: run_tests(code) runs the public tests on your version of the module;
run_python(code) runs a scratch script (it can `import solution` to load your last tested module);
show_doc(symbol) shows the {new} docstring and signature of e.g. "{module}.concat"; submit(code)
hands in the whole module (final). Hidden tests with other inputs decide the reward; code that
patches the library, touches the import system or still uses the removed API scores 0.
You have {max_turns} turns.
{tool_format}"""


@dataclass
class MigrationConfig(ArenaConfig):
    max_turns: int = 12
    """Agent actions per episode; an episode without a submission scores 0."""
    libraries: list[str] = field(default_factory=list)
    """Restrict the tasks to these libraries (empty: all seven)."""
    output_chars: int = 3000
    """Characters of tool output (tracebacks, prints) shown to the agent."""
    cpu_s: int = 20
    """CPU-time limit of one sandbox run (seconds)."""
    wall_s: float = 30.0
    """Wall-clock limit of one sandbox run; the process group is killed after it."""
    memory_mb: int = 3072
    """Address-space limit of one sandbox run."""
    backend: str = "subprocess"
    """Where code runs: "subprocess" (namespaces where permitted), "docker" (the image of
    containers/migration; an error when no daemon answers) or "auto" (docker when a daemon answers)."""


def _libs(cfg: MigrationConfig) -> tuple[str, ...] | None:
    return tuple(sorted(cfg.libraries)) if cfg.libraries else None


def resolve_backend(name: str) -> str:
    if name not in ("subprocess", "docker", "auto"):
        raise ValueError(f"backend must be subprocess, docker or auto, got {name!r}")
    if name == "subprocess":
        return name
    available = docker_client() is not None
    if name == "docker" and not available:
        raise ValueError("the docker backend is unavailable: no Docker daemon reachable")
    return "docker" if available else "subprocess"


def _context(task: Task, cfg: MigrationConfig, backend: str = "subprocess") -> dict[str, Any]:
    spec = envs.VenvSpec(task.prompt["library"], "new")
    return {"python": str(envs.venv_python(spec)), "venv": spec.name, "backend": backend,
            "module": task.prompt["module"],
            "version": task.prompt["new_version"], "aliases": task.prompt.get("aliases", {}),
            "limits": {"cpu_s": cfg.cpu_s, "wall_s": cfg.wall_s, "memory_mb": cfg.memory_mb}}


def _unsubmitted() -> RewardBreakdown:
    return RewardBreakdown(0.0, {name: 0.0 for name in RUBRIC.names}, {"reason": "no submission"}, False)


def render_public_tests(task: Task) -> str:
    return "\n".join(f"assert {t['call']} == {t['expected']!r}" for t in task.prompt["public_tests"])


class MigrationArena(ToolArena):
    """API migration judged by hidden tests in sandboxed venvs of the real library versions."""

    id = "migration"
    version = 0
    description = ("Migrate code written for an old library version (pandas, NumPy, SQLAlchemy, pydantic, "
                   "NetworkX, Jinja2, marshmallow) to the new one; judged by hidden tests run in sandboxed "
                   "venvs of the real versions.")
    reward_components = RUBRIC.names
    policies = ("oracle", "identity", "heuristic", "random")
    config_class = MigrationConfig

    def __init__(self, **config: Any):
        super().__init__(**config)
        self.backend = resolve_backend(self.cfg.backend)

    def tasks(self, split: str) -> Sequence[Task]:
        return load_tasks(split, _libs(self.cfg))

    def first_observation(self, task: Task) -> Observation:
        p = task.prompt
        self.draft = p["code"]
        system = INSTRUCTIONS.format(library=p["library"], old=p["old_version"], new=p["new_version"],
                                     module=p["module"], max_turns=self.max_turns, tool_format=TOOL_CALL_FORMAT)
        user = (f"{p['description']}\n\nModule (written for {p['library']} {p['old_version']}):\n"
                f"```python\n{p['code']}```\n\nPublic tests (results compared after normalisation):\n"
                f"```python\n{render_public_tests(task)}\n```")
        return Observation([{"role": "system", "content": system}, {"role": "user", "content": user}])

    # ---- tools --------------------------------------------------------------------------
    def _tool_context(self) -> dict[str, Any]:
        """The sandbox target of an exploration tool: its wall limit is what the step has left
        (the verdict of ``submit`` keeps the full limit, so it does not depend on the step)."""
        context = _context(self.task, self.cfg, self.backend)
        wall = self.time_left(self.cfg.wall_s)
        if wall < 0.5:
            raise ToolError("the step's time budget is spent")
        context["limits"] = {**context["limits"], "wall_s": wall}
        return context

    def _trim(self, text: str) -> str:
        n = self.cfg.output_chars
        return text if len(text) <= n else text[: n // 3] + "\n[...]\n" + text[-(2 * n) // 3:]

    @tool
    def run_tests(self, code: str = "") -> str:
        """Run the public tests on the new library version against a module.

        Args:
            code: the whole module to test (empty: the last module tested, at first the original)
        """
        if code.strip():
            self.draft = code
        public = self.task.prompt["public_tests"]
        result = run_calls(self.draft, [t["call"] for t in public], self._tool_context())
        ok = outcomes(result, [t["expected"] for t in public], self.task.prompt["new_version"])
        got = (result.payload or {}).get("results", [])
        lines = []
        for i, t in enumerate(public):
            if ok[i]:
                lines.append(f"PASS {t['call']}")
            elif i < len(got) and not got[i].get("ok"):
                lines.append(f"FAIL {t['call']}\n{got[i]['error']}")
            elif i < len(got):
                lines.append(f"FAIL {t['call']}\n  expected {t['expected']!r}\n  got      {got[i]['value']!r}")
            else:
                lines.append(f"FAIL {t['call']}: the run died" + (" (time limit)" if result.timed_out else "")
                             + f"\n{result.stderr[-800:]}")
        return self._trim(f"{sum(ok)}/{len(public)} public tests passed\n" + "\n".join(lines))

    @tool
    def run_python(self, code: str) -> str:
        """Run a scratch Python script on the new library version and see its output.

        Args:
            code: the script; `import solution` loads the last module given to run_tests
        """
        context = self._tool_context()
        result = run_sandboxed(context, {"mode": "snippet", "module": self.task.prompt["module"]},
                               {"snippet.py": code, "solution.py": self.draft}, Limits(**context["limits"]))
        status = "timed out" if result.timed_out else f"exit status {result.returncode}"
        return self._trim(f"[{status}]\n{result.stdout}\n{result.stderr}".strip())

    @tool
    def show_doc(self, symbol: str) -> str:
        """Signature and docstring of a symbol in the new library version.

        Args:
            symbol: a dotted name such as "pandas.concat" or "sqlalchemy.select"
        """
        if not symbol.replace(".", "").replace("_", "").isalnum():
            raise ToolError("symbol must be a dotted name such as pandas.DataFrame.items")
        context = self._tool_context()
        result = run_sandboxed(context, {"mode": "doc", "module": self.task.prompt["module"], "symbol": symbol},
                               {}, Limits(**context["limits"]))
        if result.payload is None:
            raise ToolError(f"could not look up {symbol!r}: {result.stderr[-300:]}")
        return self._trim(result.payload["doc"])

    @tool
    def submit(self, code: str) -> str:
        """Submit the migrated module (final).

        Args:
            code: the whole migrated module
        """
        breakdown = RUBRIC.score({"code": code}, self.task.reference, _context(self.task, self.cfg, self.backend))
        self.finish(breakdown, Termination.SUBMITTED)
        details = breakdown.details["hidden_tests"]
        return f"Submitted: {details.get('passed', 0)}/{details.get('total', '?')} hidden tests passed."

    def _on_forced_end(self) -> dict[str, Any]:
        self.finish(_unsubmitted(), Termination.MAX_TURNS)
        return {}

    def rescore(self, task: Task, turns: list[dict[str, Any]]) -> RewardBreakdown:
        """The breakdown of the first valid ``submit`` call in the record (0 without one)."""
        table = self._tool_table()
        for turn in turns:
            for call in Action.from_dict(turn["action"]).tool_calls:
                if call.name != "submit":
                    continue
                args, error = table["submit"][1].validate(call.arguments)
                if not error:
                    return RUBRIC.score({"code": args["code"]}, task.reference, _context(task, self.cfg, self.backend))
        return _unsubmitted()

    def policy(self, name: str):
        if name == "oracle":
            return baselines.SubmitPolicy(self, lambda task: task.reference["code"])
        if name == "identity":
            return baselines.SubmitPolicy(self, lambda task: task.prompt["code"])
        if name == "heuristic":
            return baselines.SubmitPolicy(self, lambda task: baselines.rewrite(task.prompt["code"]))
        if name == "random":
            return baselines.RandomPolicy(self, seed=int(self.np_random.integers(2**31)))
        return None


__all__ = ["RUBRIC", "MigrationArena", "MigrationConfig"]
