"""The Lean 4 arena (after CriticLean): judge, write and prove formal statements of miniF2F problems.

Modes (config ``mode``):

- ``critic`` (works offline): the agent sees a natural-language problem and a Lean 4 statement
  and calls ``judge(faithful)``. Half the statements are miniF2F's reference formalizations, half
  are deterministic meaning-changing mutations of them; reward 1 for a correct judgement.
- ``formalize`` (needs Lean): the agent writes the theorem statement for a problem
  (``:= by sorry``), may ``check_statement`` it, and submits it. Reward: 0.2 for compiling plus
  0.8 times fidelity (both directions of ``candidate ↔ reference`` proved by standard tactics:
  1; one direction: 0.5).
- ``prove`` (needs Lean): the agent proves a miniF2F statement, with tactic-mode tools
  (``start_proof``, ``run_tactic``) and ``check_code``, then ``submit_proof``. Reward 1 only if
  the REPL accepts it with no ``sorry``, no axiom beyond the standard three, the theorem's type
  unchanged (signature guard) and no banned construct.

Episode end: the submission (``judge``/``submit_statement``/``submit_proof``) or the turn cap
(scored 0). Malformed actions are feedback, never exceptions. Without a Lean backend, the
formalize and prove modes refuse to start with a paragraph saying how to get one.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arenas.arena import ToolArena, ToolError
from arenas.config import ArenaConfig, ConfigError
from arenas.engines.lean_repl import ReplError, Response
from arenas.lean import baselines, data
from arenas.lean.backend import IMAGE, LeanBackend, NoToolchain, ReplBackend, open_backend
from arenas.tools import TOOL_CALL_FORMAT, as_action, tool
from arenas.types import Action, Observation, RewardBreakdown, Task
from arenas.verifiers import Component, Rubric
from arenas.verifiers.lean import (
    as_sorry,
    candidate_compiles,
    check_file,
    judgement_correct,
    proof_accepted,
    statement_faithful,
)

RUBRICS = {
    "critic": Rubric([Component("correct", judgement_correct, 1.0)]),
    "formalize": Rubric([Component("faithful", statement_faithful, 0.8), Component("compiles", candidate_compiles, 0.2)]),
    "prove": Rubric([Component("proved", proof_accepted, 1.0)]),
}
MODE_POLICIES = {"critic": ("oracle", "random", "always_correct", "heuristic"),
                 "formalize": ("oracle", "random"),
                 "prove": ("random",)}  # miniF2F ships no proofs, so prove mode has no oracle
SUBMIT = {"critic": "judge", "formalize": "submit_statement", "prove": "submit_proof"}
MODE_TOOLS = {"critic": {"judge"}, "formalize": {"check_statement", "submit_statement"},
              "prove": {"start_proof", "run_tactic", "check_code", "submit_proof"}}

INSTRUCTIONS = {
    "critic": """You review autoformalizations. You see a competition math problem and a Lean 4 (Mathlib)
theorem statement meant to formalize it. Decide whether the statement is faithful: same objects and
types, same hypotheses, same conclusion (for "find"/"show that it is" problems, the stated answer).
Answer with judge(faithful=true) or judge(faithful=false). You have {max_turns} turns.
{tool_format}""",
    "formalize": """You formalize competition math problems in Lean 4 with Mathlib. Write one theorem named
{name} whose statement says exactly what the problem says (for "find"/"show that it is" problems,
state the answer), ending in `:= by sorry`. The file starts with:
{header}
check_statement(statement) compiles a draft; submit_statement(statement) is final. You have {max_turns} turns.
{tool_format}""",
    "prove": """You prove theorems in Lean 4 with Mathlib. Prove the statement below without changing it
(same name, same binders, same conclusion); no sorry, no new axioms, no native_decide, no set_option.
start_proof() shows the goal and a proof state; run_tactic(proof_state, tactic) applies a tactic;
check_code(code) compiles a whole attempt; submit_proof(code) submits the full theorem with its proof
(final). The file starts with:
{header}
You have {max_turns} turns.
{tool_format}""",
}


@dataclass
class LeanConfig(ArenaConfig):
    mode: str = "critic"
    """``critic`` (judge statement fidelity; offline), ``formalize`` or ``prove`` (need Lean)."""
    lean_project: str | None = None
    """A local Lake project with Mathlib and the REPL built (its ``lake env lean --version`` must work)."""
    repl_path: str | None = None
    """The REPL binary, if not at ``<lean_project>/.lake/packages/REPL/.lake/build/bin/repl``."""
    repl_command: str | None = None
    """A command line that starts a REPL, used as is (no detection), e.g. ``docker exec -i c repl``."""
    lean_server_url: str | None = None
    """A Kimina Lean Server (``POST /api/check``); stateless, so no tactic-mode tools."""
    use_docker: bool = True
    """Try the container image through a reachable Docker daemon when nothing local is given."""
    docker_image: str = IMAGE
    """The image built from containers/lean/Dockerfile."""
    timeout_s: float = 120.0
    """Deadline of one Lean command; past it the REPL process is killed and restarted."""
    header_timeout_s: float = 600.0
    """Deadline for elaborating the header (``import Mathlib``) in a fresh REPL process."""
    memory_limit_mb: int | None = None
    """Address-space limit of a local REPL process (it is restarted after hitting it)."""


class LeanArena(ToolArena):
    """Lean 4 autoformalization, proving and critic judgements on miniF2F."""

    id = "lean"
    version = 0
    description = ("Lean 4 formalization after CriticLean on miniF2F: judge whether a formal statement is "
                   "faithful to a problem (critic, offline), formalize a problem, or prove a statement, "
                   "checked by a real Lean REPL (signature guard, axiom check).")
    reward_components = ("correct", "faithful", "compiles", "proved")
    policies = MODE_POLICIES["critic"]
    config_class = LeanConfig

    def __init__(self, **config: Any):
        super().__init__(**config)
        if self.cfg.mode not in data.MODES:
            raise ConfigError(f"mode must be one of {', '.join(data.MODES)}, got {self.cfg.mode!r}")
        self.mode = self.cfg.mode
        self.rubric = RUBRICS[self.mode]
        self.policies = MODE_POLICIES[self.mode]
        self.backend: LeanBackend | None = None
        if self.mode != "critic":
            self.backend = self._open_backend()

    def _open_backend(self) -> LeanBackend:
        if self.cfg.repl_command:
            return ReplBackend(shlex.split(self.cfg.repl_command), data.header(), cwd=self.cfg.lean_project,
                               timeout_s=self.cfg.timeout_s, memory_limit_mb=self.cfg.memory_limit_mb,
                               label="repl_command", header_timeout_s=self.cfg.header_timeout_s)
        try:
            return open_backend(data.header(), self.cfg.lean_project, self.cfg.repl_path, self.cfg.lean_server_url,
                                self.cfg.use_docker, self.cfg.docker_image, self.cfg.timeout_s,
                                self.cfg.memory_limit_mb, self.cfg.header_timeout_s)
        except NoToolchain as e:
            raise NoToolchain(f"lean mode {self.mode!r} {e}") from None

    # ---- tasks ----------------------------------------------------------------------------------
    def tasks(self, split: str) -> Sequence[Task]:
        return data.tasks(self.mode, split)

    def sample_tasks(self, split: str, n: int, seed: int = 0) -> list[Task]:
        """Critic mode samples problems and takes both of each problem's statements (in a seeded
        order), so any even ``n`` is exactly balanced between faithful and mutated statements."""
        if self.mode != "critic":
            return super().sample_tasks(split, n, seed)
        pairs = data.critic_pairs(split)
        if not pairs:
            return []
        rng = np.random.default_rng(seed)
        order, swap = rng.permutation(len(pairs)), rng.integers(2, size=len(pairs))
        flat = [t for i in order for t in (pairs[i][::-1] if swap[i] else pairs[i])]
        return [flat[i % len(flat)] for i in range(n)]

    def first_observation(self, task: Task) -> Observation:
        self.submission: dict[str, Any] | None = None
        p = task.prompt
        system = INSTRUCTIONS[self.mode].format(max_turns=self.max_turns, tool_format=TOOL_CALL_FORMAT,
                                                name=task.reference.get("name", ""), header=data.header())
        if self.mode == "critic":
            user = (f"Problem:\n{p['problem']}\n\nFormal statement (Lean 4, Mathlib):\n```lean\n{p['statement']}\n```\n"
                    "Is the formal statement a faithful formalization of the problem?")
        elif self.mode == "formalize":
            user = f"Problem:\n{p['problem']}\n\nWrite theorem {p['name']}."
        else:
            user = f"Prove:\n```lean\n{p['statement']}\n```"
        return Observation([{"role": "system", "content": system}, {"role": "user", "content": user}])

    def _tool_table(self):
        allowed = MODE_TOOLS[self.mode]
        return {k: v for k, v in super()._tool_table().items() if k in allowed}

    # ---- critic ---------------------------------------------------------------------------------
    @tool
    def judge(self, faithful: bool, reason: str = "") -> str:
        """Final judgement: is the formal statement a faithful formalization of the problem?

        Args:
            faithful: true if it says exactly what the problem says, false otherwise
            reason: optional short justification (not scored)
        """
        self._finish_with({"faithful": faithful, "reason": reason}, {})
        return "Judgement recorded."

    # ---- formalize ------------------------------------------------------------------------------
    @tool
    def check_statement(self, statement: str) -> str:
        """Compile a draft statement (it should end in `:= by sorry`) and see Lean's messages.

        Args:
            statement: the Lean 4 theorem statement
        """
        return self._render(self._run(lambda b: b.check(statement)))

    @tool
    def submit_statement(self, statement: str) -> str:
        """Submit the final theorem statement (ending in `:= by sorry`).

        Args:
            statement: the Lean 4 theorem statement
        """
        check = self._check("formalize", statement)
        self._finish_with({"statement": statement, "check": check}, {"check": check})
        return "Statement submitted."

    # ---- prove ----------------------------------------------------------------------------------
    @tool
    def start_proof(self) -> str:
        """Elaborate the statement with `sorry` and show its goal and proof state id."""
        r = self._run(lambda b: b.start_proof(as_sorry(self.task.reference["statement"])))
        self._generation = r.generation
        if not r.sorries:
            return self._render(r)
        s = r.sorries[0]
        return f"proof_state {s.proof_state}\n{s.goal}"

    @tool
    def run_tactic(self, proof_state: int, tactic: str) -> str:
        """Apply one tactic to a proof state; returns the new proof state and its goals.

        Args:
            proof_state: a proof state id from start_proof or an earlier run_tactic
            tactic: the tactic (may span lines)
        """
        r = self._run(lambda b: b.tactic(tactic, proof_state, getattr(self, "_generation", None)))
        if not r.ok:
            return self._render(r)
        goals = "\n\n".join(r.goals or []) or "no goals: the proof is complete"
        return f"proof_state {r.proof_state}\n{goals}"

    @tool
    def check_code(self, code: str) -> str:
        """Compile a full attempt (theorem with proof) and see Lean's messages.

        Args:
            code: Lean 4 code (no imports; the header is already loaded)
        """
        return self._render(self._run(lambda b: b.check(code)))

    @tool
    def submit_proof(self, code: str) -> str:
        """Submit the theorem with its complete proof (final).

        Args:
            code: the full theorem, same statement as given, with its proof
        """
        check = self._check("prove", code)
        self._finish_with({"code": code, "check": check}, {"check": check})
        return "Proof submitted."

    # ---- Lean plumbing --------------------------------------------------------------------------
    def _run(self, fn) -> Response:
        if self.backend is None:
            raise ToolError("no Lean backend in this mode")
        try:
            return fn(self.backend)
        except ReplError as e:
            raise ToolError(str(e)) from e

    def _check(self, mode: str, code: str) -> dict[str, Any]:
        """Elaborates the check file of a submission and records the REPL's raw response."""
        ref = self.task.reference
        check = check_file(mode, ref["statement"], code, ref["name"] if mode == "prove" else None)
        try:
            check["response"] = self._run_check(check["code"])
        except ToolError as e:
            check["response"], check["error"] = None, str(e)
        return check

    def _run_check(self, code: str) -> dict[str, Any]:
        return self._run(lambda b: b.check(code, timeout_s=self.cfg.timeout_s)).raw

    @staticmethod
    def _render(r: Response) -> str:
        if r.error:
            return f"error: {r.error}"
        lines = [f"{m.severity} at line {m.pos.line if m.pos else '?'}: {m.data}" for m in r.messages]
        lines += [f"sorry (proof_state {s.proof_state}): {s.goal}" for s in r.sorries]
        return "\n".join(lines) or "no messages: it compiles"

    # ---- scoring --------------------------------------------------------------------------------
    def _finish_with(self, candidate: dict[str, Any], info: dict[str, Any]) -> None:
        self.submission = info
        self.finish(self.rubric.score(candidate, self.task.reference, {"mode": self.mode}))

    def _on_forced_end(self) -> dict[str, Any]:
        self.finish(self._zero("no submission"), "max_turns")
        return {}

    def _zero(self, reason: str) -> RewardBreakdown:
        return RewardBreakdown(0.0, dict.fromkeys(self.rubric.names, 0.0), {"reason": reason}, False)

    def _step(self, action: Action):
        result = super()._step(action)
        if self._final is not None and self.submission:
            result.info.update(self.submission)
        return result

    def rescore(self, task: Task, turns: list[dict[str, Any]]) -> RewardBreakdown:
        """The first accepted submission of the record, scored again; formalize/prove use the
        Lean response recorded with it (no Lean needed to re-score)."""
        tool_name = SUBMIT[self.mode]
        spec = self._tool_table()[tool_name][1]
        for turn in turns:
            for call in as_action(Action.from_dict(turn["action"])).tool_calls:
                if call.name != tool_name:
                    continue
                args, error = spec.validate(call.arguments)
                if error:
                    continue
                if self.mode == "critic":
                    candidate = {"faithful": args["faithful"], "reason": args.get("reason", "")}
                else:
                    key = "statement" if self.mode == "formalize" else "code"
                    candidate = {key: args[key], "check": turn["info"].get("check")}
                return self.rubric.score(candidate, task.reference, {"mode": self.mode})
        return self._zero("no submission")

    # ---- baselines ------------------------------------------------------------------------------
    def policy(self, name: str):
        seed = int(self.np_random.integers(2**31))
        if name not in self.policies:
            return None
        if self.mode == "critic":
            return baselines.CriticPolicy(self, name, seed)
        return baselines.SubmitPolicy(self, name, seed)

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()

