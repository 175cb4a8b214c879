"""Defence in depth is real only if each layer holds alone: the read-only URI, ``query_only`` and
the authorizer are each tested with the other two lifted."""

import sqlite3

import pytest

from arenas.engines.sql import QueryError, ReadOnlySQLite

WRITE = "INSERT INTO t VALUES (2)"


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "t.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (a INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    return path


def _rows(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT a FROM t").fetchall()
    finally:
        conn.close()


def test_the_authorizer_alone_refuses_writes(db):
    class IgnoresQueryOnly(sqlite3.Connection):
        def execute(self, sql, *args):
            return None if sql.startswith("PRAGMA query_only") else super().execute(sql, *args)

    conn = sqlite3.connect(db, check_same_thread=False, isolation_level=None, factory=IgnoresQueryOnly)
    ro = ReadOnlySQLite(None, conn=conn)  # a writable URI and no query_only: the authorizer is alone
    with pytest.raises(QueryError, match="not authorized|read-only"):
        ro.query(WRITE)
    ro.close()
    assert _rows(db) == [(1,)]


def test_query_only_alone_refuses_writes(db):
    conn = sqlite3.connect(db, check_same_thread=False, isolation_level=None)  # writable URI
    ro = ReadOnlySQLite(None, conn=conn)
    conn.set_authorizer(None)  # lift the authorizer; query_only stays on
    with pytest.raises(QueryError, match="readonly|read-only"):
        ro.query(WRITE)
    ro.close()
    assert _rows(db) == [(1,)]


def test_the_read_only_uri_alone_refuses_writes(db):
    ro = ReadOnlySQLite(db)
    ro.conn.set_authorizer(None)
    ro.conn.execute("PRAGMA query_only=OFF")  # only mode=ro is left
    with pytest.raises(QueryError, match="readonly|read-only"):
        ro.query(WRITE)
    ro.close()
    assert _rows(db) == [(1,)]
