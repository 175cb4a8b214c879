"""The SQL arena's data build (``arenas build-data sql``): databases, verifier neighbours, tasks."""

from __future__ import annotations

import sqlite3

from arenas.engines.sql import quote_ident
from arenas.engines.sql_schema import read_schema
from arenas.sql.data import DATABASES, database_path
from arenas.sql.tasks import build_tasks
from arenas.verifiers.sql import neighbour_paths


def build() -> None:
    """Builds (or verifies) every SQL database, its verifier neighbours and the task cache."""
    for name in DATABASES:
        path = database_path(name)
        schema = read_schema(path)
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        rows = sum(conn.execute(f"SELECT COUNT(*) FROM {quote_ident(t.name)}").fetchone()[0] for t in schema.tables)
        conn.close()
        suite = neighbour_paths(path)
        print(f"{name}: {len(schema.tables)} tables, {len(schema.foreign_keys)} foreign keys, {rows} rows, "
              f"{len(suite)} neighbour databases  {path}")
    by_split = build_tasks()
    print("tasks: " + ", ".join(f"{split} {len(tasks)}" for split, tasks in by_split.items()))
