"""Schema introspection of a SQLite database: tables, columns, primary and foreign keys.

One reader serves the task generator (which walks the foreign-key graph), the verifier (which
builds neighbour databases that keep every constraint) and the arena's ``describe_table`` tool,
so all three agree on what the schema is. It reads SQLite's own PRAGMAs, never a side file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["Column", "ForeignKey", "Schema", "Table", "read_schema"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    """Declared type as written in the DDL (``INTEGER``, ``TEXT``, ``REAL``, ``NUMERIC(10,2)``)."""
    notnull: bool = False


@dataclass(frozen=True)
class ForeignKey:
    """``table.column`` references ``ref_table.ref_column`` (single-column keys only)."""

    table: str
    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    """Primary-key columns in key order (empty for a table without one)."""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


@dataclass(frozen=True)
class Schema:
    tables: tuple[Table, ...]
    foreign_keys: tuple[ForeignKey, ...]

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(f"no table {name!r}")

    def references_from(self, table: str) -> tuple[ForeignKey, ...]:
        """Foreign keys declared on ``table`` (it is the child)."""
        return tuple(fk for fk in self.foreign_keys if fk.table == table)

    def references_to(self, table: str) -> tuple[ForeignKey, ...]:
        """Foreign keys that point at ``table`` (it is the parent)."""
        return tuple(fk for fk in self.foreign_keys if fk.ref_table == table)

    def dependency_order(self) -> list[str]:
        """Table names with every referenced table before the tables that reference it (self
        references ignored): the order to insert rows in so constraints hold at each step."""
        order: list[str] = []
        remaining = [t.name for t in self.tables]
        while remaining:
            ready = [n for n in remaining
                     if all(fk.ref_table in order or fk.ref_table == n for fk in self.references_from(n))]
            if not ready:
                raise ValueError(f"foreign-key cycle among {remaining}")
            order += ready
            remaining = [n for n in remaining if n not in ready]
        return order


def read_schema(sqlite_path: str | Path) -> Schema:
    """The schema of a SQLite file, from ``sqlite_master`` and the ``table_info`` /
    ``foreign_key_list`` PRAGMAs. Cached per file version (path, size, mtime)."""
    path = Path(sqlite_path)
    st = path.stat()
    return _read_schema(str(path.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=32)
def _read_schema(path: str, size: int, mtime_ns: int) -> Schema:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
        tables, fks = [], []
        for name in names:
            info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
            columns = tuple(Column(r[1], r[2], bool(r[3])) for r in info)
            pk = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
            tables.append(Table(name, columns, pk))
            rows = conn.execute(f'PRAGMA foreign_key_list("{name}")').fetchall()
            composite = {r[0] for r in rows if r[1] > 0}
            if composite:
                raise ValueError(f"{path}: composite foreign keys on {name} are not supported")
            fks += [ForeignKey(name, r[3], r[2], r[4]) for r in sorted(rows, key=lambda r: r[0], reverse=True)]
        return Schema(tuple(tables), tuple(fks))
    finally:
        conn.close()
