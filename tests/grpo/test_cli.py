"""``arenas train`` option parsing: weighted arena mixes and per-arena options."""

from arenas.agents.grpo.cli import parse_arenas


def test_weighted_mix_with_shared_and_per_arena_options():
    mixes = parse_arenas(["memory:0.7", "sql:0.3"], "train",
                         {"max_turns": 4, "memory.workloads": "mlp_small", "sql.show_schema": False})
    assert [(m["arena"], m["weight"]) for m in mixes] == [("memory", 0.7), ("sql", 0.3)]
    assert mixes[0]["config"] == {"max_turns": 4, "workloads": "mlp_small"}
    assert mixes[1]["config"] == {"max_turns": 4, "show_schema": False}


def test_plain_arena_has_weight_one():
    assert parse_arenas(["memory"], "dev", {})[0] == {"arena": "memory", "weight": 1.0, "split": "dev", "config": {}}


def test_sft_command_warm_starts_from_a_runs_trajectories(tiny_model_dir, tmp_path):
    import json

    import typer
    from typer.testing import CliRunner

    from arenas.agents.grpo.cli import sft
    from arenas.trajectory import Trajectory, Turn

    turn = Turn(index=0, observation=[{"role": "user", "content": "which?"}], action={"text": "slow"}, reward=1.0)
    traj = Trajectory(arena="a", arena_version=0, task_id="t", split="train", seed=0, rollout=0, agent="oracle",
                      reward=1.0, turns=[turn])
    (tmp_path / "episodes.jsonl").write_text(traj.to_json() + "\n")
    app = typer.Typer()
    app.command()(sft)
    runner = CliRunner()
    result = runner.invoke(app, ["--model", str(tiny_model_dir), "--out", str(tmp_path / "out"), "--trajectories",
                                 str(tmp_path / "episodes.jsonl"), "--steps", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output[result.output.index("{"):])["examples"] == 1.0
    assert (tmp_path / "out" / "config.json").exists()
    neither = runner.invoke(app, ["--model", str(tiny_model_dir), "--out", str(tmp_path / "x")])
    assert neither.exit_code != 0


def test_train_exits_1_with_the_reason_when_the_run_stopped_without_signal(monkeypatch, tmp_path):
    import typer
    from typer.testing import CliRunner

    from arenas.agents.grpo import trainer
    from arenas.agents.grpo.cli import train

    class Stopped:
        def __init__(self, config):
            pass

        def train(self, progress=True):
            return {"steps": 2, "stopped": "stopped after step 2: no learning signal"}

        def close(self):
            pass

    monkeypatch.setattr(trainer, "GRPOTrainer", Stopped)
    app = typer.Typer()
    app.command()(train)
    result = CliRunner().invoke(app, ["--arena", "memory", "--model", str(tmp_path), "--quiet"])
    assert result.exit_code == 1
    assert "no learning signal" in result.output
