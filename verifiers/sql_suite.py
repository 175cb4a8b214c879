"""Neighbour databases for test-suite execution equivalence (after Zhong, Yu and Klein, 2020,
"Semantic Evaluation for Text-to-SQL with Distilled Test Suites").

A query that returns the gold rows on one database may be right by accident (a hard-coded
answer, a filter constant that happens to select the same rows, a join on the wrong key that
happens to agree). Running it on *neighbours* of the database — same schema, same constraints,
different contents — exposes the accident. Each neighbour is a seeded mutation of the original:

- **value permutation**: a random subset of a column's cells is shuffled among themselves (the
  column's multiset of values stays, so uniqueness, NOT NULL and every constant a question takes
  from the data survive, while the correlations between columns change);
- **resampling / NULLs / numeric scaling**: cells replaced by other values of the same column,
  by NULL where the column allows it, and numbers scaled by 0.5–1.5 (new values between the
  original ones, so ``> 300`` and ``> 250`` stop agreeing);
- **dropped rows**: children of a dropped parent row are reassigned to a surviving parent (or
  set NULL where the key is nullable), so every foreign key stays valid;
- **reassigned foreign keys**: a random share of child rows points to another parent.

Text columns and low-cardinality columns are *domain-preserving* in the first eight neighbours:
a cell is resampled, nulled or its row dropped only while another occurrence of its value
remains, so any value a gold query names still exists. The last neighbours are free of that rule
(heavier drops), to change results that the preserving ones cannot (``COUNT(*)`` of a table of
unique names). Primary keys and columns that foreign keys reference are never changed, and every
neighbour is checked with ``PRAGMA foreign_key_check``. This pool is built once per database
file (keyed by its checksum) under ``$ARENAS_HOME/sql/neighbours``.

The verifier picks, per gold query, the pool neighbours on which the gold result is non-empty
and differs from the original, and adds the targeted copies distilled for that query
(:mod:`arenas.verifiers.sql_distill`).
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

import numpy as np

from arenas.engines.cache import cached_build, sha256_file
from arenas.engines.sql import quote_ident

SUITE_VERSION = 3
"""Bump when the neighbour construction changes; the cache folder name carries it."""
POOL_SIZE = 12
"""Prebuilt neighbours per database; the verifier uses 8 of them (or 7 and the boundary copy)."""
PRESERVING = 8
"""Neighbours ``0..PRESERVING-1`` keep every text and low-cardinality value present."""
LOW_CARDINALITY = 20
"""A numeric column with at most this many distinct values is treated like a category."""


@dataclass
class ForeignKey:
    """``columns`` (indexes into the child's columns) reference ``parent_columns`` of ``parent``."""

    columns: list[int]
    parent: str
    parent_columns: list[str]
    nullable: bool


@dataclass
class Table:
    """One table's schema and, while a neighbour is built, its rows."""

    name: str
    columns: list[str]
    notnull: list[bool]
    pk: list[int]
    unique: list[tuple[int, ...]] = field(default_factory=list)
    fks: list[ForeignKey] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    types: list[str] = field(default_factory=list)

    def frozen_columns(self, referenced: set[tuple[str, str]]) -> set[int]:
        """Columns no mutation may touch: primary key, foreign keys, columns referenced by one."""
        return (set(self.pk) | {i for fk in self.fks for i in fk.columns}
                | {i for i, c in enumerate(self.columns) if (self.name, c) in referenced})


def referenced_columns(tables: dict[str, Table]) -> set[tuple[str, str]]:
    return {(fk.parent, c) for t in tables.values() for fk in t.fks for c in fk.parent_columns}



def read_tables(conn: sqlite3.Connection, rows: bool = True) -> dict[str, Table]:
    """Schema (columns, NOT NULL, primary/unique keys, foreign keys) and rows of every table."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    tables: dict[str, Table] = {}
    for name in names:
        info = conn.execute(f"PRAGMA table_info({quote_ident(name)})").fetchall()
        cols = [r[1] for r in info]
        pk = [i for _, i in sorted((r[5], i) for i, r in enumerate(info) if r[5])]
        t = Table(name, cols, [bool(r[3]) or bool(r[5]) for r in info], pk)
        if pk:
            t.unique.append(tuple(pk))
        for idx in conn.execute(f"PRAGMA index_list({quote_ident(name)})").fetchall():
            if idx[2]:  # unique
                icols = [r[2] for r in conn.execute(f"PRAGMA index_info({quote_ident(idx[1])})")]
                if all(c in cols for c in icols):
                    t.unique.append(tuple(cols.index(c) for c in icols))
        groups: dict[int, list] = {}
        for r in conn.execute(f"PRAGMA foreign_key_list({quote_ident(name)})").fetchall():
            groups.setdefault(r[0], []).append(r)
        for rs in groups.values():
            rs.sort(key=lambda r: r[1])
            idxs = [cols.index(r[3]) for r in rs]
            t.fks.append(ForeignKey(idxs, rs[0][2], [r[4] for r in rs],
                                    all(not t.notnull[i] for i in idxs)))
        t.types = [r[2].upper() for r in info]
        if rows:
            t.rows = [list(r) for r in conn.execute(f"SELECT * FROM {quote_ident(name)}")]
        tables[name] = t
    for t in tables.values():  # FKs that name no parent column reference the parent's primary key
        for fk in t.fks:
            parent = tables.get(fk.parent)
            if parent and any(c is None for c in fk.parent_columns):
                fk.parent_columns = [parent.columns[i] for i in parent.pk] or ["rowid"]
    return tables


def _parents_first(tables: dict[str, Table]) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name):
            return
        state[name] = 1
        for fk in tables[name].fks:
            if fk.parent in tables and fk.parent != name:
                visit(fk.parent)
        state[name] = 2
        order.append(name)

    for name in sorted(tables):
        visit(name)
    return order


@dataclass(frozen=True)
class Profile:
    """How hard one neighbour mutates its copy (shares of rows or cells)."""

    drop: float = 0.0
    reassign: float = 0.0
    permute: float = 0.0
    resample: float = 0.0
    nulls: float = 0.0
    scale: float = 0.0
    preserve_domain: bool = True


def profile(k: int, rng: np.random.Generator) -> Profile:
    """Neighbours 0-3 isolate one kind of change each; 4-7 mix them; 8+ drop freely."""
    def u(low: float, high: float) -> float:
        return float(rng.uniform(low, high))

    fixed = [Profile(permute=0.5), Profile(reassign=0.3), Profile(drop=0.3, reassign=0.0),
             Profile(resample=0.2, nulls=0.1, scale=0.5)]
    if k < len(fixed):
        return fixed[k]
    mixed = Profile(u(0, .3), u(0, .3), u(.1, .6), u(0, .2), u(0, .1), u(0, .5), k < PRESERVING)
    if k >= PRESERVING:
        return Profile(u(.3, .7), mixed.reassign, mixed.permute, mixed.resample, mixed.nulls,
                       mixed.scale, False)
    return mixed


def _numeric_type(declared: str) -> bool:
    """SQLite's numeric affinities (INTEGER, REAL, NUMERIC), from the declared column type."""
    return any(a in declared for a in ("INT", "REAL", "FLOA", "DOUB", "NUM", "DEC"))


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


class _Domain:
    """Counts of a column's values, so domain-preserving edits never remove a value's last copy."""

    def __init__(self, values: list, protect: bool):
        self.protect = protect
        self.counts = Counter(values) if protect else None

    def can_remove(self, v: object) -> bool:
        return not self.protect or v is None or self.counts[v] > 1

    def replace(self, old: object, new: object) -> None:
        if self.protect:
            self.counts[old] -= 1
            self.counts[new] += 1


def _decimals(v: float) -> int:
    text = repr(v)
    return min(len(text.split(".")[1]), 4) if "." in text and "e" not in text else 2


def mutate(tables: dict[str, Table], p: Profile, rng: np.random.Generator) -> None:
    """Applies one neighbour's mutations in place, parents before children."""
    referenced = referenced_columns(tables)
    for name in _parents_first(tables):
        t = tables[name]
        n_cols = len(t.columns)
        fk_cols = {i for fk in t.fks for i in fk.columns}
        frozen = t.frozen_columns(referenced)
        multi_unique = {i for u in t.unique if len(u) > 1 for i in u}
        single_unique = {u[0] for u in t.unique if len(u) == 1}
        columns = [[r[i] for r in t.rows] for i in range(n_cols)]
        numeric = [_numeric_type(t.types[i]) and any(_is_number(v) for v in islice(columns[i], 100))
                   for i in range(n_cols)]
        protect = [p.preserve_domain and not (numeric[i] and len(set(columns[i])) > LOW_CARDINALITY)
                   for i in range(n_cols)]
        domains = [_Domain(columns[i], protect[i] and i not in frozen) for i in range(n_cols)]

        if p.drop and len(t.rows) > 1:
            keep = [True] * len(t.rows)
            target = int(p.drop * len(t.rows))
            for ri in rng.permutation(len(t.rows)).tolist():
                if target <= 0:
                    break
                row = t.rows[ri]
                if all(domains[i].can_remove(row[i]) for i in range(n_cols)):
                    keep[ri] = False
                    target -= 1
                    for i in range(n_cols):
                        if domains[i].protect:
                            domains[i].counts[row[i]] -= 1
            t.rows = [r for r, k in zip(t.rows, keep, strict=True) if k]

        for fk in t.fks:
            parent = tables.get(fk.parent)
            if parent is None:
                continue
            pidx = [parent.columns.index(c) for c in fk.parent_columns if c in parent.columns]
            if len(pidx) != len(fk.columns):
                continue
            keys = sorted({tuple(r[i] for i in pidx) for r in parent.rows}, key=repr)
            key_set = set(keys)
            kept = []
            moved = (rng.random(len(t.rows)) < p.reassign).tolist()
            to_null = (rng.random(len(t.rows)) < 0.2).tolist()
            picks = rng.integers(0, max(1, len(keys)), len(t.rows)).tolist()
            for r, row in enumerate(t.rows):
                cur = tuple(row[i] for i in fk.columns)
                dangling = None not in cur and cur not in key_set
                if dangling or moved[r]:
                    if fk.nullable and (not keys or to_null[r]):
                        new: tuple = (None,) * len(fk.columns)
                    elif keys:
                        new = keys[picks[r]]
                    else:
                        continue  # no parent left for a required key: the row goes too
                    for i, v in zip(fk.columns, new, strict=True):
                        row[i] = v
                kept.append(row)
            t.rows = kept

        for u in t.unique:  # reassigned keys may collide in a composite key: keep the first
            if any(i in fk_cols for i in u):
                seen: set = set()
                rows = []
                for row in t.rows:
                    key = tuple(row[i] for i in u)
                    if None in key or key not in seen:
                        seen.add(key)
                        rows.append(row)
                t.rows = rows

        if not t.rows:
            continue
        for i in range(n_cols):
            if i in frozen or i in multi_unique:
                continue
            _mutate_column(t.rows, i, p, rng, domains[i], numeric[i], i in single_unique, not t.notnull[i])


def _sample(rng: np.random.Generator, n: int, k: int) -> list[int]:
    return rng.choice(n, size=min(n, k), replace=False).tolist()


def _mutate_column(rows: list[list], i: int, p: Profile, rng: np.random.Generator, domain: _Domain,
                   numeric: bool, unique: bool, nullable: bool) -> None:
    n = len(rows)
    if p.permute and n > 1:
        picked = _sample(rng, n, max(2, int(p.permute * n)))
        values = [rows[r][i] for r in picked]
        for r, j in zip(picked, rng.permutation(len(picked)).tolist(), strict=True):
            rows[r][i] = values[j]
    if unique:
        return
    pool = [r[i] for r in rows if r[i] is not None]
    if p.resample and pool:
        targets = _sample(rng, n, int(p.resample * n))
        for r, j in zip(targets, rng.integers(0, len(pool), len(targets)).tolist(), strict=True):
            new = pool[j]
            if domain.can_remove(rows[r][i]):
                domain.replace(rows[r][i], new)
                rows[r][i] = new
    if p.nulls and nullable:
        for r in _sample(rng, n, int(p.nulls * n)):
            if domain.can_remove(rows[r][i]):
                domain.replace(rows[r][i], None)
                rows[r][i] = None
    if p.scale and numeric and not domain.protect:
        targets = _sample(rng, n, int(p.scale * n))
        for r, f in zip(targets, rng.uniform(0.5, 1.5, len(targets)).tolist(), strict=True):
            v = rows[r][i]
            if v is None:
                continue
            rows[r][i] = int(round(v * f)) if isinstance(v, int) else round(v * f, _decimals(v))


def write_tables(src: Path, dst: Path, tables: dict[str, Table]) -> None:
    """Copies ``src`` (schema, indexes, views) to ``dst`` and replaces every table's rows."""
    shutil.copyfile(src, dst)
    conn = sqlite3.connect(dst, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("BEGIN")
        for t in tables.values():
            conn.execute(f"DELETE FROM {quote_ident(t.name)}")
            marks = ",".join("?" * len(t.columns))
            cols = ",".join(quote_ident(c) for c in t.columns)
            conn.executemany(f"INSERT INTO {quote_ident(t.name)} ({cols}) VALUES ({marks})", t.rows)
        conn.execute("COMMIT")
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"neighbour {dst.name} breaks foreign keys: {broken[:5]}")
        conn.execute("VACUUM")
    finally:
        conn.close()


def build_neighbours(src: Path, folder: Path, seed: str, count: int = POOL_SIZE) -> list[Path]:
    """Neighbours ``0..count-1`` of ``src`` (deterministic for the seed), written to ``folder``."""
    conn = sqlite3.connect(f"{src.resolve().as_uri()}?mode=ro", uri=True)
    try:
        original = read_tables(conn)
    finally:
        conn.close()
    paths = []
    for k in range(count):
        rng = np.random.default_rng(int.from_bytes(hashlib.sha256(f"{seed}/{k}".encode()).digest()[:8], "big"))
        tables = {name: replace(t, rows=[list(r) for r in t.rows]) for name, t in original.items()}
        mutate(tables, profile(k, rng), rng)
        paths.append(folder / f"n{k:02d}.sqlite")
        write_tables(src, paths[-1], tables)
    return paths


_suites: dict[tuple[str, int, int], list[Path]] = {}
_suites_lock = threading.Lock()


def neighbour_paths(db_path: str | Path, size: int = POOL_SIZE) -> list[Path]:
    """The neighbours of a SQLite database file, built on first use and cached by checksum."""
    db_path = Path(db_path).resolve()
    stat = db_path.stat()
    key = (str(db_path), stat.st_mtime_ns, stat.st_size)
    with _suites_lock:
        if key in _suites:
            return _suites[key][:size]
        digest = sha256_file(db_path)

        def build(tmp: Path) -> None:
            build_neighbours(db_path, tmp, digest)

        folder = cached_build(f"sql/neighbours/{db_path.stem}-v{SUITE_VERSION}-{digest[:16]}", build)
        _suites[key] = [folder / f"n{k:02d}.sqlite" for k in range(POOL_SIZE)]
        return _suites[key][:size]


@dataclass
class Snapshot:
    data: bytes
    tables: dict[str, Table]


_snapshots: dict[tuple[str, int, int], Snapshot] = {}
_snapshots_lock = threading.Lock()


def snapshot(db_path: Path) -> Snapshot:
    """The database's bytes and schema, read once per file version (copies start from here)."""
    stat = db_path.stat()
    key = (str(db_path), stat.st_mtime_ns, stat.st_size)
    with _snapshots_lock:
        if key not in _snapshots:
            src = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)
            try:
                _snapshots[key] = Snapshot(src.serialize(), read_tables(src, rows=False))
            finally:
                src.close()
            while len(_snapshots) > 8:
                _snapshots.pop(next(iter(_snapshots)))
        return _snapshots[key]
