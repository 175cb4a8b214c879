"""REPL responses for the check files of the verifier tests, in the REPL's exact JSON shape
(messages with severity/pos/endPos/data, sorries with proofState/goal, as in the vendored
transcripts); each is placed in the line range of the check file's region it belongs to."""

from arenas.verifiers.lean import check_file

REFERENCE = "theorem algebra_sqineq_at2malt1\n  (a : ℝ) :\n  a * (2 - a) ≤ 1 := by sorry"
NAME = "algebra_sqineq_at2malt1"
PROOF = "theorem algebra_sqineq_at2malt1\n  (a : ℝ) :\n  a * (2 - a) ≤ 1 := by\n  nlinarith [sq_nonneg (a - 1)]"
STANDARD = "'algebra_sqineq_at2malt1' depends on axioms: [propext, Classical.choice, Quot.sound]"
SORRY_WARNING = "declaration uses `sorry`"


def message(check, region, severity, data, offset=0):
    line = check["regions"][region][0] + offset
    return {"severity": severity, "pos": {"line": line, "column": 8},
            "endPos": {"line": line, "column": 20}, "data": data}


def reference_sorry(check):
    line = check["regions"]["reference"][0]
    return {"proofState": 0, "pos": {"line": line + 2, "column": 22}, "goal": "a : ℝ\n⊢ a * (2 - a) ≤ 1",
            "endPos": {"line": line + 2, "column": 27}}


def prove_check(code, axioms=STANDARD, extra=(), sorries=(), env=1, drop_axioms=False):
    """The check of ``code`` and the response Lean gives when the reference elaborates and the
    candidate region has ``extra`` messages."""
    check = check_file("prove", REFERENCE, code, NAME)
    messages = [message(check, "reference", "warning", SORRY_WARNING)]
    messages += [message(check, region, sev, data) for region, sev, data in extra]
    if not drop_axioms:
        messages.append(message(check, "axioms", "info", axioms))
    check["response"] = {"sorries": [reference_sorry(check), *sorries], "messages": messages, "env": env}
    return check


def formalize_check(statement, proved=("forward_0", "backward_0"), extra=()):
    """A formalize check where the attempts in ``proved`` succeed and every other attempt fails."""
    check = check_file("formalize", REFERENCE, statement)
    messages = [message(check, "reference", "warning", SORRY_WARNING),
                message(check, "candidate", "warning", SORRY_WARNING)]
    sorries = [reference_sorry(check),
               {"proofState": 1, "pos": {"line": check["regions"]["candidate"][1], "column": 4},
                "goal": "⊢ goal", "endPos": {"line": check["regions"]["candidate"][1], "column": 9}}]
    for region in check["regions"]:
        if region.startswith(("forward_", "backward_")) and region not in proved:
            messages.append(message(check, region, "error", "linarith failed to find a contradiction", 2))
    messages += [message(check, region, sev, data) for region, sev, data in extra]
    check["response"] = {"sorries": sorries, "messages": messages, "env": 1}
    return check
