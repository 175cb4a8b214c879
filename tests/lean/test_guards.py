"""Prove-mode acceptance (sorry, axioms, signature guard, banned constructs) and formalize-mode
compile/fidelity scores, judged from recorded REPL responses to check files."""

import pytest

from arenas.verifiers.lean import (
    REFERENCE_NAME,
    banned_constructs,
    candidate_compiles,
    check_file,
    normalize_statement,
    parse_axioms,
    proof_accepted,
    statement_faithful,
    theorem_name,
)
from tests.lean.recorded import NAME, PROOF, REFERENCE, SORRY_WARNING, formalize_check, prove_check

REF = {"statement": REFERENCE, "name": NAME}


def judge(code, check):
    return proof_accepted({"code": code, "check": check}, REF, {})


def test_check_file_regions_cover_their_code():
    check = check_file("prove", REFERENCE, PROOF, NAME)
    lines = check["code"].splitlines()
    for region, (a, b) in check["regions"].items():
        text = "\n".join(lines[a - 1:b])
        assert text.strip(), region
    a, b = check["regions"]["reference"]
    assert f"theorem {REFERENCE_NAME}" in lines[a - 1] and lines[b - 1].endswith(":= by sorry")
    assert lines[check["regions"]["axioms"][0] - 1] == f"#print axioms {NAME}"
    assert "type_of%" in lines[check["regions"]["guard"][0] - 1]


def test_a_clean_proof_is_accepted():
    v = judge(PROOF, prove_check(PROOF))
    assert v.passed and v.score == 1.0 and v.details["axioms"] == ["propext", "Classical.choice", "Quot.sound"]


def test_sorry_in_the_proof_fails_in_text_and_in_lean_output():
    code = PROOF.replace("nlinarith [sq_nonneg (a - 1)]", "sorry")
    assert not judge(code, prove_check(code)).passed
    # no sorry in the text, but Lean says the declaration uses one (e.g. a tactic that closed with sorry)
    check = prove_check(PROOF, extra=[("candidate", "warning", SORRY_WARNING)])
    v = judge(PROOF, check)
    assert not v.passed and "sorry" in v.details["reason"]


def test_a_renamed_theorem_fails_the_guard():
    code = PROOF.replace(NAME, "my_lemma")
    check = prove_check(code, extra=[("guard", "error", f"unknown identifier '{NAME}'")], drop_axioms=True)
    check["response"]["messages"].append({**check["response"]["messages"][0], "severity": "error",
                                          "pos": {"line": check["regions"]["axioms"][0], "column": 15},
                                          "data": f"unknown constant '{NAME}'"})
    v = judge(code, check)
    assert not v.passed and "signature guard" in v.details["reason"]


def test_a_weakened_statement_fails_the_guard():
    code = PROOF.replace("(a : ℝ) :", "(a : ℝ) (h : a = 1) :")
    mismatch = ("type mismatch\n  rfl\nhas type\n  ?a = ?a : Prop\nbut is expected to have type\n"
                "  (∀ (a : ℝ), a = 1 → a * (2 - a) ≤ 1) = ∀ (a : ℝ), a * (2 - a) ≤ 1 : Prop")
    v = judge(code, prove_check(code, extra=[("guard", "error", mismatch)]))
    assert not v.passed and "signature guard" in v.details["reason"]


@pytest.mark.parametrize("code,trick", [
    ("axiom cheat : ∀ a : ℝ, a * (2 - a) ≤ 1\n" + PROOF.replace("nlinarith [sq_nonneg (a - 1)]", "exact cheat a"),
     "axiom"),
    ("theorem algebra_sqineq_at2malt1 (a : ℝ) : a * (2 - a) ≤ 1 := by native_decide", "native_decide"),
    ("@[implemented_by fake] def g : Bool := true\n" + PROOF, "implemented_by"),
    ('@[extern "c_fake"] def h : Bool := true\n' + PROOF, "extern"),
    ("set_option debug.skipKernelTC true in\n" + PROOF, "set_option"),
    ("set_option maxRecDepth 100000 in\n" + PROOF, "set_option"),
    ("elab \"cheat\" : tactic => return\n" + PROOF, "meta code"),
    ("unsafe def u : Nat := 0\n" + PROOF, "unsafe"),
    (PROOF + "\n#exit", "#exit"),
])
def test_tricks_fail_even_when_lean_reports_nothing_wrong(code, trick):
    assert trick in banned_constructs(code)
    v = judge(code, prove_check(code))
    assert not v.passed and trick in v.details["banned"]


def test_a_heartbeat_budget_is_allowed():
    code = "set_option maxHeartbeats 400000 in\n" + PROOF
    assert banned_constructs(code) == [] and judge(code, prove_check(code)).passed


def test_non_standard_axioms_in_lean_output_fail():
    for axioms in ("'algebra_sqineq_at2malt1' depends on axioms: [propext, Lean.ofReduceBool, Quot.sound]",
                   "'algebra_sqineq_at2malt1' depends on axioms: [propext, sorryAx, Classical.choice, Quot.sound]"):
        v = judge(PROOF, prove_check(PROOF, axioms=axioms))
        assert not v.passed and v.details["axioms"]


def test_missing_or_rejected_output_fails():
    assert "no #print axioms" in judge(PROOF, prove_check(PROOF, drop_axioms=True)).details["reason"]
    check = prove_check(PROOF)
    check["response"] = {"message": "Unknown environment."}
    assert "rejected" in judge(PROOF, check).details["reason"]
    check["response"], check["error"] = None, "the Lean REPL did not answer in time; it was restarted"
    assert "did not answer" in judge(PROOF, check).details["reason"]
    assert not judge(PROOF, None).passed


def test_a_reference_that_does_not_elaborate_is_reported_as_a_setup_problem():
    check = prove_check(PROOF, extra=[("reference", "error", "unknown identifier 'Real'")])
    assert "reference statement did not elaborate" in judge(PROOF, check).details["reason"]


def test_parse_axioms_reads_both_forms():
    assert parse_axioms("'f' does not depend on any axioms") == []
    assert parse_axioms("'f' depends on axioms: [propext,\n Quot.sound]") == ["propext", "Quot.sound"]
    assert parse_axioms("declaration uses `sorry`") is None


# ---- formalize ----------------------------------------------------------------------------------
def fscore(statement, check):
    c = {"statement": statement, "check": check}
    return statement_faithful(c, REF, {}), candidate_compiles(c, REF, {})


def test_the_reference_statement_is_faithful_in_both_directions():
    faithful, compiles = fscore(REFERENCE, formalize_check(REFERENCE))
    assert faithful.score == 1.0 and compiles.passed
    assert faithful.details["proved_by"] == {"forward": "forward_0", "backward": "backward_0"}


def test_one_direction_scores_half_and_none_scores_zero():
    weaker = REFERENCE.replace("≤ 1", "≤ 2")
    faithful, _ = fscore(weaker, formalize_check(weaker, proved=("backward_3",)))
    assert faithful.score == 0.5 and not faithful.passed
    faithful, compiles = fscore(weaker, formalize_check(weaker, proved=()))
    assert faithful.score == 0.0 and compiles.passed


def test_a_statement_with_errors_does_not_compile():
    bad = REFERENCE.replace("ℝ", "Reals")
    check = formalize_check(bad, extra=[("candidate", "error", "unknown identifier 'Reals'")])
    faithful, compiles = fscore(bad, check)
    assert not compiles.passed and faithful.score == 0.0


def test_statement_helpers():
    assert theorem_name("-- c\n@[simp] theorem foo.bar (x : ℕ) : x = x := rfl") == "foo.bar"
    assert normalize_statement("theorem a (x : ℕ) :\n x = x := by sorry") == \
        normalize_statement("theorem b  (x : ℕ) : x = x -- same\n")
