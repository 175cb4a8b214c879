"""Task generation: enough distinct, well-formed, selective tasks; splits by (template, database)."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter

import pytest

from arenas.sql.data import DATABASES, database_path
from arenas.sql.tasks import SPLITS, build_tasks, generate, load_tasks, split_of
from arenas.sql.templates import TEMPLATES

FAMILIES = {"filter", "aggregate", "join", "groupby", "topk", "nested", "window", "followup"}
# functions or syntax one of the two engines lacks
NOT_PORTABLE = re.compile(r"\b(strftime|julianday|ifnull|group_concat|printf|instr|iif|glob|date|datetime|"
                          r"ilike|extract|to_char|string_agg)\s*\(|`|\[|::", re.IGNORECASE)


def _outer(sql: str) -> str:
    """The query without its parenthesised parts (subqueries, OVER clauses, call arguments)."""
    while re.search(r"\([^()]*\)", sql):
        sql = re.sub(r"\([^()]*\)", "", sql)
    return sql


@pytest.fixture(scope="module")
def tasks():
    return [t for split in SPLITS for t in load_tasks(split)]


def test_enough_distinct_tasks_over_every_database_and_family(tasks):
    assert len(tasks) >= 1000
    assert len({t.id for t in tasks}) == len(tasks)
    assert len({tuple(t.reference["gold"]) for t in tasks}) == len(tasks)
    assert {t.prompt["db"] for t in tasks} == set(DATABASES)
    assert {t.meta["family"] for t in tasks} == FAMILIES
    for db in DATABASES:
        assert len({t.meta["family"] for t in tasks if t.meta["db"] == db}) == len(FAMILIES)
    share = sum(t.prompt["answer_kind"] == "value" for t in tasks) / len(tasks)
    assert 0.1 <= share <= 0.3


def test_task_format(tasks):
    for t in tasks:
        db, name = t.prompt["db"], t.meta["template"]
        assert re.fullmatch(rf"sql-{db}-{name}-\d+", t.id)
        assert t.meta == {"template": name, "family": TEMPLATES[name][0], "db": db}
        n = len(t.prompt["questions"])
        assert n == len(t.reference["gold"]) == len(t.reference["order_matters"])
        assert t.prompt["answer_kind"] in {"sql", "value"}
        assert all(isinstance(q, str) and q.endswith(("?", ".")) for q in t.prompt["questions"])
        for sql, ordered in zip(t.reference["gold"], t.reference["order_matters"], strict=True):
            assert ordered == ("ORDER BY" in _outer(sql)), sql
            assert not NOT_PORTABLE.search(re.sub(r"'[^']*'", "''", sql)), sql
        if t.meta["family"] == "followup":
            assert n >= 2
        else:
            assert n == 1
        if t.prompt["answer_kind"] == "value":
            assert len(t.reference["answers"]) == n and all(len(a) == 1 and len(a[0]) == 1
                                                            for a in t.reference["answers"])
        else:
            assert "answers" not in t.reference


def test_gold_results_are_selective_and_match_the_recorded_answers(tasks):
    conns = {db: sqlite3.connect(f"file:{database_path(db)}?mode=ro", uri=True) for db in DATABASES}
    for t in tasks:
        conn = conns[t.prompt["db"]]
        results = [conn.execute(sql).fetchall() for sql in t.reference["gold"]]
        assert all(results), t.id
        assert all(len(rows) <= 50 for rows in results), t.id
        if t.prompt["answer_kind"] == "value":
            assert [[list(r) for r in rows] for rows in results] == t.reference["answers"]
        if t.meta["family"] == "filter":  # a filter keeps part of its table, never all of it
            table = re.search(r'FROM "(\w+)"', t.reference["gold"][0]).group(1)
            assert len(results[0]) < conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0], t.id
    for c in conns.values():
        c.close()


def test_whole_table_questions_are_not_generated(tasks):
    for t in tasks:
        for sql in t.reference["gold"]:
            single_count = re.fullmatch(r'SELECT COUNT\(\*\) FROM "\w+"( AS \w+)?', sql)
            assert not single_count, t.id


def test_splits_hold_unseen_template_database_pairs():
    by_split = build_tasks()
    pairs = {s: {(t.meta["template"], t.meta["db"]) for t in ts} for s, ts in by_split.items()}
    assert not pairs["test"] & pairs["train"] and not pairs["dev"] & pairs["train"]
    assert not pairs["test"] & pairs["dev"]
    for split, ts in by_split.items():
        assert ts and all(t.split == split == split_of(t.meta["template"], t.meta["db"]) for t in ts)
    train_templates = {name for name, _ in pairs["train"]}
    test_templates = {name for name, _ in pairs["test"]}
    assert {db for _, db in pairs["train"]} == set(DATABASES)
    assert len(test_templates & train_templates) >= len(test_templates) - 2  # mostly known templates
    assert min(len(ts) for ts in by_split.values()) >= 150
    assert Counter(t.split for ts in by_split.values() for t in ts)["train"] > len(by_split["test"])


def test_generation_is_deterministic_and_matches_the_cache():
    fresh = generate("baseball")
    again = generate("baseball")
    assert [t.to_dict() for t in fresh] == [t.to_dict() for t in again]
    cached = {t.id: t for split in SPLITS for t in load_tasks(split) if t.prompt["db"] == "baseball"}
    assert {t.id: t for t in fresh} == cached


def test_followups_depend_on_the_first_question(tasks):
    followups = [t for t in tasks if t.meta["family"] == "followup"]
    assert len(followups) >= 60
    assert {t.meta["template"] for t in followups} >= {"followup_refine", "followup_switch"}
    for t in followups:
        assert re.match(r"(Of those|And the same|How many|List the)", t.prompt["questions"][1])


def test_load_tasks_is_cached_and_rejects_unknown_splits():
    assert load_tasks("train") is load_tasks("train")
    with pytest.raises(KeyError, match="unknown split"):
        load_tasks("validation")
