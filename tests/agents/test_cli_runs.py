"""`arenas run sql --agent hf:<dir>` and `--agent openai:<name> --base-url` end to end."""

import pytest
from typer.testing import CliRunner

from arenas.cli import app
from arenas.trajectory import read_trajectories

pytest.importorskip("arenas.sql.arena")


def _run(tmp_path, agent, *extra, token_backend=False):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "sql", "--agent", agent, "-n", "20", "-j", "20", "--quiet",
                                      "--out", str(out), "-c", "max_turns=2", "-c", "show_schema=false", "-o", "max_tokens=6", *extra])
    assert result.exit_code == 0, result.output
    trajs = list(read_trajectories(out / "episodes.jsonl"))
    assert len(trajs) == 20 and all(t.error is None for t in trajs)
    for t in trajs:
        ids, mask, lps = t.tokens["ids"], t.tokens["mask"], t.tokens["logprobs"]
        assert len(ids) == len(mask) == len(lps) and sum(mask) == t.token_counts["completion"] > 0
        assert len(t.turns) == 2 and t.meta["text_only"] is False
        for turn in t.turns if token_backend else ():  # the prompt is a prefix of the sequence
            meta = turn.action["meta"]
            n = meta["prompt_len"]
            assert "prompt_ids" not in meta and 0 < n < len(ids)
            assert ids[n:n + len(meta["completion_ids"])] == meta["completion_ids"]
            assert mask[n - 1] == 0 and all(mask[n:n + len(meta["completion_ids"])])
    return trajs


def test_run_sql_with_hf_agent(tmp_path, tiny_model):
    _run(tmp_path, f"hf:{tiny_model}", "-o", "device=cpu", token_backend=True)


def test_run_sql_with_openai_agent(tmp_path, tiny_model, model_server):
    _run(tmp_path, f"openai:{tiny_model}", "--base-url", model_server)
