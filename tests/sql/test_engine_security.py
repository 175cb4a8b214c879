"""The agent can never change data: every write, schema change, escape hatch and resource bomb
gets a clear error, and the database is byte-for-byte untouched afterwards."""

from __future__ import annotations

import sqlite3
import threading
import tracemalloc

import pytest

from arenas.engines.cache import sha256_file
from arenas.engines.sql import split_statements
from arenas.sql.engine import QueryError, QueryResult, connect, create_readonly_role, render_table

from .music_db import build_music_db

TABLES = ["album", "artist", "customer", "employee", "genre", "invoice", "invoice_line", "playlist",
          "playlist_track", "track"]

# (statement, words the error must contain)
SQLITE_ATTACKS = [
    ("CREATE TABLE evil (a INTEGER)", "schema"),
    ("CREATE TEMP TABLE evil (a INTEGER)", "schema"),
    ("CREATE VIEW evil AS SELECT 1", "schema"),
    ("CREATE INDEX evil ON track (Name)", "schema"),
    ("CREATE VIRTUAL TABLE evil USING fts5(a)", "schema"),
    ("CREATE TRIGGER evil AFTER INSERT ON genre BEGIN DELETE FROM track; END", "one SQL statement"),
    ("CREATE TRIGGER evil AFTER INSERT ON genre BEGIN SELECT 1; END", "one SQL statement"),
    ("CREATE TRIGGER evil AFTER INSERT ON genre BEGIN SELECT 1 END", "CREATE TRIGGER"),
    ("DROP TABLE track", "schema"),
    ("DROP INDEX track_album", "schema"),
    ("ALTER TABLE track ADD COLUMN evil TEXT", "ALTER TABLE"),
    ("ALTER TABLE track RENAME TO evil", "ALTER TABLE"),
    ("INSERT INTO genre VALUES (99, 'Evil')", "INSERT on genre"),
    ("REPLACE INTO genre VALUES (1, 'Evil')", "INSERT on genre"),
    ("WITH x AS (SELECT 1) INSERT INTO genre SELECT 98, 'Evil' FROM x", "INSERT on genre"),
    ("UPDATE track SET Name = 'Evil'", "UPDATE on track"),
    ("UPDATE sqlite_master SET sql = 'evil'", "may not be modified"),
    ("DELETE FROM invoice_line", "DELETE on invoice_line"),
    ("ATTACH DATABASE '{tmp}/evil.db' AS evil", "ATTACH"),
    ("ATTACH DATABASE ':memory:' AS evil", "ATTACH"),
    ("DETACH DATABASE main", "DETACH"),
    ("PRAGMA query_only = OFF", "PRAGMA query_only"),
    ("PRAGMA writable_schema = ON", "PRAGMA writable_schema"),
    ("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode"),
    ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys"),
    ("PRAGMA user_version = 7", "PRAGMA user_version"),
    ("SELECT 1; DROP TABLE track", "one SQL statement"),
    ("SELECT 1; PRAGMA query_only = OFF", "one SQL statement"),
    ("SELECT 'a;b' AS x; DELETE FROM track -- trailing", "one SQL statement"),
    ("SELECT load_extension('/tmp/evil.so')", "load_extension"),
    ("SELECT fts3_tokenizer('simple')", "fts3_tokenizer"),
    ("BEGIN IMMEDIATE", "TRANSACTION"),
    ("COMMIT", "TRANSACTION"),
    ("SAVEPOINT evil", "SAVEPOINT"),
    ("VACUUM", "read-only"),
    ("VACUUM INTO '{tmp}/copy.db'", "read-only"),
    ("REINDEX", "REINDEX"),
    ("ANALYZE", "ANALYZE"),
    ("SELECT zeroblob(1000000000)", "too big"),
    ("", "no SQL statement"),
]


def fingerprint(path) -> tuple[str, dict[str, int]]:
    conn = sqlite3.connect(path)
    counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    conn.close()
    return sha256_file(path), counts


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    folder = tmp_path_factory.mktemp("engine")
    return build_music_db(folder / "music.sqlite")


@pytest.fixture(scope="module")
def db(music):
    database = connect(music)
    yield database
    database.close()


@pytest.mark.parametrize(("sql", "expected"), SQLITE_ATTACKS, ids=[a[0][:40] for a in SQLITE_ATTACKS])
def test_sqlite_attack_is_refused_and_data_untouched(db, music, sql, expected):
    before = fingerprint(music)
    tmp = music.parent
    with pytest.raises(QueryError) as err:
        db.execute(sql.format(tmp=tmp))
    assert expected.lower() in err.value.message.lower()
    assert fingerprint(music) == before
    assert not (tmp / "evil.db").exists() and not (tmp / "copy.db").exists()
    assert db.execute("SELECT COUNT(*) FROM track").rows == [(400,)]  # the connection still works


def test_reads_and_schema_introspection_work(db):
    result = db.execute("SELECT Name FROM artist WHERE ArtistId <= 2 ORDER BY ArtistId")
    assert result.columns == ["Name"] and result.rows == [("AC/DC",), ("Accept",)]
    assert not result.truncated and result.elapsed_s >= 0
    assert ("ArtistId",) in [r[1:2] for r in db.execute("PRAGMA table_info(album)").rows]
    assert len(db.execute("SELECT * FROM pragma_foreign_key_list('track')").rows) == 2
    assert db.execute("SELECT 1;").rows == [(1,)]


def test_recursive_cte_bomb_stops_at_the_time_limit(db, music):
    before = fingerprint(music)
    bomb = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT COUNT(*) FROM r"
    with pytest.raises(QueryError, match="time limit"):
        db.execute(bomb, timeout_s=0.2)
    with pytest.raises(QueryError, match="time limit"):
        db.execute("SELECT * FROM track a, track b, track c ORDER BY random()", timeout_s=0.2)
    assert fingerprint(music) == before
    assert db.execute("SELECT 2").rows == [(2,)]  # the deadline does not leak into the next query


def test_giant_output_is_capped_without_materialising_it(db):
    tracemalloc.start()
    try:  # 64 million rows of 21 columns if it were fetched
        result = db.execute("SELECT * FROM track a, track b, track c", max_rows=50)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.rows) == 50 and result.truncated
    assert peak < 5_000_000
    unbounded = db.execute("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT i FROM r",
                           max_rows=10)
    assert unbounded.rows == [(i,) for i in range(1, 11)] and unbounded.truncated


def test_huge_cells_stop_the_fetch_early(db):
    tracemalloc.start()
    try:  # 400 rows of a megabyte each if it were fetched
        result = db.execute("SELECT zeroblob(999999) AS b FROM track")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.truncated and len(result.rows) < 40
    assert peak < 40_000_000


def test_long_cells_are_clipped(db):
    result = db.execute("SELECT printf('%.*c', 5000, 'x') AS s, zeroblob(10) AS b", max_cell_chars=100)
    text, blob = result.rows[0]
    assert text.startswith("x" * 100) and "4900 more chars" in text
    assert blob == "<blob 10 bytes>"
    assert len(db.execute("SELECT printf('%.*c', 5000, 'x')", max_cell_chars=None).rows[0][0]) == 5000


def test_database_errors_come_back_in_the_databases_words(db):
    with pytest.raises(QueryError, match="no such column: Nope"):
        db.execute("SELECT Nope FROM track")
    with pytest.raises(QueryError, match="syntax error"):
        db.execute("SELEC 1")


def test_threads_share_one_database_safely(db):
    errors: list[BaseException] = []
    results: list[list] = []

    def work(i: int) -> None:
        try:
            for _ in range(20):
                results.append(db.execute(f"SELECT COUNT(*) FROM track WHERE TrackId > {i}").rows)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted({r[0][0] for r in results}) == [397, 398, 399, 400]


def test_split_statements_respects_quotes_and_comments():
    assert split_statements("SELECT ';' AS a; -- x; y\n") == ["SELECT ';' AS a"]
    assert split_statements('SELECT "a;b" FROM t /* ; */') == ['SELECT "a;b" FROM t /* ; */']
    assert split_statements("SELECT $tag$ ; $tag$; SELECT 2") == ["SELECT $tag$ ; $tag$", "SELECT 2"]
    assert split_statements("SELECT 'it''s; fine'") == ["SELECT 'it''s; fine'"]
    assert split_statements(" ; ;") == []


def test_render_table_is_compact_and_says_what_was_left_out():
    result = QueryResult(["Name", "Total"], [("AC/DC", 1.5), ("Accept", None), ("a|b", 2.0)], False)
    assert render_table(result) == "Name | Total\nAC/DC | 1.5\nAccept | NULL\na\\|b | 2\n(3 rows)"
    assert render_table(result, max_rows=1).endswith("AC/DC | 1.5\n... (2 more rows)")
    capped = QueryResult(["i"], [(1,), (2,)], True, max_rows=2)
    assert "capped at 2 rows" in render_table(capped)
    assert render_table(QueryResult(["i"], [])) == "i\n(0 rows)"


# ---- PostgreSQL ---------------------------------------------------------------------------------
PG_ATTACKS = [
    ("CREATE TABLE evil (a int)", "read-only"),
    ("CREATE TEMP TABLE evil (a int)", "read-only"),
    ("DROP TABLE track", "read-only"),
    ("ALTER TABLE track ADD COLUMN evil text", "read-only"),
    ("TRUNCATE invoice_line", "read-only"),
    ("INSERT INTO genre VALUES (99, 'Evil')", "read-only"),
    ("UPDATE track SET name = 'Evil'", "read-only"),
    ("DELETE FROM invoice_line", "read-only"),
    ("WITH d AS (DELETE FROM invoice_line RETURNING 1) SELECT count(*) FROM d", "data-modifying"),
    ("SET default_transaction_read_only = off", "SET statements are not allowed"),
    ("SET ROLE postgres", "SET statements are not allowed"),
    ("BEGIN", "BEGIN statements are not allowed"),
    ("COMMIT", "COMMIT statements are not allowed"),
    ("COPY track TO '/tmp/evil.csv'", "COPY statements are not allowed"),
    ("DO $$ BEGIN DELETE FROM track; END $$", "DO statements are not allowed"),
    ("SELECT 1; DROP TABLE track", "one SQL statement"),
    ("SELECT set_config('default_transaction_read_only', 'off', false); ", "permission denied"),
    ("SELECT pg_read_file('/etc/passwd')", "permission denied"),
    ("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r", "time limit"),
    ("SELECT pg_sleep(10)", "time limit"),
]


def _pg_admin_url(request) -> str:
    """The superuser URL of the session's PostgreSQL server (tests/conftest.py)."""
    try:
        return request.getfixturevalue("postgres_server")
    except pytest.FixtureLookupError:
        pytest.skip("no postgres_server fixture in tests/conftest.py")


def _pg_fingerprint(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {t: conn.exec_driver_sql(f"SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) "
                                        f"FROM {t} x").scalar() for t in TABLES}


@pytest.fixture(scope="module")
def pg(request, music):
    """The music database loaded into its own PostgreSQL database, and a read-only role."""
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    server = make_url(_pg_admin_url(request).replace("postgresql://", "postgresql+psycopg://", 1))
    maintenance = create_engine(server, isolation_level="AUTOCOMMIT")
    with maintenance.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS arenas_engine_security")
        conn.exec_driver_sql("CREATE DATABASE arenas_engine_security")
    admin = server.set(database="arenas_engine_security").render_as_string(hide_password=False)
    admin_engine = create_engine(admin)
    src = sqlite3.connect(music)
    with admin_engine.begin() as conn:
        schema = src.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid").fetchall()
        for _, ddl in schema:  # parents first, as created
            conn.exec_driver_sql(ddl)
        for table, _ in schema:
            rows = src.execute(f"SELECT * FROM {table}").fetchall()
            marks = ",".join(["%s"] * len(rows[0]))
            conn.connection.driver_connection.cursor().executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    src.close()
    reader = create_readonly_role(admin, role="engine_security_reader", password="reader")
    database = connect(reader)
    yield database, admin_engine, reader
    database.close()
    admin_engine.dispose()
    with maintenance.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE arenas_engine_security WITH (FORCE)")
        conn.exec_driver_sql("DROP ROLE engine_security_reader")
    maintenance.dispose()


@pytest.mark.parametrize(("sql", "expected"), PG_ATTACKS, ids=[a[0][:40] for a in PG_ATTACKS])
def test_postgres_attack_is_refused_and_data_untouched(pg, sql, expected):
    database, admin_engine, _ = pg
    before = _pg_fingerprint(admin_engine)
    if expected is None:  # allowed, but only inside the statement's own rolled-back transaction
        database.execute(sql)
        assert database.execute("SHOW default_transaction_read_only").rows == [("on",)]
    else:
        with pytest.raises(QueryError) as err:
            database.execute(sql, timeout_s=0.3)
        assert expected.lower() in err.value.message.lower()
    assert _pg_fingerprint(admin_engine) == before
    assert database.execute("SELECT count(*) FROM track").rows == [(400,)]


def test_postgres_role_itself_cannot_write(pg):
    """Even with the session guard lifted by hand, the role holds no write privilege."""
    import psycopg

    _, admin_engine, reader = pg
    before = _pg_fingerprint(admin_engine)
    dsn = reader.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM invoice_line")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE evil (a int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TEMP TABLE evil (a int)")
    assert _pg_fingerprint(admin_engine) == before


def test_postgres_giant_output_streams_and_caps(pg):
    database, _, _ = pg
    tracemalloc.start()
    try:
        result = database.execute("SELECT * FROM track a, track b, track c", max_rows=50, timeout_s=5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.rows) == 50 and result.truncated
    assert peak < 20_000_000
    assert database.execute("SELECT 'a%b' AS x").rows == [("a%b",)]
    with pytest.raises(QueryError, match='column "nope" does not exist'):
        database.execute("SELECT nope FROM track")


def test_postgres_and_sqlite_agree(pg, db):
    database, _, _ = pg
    sql = ("SELECT g.name, count(*) AS n, round(sum(t.milliseconds) / 1000.0, 3) AS s FROM track t "
           "JOIN genre g ON g.genreid = t.genreid GROUP BY g.name ORDER BY g.name")
    pg_rows = database.execute(sql).rows
    lite_rows = db.execute(sql).rows
    assert [(a, b, float(c)) for a, b, c in pg_rows] == [(a, b, float(c)) for a, b, c in lite_rows]


@pytest.mark.parametrize("sql", [
    "SELECT count(pg_advisory_lock(g)) FROM generate_series(1, 200000) g",
    "SELECT pg_advisory_lock(42)",
    "SELECT pg_try_advisory_lock(42)",
    "SELECT pg_advisory_xact_lock(7)",
    "SELECT set_config('statement_timeout', '0', false)",
    "SELECT pg_notify('c', 'x')",
])
def test_postgres_session_state_functions_are_denied(pg, sql):
    database, admin_engine, _ = pg
    with pytest.raises(QueryError, match="permission denied"):
        database.execute(sql, timeout_s=5)
    with admin_engine.connect() as conn:  # no lock of the reader survives anywhere
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").scalar() == 0
    assert database.execute("SELECT count(*) FROM track").rows == [(400,)]


def test_postgres_reader_cannot_signal_other_sessions(pg):
    import psycopg

    database, _, reader = pg
    dsn = reader.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as other:
        pid = other.execute("SELECT pg_backend_pid()").fetchone()[0]
        for fn in ("pg_terminate_backend", "pg_cancel_backend"):
            with pytest.raises(QueryError, match="permission denied"):
                database.execute(f"SELECT {fn}({pid})")
        assert other.execute("SELECT 1").fetchone() == (1,)


def test_postgres_escape_strings_do_not_hide_a_second_statement(pg):
    database, admin_engine, _ = pg
    before = _pg_fingerprint(admin_engine)
    assert split_statements("SELECT E'\\''; DELETE FROM track") == ["SELECT E'\\''", "DELETE FROM track"]
    with pytest.raises(QueryError, match="only one SQL statement"):
        database.execute("SELECT E'\\''; DELETE FROM track")
    assert database.execute("SELECT E'it\\'s', e'a\\\\'").rows == [("it's", "a\\")]
    assert _pg_fingerprint(admin_engine) == before


def test_postgres_results_are_capped_in_bytes(pg):
    from arenas.engines.sql import MAX_RESULT_BYTES

    database, _, _ = pg
    result = database.execute("SELECT repeat('x', 4000000) FROM generate_series(1, 50)", max_rows=50,
                              timeout_s=20, max_cell_chars=10)
    assert result.truncated and len(result.rows) * 4_000_000 <= MAX_RESULT_BYTES + 4_000_000
    assert all(len(r[0]) <= 40 for r in result.rows)
