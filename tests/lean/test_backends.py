"""Lean backends: toolchain detection, the "needs a Lean toolchain" paragraph, a Kimina Lean
Server over real HTTP, LeanDojo's absence, and the formalize/prove modes end to end through a
REPL process that answers with recorded responses."""

import json
import os
import stat
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

import arenas
from arenas.lean import backend as lean_backend
from arenas.lean.backend import KiminaBackend, LeanDojoBackend, NoToolchain, lean_version, open_backend
from arenas.verifiers.lean import check_file
from tests.lean.recorded import NAME, PROOF, REFERENCE, SORRY_WARNING, formalize_check, message, prove_check

FAKE = Path(__file__).with_name("fake_repl.py")


def fake_lean(tmp_path, body):
    path = tmp_path / "bin" / "lean"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path.parent


def test_a_failing_lean_on_path_is_not_a_toolchain(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{fake_lean(tmp_path, 'echo broken >&2; exit 1')}:{os.environ['PATH']}")
    tc = lean_version()
    assert not tc.ok and "exited 1" in tc.detail
    good = fake_lean(tmp_path, "echo 'Lean (version 4.24.0, commit x)'")
    monkeypatch.setenv("PATH", f"{good}:{os.environ['PATH']}")
    tc = lean_version()
    assert tc.ok and tc.version.startswith("Lean (version 4.24.0")


def test_without_any_backend_formalize_and_prove_say_how_to_get_one(monkeypatch):
    monkeypatch.setattr(lean_backend, "docker_backend", lambda *a: (None, "no reachable Docker daemon"))
    for mode in ("formalize", "prove"):
        with pytest.raises(NoToolchain) as e:
            arenas.make("lean", mode=mode)
        text = str(e.value)
        assert text.startswith(f"lean mode '{mode}' needs a Lean toolchain:")
        assert "lean_project=" in text and "containers/lean" in text and "lean_server_url" in text
        assert "\n" not in text


def test_a_folder_that_is_not_a_lake_project_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr(lean_backend, "docker_backend", lambda *a: (None, "no reachable Docker daemon"))
    with pytest.raises(NoToolchain, match="not a Lake project"):
        open_backend("import Mathlib", lean_project=str(tmp_path))


def test_lean_dojo_absence_is_detected():
    ok, why = LeanDojoBackend.available()
    if not ok:
        assert "lean_dojo" in why or "toolchain" in why
        with pytest.raises(NoToolchain):
            LeanDojoBackend("/nonexistent")


class KiminaHandler(BaseHTTPRequestHandler):
    reply: dict = {}
    seen: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        KiminaHandler.seen.append((self.path, body))
        data = json.dumps(self.reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_kimina_server_backend_shifts_positions_past_the_header():
    server = HTTPServer(("127.0.0.1", 0), KiminaHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        header = "import Mathlib\nset_option maxHeartbeats 400000\nopen Real"
        b = KiminaBackend(url, header, timeout_s=10)
        shift = b.header.count("\n")
        KiminaHandler.reply = {"results": [{"id": "x", "time": 0.1, "response": {
            "messages": [{"severity": "error", "pos": {"line": shift + 2, "column": 0},
                          "endPos": {"line": shift + 2, "column": 3}, "data": "unsolved goals"}],
            "env": 0}}]}
        r = b.check("theorem t : 1 = 1 := by\n  skip", timeout_s=5)
        assert r.errors[0].pos.line == 2 and r.errors[0].data == "unsolved goals"
        path, body = KiminaHandler.seen[-1]
        assert path == "/api/check" and body["snippets"][0]["code"].startswith(header)
        assert body["timeout"] == 5
        KiminaHandler.reply = {"results": [{"id": "x", "error": "Lean REPL command timed out"}]}
        with pytest.raises(lean_backend.ReplError, match="timed out"):
            b.check("theorem t : 1 = 1 := rfl")
    finally:
        server.shutdown()


# ---- formalize / prove through a REPL process -------------------------------------------------------
def scripted_arena(tmp_path, mode, responses, **config):
    path = tmp_path / "responses.json"
    path.write_text(json.dumps(responses, ensure_ascii=False))
    arena = arenas.make("lean", mode=mode, repl_command=f"{sys.executable} {FAKE} script {path}",
                        timeout_s=10, header_timeout_s=10, **config)
    task = next(t for t in arena.tasks("test") if t.reference["name"] == NAME)
    return arena, task, Path(str(path) + ".log")


def call(name, **arguments):
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments}, ensure_ascii=False)}</tool_call>"


def test_task_reference_is_the_recorded_one():
    with arenas.make("lean", mode="critic") as a:
        assert a.tasks("test")  # the recorded responses below belong to this miniF2F problem
    from arenas.lean import data

    assert any(p["formal"] == REFERENCE for p in data.problems("test"))


def test_prove_mode_end_to_end_with_tactics_and_a_guarded_submission(tmp_path):
    goal = "a : ℝ\n⊢ a * (2 - a) ≤ 1"
    check = prove_check(PROOF)
    responses = [{"env": 0},
                 {"sorries": [{"proofState": 0, "pos": {"line": 3, "column": 22}, "goal": goal,
                               "endPos": {"line": 3, "column": 27}}],
                  "messages": [message({"regions": {"r": [1, 1]}}, "r", "warning", SORRY_WARNING)], "env": 1},
                 {"proofStatus": "Completed", "proofState": 1, "goals": []},
                 check["response"]]
    arena, task, log = scripted_arena(tmp_path, "prove", responses)
    try:
        arena.reset(task=task)
        r = arena.step(call("start_proof"))
        assert "proof_state 0" in r.observation.messages[0]["content"] and goal in r.observation.messages[0]["content"]
        r = arena.step(call("run_tactic", proof_state=0, tactic="nlinarith [sq_nonneg (a - 1)]"))
        assert "proof is complete" in r.observation.messages[0]["content"]
        r = arena.step(call("submit_proof", code=PROOF))
        assert r.done and r.reward == 1.0 and r.info["reward_breakdown"]["passed"]
        sent = [json.loads(line) for line in log.read_text().splitlines()]
        assert sent[0] == {"cmd": task.prompt["header"]}
        assert sent[2] == {"tactic": "nlinarith [sq_nonneg (a - 1)]", "proofState": 0}
        assert sent[3] == {"cmd": check_file("prove", REFERENCE, PROOF, NAME)["code"], "env": 0}
        turns = [{"action": {"text": call("submit_proof", code=PROOF)}, "info": r.info, "reward": r.reward}]
        assert arena.rescore(task, turns).total == 1.0
    finally:
        arena.close()


def test_prove_mode_rejects_a_weakened_statement_that_lean_compiles(tmp_path):
    code = PROOF.replace("(a : ℝ) :", "(a : ℝ) (h : a = 1) :")
    check = prove_check(code, extra=[("guard", "error", "type mismatch")])
    arena, task, _ = scripted_arena(tmp_path, "prove", [{"env": 0}, check["response"]])
    try:
        arena.reset(task=task)
        r = arena.step(call("submit_proof", code=code))
        assert r.done and r.reward == 0.0
        assert "signature guard" in r.info["reward_breakdown"]["details"]["proved"]["reason"]
    finally:
        arena.close()


def test_formalize_mode_scores_compile_and_fidelity(tmp_path):
    statement = REFERENCE
    responses = [{"env": 0},
                 {"sorries": [{"proofState": 0, "pos": {"line": 3, "column": 22}, "goal": "⊢ x",
                               "endPos": {"line": 3, "column": 27}}], "messages": [], "env": 1},
                 formalize_check(statement)["response"]]
    arena, task, _ = scripted_arena(tmp_path, "formalize", responses)
    try:
        arena.reset(task=task)
        assert task.prompt["problem"] and "statement" not in task.prompt
        r = arena.step(call("check_statement", statement=statement))
        assert "sorry (proof_state 0)" in r.observation.messages[0]["content"]
        r = arena.step(arena.policy("oracle")(r.observation))
        assert r.done and r.reward == pytest.approx(1.0)
        assert r.info["reward_breakdown"]["components"] == {"faithful": 1.0, "compiles": 1.0}
    finally:
        arena.close()


def test_a_repl_that_stops_answering_scores_zero_with_the_reason(tmp_path):
    arena = arenas.make("lean", mode="prove", repl_command=f"{sys.executable} {FAKE} silent", timeout_s=0.5,
                         header_timeout_s=0.5)
    try:
        task = arena.tasks("test")[0]
        arena.reset(task=task)
        r = arena.step(call("submit_proof", code=task.reference["statement"].replace("sorry", "simp")))
        assert r.done and r.reward == 0.0
        assert "did not answer" in r.info["reward_breakdown"]["details"]["proved"]["reason"]
    finally:
        arena.close()


def test_the_container_pins_match_the_data_and_the_backend():
    root = Path(__file__).resolve().parents[2] / "containers" / "lean"
    dockerfile = (root / "Dockerfile").read_text()
    toolchain = (root / "lean-toolchain").read_text().strip()
    assert toolchain == "leanprover/lean4:v4.24.0" and lean_backend.IMAGE.endswith(toolchain.split(":")[1])
    assert f"LEAN_TOOLCHAIN={toolchain}" in dockerfile
    assert "f897ebcf72cd16f89ab4577d0c826cd14afaafc7" in (root / "lakefile.toml").read_text()
    assert "/opt/lean/repl/.lake/build/bin/repl" in dockerfile and "WORKDIR /opt/lean/project" in dockerfile
