import json
import math

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import arenas
from arenas.agents import make_agent_factory
from arenas.rollout import RunConfig, run
from arenas.sql.data import database_path
from arenas.sql.tasks import load_tasks


def call(name, **arguments):
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


@pytest.fixture(scope="module")
def arena():
    a = arenas.make("sql")
    yield a
    a.close()


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_oracle_scores_one_on_every_split(split):
    n = len(load_tasks(split))
    summary = run(RunConfig(arena="sql", agent="oracle", n=min(n, 150), split=split, concurrency=2),
                  make_agent_factory("oracle"), progress=False)
    assert summary["errors"] == 0
    assert summary["mean_reward"] == pytest.approx(1.0) and summary["success_rate"] == 1.0


def test_random_scores_near_zero():
    summary = run(RunConfig(arena="sql", agent="random", n=60, split="test", seed=1),
                  make_agent_factory("random"), progress=False)
    assert summary["errors"] == 0 and summary["mean_reward"] < 0.1


def test_tools_explore_the_database(arena):
    arena.reset(task=load_tasks("test")[0])
    out = arena.step(call("list_tables")).observation.messages[0]["content"]
    assert "rows)" in out
    table = out.splitlines()[0].split(" ")[0]
    desc = arena.step(call("describe_table", table=table)).observation.messages[0]["content"]
    assert desc.startswith(table)
    rows = arena.step(call("sample_rows", table=table, n=3)).observation.messages[0]["content"]
    assert rows.count("\n") >= 3
    err = arena.step(call("run_sql", query="SELEC nonsense")).observation.messages[0]["content"]
    assert err.startswith("error:")
    err = arena.step(call("run_sql", query=f'DELETE FROM "{table}"')).observation.messages[0]["content"]
    assert err.startswith("error:")


def test_wrong_submission_kind_is_feedback(arena):
    task = next(t for t in load_tasks("test") if t.prompt["answer_kind"] == "sql")
    arena.reset(task=task)
    r = arena.step(call("submit_answer", answer="42"))
    assert not r.done and "submit_sql" in r.observation.messages[0]["content"]


def test_followup_conversation_pays_process_rewards_that_sum_to_total(arena):
    task = next(t for split in ("train", "dev", "test") for t in load_tasks(split)
                if len(t.prompt["questions"]) > 1)
    arena.reset(task=task)
    policy = arena.policy("oracle")
    obs, rewards = None, []
    for _ in task.prompt["questions"]:
        r = arena.step(policy(obs))
        rewards.append(r.reward)
        obs = r.observation
    assert r.terminated and r.info["reward_breakdown"]["passed"]
    assert all(x > 0 for x in rewards) and sum(rewards) == pytest.approx(r.info["reward_breakdown"]["total"])
    assert "Question 2" in json.dumps(arena.task.prompt) or len(rewards) >= 2


def test_hard_coded_answer_scores_zero(arena):
    from arenas.sql.engine import connect

    task = next(t for t in load_tasks("test") if t.prompt["answer_kind"] == "sql" and len(t.prompt["questions"]) == 1)
    db = connect(database_path(task.prompt["db"]))
    rows = db.execute(task.reference["gold"][0], max_rows=1000).rows
    db.close()
    values = ", ".join("(" + ", ".join(repr(v) if not isinstance(v, str) else "'" + v.replace("'", "''") + "'"
                                       for v in row) + ")" for row in rows)
    arena.reset(task=task)
    r = arena.step(call("submit_sql", query=f"VALUES {values}"))
    bd = r.info["reward_breakdown"]
    assert r.terminated and bd["components"]["correct"] == 0.0 and not bd["passed"]


def test_truncation_scores_unanswered_as_zero():
    a = arenas.make("sql", max_turns=2)
    a.reset(seed=0)
    a.step(call("list_tables"))
    r = a.step(call("list_tables"))
    assert r.truncated and r.info["reward_breakdown"]["total"] == 0.0
    a.close()


@pytest.mark.parametrize("view", ["text"])
def test_gymnasium_check_env(view):
    env = gymnasium.make("arenas/sql-v0", view=view)
    check_env(env.unwrapped)
    env.close()


def test_fuzz_malformed_actions_never_crash(arena):
    import random

    rng = random.Random(0)
    junk = ["", "SELECT 1", "<tool_call>", "<tool_call>{}</tool_call>", call("run_sql"), call("run_sql", query=3),
            call("describe_table", table="nope"), call("sample_rows", table="x", n="many"),
            call("submit_sql", query="DROP TABLE x"), call("run_sql", query="ATTACH DATABASE ':memory:' AS x"),
            call("run_sql", query="PRAGMA query_only=0"), call("run_sql", query="SELECT 1; SELECT 2"),
            call("bogus"), "\x00\xff" * 10, call("run_sql", query="WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL "
                                                                   "SELECT i+1 FROM r) SELECT COUNT(*) FROM r")]
    from arenas.engines.cache import sha256_file
    from arenas.sql.data import DATABASES, database_path

    digests = {db: sha256_file(database_path(db)) for db in DATABASES}
    invalid = errors = steps = 0
    for episode in range(10):
        arena.reset(seed=episode)
        for _ in range(5):
            r = arena.step(rng.choice(junk))
            steps += 1
            assert r.observation.messages and math.isfinite(r.reward)  # feedback, never silence
            invalid += bool(r.info["invalid_action"])
            errors += any(str(m.get("content", "")).startswith("error:") for m in r.observation.messages)
            if r.done:
                break
    assert invalid > 0 and errors > 0 and invalid + errors <= 2 * steps
    assert {db: sha256_file(database_path(db)) for db in DATABASES} == digests  # nothing was written


def test_arena_runs_on_postgresql(postgres_server):
    from arenas.sql.postgres import load_all_into_postgres

    urls = load_all_into_postgres(postgres_server)
    name, ro = next(iter(urls.items()))
    template = ro.replace(f"arenas_{name}", "arenas_{db}")
    summary = run(RunConfig(arena="sql", agent="oracle", n=40, split="test", arena_config={"db_url": template}),
                  make_agent_factory("oracle"), progress=False)
    assert summary["errors"] == 0 and summary["mean_reward"] == pytest.approx(1.0)
    a = arenas.make("sql", db_url=template)
    a.reset(task=next(t for t in load_tasks("test") if t.prompt["db"] == "chinook"))
    out = a.step(call("run_sql", query='SELECT COUNT(*) FROM "Track"')).observation.messages[0]["content"]
    assert "3503" in out
    out = a.step(call("run_sql", query='DELETE FROM "Track"')).observation.messages[0]["content"]
    assert out.startswith("error:") and "read-only" in out
    assert "3503" in a.step(call("run_sql", query='SELECT COUNT(*) FROM "Track"')).observation.messages[0]["content"]
    a.close()


def test_tool_calls_of_one_action_share_the_step_time_budget():
    """Five 2-second queries in one action take the step's 3 s budget, not 10 s."""
    import json
    import time

    bomb = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"
    call = '<tool_call>' + json.dumps({"name": "run_sql", "arguments": {"query": bomb}}) + '</tool_call>'
    with arenas.make("sql", timeout_s=2.0, step_timeout_s=3.0) as arena:
        arena.reset(task=arena.tasks("test")[0], seed=0)
        start = time.perf_counter()
        result = arena.step(call * 5)
        elapsed = time.perf_counter() - start
    assert elapsed < 4.0
    assert "time budget of 3 s ran out" in result.observation.messages[-1]["content"]
