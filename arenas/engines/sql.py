"""Read-only, time- and size-bounded SQLite connections for untrusted SQL.

Both the SQL arena (agent queries) and the SQL verifier (submitted queries, run on the original
database and its neighbours) execute text an agent wrote. Every guard is applied at the
connection, so no statement can slip past one by being phrased cleverly:

- the file is opened with ``mode=ro`` and ``PRAGMA query_only=ON``;
- an authorizer allows only reads: writes, DDL, ATTACH/DETACH, transactions, PRAGMAs other than
  schema introspection, and dangerous functions (``load_extension``) are denied, and the denial
  is reported in words;
- a progress handler stops a statement at its deadline (recursive CTE bombs, huge sorts);
- value sizes and SQL length are capped (``zeroblob(1e9)`` cannot allocate a gigabyte);
- exactly one statement per call, rows fetched in batches until the row cap or a byte budget
  (200 rows of megabyte blobs stop at :data:`MAX_RESULT_BYTES`), never all at once.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
import time
from itertools import chain, compress, repeat
from pathlib import Path
from typing import Any

READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE}
#: PRAGMAs that only describe the schema; every other PRAGMA (and any PRAGMA assignment) is denied
INTROSPECTION_PRAGMAS = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "collation_list", "function_list",
}
DENIED_FUNCTIONS = {"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"}
MAX_VALUE_BYTES = 1_000_000
MAX_RESULT_BYTES = 16_000_000
MAX_SQL_CHARS = 100_000
STEP = 2000
"""Virtual-machine instructions between two calls of the progress handler (one step)."""

_ACTION_NAMES = {getattr(sqlite3, f"SQLITE_{n}"): n.replace("_", " ") for n in (
    "CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE", "CREATE_TEMP_TRIGGER",
    "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW", "DELETE", "DROP_INDEX", "DROP_TABLE",
    "DROP_TEMP_INDEX", "DROP_TEMP_TABLE", "DROP_TEMP_TRIGGER", "DROP_TEMP_VIEW", "DROP_TRIGGER",
    "DROP_VIEW", "INSERT", "UPDATE", "TRANSACTION", "ATTACH", "DETACH", "ALTER_TABLE", "REINDEX",
    "ANALYZE", "CREATE_VTABLE", "DROP_VTABLE", "SAVEPOINT")}
#: columns SQLite itself "updates" while evaluating table-valued PRAGMA functions such as
#: ``pragma_table_info('t')``; a real write to sqlite_master still needs writable_schema (denied)
_SCHEMA_COLUMNS = {"type", "name", "tbl_name", "rootpage", "sql"}

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier (SQLite and PostgreSQL both read it), quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


class QueryError(Exception):
    """A query was rejected or failed; ``message`` is the database's own error text (or the
    guard's reason), meant to be shown to the agent as feedback."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class StepBudgetExceeded(QueryError):
    """A query ran past its step budget (:meth:`ReadOnlySQLite.query`'s ``max_steps``): a limit
    that, unlike a deadline, does not depend on how fast the machine is."""


def split_statements(sql: str) -> list[str]:
    """Splits SQL text on top-level semicolons, honouring quotes, comments and PostgreSQL
    dollar quoting; statements that are empty or only comments are dropped."""
    if ";" not in sql.rstrip().rstrip(";") and "--" not in sql and "/*" not in sql:
        return [sql.strip().rstrip(";").strip()] if sql.strip().rstrip(";").strip() else []
    out: list[str] = []
    start = i = 0
    n = len(sql)
    has_code = False
    while i < n:
        c = sql[i]
        if c == "'" and i and sql[i - 1] in "Ee" and (i < 2 or not (sql[i - 2].isalnum() or sql[i - 2] == "_")):
            i = _end_of_escape_string(sql, i)  # PostgreSQL's E'...': backslash escapes, as in E'\''
            has_code = True
        elif c in "'\"`[":
            close = "]" if c == "[" else c
            j = sql.find(close, i + 1)
            while j != -1 and close != "]" and sql.startswith(close * 2, j):
                j = sql.find(close, j + 2)
            i = n if j == -1 else j + 1
            has_code = True
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j == -1 else j + 1
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j == -1 else j + 2
        elif c == "$" and (m := _DOLLAR_TAG.match(sql, i)):
            j = sql.find(m.group(), m.end())
            i = n if j == -1 else j + len(m.group())
            has_code = True
        elif c == ";":
            if has_code:
                out.append(sql[start:i].strip())
            start, i, has_code = i + 1, i + 1, False
        else:
            has_code = has_code or not c.isspace()
            i += 1
    if has_code:
        out.append(sql[start:].strip())
    return out


def _end_of_escape_string(sql: str, i: int) -> int:
    """The index after the escape string whose opening quote is at ``i`` (end of text if open)."""
    j, n = i + 1, len(sql)
    while j < n:
        if sql[j] == "\\":
            j += 2
        elif sql[j] == "'":
            if sql.startswith("''", j):
                j += 2
            else:
                return j + 1
        else:
            j += 1
    return n


def single_statement(sql: str) -> str:
    """The one statement in ``sql`` (trailing semicolon removed); raises :class:`QueryError`
    for none or several, so ``SELECT 1; DROP TABLE t`` never reaches the database."""
    if len(sql) > MAX_SQL_CHARS:
        raise QueryError(f"query rejected: longer than {MAX_SQL_CHARS} characters")
    statements = split_statements(sql)
    if not statements:
        raise QueryError("query rejected: no SQL statement given")
    if len(statements) > 1:
        raise QueryError(f"query rejected: only one SQL statement per call is allowed "
                         f"(got {len(statements)}); remove the ';' between statements")
    return statements[0]


_TEXT = (str, bytes)


def _size(row: tuple) -> int:
    return sum(len(v) if isinstance(v, str | bytes) else 8 for v in row)


def _chunk_size(chunk: list[tuple]) -> int:
    """``sum(map(_size, chunk))``, iterating in C: text cells count their length, others 8."""
    cells = list(chain.from_iterable(chunk))
    text = list(compress(cells, map(isinstance, cells, repeat(_TEXT))))
    return 8 * (len(cells) - len(text)) + sum(map(len, text))


def fetch_capped(cur: Any, max_rows: int | None, max_bytes: float) -> tuple[list[tuple], bool]:
    """At most ``max_rows`` rows (all if None) and at most ``max_bytes`` of them;
    ``truncated`` says whether more rows existed. Batches shrink as rows grow, so a result of
    huge cells is stopped after a few rows."""
    rows: list[tuple] = []
    size = 0
    batch = 16
    while True:
        want = batch if max_rows is None else min(batch, max_rows + 1 - len(rows))
        chunk = cur.fetchmany(want)
        chunk_size = _chunk_size(chunk)
        if size + chunk_size > max_bytes:  # some row crosses the budget: find which
            for row in chunk:
                size += _size(row)
                rows.append(row)
                if size > max_bytes:
                    return rows, True
        size += chunk_size
        rows += chunk
        if max_rows is not None and len(rows) > max_rows:
            return rows[:max_rows], True
        if len(chunk) < want:
            return rows, False
        batch = max(1, min(256, 1_000_000 * len(rows) // (size + 1)))


class _Guard:
    """The authorizer and the deadline of one connection. Kept apart from :class:`ReadOnlySQLite`
    so the connection's callbacks do not point back at the object that owns the connection: a
    dropped in-memory copy is freed at once, not by a later garbage collection."""

    __slots__ = ("deadline", "denied", "max_steps", "over_steps", "steps")

    def __init__(self) -> None:
        self.deadline = math.inf
        self.denied: str | None = None
        self.steps = 0
        self.max_steps = math.inf
        self.over_steps = False

    def authorize(self, action: int, arg1: Any, arg2: Any, db: Any, trigger: Any) -> int:
        if action in READ_ACTIONS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master" and arg2 in _SCHEMA_COLUMNS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION:
            if str(arg2).lower() not in DENIED_FUNCTIONS:
                return sqlite3.SQLITE_OK
            self.denied = f"function {arg2}() is not allowed"
        elif action == sqlite3.SQLITE_PRAGMA:
            name = str(arg1).lower()
            if name in INTROSPECTION_PRAGMAS:
                return sqlite3.SQLITE_OK
            self.denied = f"PRAGMA {name} is not allowed (only schema introspection PRAGMAs)"
        else:
            what = _ACTION_NAMES.get(action, f"operation {action}")
            target = f" on {arg1}" if isinstance(arg1, str) and action not in (
                sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH, sqlite3.SQLITE_TRANSACTION,
                sqlite3.SQLITE_SAVEPOINT) else ""
            if arg1 in ("sqlite_master", "sqlite_temp_master"):
                what, target = "changing the schema (CREATE/DROP)", ""
            self.denied = f"{what}{target} is not allowed: the database is read-only"
        return sqlite3.SQLITE_DENY

    def past_deadline(self) -> int:
        self.steps += 1
        if self.steps > self.max_steps:
            self.over_steps = True
            return 1
        return 1 if time.perf_counter() > self.deadline else 0


class ReadOnlySQLite:
    """One hardened read-only connection. Thread-safe: calls are serialised by a lock (open one
    per thread for parallel reads)."""

    def __init__(self, path: str | Path | None, max_value_bytes: int = MAX_VALUE_BYTES,
                 conn: sqlite3.Connection | None = None, close_on_drop: bool | None = None):
        """Opens ``path`` read-only, or hardens ``conn`` (an in-memory copy) instead. The
        connection is closed when this object is dropped if it opened it (or ``close_on_drop``):
        CPython's connections sit in a reference cycle (their statement cache), so a dropped one
        would otherwise keep its memory (a whole in-memory copy) until a full garbage collection."""
        self._lock = threading.Lock()
        self._guard = _Guard()
        self._close_on_drop = conn is None if close_on_drop is None else close_on_drop
        if conn is None:
            self.path = Path(path or "")
            if not self.path.is_file():
                raise FileNotFoundError(f"no SQLite database at {self.path}")
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        self.conn = conn
        self.conn.execute("PRAGMA query_only=ON")
        self.conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        self.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max_value_bytes)
        self.conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_CHARS)
        self.conn.set_authorizer(self._guard.authorize)
        self.conn.set_progress_handler(self._guard.past_deadline, STEP)
        self.last_steps = 0

    def query(self, sql: str, timeout_s: float = 2.0, max_rows: int | None = 200,
              max_bytes: int | None = MAX_RESULT_BYTES,
              max_steps: int | None = None) -> tuple[list[str], list[tuple], bool]:
        """Runs one read-only statement; returns ``(columns, rows, truncated)`` with at most
        ``max_rows`` rows and about ``max_bytes`` of text (``truncated`` says more existed;
        None lifts a cap). ``max_steps`` caps the work in units of :data:`STEP` virtual-machine
        instructions (:class:`StepBudgetExceeded`); :attr:`last_steps` is the work the last
        query did. Raises :class:`QueryError`."""
        statement = single_statement(sql)
        with self._lock:
            self._guard.denied = None
            self._guard.deadline = time.perf_counter() + timeout_s
            self._guard.steps = 0
            self._guard.over_steps = False
            self._guard.max_steps = math.inf if max_steps is None else max_steps
            cur = None
            try:
                cur = self.conn.execute(statement)
                columns = [d[0] for d in cur.description or ()]
                rows, truncated = fetch_capped(cur, max_rows, math.inf if max_bytes is None else max_bytes)
                return columns, rows, truncated
            except sqlite3.Error as e:
                if self._guard.over_steps:
                    raise StepBudgetExceeded(f"query stopped: it ran past its budget of {max_steps} steps "
                                             f"({STEP} instructions each)") from None
                raise QueryError(self._explain(e, timeout_s)) from None
            except (UnicodeError, ValueError, OverflowError) as e:  # text SQLite cannot take
                raise QueryError(f"query rejected: {e}") from None
            finally:
                self._guard.deadline = math.inf
                self.last_steps = self._guard.steps
                if cur is not None:
                    cur.close()
                if self.conn.in_transaction:
                    self.conn.rollback()

    def _explain(self, error: sqlite3.Error, timeout_s: float) -> str:
        text = str(error)
        if text == "interrupted":
            return f"query stopped: it ran longer than the {timeout_s:g} s time limit"
        if self._guard.denied and "not authorized" in text:
            return f"query rejected: {self._guard.denied} ({text})"
        if text in ("authorization denied", "attempt to write a readonly database"):
            return f"query rejected: the database is read-only ({text})"
        if isinstance(error, sqlite3.ProgrammingError) and "one statement" in text:
            return f"query rejected: only one SQL statement per call is allowed ({text})"
        return text

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __del__(self) -> None:
        if getattr(self, "_close_on_drop", False) and hasattr(self, "conn"):
            self.conn.close()
