import json

from typer.testing import CliRunner

import arenas
from arenas.cli import _register_extra_commands, app, parse_pairs
from tests.core.guess_arena import GuessArena

arenas.register("guess", GuessArena)
_register_extra_commands()
runner = CliRunner()


def test_list_and_info():
    r = runner.invoke(app, ["list"])
    assert r.exit_code == 0 and "arenas/guess-v0" in r.output and "sql" in r.output
    r = runner.invoke(app, ["info", "guess", "--json"])
    assert r.exit_code == 0
    info = json.loads(r.output)
    assert info["splits"]["test"] == 20 and info["reward_components"] == ["exact", "efficiency"]


def test_run_prints_summary_and_resumes(tmp_path):
    args = ["run", "guess", "--agent", "oracle", "-n", "8", "--out", str(tmp_path), "--quiet", "-j", "2"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "success rate" in r.output and "100.0%" in r.output
    assert len((tmp_path / "episodes.jsonl").read_text().splitlines()) == 8
    r = runner.invoke(app, args + ["--resume"])
    assert r.exit_code == 0 and len((tmp_path / "episodes.jsonl").read_text().splitlines()) == 8


def test_leaderboard_command(tmp_path):
    runner.invoke(app, ["run", "guess", "--agent", "oracle", "-n", "3", "--out", str(tmp_path / "a"), "--quiet"])
    r = runner.invoke(app, ["leaderboard", str(tmp_path)])
    assert r.exit_code == 0 and "`oracle`" in r.output


def test_parse_pairs_json_values():
    assert parse_pairs(["a=1", "b=x", "c=[1,2]", "d=true"]) == {"a": 1, "b": "x", "c": [1, 2], "d": True}
