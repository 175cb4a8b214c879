"""The REPL protocol client against the REPL repository's own test transcripts (real Lean output,
vendored in transcripts/repl): every recorded response parses, and every transcript replayed
through a process speaking the REPL's framing comes back unchanged through the client."""

import json
import sys
from pathlib import Path

import pytest

from arenas.engines.lean_repl import ReplProcess, ReplSession, parse_response, split_blocks

HERE = Path(__file__).parent
ROOT = HERE / "transcripts" / "repl"
PAIRS = sorted(p for p in ROOT.rglob("*.in") if p.with_name(p.name[:-3] + ".expected.out").exists())
FAKE = [sys.executable, str(HERE / "fake_repl.py")]


def expected(path: Path) -> Path:
    return path.with_name(path.name[:-3] + ".expected.out")


def requests(path: Path) -> list[dict]:
    return [json.loads(b, strict=False) for b in split_blocks(path.read_text(encoding="utf-8"))]


def responses(path: Path) -> list[dict]:
    return [json.loads(b) for b in split_blocks(expected(path).read_text(encoding="utf-8"))]


def test_every_transcript_is_vendored_with_its_licence():
    assert len(PAIRS) >= 65
    assert (ROOT / "LICENSE").read_text().startswith("\n                                 Apache License") or \
        "Apache License" in (ROOT / "LICENSE").read_text()
    assert "leanprover-community/repl" in (ROOT / "SOURCE.txt").read_text()


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: str(p.relative_to(ROOT)))
def test_recorded_responses_parse(path):
    reqs, resps = requests(path), responses(path)
    assert len(reqs) == len(resps)
    for req, raw in zip(reqs, resps, strict=True):
        r = parse_response(raw)
        assert r.raw == raw
        assert all(m.severity in {"error", "warning", "info", "trace"} for m in r.messages)
        if set(raw) == {"message"}:
            assert r.error and not r.ok and not r.complete
        elif "tactic" in req:
            assert r.proof_state is not None or r.errors or r.error
            if r.goals is not None and r.ok:
                assert r.complete == (r.goals == [] and not r.sorries)
        elif "cmd" in req or "path" in req:
            assert isinstance(r.env, int) or r.error
            for s in r.sorries:
                assert s.goal and s.pos and s.pos.line >= 1
            if r.sorries and r.ok:
                assert not r.complete


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: str(p.relative_to(ROOT)))
def test_transcript_replays_through_the_client(path):
    with ReplProcess([*FAKE, "replay", str(path), str(expected(path))], timeout_s=20) as repl:
        for req, raw in zip(requests(path), responses(path), strict=True):
            r = repl.send(req)
            assert r.raw == raw, f"{path.name}: {req}"
            assert r.generation == 1
        assert repl.restarts == 0


def test_session_tracks_proof_states_across_tactic_steps():
    path = ROOT / "proof_step.in"
    with ReplProcess([*FAKE, "replay", str(path), str(expected(path))], timeout_s=20) as repl:
        session = ReplSession(repl)
        r = session.command("def f : Nat := by sorry")
        assert r.env == 0 and r.sorries[0].proof_state == 0 and r.sorries[0].goal == "⊢ Nat"
        assert r.ok and not r.complete  # a sorry is a warning, not an error, and not a proof
        r1 = session.tactic("apply Int.natAbs", 0, r.generation)
        assert r1.goals == ["⊢ Int"] and not r1.complete
        r2 = session.tactic("have t : Nat := 42", 0, r.generation)
        assert r2.proof_state == 2 and r2.goals == ["t : Nat\n⊢ Nat"]
        r3 = session.tactic("exact t", 2, r.generation)
        assert r3.complete and r3.proof_status == "Completed"


def test_unknown_environment_is_a_rejection_not_a_crash():
    path = ROOT / "unknown_environment.in"
    with ReplProcess([*FAKE, "replay", str(path), str(expected(path))], timeout_s=20) as repl:
        r = ReplSession(repl).command("def f : Nat := by sorry", env=5)
        assert r.error == "Unknown environment." and not r.ok
        assert repl.alive


def test_errors_and_positions_from_a_real_type_mismatch():
    raw = responses(ROOT / "app_type_mismatch.in")
    parsed = [parse_response(x) for x in raw]
    errors = [m for r in parsed for m in r.errors]
    assert errors and all(m.pos and m.end_pos and m.end_pos.line >= m.pos.line for m in errors)
