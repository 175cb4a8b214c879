"""Verifiers of the Lean arena: critic judgements, and Lean checks judged from REPL responses.

Pure functions over recorded data. The critic verifier compares a judgement with the label. The
formalize and prove verifiers never run Lean themselves: the arena elaborates one *check file*
built by :func:`check_file` (reference statement, candidate, ``#print axioms``, the signature guard
and the fidelity attempts, each in its own line range) and records the REPL's response; these
functions read the messages of each region. So a recorded episode is re-scored without Lean, and
every guard is tested on recorded responses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from arenas.verifiers.base import Verdict

REFERENCE_NAME = "arenas_reference_statement"
STANDARD_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})

# ---- statements -------------------------------------------------------------------------------
_COMMENT = re.compile(r"/-.*?-/|--[^\n]*", re.S)
_PROOF = re.compile(r":=\s*(by\s+)?sorry\s*$")
_DECL = re.compile(r"^\s*(?:theorem|lemma|example)\s+([^\s(:{\[]+)?")


def strip_comments(code: str) -> str:
    return _COMMENT.sub(" ", code)


def normalize_statement(text: str) -> str:
    """A statement without comments, its name, its ``:= by sorry`` and whitespace differences:
    two statements with equal normal forms say the same thing textually."""
    body = _PROOF.sub("", strip_comments(text).strip())
    body = _DECL.sub("theorem _ ", body, count=1)
    return " ".join(body.replace("(", " ( ").replace(")", " ) ").split())


def theorem_name(code: str) -> str | None:
    """The name of the first ``theorem``/``lemma`` in ``code``."""
    m = re.search(r"(?m)^\s*(?:@\[[^\]]*\]\s*)?(?:private\s+|protected\s+)?(?:theorem|lemma)\s+([^\s(:{\[]+)",
                  strip_comments(code))
    return m.group(1) if m else None


def rename_theorem(statement: str, name: str) -> str:
    """``statement`` with its first theorem/lemma renamed (used to elaborate the reference
    under a name the candidate cannot take)."""
    return re.sub(r"(?m)^(\s*)(?:theorem|lemma)\s+[^\s(:{\[]+", rf"\1theorem {name}", statement, count=1)


def as_sorry(statement: str) -> str:
    """``statement`` ending in ``:= by sorry`` whatever proof it had."""
    text = strip_comments(statement).strip()
    head = text.split(":=")[0].rstrip() if ":=" in text else text
    return head + " := by sorry"


# ---- critic -------------------------------------------------------------------------------------
def parse_judgement(value: Any) -> bool | None:
    """``True`` (faithful), ``False`` (not faithful) or None for an unreadable judgement."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "faithful", "correct", "1"):
        return True
    if text in ("false", "no", "unfaithful", "not faithful", "incorrect", "0"):
        return False
    return None


def judgement_correct(candidate: Mapping[str, Any], reference: Mapping[str, Any],
                      context: Mapping[str, Any]) -> Verdict:
    """1 if the critic's judgement equals the label (faithful or not), else 0."""
    verdict = parse_judgement(candidate.get("faithful"))
    label = bool(reference["faithful"])
    if verdict is None:
        return Verdict.fail("no readable judgement", label=label)
    return Verdict(float(verdict == label), verdict == label,
                   {"judged_faithful": verdict, "label": label, "mutation": reference.get("mutation")})


def critic_metrics(judgements: Sequence[tuple[bool | None, bool]]) -> dict[str, float]:
    """CriticLeanBench's metrics over (judged_faithful, label) pairs: accuracy, TPR (faithful
    statements accepted), TNR (unfaithful statements rejected). An unreadable judgement is wrong."""
    pos = [j for j, label in judgements if label]
    neg = [j for j, label in judgements if not label]
    correct = sum(j is not None and j == label for j, label in judgements)
    return {"n": float(len(judgements)), "acc": correct / len(judgements) if judgements else float("nan"),
            "tpr": sum(j is True for j in pos) / len(pos) if pos else float("nan"),
            "tnr": sum(j is False for j in neg) / len(neg) if neg else float("nan")}


# ---- check files --------------------------------------------------------------------------------
BANNED = {
    "axiom": re.compile(r"(?m)^\s*(?:@\[[^\]]*\]\s*)?(?:private\s+|noncomputable\s+)?axiom\b"),
    "native_decide": re.compile(r"\bnative_decide\b|\bdecide\s*\+\s*kernel\b|Lean\.ofReduceBool"),
    "implemented_by": re.compile(r"\bimplemented_by\b"),
    "extern": re.compile(r"@\[\s*extern\b|\bextern\b"),
    "set_option": re.compile(r"\bset_option\b(?!\s+maxHeartbeats\s+\d+\s+in\b)"),
    "sorry": re.compile(r"\bsorry\b|\badmit\b|sorryAx"),
    "unsafe": re.compile(r"\bunsafe\b"),
    "import": re.compile(r"(?m)^\s*import\b"),
    "#exit": re.compile(r"#exit\b"),
    "opaque": re.compile(r"\bopaque\b"),
    "debug": re.compile(r"\bdebug\.\w+|\bskipKernelTC\b"),
    "meta code": re.compile(r"(?m)^\s*(?:elab|macro|syntax|macro_rules|elab_rules|run_cmd|run_tac|#eval)\b"),
}
"""Constructs a proof may not contain (each can fake acceptance: new axioms, compiled-code trust,
disabled checks, meta code that rewrites what follows); the axiom check catches most of them too."""

FIDELITY_TACTICS = ("exact h", "(intros; apply h <;> assumption)", "simpa using h",
                    "(intros; simp_all)", "(intros; aesop)")


def banned_constructs(code: str) -> list[str]:
    text = strip_comments(code)
    return [name for name, pattern in BANNED.items() if pattern.search(text)]


def check_file(mode: str, reference_statement: str, candidate: str, name: str | None = None,
               tactics: Sequence[str] = FIDELITY_TACTICS) -> dict[str, Any]:
    """The code the arena elaborates (on top of the task header) and the line range of each region.

    ``prove``: reference (renamed, ``sorry``), the candidate proof, ``#print axioms``, the signature
    guard (the candidate's elaborated type must be the reference's). ``formalize``: reference,
    the candidate statement, then each direction of ``candidate ↔ reference`` tried with
    ``tactics``, one region per attempt.
    """
    name = name or theorem_name(candidate) or "arenas_missing_theorem"
    regions: list[tuple[str, str]] = [("reference", rename_theorem(as_sorry(reference_statement), REFERENCE_NAME)),
                                      ("candidate", candidate.strip())]
    cand, ref = f"(type_of% @{name})", f"(type_of% @{REFERENCE_NAME})"
    if mode == "prove":
        regions += [("axioms", f"#print axioms {name}"),
                    ("guard", f"example : {cand} = {ref} := rfl")]
    else:
        for direction, (a, b) in (("forward", (cand, ref)), ("backward", (ref, cand))):
            for i, tac in enumerate(tactics):
                regions.append((f"{direction}_{i}", f"example : {a} → {b} := by\n  intro h\n  {tac}"))
    lines, spans, line = [], {}, 1
    for region, text in regions:
        n = text.count("\n") + 1
        spans[region] = [line, line + n - 1]
        lines.append(text)
        line += n + 1  # a blank line between regions
    return {"mode": mode, "name": name, "code": "\n\n".join(lines) + "\n", "regions": spans}


def _in(region: Sequence[int], item: Mapping[str, Any]) -> bool:
    pos = item.get("pos") or {}
    return region[0] <= int(pos.get("line", -1)) <= region[1]


def region_messages(check: Mapping[str, Any], region: str, severity: str | None = None) -> list[dict[str, Any]]:
    span = check["regions"][region]
    return [m for m in (check.get("response") or {}).get("messages", [])
            if _in(span, m) and (severity is None or m.get("severity") == severity)]


def _sorry_in(check: Mapping[str, Any], region: str) -> bool:
    span = check["regions"][region]
    response = check.get("response") or {}
    return any(_in(span, s) for s in response.get("sorries", [])) or any(
        "declaration uses 'sorry'" in m.get("data", "") or "declaration uses `sorry`" in m.get("data", "")
        for m in region_messages(check, region))


def parse_axioms(data: str) -> list[str] | None:
    """The axioms ``#print axioms`` lists (``[]`` for none), or None if ``data`` is not its output."""
    if "does not depend on any axioms" in data:
        return []
    m = re.search(r"depends on axioms:\s*\[(.*?)\]", data, re.S)
    return [a.strip() for a in m.group(1).split(",") if a.strip()] if m else None


def _response_problem(check: Mapping[str, Any] | None) -> str | None:
    if not check:
        return "no Lean check was recorded"
    response = check.get("response")
    if response is None:
        return f"Lean did not answer: {check.get('error', 'unknown error')}"
    if set(response) == {"message"}:
        return f"the REPL rejected the check: {response['message']}"
    errors = region_messages(check, "reference", "error")
    if errors:
        return "the reference statement did not elaborate (header or toolchain mismatch): " + errors[0]["data"][:200]
    return None


def candidate_compiles(candidate: Mapping[str, Any], reference: Mapping[str, Any],
                       context: Mapping[str, Any]) -> Verdict:
    """The candidate elaborates with no error (formalize: a statement whose only ``sorry`` is its proof)."""
    check = candidate.get("check")
    problem = _response_problem(check)
    if problem:
        return Verdict.fail(problem)
    errors = region_messages(check, "candidate", "error")
    if errors:
        return Verdict.fail("Lean reported errors", errors=[e["data"][:300] for e in errors[:5]])
    if check["mode"] == "formalize":
        sorries = [s for s in check["response"].get("sorries", []) if _in(check["regions"]["candidate"], s)]
        if len(sorries) > 1:
            return Verdict.fail("the statement uses sorry beyond its proof")
    return Verdict(1.0, True, {})


def statement_faithful(candidate: Mapping[str, Any], reference: Mapping[str, Any],
                       context: Mapping[str, Any]) -> Verdict:
    """Formalize fidelity: 1 if both ``candidate → reference`` and ``reference → candidate`` were
    proved by one of the standard tactics, 0.5 if one direction was, else 0."""
    compiled = candidate_compiles(candidate, reference, context)
    if not compiled.passed:
        return Verdict.fail("the statement does not compile", compile=compiled.details)
    check = candidate["check"]
    proved = {}
    for direction in ("forward", "backward"):
        attempts = sorted(r for r in check["regions"] if r.startswith(direction + "_"))
        proved[direction] = next((r for r in attempts if not region_messages(check, r, "error")
                                  and not _sorry_in(check, r)), None)
    score = sum(v is not None for v in proved.values()) / 2
    return Verdict(score, score == 1.0, {"proved_by": proved})


def proof_accepted(candidate: Mapping[str, Any], reference: Mapping[str, Any],
                   context: Mapping[str, Any]) -> Verdict:
    """Prove mode: 1 only if Lean accepted the proof with no ``sorry``, it uses no axiom beyond
    the standard three, its elaborated type is the reference's, and it has no banned construct."""
    code = str(candidate.get("code", ""))
    banned = banned_constructs(code)
    if banned:
        return Verdict.fail("banned construct", banned=banned)
    check = candidate.get("check")
    problem = _response_problem(check)
    if problem:
        return Verdict.fail(problem)
    if check.get("name") != reference["name"]:
        return Verdict.fail(f"the proof must prove theorem {reference['name']!r}, found {check.get('name')!r}")
    errors = [m for m in check["response"].get("messages", []) if m.get("severity") == "error"
              and not _in(check["regions"]["reference"], m)]
    if errors:
        where = "signature guard" if any(_in(check["regions"]["guard"], e) for e in errors) else "proof"
        return Verdict.fail(f"Lean reported errors ({where})", errors=[e["data"][:300] for e in errors[:5]])
    if _sorry_in(check, "candidate"):
        return Verdict.fail("the proof uses sorry")
    axioms = next((a for m in region_messages(check, "axioms") if (a := parse_axioms(m.get("data", ""))) is not None),
                  None)
    if axioms is None:
        return Verdict.fail("no #print axioms output for the theorem")
    extra = sorted(set(axioms) - STANDARD_AXIOMS)
    if extra:
        return Verdict.fail("non-standard axioms", axioms=extra)
    return Verdict(1.0, True, {"axioms": axioms})
