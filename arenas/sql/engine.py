"""The execution layer of the SQL arena: agent queries against SQLite or PostgreSQL, read-only.

``connect(target)`` takes a SQLite file path or a SQLAlchemy PostgreSQL URL and returns a
:class:`Database` whose ``execute`` runs exactly one statement under a time limit and a row cap
and returns a :class:`QueryResult`; anything the database refuses comes back as a
:class:`QueryError` carrying the database's own message, for the agent to read.

The agent can never change data. SQLite: see :mod:`arenas.engines.sql` (read-only
URI, ``query_only``, an authorizer, a progress-handler deadline). PostgreSQL: connect as a
role that holds only SELECT (:func:`create_readonly_role`), every session has
``default_transaction_read_only``, every statement runs in a read-only transaction with
``statement_timeout`` that is always rolled back (transaction and session control such as
``SET``, ``COMMIT`` or ``COPY`` is refused), and rows stream from a server-side cursor so a
cross join is never materialised in Python. Both backends take one statement per call.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from arenas.engines.sql import MAX_RESULT_BYTES, QueryError, ReadOnlySQLite, fetch_capped, single_statement

__all__ = ["Database", "QueryError", "QueryResult", "connect", "create_readonly_role", "render_table"]

DEFAULT_TIMEOUT_S = 2.0
DEFAULT_MAX_ROWS = 200
DEFAULT_MAX_CELL_CHARS = 200


@dataclass
class QueryResult:
    """Rows of one query. ``truncated`` means the query had more than the ``max_rows`` returned."""

    columns: list[str]
    rows: list[tuple]
    truncated: bool = False
    elapsed_s: float = 0.0
    max_rows: int | None = field(default=None, repr=False)


class Database(Protocol):
    dialect: str

    def execute(self, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S, max_rows: int = DEFAULT_MAX_ROWS,
                max_cell_chars: int | None = DEFAULT_MAX_CELL_CHARS) -> QueryResult: ...

    def close(self) -> None: ...


def connect(target: str | Path) -> Database:
    """A read-only database: ``postgresql[+psycopg]://...`` URLs go to PostgreSQL; a SQLite file
    is given by its path or a ``sqlite:///path`` URL."""
    text = str(target)
    if re.match(r"postgres(ql)?(\+\w+)?://", text):
        return PostgresDatabase(text)
    return SQLiteDatabase(text.removeprefix("sqlite:///"))


def _clip(value: Any, max_chars: int | None) -> Any:
    if max_chars is None:
        return value
    if isinstance(value, str) and len(value) > max_chars:
        return value[:max_chars] + f"…[{len(value) - max_chars} more chars]"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<blob {len(value)} bytes>"
    return value


def _clip_rows(rows: list, max_chars: int | None) -> list[tuple]:
    if max_chars is None:
        return [tuple(r) for r in rows]
    return [tuple(_clip(v, max_chars) for v in r) for r in rows]


class SQLiteDatabase:
    """A SQLite file opened read-only; one hardened connection per thread, so episodes running
    in threads never share a cursor."""

    dialect = "sqlite"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no SQLite database at {self.path}")
        self._local = threading.local()
        self._all: list[ReadOnlySQLite] = []
        self._lock = threading.Lock()

    def _conn(self) -> ReadOnlySQLite:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = ReadOnlySQLite(self.path)
            with self._lock:
                self._all.append(conn)
        return conn

    def execute(self, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S, max_rows: int = DEFAULT_MAX_ROWS,
                max_cell_chars: int | None = DEFAULT_MAX_CELL_CHARS) -> QueryResult:
        start = time.perf_counter()
        columns, rows, truncated = self._conn().query(sql, timeout_s=timeout_s, max_rows=max_rows)
        return QueryResult(columns, _clip_rows(rows, max_cell_chars), truncated,
                           time.perf_counter() - start, max_rows)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


_SELECT_LIKE = re.compile(r"^\s*(\(|select\b|with\b|values\b|table\b)", re.IGNORECASE)
#: transaction and session control stay with the execution layer (each call is one read-only
#: transaction that is rolled back), and COPY/DO/CALL have no place in a read-only query
_SESSION_CONTROL = re.compile(
    r"^\s*(begin|start|commit|end|rollback|abort|savepoint|release|set|reset|discard|listen|unlisten"
    r"|notify|lock|prepare|execute|deallocate|load|copy|call|do)\b", re.IGNORECASE)


def _strip_leading_comments(sql: str) -> str:
    return re.sub(r"^(\s*(--[^\n]*\n?|/\*.*?\*/))*", "", sql, flags=re.DOTALL)


class PostgresDatabase:
    """PostgreSQL through SQLAlchemy + psycopg. Connect with a read-only role's URL; the guards
    here hold even if the role could write. The engine's connection pool is thread-safe."""

    dialect = "postgresql"

    def __init__(self, url: str, pool_size: int = 4):
        from sqlalchemy import create_engine, event

        if url.startswith(("postgres://", "postgresql://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)

        @event.listens_for(self.engine, "connect")
        def _read_only_session(dbapi_conn: Any, _record: Any) -> None:
            autocommit = dbapi_conn.autocommit
            dbapi_conn.autocommit = True
            with dbapi_conn.cursor() as cur:
                cur.execute("SET default_transaction_read_only = on")
            dbapi_conn.autocommit = autocommit

    def execute(self, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S, max_rows: int = DEFAULT_MAX_ROWS,
                max_cell_chars: int | None = DEFAULT_MAX_CELL_CHARS) -> QueryResult:
        from sqlalchemy.exc import DBAPIError

        statement = single_statement(sql)
        if m := _SESSION_CONTROL.match(_strip_leading_comments(statement)):
            raise QueryError(f"query rejected: {m.group(1).upper()} statements are not allowed; "
                             "each query runs alone in its own read-only transaction")
        start = time.perf_counter()
        try:
            with self.engine.connect() as conn:
                try:
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")
                    # a server-side cursor streams rows; only SELECT-like statements can be declared
                    stream = bool(_SELECT_LIKE.match(_strip_leading_comments(statement)))
                    opts = {"stream_results": True, "max_row_buffer": max_rows + 1} if stream else {}
                    result = conn.execution_options(**opts).exec_driver_sql(statement.replace("%", "%%"))
                    if not result.returns_rows:
                        return QueryResult([], [], False, time.perf_counter() - start, max_rows)
                    columns = list(result.keys())
                    rows, truncated = fetch_capped(result, max_rows, MAX_RESULT_BYTES)
                    result.close()
                finally:
                    conn.rollback()
        except DBAPIError as e:
            raise QueryError(_pg_message(e.orig or e, timeout_s)) from None
        return QueryResult(columns, _clip_rows(rows, max_cell_chars), truncated,
                           time.perf_counter() - start, max_rows)

    def close(self) -> None:
        self.engine.dispose()


def _pg_message(error: BaseException, timeout_s: float) -> str:
    """PostgreSQL's primary message and hint (the full text would show the server-side cursor
    that wraps the query)."""
    diag = getattr(error, "diag", None)
    text = (getattr(diag, "message_primary", None) or str(error)).strip()
    if hint := getattr(diag, "message_hint", None):
        text += f" (hint: {hint})"
    if "statement timeout" in text:
        return f"query stopped: it ran longer than the {timeout_s:g} s time limit ({text})"
    if "read-only transaction" in text or "permission denied" in text:
        return f"query rejected: the database is read-only ({text})"
    return text


_SESSION_FUNCTIONS = """
SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'pg_catalog' AND (p.proname LIKE 'pg\\_advisory\\_%%' OR p.proname LIKE 'pg\\_try\\_advisory\\_%%'
   OR p.proname IN ('pg_terminate_backend', 'pg_cancel_backend', 'set_config', 'pg_notify', 'pg_listening_channels'))
ORDER BY 1"""
"""Functions that hold state beyond a statement (advisory locks survive the per-call rollback and
a flood of them locks every user out), signal other sessions (the reader could terminate other
episodes' connections) or change session settings: revoked from PUBLIC in each arena database."""


def create_readonly_role(admin_url: str, role: str = "arenas_reader", password: str = "arenas_reader",
                         schema: str = "public") -> str:
    """Creates (or refreshes) a login role that may only read ``schema`` and returns its URL.
    Run with an owner/superuser URL after loading the data."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", role) or not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise ValueError("role and schema must be plain lower-case identifiers")
    url = make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    engine = create_engine(url)
    quoted_pw = password.replace("'", "''")
    try:
        with engine.begin() as conn:
            exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(r)s", {"r": role}).first()
            verb = "ALTER" if exists else "CREATE"
            conn.exec_driver_sql(f"{verb} ROLE {role} LOGIN PASSWORD '{quoted_pw}' "
                                 "NOSUPERUSER NOCREATEDB NOCREATEROLE")
            conn.exec_driver_sql(f"ALTER ROLE {role} SET default_transaction_read_only = on")
            database = conn.exec_driver_sql("SELECT current_database()").scalar()
            conn.exec_driver_sql(f'REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC')
            conn.exec_driver_sql(f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC')
            conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE \"{database}\" TO {role}")
            conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
            for fn in conn.exec_driver_sql(_SESSION_FUNCTIONS).scalars():
                conn.exec_driver_sql(f"REVOKE EXECUTE ON FUNCTION {fn} FROM PUBLIC")
    finally:
        engine.dispose()
    return url.set(username=role, password=password).render_as_string(hide_password=False)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value).replace("\n", "\\n").replace("|", "\\|")


def render_table(result: QueryResult, max_rows: int | None = None) -> str:
    """A compact text table for a language model: a header, ``|``-separated rows, and a note
    when rows were left out (shown here) or the query had more than the row cap."""
    if not result.columns:
        return "(statement ran; no rows returned)"
    shown = result.rows if max_rows is None else result.rows[:max_rows]
    lines = [" | ".join(result.columns)]
    lines += [" | ".join(_cell(v) for v in row) for row in shown]
    hidden = len(result.rows) - len(shown)
    if result.truncated:
        cap = result.max_rows if result.max_rows is not None else len(result.rows)
        more = f"{hidden} more rows, then " if hidden else ""
        lines.append(f"... ({more}more rows not shown: the result was capped at {cap} rows; "
                     "add a LIMIT or an aggregate)")
    elif hidden:
        lines.append(f"... ({hidden} more rows)")
    else:
        lines.append(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})")
    return "\n".join(lines)
