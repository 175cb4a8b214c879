"""The same databases in a real PostgreSQL: same rows and keys, a read-only role, and gold
queries that give the same results on both engines."""

from __future__ import annotations

import math
import sqlite3
from decimal import Decimal

import pytest

from arenas.engines.sql_schema import read_schema
from arenas.sql.data import DATABASES, database_path
from arenas.sql.tasks import SPLITS, load_tasks

pytest.importorskip("psycopg")
pytest.importorskip("sqlalchemy")


@pytest.fixture(scope="module")
def loaded(postgres_server):
    """name -> (admin URL, read-only URL) for every database, each in its own PostgreSQL database."""
    from arenas.sql.postgres import load_all_into_postgres

    readonly = load_all_into_postgres(postgres_server)
    assert set(readonly) == set(DATABASES)
    return {name: (postgres_server.rsplit("/", 1)[0] + f"/arenas_{name}", url) for name, url in readonly.items()}


def _pg(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True)


def _norm(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def _key(row):
    return tuple((0, 0) if v is None else (1, round(v, 6)) if isinstance(v, int | float) else (2, str(v))
                 for v in row)


def _same(a, b) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)
    return a == b


def same_results(sqlite_rows, pg_rows, ordered: bool) -> bool:
    left = [tuple(_norm(v) for v in r) for r in sqlite_rows]
    right = [tuple(_norm(v) for v in r) for r in pg_rows]
    if not ordered:
        left, right = sorted(left, key=_key), sorted(right, key=_key)
    return len(left) == len(right) and all(
        len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y, strict=True)) for x, y in zip(left, right, strict=True))


@pytest.mark.parametrize("name", DATABASES)
def test_same_rows_and_constraints(loaded, name):
    admin, _ = loaded[name]
    schema = read_schema(database_path(name))
    lite = sqlite3.connect(database_path(name))
    with _pg(admin) as pg:
        for table in schema.tables:
            q = f'SELECT COUNT(*) FROM "{table.name}"'
            assert pg.execute(q).fetchone()[0] == lite.execute(q).fetchone()[0]
            cols = [r[0] for r in pg.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                (table.name,))]
            assert tuple(cols) == table.column_names
        fks = pg.execute("SELECT COUNT(*) FROM information_schema.table_constraints "
                         "WHERE constraint_type = 'FOREIGN KEY' AND table_schema = 'public'").fetchone()[0]
        pks = pg.execute("SELECT COUNT(*) FROM information_schema.table_constraints "
                         "WHERE constraint_type = 'PRIMARY KEY' AND table_schema = 'public'").fetchone()[0]
        assert fks == len(schema.foreign_keys) and pks == len(schema.tables)
        first = schema.tables[0]
        order = ", ".join(f'"{c}"' for c in first.primary_key)
        q = f'SELECT * FROM "{first.name}" ORDER BY {order} LIMIT 20'
        assert same_results(lite.execute(q).fetchall(), pg.execute(q).fetchall(), ordered=True)
    lite.close()


def test_read_only_role_cannot_change_anything(loaded):
    import psycopg

    _, ro = loaded["chinook"]
    with _pg(ro) as pg:
        assert pg.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        assert pg.execute('SELECT COUNT(*) FROM "Genre"').fetchone()[0] == 25
        for statement in ['INSERT INTO "Genre" VALUES (999, \'x\')', 'DELETE FROM "Genre"',
                          'DROP TABLE "Genre"', 'CREATE TABLE t (x INT)']:
            with pytest.raises(psycopg.Error):
                pg.execute(statement)
        with pytest.raises(psycopg.Error):  # leaving read-only mode still leaves no write privilege
            pg.execute("SET default_transaction_read_only = off")
            pg.execute('UPDATE "Genre" SET "Name" = \'x\'')
        assert pg.execute('SELECT COUNT(*) FROM "Genre" WHERE "Name" = \'x\'').fetchone()[0] == 0


def test_gold_queries_agree_on_sqlite_and_postgres(loaded):
    tasks = [t for split in SPLITS for t in load_tasks(split)][::3]
    lites = {n: sqlite3.connect(f"file:{database_path(n)}?mode=ro", uri=True) for n in DATABASES}
    pgs = {n: _pg(loaded[n][1]) for n in DATABASES}
    checked = 0
    try:
        for t in tasks:
            db = t.prompt["db"]
            for sql, ordered in zip(t.reference["gold"], t.reference["order_matters"], strict=True):
                lite_rows = lites[db].execute(sql).fetchall()
                pg_rows = pgs[db].execute(sql).fetchall()
                assert same_results(lite_rows, pg_rows, ordered), (t.id, sql, lite_rows[:3], pg_rows[:3])
                checked += 1
    finally:
        for c in [*lites.values(), *pgs.values()]:
            c.close()
    assert checked >= 500
    assert {t.meta["family"] for t in tasks} >= {"window", "nested", "followup", "topk"}


def test_bag_comparison_is_strict_enough():
    assert same_results([(1, "a"), (2, "b")], [(2, "b"), (1, "a")], ordered=False)
    assert not same_results([(1, "a"), (2, "b")], [(2, "b"), (1, "a")], ordered=True)
    assert same_results([(Decimal("1.10"),)], [(1.1000000001,)], ordered=True)
    assert not same_results([(1, "a")], [(1, "a"), (1, "a")], ordered=False)
    assert not same_results([(1.0,)], [(1.01,)], ordered=False)
