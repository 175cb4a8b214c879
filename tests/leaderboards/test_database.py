"""The results database and ingestion, on SQLite and on a real PostgreSQL server alike."""

import json

import pytest
import sqlalchemy as sa

from arenas.leaderboards import RejectedEntry, ResultsDB, ingest_run, load_boards, load_suite
from arenas.leaderboards.db import SCHEMA_VERSION, OutdatedSchemaError
from tests.leaderboards.scored_arena import play


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    play(root / "oracle")
    play(root / "random", "random")
    play(root / "crash", arena="lb-guess-crash")
    return root


def _tamper(src, dst, edit):
    """A copy of run folder ``src`` whose episode lines went through ``edit``."""
    dst.mkdir()
    (dst / "run.json").write_text((src / "run.json").read_text())
    lines = [json.loads(x) for x in (src / "episodes.jsonl").read_text().splitlines()]
    (dst / "episodes.jsonl").write_text("".join(json.dumps(edit(i, d)) + "\n" for i, d in enumerate(lines)))
    return dst


def test_ingest_rank_and_replace(db_url, runs):
    db = ResultsDB(db_url)
    ids = [ingest_run(db, runs / name) for name in ("oracle", "random", "crash")]
    assert all(e.verified for e in db.entries())
    board = load_boards(db)[("core-v1", "lb-guess", "test")]
    assert [s.entry.agent_spec for s in board] == ["oracle", "random"]
    assert board[0].value == pytest.approx(1.1) and board[0].entry.suite == "core-v1"
    crash = load_boards(db)[("other runs", "lb-guess-crash", "test")][0]
    assert crash.errors == 2 and crash.value == pytest.approx(1.1 * 6 / 8)  # errors count as 0
    assert ingest_run(db, runs / "oracle") not in ids and len(db.entries()) == 3  # re-ingesting replaces
    assert db.suites()["core-v1"]["arenas"]["lb-guess"]["n"] == 8
    entry = db.entries(arena="lb-guess")[0]
    assert entry.hardware["cpus"] and entry.packages["arenas"] and entry.episodes[0].components
    nan = _tamper(runs / "crash", runs.parent / f"nan-{db.engine.dialect.name}",  # a NaN component is stored as null
                  lambda i, d: {**d, "breakdown": {**d["breakdown"], "components": {"x": {"__float__": "nan"}}}}
                  if d["breakdown"] else d)
    ingest_run(db, nan)
    assert {e.components["x"] for e in db.entries(arena="lb-guess-crash")[0].episodes if e.components} == {None}
    db.close()


def test_tampered_episodes_are_rejected_by_name(db_url, runs, tmp_path):
    db = ResultsDB(db_url)
    inflated = _tamper(runs / "random", tmp_path / "inflated",
                       lambda i, d: {**d, "reward": 5.0} if i == 2 else d)
    with pytest.raises(RejectedEntry, match=r"1 episode\(s\).*step rewards sum"):
        ingest_run(db, inflated)

    lines = [json.loads(x) for x in (runs / "random" / "episodes.jsonl").read_text().splitlines()]
    failed = next(i for i, d in enumerate(lines) if d["reward"] < 1)

    def rewrite(i, d):  # a failed episode's rewards raised to a pass its recorded actions never earned
        if i == failed:
            d["turns"][-1]["reward"] += 1.1 - d["reward"]
            d["breakdown"]["total"] = d["reward"] = 1.1
        return d

    consistent = _tamper(runs / "random", tmp_path / "consistent", rewrite)
    with pytest.raises(RejectedEntry, match=rf"1 episode\(s\).*{lines[failed]['task_id']}.*re-scored 0"):
        ingest_run(db, consistent)
    assert db.entries() == []


def test_an_arena_without_rescore_is_accepted_as_unverified(tmp_path):
    play(tmp_path / "guess", arena="lb-plain")
    db = ResultsDB("sqlite://")
    ingest_run(db, tmp_path / "guess")
    entry = db.entries()[0]
    assert not entry.verified and "does not rescore" in entry.note


def test_a_run_must_match_the_suite_it_claims(runs):
    from arenas.config import ConfigError

    with pytest.raises(ConfigError, match="does not match suite sql-v1"):
        ingest_run(ResultsDB("sqlite://"), runs / "oracle", suite=load_suite("sql-v1"))


def _downgrade_to_v1(url):
    """The database as the first release wrote it (no components, tokens or hardware)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table, column in (("episodes", "components"), ("episodes", "tokens"), ("entries", "hardware")):
            conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(sa.text("UPDATE schema_info SET version = 1"))
    engine.dispose()


def test_an_old_database_is_upgraded_in_place(db_url, runs):
    db = ResultsDB(db_url)
    ingest_run(db, runs / "oracle")
    db.close()
    _downgrade_to_v1(db_url)
    upgraded = ResultsDB(db_url)
    assert upgraded.upgraded_from == 1
    entry = upgraded.entries()[0]
    assert len(entry.episodes) == 8 and entry.episodes[0].components is None and entry.episodes[0].tokens == 0
    ingest_run(upgraded, runs / "random")  # and it takes new entries with the new columns
    assert {e.agent_spec for e in upgraded.entries()} == {"oracle", "random"}
    upgraded.close()
    with sa.create_engine(db_url).begin() as conn:
        conn.execute(sa.text(f"UPDATE schema_info SET version = {SCHEMA_VERSION + 1}"))
    with pytest.raises(OutdatedSchemaError):
        ResultsDB(db_url)


def test_the_sql_arenas_verifier_rejects_an_edited_submission(tmp_path):
    """With a real verifier: an oracle run re-scores to 1.0 per episode; an episode whose recorded
    submission was replaced (its rewards left as they were) is rejected by name."""
    play(tmp_path / "sql", arena="sql", n=2)
    db = ResultsDB("sqlite://")
    ingest_run(db, tmp_path / "sql")
    assert db.entries()[0].verified and len(db.entries()[0].episodes) == 2

    def replace_answer(i, d):
        if i == 0:
            for turn in d["turns"]:
                for call in turn["action"].get("tool_calls", []):
                    if call["name"] in ("submit_sql", "submit_answer"):
                        key = "query" if call["name"] == "submit_sql" else "answer"
                        call["arguments"][key] = "SELECT 1" if key == "query" else "no idea"
        return d

    edited = _tamper(tmp_path / "sql", tmp_path / "edited", replace_answer)
    first = json.loads((tmp_path / "sql" / "episodes.jsonl").read_text().splitlines()[0])["task_id"]
    with pytest.raises(RejectedEntry, match=rf"1 episode\(s\).*{first}.*re-scored"):
        ingest_run(db, edited)


def test_a_trimmed_run_counts_for_no_suite(runs, tmp_path):
    trimmed = tmp_path / "trimmed"
    trimmed.mkdir()
    (trimmed / "run.json").write_text((runs / "random" / "run.json").read_text())
    lines = (runs / "random" / "episodes.jsonl").read_text().splitlines(keepends=True)
    (trimmed / "episodes.jsonl").write_text("".join(lines[:-1]))  # the last (a weak one?) episode left out
    db = ResultsDB("sqlite://")
    ingest_run(db, trimmed)
    assert db.entries()[0].suite is None


def test_the_board_is_recomputed_from_episodes_never_from_run_json(runs, tmp_path):
    """An inflated summary in run.json changes nothing: scores come from episodes.jsonl."""
    forged = _tamper(runs / "random", tmp_path / "forged", lambda i, d: d)
    record = json.loads((forged / "run.json").read_text())
    record["summary"] = {**(record.get("summary") or {}), "mean_reward": 99.0, "success_rate": 1.0, "errors": 0}
    (forged / "run.json").write_text(json.dumps(record))
    honest, lying = ResultsDB(f"sqlite:///{tmp_path / 'a.sqlite'}"), ResultsDB(f"sqlite:///{tmp_path / 'b.sqlite'}")
    ingest_run(honest, runs / "random")
    ingest_run(lying, forged)
    key = ("core-v1", "lb-guess", "test")
    value = load_boards(lying)[key][0].value
    assert value == pytest.approx(load_boards(honest)[key][0].value) and value < 99.0
