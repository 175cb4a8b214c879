"""Validity of the SQL verdict: every plausible wrong variant of a gold that differs from it on
some generated database is rejected, correct rewrites are accepted, and verdicts are decided by
step budgets, so a slower machine gives the same verdicts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import arenas.engines.sql as engine
from arenas.sql.data import database_path
from arenas.sql.tasks import load_tasks
from arenas.verifiers.sql import gold_suite, test_suite_equivalent
from arenas.verifiers.sql_distill import cached_distill
from arenas.verifiers.sql_variants import FAMILIES, variants

from .music_db import build_music_db


def _golds(sample: bool) -> list[tuple]:
    """(reference, context, template) of the dev/test golds; one per (template, database) if
    ``sample``."""
    out, seen = [], set()
    for split in ("dev", "test"):
        for task in load_tasks(split):
            key = (task.meta["template"], task.prompt["db"])
            if sample and key in seen:
                continue
            seen.add(key)
            path = str(database_path(task.prompt["db"]))
            for i in range(len(task.reference["gold"])):
                out.append((task.reference, {"db": task.prompt["db"], "db_path": path, "question": i},
                            task.meta["template"]))
    return out


def _check_gold(reference: dict, ctx: dict) -> tuple[int, int]:
    gold = reference["gold"][ctx["question"]]
    path = Path(ctx["db_path"]).resolve()
    gold_suite(path, gold, order=reference["order_matters"][ctx["question"]])
    distilled = cached_distill(path, gold, lambda: None)
    stats = distilled.stats
    assert len(distilled.differing) == sum(s[2] for s in stats.values())
    for sql in distilled.differing:
        assert test_suite_equivalent(sql, reference, ctx).score == 0.0, (gold, sql)
    differ = len(distilled.differing)
    for rewrite in (f"WITH answer AS ({gold}) SELECT * FROM answer", f"SELECT * FROM ({gold}) AS answer"):
        assert test_suite_equivalent(rewrite, reference, ctx).score == 1.0, rewrite
    return differ, sum(s[3] for s in stats.values())


def test_variants_cover_the_families():
    gold = ('SELECT c."round", c."losses" FROM "SeriesPost" AS c WHERE c."losses" > 2 AND c."losses" = '
            '(SELECT MAX(c2."losses") FROM "SeriesPost" AS c2 GROUP BY c2."round" HAVING COUNT(*) >= 1)')
    found = {v.family for v in variants(gold)}
    assert {"comparison", "constant", "tie", "predicate", "aggregate", "logic", "distinct", "count"} <= found
    changes = {v.change for v in variants(gold)}
    assert {"gt -> gte", "2 -> 3", "= MAX/MIN(...) -> ORDER BY ... LIMIT 1", "gte -> gt"} <= changes
    ranked = "SELECT a, RANK() OVER (ORDER BY b DESC) FROM t LEFT JOIN u ON t.x = u.x ORDER BY a LIMIT 1"
    changes = {v.change for v in variants(ranked)}
    assert {"rank -> rownumber", "rank -> denserank", "LEFT JOIN -> JOIN", "ASC <-> DESC",
            "ORDER BY ... LIMIT 1 -> = MAX/MIN(...)"} <= changes
    assert set(FAMILIES) >= {v.family for v in variants(gold)}
    assert variants("not sql at all (") == []


def test_sampled_golds_reject_every_variant_that_differs_and_accept_rewrites():
    """One gold per (template, database) of dev and test: the distilled suite rejects every
    variant that differs from the gold on some generated database, and the suite before
    distillation did not (the test would not notice a distiller that adds nothing)."""
    differ = before = 0
    for reference, ctx, _ in _golds(sample=True):
        d, b = _check_gold(reference, ctx)
        differ, before = differ + d, before + b
    assert before < differ


@pytest.mark.slow
def test_every_dev_and_test_gold_rejects_every_variant_that_differs():
    for reference, ctx, _ in _golds(sample=False):
        _check_gold(reference, ctx)


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    path = tmp_path_factory.mktemp("validity") / "music.sqlite"
    build_music_db(path)
    return {"db": "music", "db_path": str(path), "question": 0}


def _ref(gold: str) -> dict:
    return {"gold": [gold], "order_matters": ["ORDER BY" in gold]}


def test_ties_and_strict_comparisons_are_caught(music):
    top = ("SELECT t.Name, t.Milliseconds FROM track t WHERE t.Milliseconds = "
           "(SELECT MAX(Milliseconds) FROM track WHERE GenreId = 1) AND t.GenreId = 1")
    assert test_suite_equivalent("SELECT Name, Milliseconds FROM track WHERE GenreId = 1 "
                                 "ORDER BY Milliseconds DESC LIMIT 1", _ref(top), music).score == 0.0
    assert test_suite_equivalent("SELECT Name, Milliseconds FROM track t WHERE GenreId = 1 AND NOT EXISTS "
                                 "(SELECT 1 FROM track o WHERE o.GenreId = 1 AND o.Milliseconds > t.Milliseconds)",
                                 _ref(top), music).score == 1.0
    having = "SELECT GenreId, AVG(UnitPrice) FROM track GROUP BY GenreId HAVING AVG(UnitPrice) > 1.2"
    assert test_suite_equivalent(having.replace(">", ">="), _ref(having), music).score == 0.0
    assert test_suite_equivalent("SELECT GenreId, AVG(UnitPrice) FROM track GROUP BY 1 HAVING NOT AVG(UnitPrice) <= 1.2",
                                 _ref(having), music).score == 1.0


def test_a_correct_but_slow_query_is_reported_as_too_slow(music):
    gold = "SELECT COUNT(*) FROM track"
    slow = ("SELECT COUNT(*) FROM track a WHERE (SELECT COUNT(*) FROM track b, track c, track d, track e "
            "WHERE b.TrackId = a.TrackId) >= 1")
    verdict = test_suite_equivalent(slow, _ref(gold), music)
    assert verdict.score == 0.0 and verdict.details["reason"] == "too slow"
    smaller = slow.replace("track c, track d, track e", "track c")  # the same answer, fast enough to run
    assert sqlite3.connect(music["db_path"]).execute(smaller).fetchone() == (400,)


def test_verdicts_do_not_change_on_a_four_times_slower_machine(music, monkeypatch):
    gold = "SELECT Name FROM track WHERE Milliseconds > 300000 AND GenreId = 2"
    predictions = [gold, gold.replace(">", ">="), "SELECT Name FROM track WHERE GenreId = 2",
                   "SELECT COUNT(*) FROM track a, track b, track c, track d",
                   "SELECT Name FROM track WHERE NOT Milliseconds <= 300000 AND GenreId = 2"]
    fast = [test_suite_equivalent(p, _ref(gold), music) for p in predictions]
    real = engine.time.perf_counter
    start = real()
    monkeypatch.setattr(engine.time, "perf_counter", lambda: start + 4 * (real() - start))
    slow = [test_suite_equivalent(p, _ref(gold), music) for p in predictions]
    assert [(v.score, v.details.get("reason")) for v in fast] == [(v.score, v.details.get("reason")) for v in slow]
    assert [v.score for v in fast] == [1.0, 0.0, 0.0, 0.0, 1.0]
    assert fast[3].details["reason"] == "too slow"
