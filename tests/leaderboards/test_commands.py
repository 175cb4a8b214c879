"""``arenas eval``, ``arenas leaderboard ...`` and ``arenas export`` through the command line."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import arenas
from arenas.cli import _register_extra_commands, app

_register_extra_commands()
runner = CliRunner()


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """A pinned four-task suite evaluated with the oracle and random agents."""
    root = tmp_path_factory.mktemp("eval")
    tasks = [t.id for t in arenas.make("lb-guess").sample_tasks("test", 4, 0)]
    suite = root / "tiny-v1.toml"
    suite.write_text(f'name = "tiny"\nversion = 1\n[budgets]\nmax_turns = 12\n[arenas.lb-guess]\ntasks = {json.dumps(tasks)}\n')
    db = f"sqlite:///{root / 'board.sqlite'}"
    for agent in ("oracle", "random"):
        r = runner.invoke(app, ["eval", str(suite), "--agent", agent, "--runs", str(root / "runs"), "--db", db,
                                "--quiet"])
        assert r.exit_code == 0, r.output
    return root, suite, db


def test_eval_runs_ingests_and_resumes(evaluated):
    root, suite, db = evaluated
    run_dir = root / "runs" / "tiny-v1" / "lb-guess" / "oracle"
    assert len((run_dir / "episodes.jsonl").read_text().splitlines()) == 4
    assert json.loads((run_dir / "run.json").read_text())["config"]["arena_config"] == {"max_turns": 12}
    r = runner.invoke(app, ["eval", str(suite), "--agent", "oracle", "--runs", str(root / "runs"), "--db", db, "--quiet"])
    assert r.exit_code == 0 and "`oracle`" in r.output and "`random`" in r.output
    assert len((run_dir / "episodes.jsonl").read_text().splitlines()) == 4  # resumed: nothing replayed
    r = runner.invoke(app, ["eval", str(suite), "--agent", "oracle", "--arenas", "sql", "--db", db])
    assert r.exit_code != 0 and "no arena 'sql'" in str(r.exception)


def test_leaderboard_show_publish_and_ingest(evaluated, tmp_path):
    root, _, db = evaluated
    r = runner.invoke(app, ["leaderboard", "show", "--db", db, "--suite", "tiny-v1"])
    assert r.exit_code == 0 and r.output.index("`oracle`") < r.output.index("`random`")
    r = runner.invoke(app, ["leaderboard", str(root / "runs")])  # the default: show these run folders
    assert r.exit_code == 0 and "tiny-v1" not in r.output and "other runs" in r.output
    r = runner.invoke(app, ["leaderboard", "publish", "--db", db, "--out", str(tmp_path / "site")])
    assert r.exit_code == 0 and (tmp_path / "site" / "index.html").exists()
    bad = tmp_path / "bad"
    bad.mkdir()
    src = root / "runs" / "tiny-v1" / "lb-guess" / "oracle"
    (bad / "run.json").write_text((src / "run.json").read_text())
    (bad / "episodes.jsonl").write_text((src / "episodes.jsonl").read_text().replace('"reward": 1.1', '"reward": 2.2', 1))
    r = runner.invoke(app, ["leaderboard", "ingest", str(bad), "--db", db])
    assert r.exit_code == 1 and "rejected" in r.output
    r = runner.invoke(app, ["leaderboard", "show", str(root / "runs"), str(bad)])  # the rejected run is left out
    assert r.exit_code == 0 and "rejected" in r.stderr and r.stdout.count("`oracle`") == 1


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv", "hf"])
def test_export_flat_table(evaluated, tmp_path, fmt):
    root, _, _ = evaluated
    out = tmp_path / f"episodes.{fmt}"
    r = runner.invoke(app, ["export", str(root / "runs"), "--format", fmt, "--out", str(out)])
    assert r.exit_code == 0, r.output
    read = {"parquet": pd.read_parquet, "csv": pd.read_csv, "jsonl": lambda p: pd.read_json(p, lines=True),
            "hf": lambda p: pd.read_parquet(next((p / "data").glob("train-*.parquet")))}
    df = read[fmt](out)
    if fmt == "hf":
        assert "data_files" in (out / "README.md").read_text()
    assert len(df) == 8 and set(df.agent) == {"oracle", "random"}
    messages = df.messages[0] if fmt != "csv" else json.loads(df.messages[0])
    assert [m["role"] for m in messages][:2] == ["user", "assistant"] and "<tool_call>" not in messages[0]["content"]
    oracle = df[df.agent == "oracle"]
    assert (oracle.reward == 1.1).all() and oracle.success.all()


def test_eval_skips_arenas_the_agent_cannot_play(tmp_path):
    suite = tmp_path / "mixed-v1.toml"
    suite.write_text('name = "mixed"\nversion = 1\n[arenas.lb-guess]\nn = 2\n[arenas.not-installed]\nn = 2\n')
    args = ["eval", str(suite), "--runs", str(tmp_path / "runs"), "--db", f"sqlite:///{tmp_path / 'b.sqlite'}", "--quiet"]
    r = runner.invoke(app, [*args, "--agent", "oracle"])
    assert r.exit_code == 0 and "not-installed: skipped (unknown arena" in r.output and "`oracle`" in r.output
    r = runner.invoke(app, [*args, "--agent", "heuristic"])  # the guess arena offers no heuristic
    assert r.exit_code == 1 and "lb-guess: skipped (arena 'lb-guess' offers no 'heuristic' policy" in r.output
