"""The parallel neighbour path of test-suite equivalence, forced on whatever the CPU count and gold
speed: its verdicts (score and details) are the ones of checking the neighbours one by one."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from arenas.verifiers import sql as sqlv
from arenas.verifiers.sql_suite import neighbour_paths

from .music_db import build_music_db
from .test_verifier import COUNTRY_SALES, EQUIVALENT, JAZZ_LONG, TOP_ARTIST, ref


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parallel")
    path = build_music_db(folder / "music.sqlite")
    with pytest.MonkeyPatch.context() as mp:  # the neighbours go to this module's own cache
        mp.setenv("ARENAS_HOME", str(folder / "home"))
        neighbour_paths(path)
    return {"db": "music", "db_path": str(path), "question": 0}


def _pairs(path: str) -> list[tuple[str, str, dict]]:
    """(gold, prediction, extra context): equal rewrites, answers right only on the original,
    an error and PostgreSQL syntax that needs transpiling."""
    values = [r[0] for r in sqlite3.connect(path).execute("SELECT DISTINCT Milliseconds FROM track ORDER BY 1")]
    low = max(zip(values, values[1:], strict=False), key=lambda p: p[1] - p[0])[0]
    top = sqlv.gold_suite(path, TOP_ARTIST)[0].rows[0]
    pairs = [(gold, pred, {}) for gold, pred in EQUIVALENT]
    pairs += [(gold, gold, {}) for gold in (TOP_ARTIST, JAZZ_LONG, COUNTRY_SALES)]
    pairs += [
        (TOP_ARTIST, f"SELECT '{top[0]}', {top[1]}", {}),
        (f"SELECT Name FROM track WHERE Milliseconds > {low}", f"SELECT Name FROM track WHERE Milliseconds > {low + 1}", {}),
        ("SELECT Name FROM artist WHERE ArtistId IN (SELECT ArtistId FROM album)", "SELECT Name FROM artist", {}),
        ("SELECT COUNT(*) FROM track", "SELECT COUNT(*) FROM trak", {}),
        ("SELECT Name FROM artist WHERE Name LIKE 'a%'", "SELECT Name::text FROM artist WHERE Name ILIKE 'A%'",
         {"dialect": "postgresql"}),
    ]
    return pairs


def _verdicts(monkeypatch, ctx, pairs, parallel: bool) -> tuple[list, int]:
    calls = []
    speculate = sqlv._speculate

    def spy(*args, **kwargs):
        calls.append(1)
        return speculate(*args, **kwargs)

    monkeypatch.setattr(sqlv, "_speculate", spy)
    monkeypatch.setattr(sqlv, "VERIFY_THREADS", 2 if parallel else 1)
    monkeypatch.setattr(sqlv, "PARALLEL_MIN_S", -1.0 if parallel else float("inf"))
    out = [dataclasses.asdict(sqlv.test_suite_equivalent(pred, ref(gold), {**ctx, **extra}))
           for gold, pred, extra in pairs]
    return out, len(calls)


def test_parallel_neighbours_give_the_sequential_verdicts(monkeypatch, ctx):
    pairs = _pairs(ctx["db_path"])
    sequential, n_seq = _verdicts(monkeypatch, ctx, pairs, parallel=False)
    parallel, n_par = _verdicts(monkeypatch, ctx, pairs, parallel=True)
    assert n_seq == 0 and n_par > 0  # the forcing switches really pick the path
    scores = [v["score"] for v in sequential]
    assert 1.0 in scores and 0.0 in scores
    for pair, seq, par in zip(pairs, sequential, parallel, strict=True):
        assert par == seq, pair[1]
