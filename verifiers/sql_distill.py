"""Distilled test suites (Zhong, Yu and Klein, 2020, section 3.2): per gold query, a few
databases that together tell the gold apart from every plausible wrong variant of it.

The shared neighbours of :mod:`arenas.verifiers.sql_suite` change data at random, so mistakes
that only show on specific rows slip through: ``>`` for ``>=`` needs a row exactly at the
threshold, ``ORDER BY ... LIMIT 1`` for ``= MAX(...)`` needs a tie at the maximum, ``COUNT(*)``
for ``SUM(quantity)`` needs a quantity that is not always 1. For each gold this module

1. generates the variants of :mod:`arenas.verifiers.sql_variants`;
2. builds *targeted* candidates, in-memory copies of the original edited in a few rows the
   gold's own filters select (found by running the gold's FROM/WHERE without the predicate on
   the column being edited): rows at each threshold and beside it, groups whose aggregate sits
   exactly at a HAVING threshold, ties at the extremes of every sorted or maximised column (per
   group where the query partitions), NULLs in nullable columns, values outside the original
   range, variation in columns that hold one value everywhere, and string constants written
   into two other rows;
3. keeps the variants that differ from the gold somewhere (original, shared neighbours or
   targeted candidates) and greedily covers them: the candidates added to the default suite
   are the fewest that catch every kept variant the default suite misses.

A targeted candidate is stored as its UPDATE statements (a few per candidate), so the verifier
rebuilds it in milliseconds. Distillation runs once per gold query (a fraction of a second on
these databases; limits are row and step budgets, never wall-clock) and is cached as a JSON file
under ``$ARENAS_HOME/sql/distilled/<db>-v<DISTILL_VERSION>-<checksum>/``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from arenas.engines.cache import arenas_home, sha256_file
from arenas.engines.sql import QueryError, ReadOnlySQLite, quote_ident
from arenas.verifiers.sql_compare import Rows, Ties, results_equal
from arenas.verifiers.sql_suite import Table, referenced_columns, snapshot
from arenas.verifiers.sql_variants import FAMILIES, nearby_constants, number, variants

DISTILL_VERSION = 6
"""Bump when variants, candidates or the cover change: cached suites are then rebuilt."""
CANDIDATE_ROWS = 5000
"""Rows of a table considered for an edit (the first ones by rowid that the filters keep)."""
MAX_GROUPS = 30
"""Groups per candidate that get a tie or a HAVING-threshold edit."""

Update = tuple[str, list]


@dataclass
class Candidate:
    name: str
    updates: list[Update] = field(default_factory=list)


def build_copy(db_path: Path, updates: list[Update]) -> sqlite3.Connection:
    """An in-memory copy of the database with ``updates`` applied (one that breaks a constraint
    is skipped), hardened later by the caller."""
    snap = snapshot(db_path)
    mem = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    mem.deserialize(snap.data)
    mem.execute("BEGIN")
    for sql, params in updates:
        try:
            mem.execute(sql, params)
        except sqlite3.Error:  # a UNIQUE column: this edit is left out
            continue
    mem.execute("COMMIT")
    return mem


# ---- where to edit ----------------------------------------------------------------------------------
@dataclass
class Site:
    """One column of a real table as the gold uses it, with the SELECT that reads it."""

    select: object
    alias: str
    table: str
    column: str
    node: object


def _sources(select) -> dict[str, str]:
    from sqlglot import exp

    out = {}
    tables = [select.args.get("from_") or select.args.get("from")] + list(select.args.get("joins") or [])
    for src in tables:
        t = src.this if src is not None else None
        if isinstance(t, exp.Table):
            out[t.alias_or_name] = t.name
    return out


def _sites(tree, tables: dict[str, Table]) -> list[Site]:
    from sqlglot import exp

    out = []
    for col in tree.find_all(exp.Column):
        select = col.find_ancestor(exp.Select)
        while select is not None:
            sources = _sources(select)
            if col.table:
                alias = col.table if col.table in sources else None
            else:
                having = [a for a, t in sources.items() if t in tables and col.name in tables[t].columns]
                alias = having[0] if len(having) == 1 else None
            if alias is not None:
                table = tables.get(sources[alias])
                if table is not None and col.name in table.columns:
                    out.append(Site(select, alias, table.name, col.name, col))
                break
            select = select.find_ancestor(exp.Select)
    return out


def _mentions(node, site: Site) -> bool:
    from sqlglot import exp

    return any(c.name == site.column and c.table in (site.alias, "") for c in node.find_all(exp.Column))


def _rows(conn: sqlite3.Connection, site: Site, keys: list | None = None, keep_all: bool = False) -> list[tuple]:
    """``(rowid, *keys)`` of the rows the site's SELECT reads, its conjuncts on the site's column
    left out (unless ``keep_all``); every row of the table where that does not run alone
    (a correlated subquery)."""
    from sqlglot import exp

    from arenas.verifiers.sql_variants import conjuncts

    select = site.select
    q = exp.select(exp.column("rowid", table=site.alias), *(k.copy() for k in keys or ()))
    q.set("from_", (select.args.get("from_") or select.args.get("from")).copy())
    q.set("joins", [j.copy() for j in select.args.get("joins") or []])
    where = select.args.get("where")
    if where is not None:
        parts = [p.copy() for p in conjuncts(where.this) if keep_all or not _mentions(p, site)]
        if parts:
            q.where(*parts, copy=False)
    q = q.distinct()
    try:
        return conn.execute(f"{q.sql(dialect='sqlite')} ORDER BY 1 LIMIT {CANDIDATE_ROWS}").fetchall()
    except sqlite3.Error:
        if keys:
            return []
        return conn.execute(f"SELECT rowid FROM {quote_ident(site.table)} ORDER BY 1 LIMIT {CANDIDATE_ROWS}").fetchall()


def _spread(items: list, n: int) -> list:
    """``n`` items spread evenly over the list (deterministic)."""
    if len(items) <= n:
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def _set(site: Site, value, rowids: list) -> Update:
    marks = ",".join("?" * len(rowids))
    return (f"UPDATE {quote_ident(site.table)} SET {quote_ident(site.column)} = ? WHERE rowid IN ({marks})",
            [value, *rowids])


def _threshold_values(c: float | int, integer: bool) -> list:
    """The constant, the ones a careless query uses instead, and the values between them."""
    near = nearby_constants(c)
    values = [c, *near, *(round((c + a) / 2, 10) for a in near)]
    if integer:
        values = [int(v) for v in values if v == int(v)] + [int(c) + 2, int(c) - 2]
    return list(dict.fromkeys(values))


def _column_facts(conn: sqlite3.Connection, site: Site) -> tuple:
    t, c = quote_ident(site.table), quote_ident(site.column)
    return conn.execute(f"SELECT MIN({c}), MAX({c}), COUNT(DISTINCT {c}), typeof(MAX({c})) FROM {t}").fetchone()


def targeted_candidates(db_path: Path, gold_sql: str) -> list[Candidate]:
    """The per-gold candidate databases (as edits of the original), deterministic."""
    try:
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(gold_sql, read="sqlite")
    except Exception:  # ImportError or a parse error: no targeted candidates
        return []
    snap = snapshot(db_path)
    referenced = referenced_columns(snap.tables)
    conn = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)
    out: dict[str, Candidate] = {}

    seen: set[str] = set()

    def add(name: str, updates: list[Update], merged: str | None = None) -> None:
        """One candidate per name; the first place the query uses a column decides. Edits
        that rarely interfere (NULLs, out-of-range values) share one copy, ``merged``."""
        if not updates or name in seen:
            return
        seen.add(name)
        if merged is None:
            out[name] = Candidate(name, updates)
        else:
            out.setdefault(merged, Candidate(merged)).updates.extend(updates)

    try:
        for site in _sites(tree, snap.tables):
            table = snap.tables[site.table]
            index = table.columns.index(site.column)
            if index in table.frozen_columns(referenced):
                continue
            lo, hi, distinct, kind = _column_facts(conn, site)
            numeric = kind in ("integer", "real")
            key = f"{site.table}.{site.column}"
            parent = site.node.parent
            literal = None
            if isinstance(parent, exp.Predicate) and parent.find_ancestor(exp.Having) is None:
                other = parent.expression if parent.this is site.node else parent.this
                literal = other if isinstance(other, exp.Literal) else None
            if literal is not None and not literal.is_string and numeric:
                rows = [r[0] for r in _rows(conn, site)]
                values = _threshold_values(number(literal), kind == "integer")
                picked = _spread(rows, len(values))
                add(f"threshold {key}", [_set(site, v, [r]) for v, r in zip(values, picked, strict=False)])
            elif literal is not None and literal.is_string and isinstance(parent, exp.EQ):
                rows = [r[0] for r in _rows(conn, site)]
                add(f"constant {key}", [_set(site, literal.this, _spread(rows, 2))])
            having = site.node.find_ancestor(exp.Having)
            agg = site.node.parent
            if having is not None and isinstance(agg, exp.Sum | exp.Avg | exp.Max | exp.Min) and numeric:
                add(f"having {key}", _having_updates(conn, site, agg))
            select = site.select
            window = site.node.find_ancestor(exp.Window)
            group_keys = list(window.args.get("partition_by") or []) if window is not None else list(
                (select.args.get("group") or exp.Group()).expressions)
            add(f"ties {key}", _tie_updates(conn, site, [k for k in group_keys if not _mentions(k, site)]))
            if not table.notnull[index] and lo is not None:
                rows = [r[0] for r in _rows(conn, site)]
                add(f"nulls {key}", [_set(site, None, _spread(rows, max(1, min(25, len(rows) // 4))))], "nulls")
            if numeric and distinct > 1:
                rows = [r[0] for r in _rows(conn, site)]
                span = max(hi - lo, 1)
                add(f"range {key}", [_set(site, v, [r]) for v, r in zip((hi + span, lo - span), _spread(rows, 2),
                                                                        strict=False)], "out of range")
            if numeric and distinct == 1:
                rows = _spread([r[0] for r in _rows(conn, site)], 25)
                add(f"vary {key}", [_set(site, hi + 1 + i % 3, [r]) for i, r in enumerate(rows)])
    finally:
        conn.close()
    return list(out.values())


def _having_updates(conn: sqlite3.Connection, site: Site, agg) -> list[Update]:
    """Groups whose aggregate lands exactly at (and beside) the HAVING threshold."""
    from sqlglot import exp

    cond = agg.find_ancestor(exp.Predicate)
    other = cond.expression if cond is not None and cond.this is agg else cond.this if cond is not None else None
    if not isinstance(other, exp.Literal) or other.is_string:
        return []
    keys = list((site.select.args.get("group") or exp.Group()).expressions)
    if not keys:
        return []
    groups: dict[tuple, list] = {}
    for rowid, *key in _rows(conn, site, keys, keep_all=True):
        groups.setdefault(tuple(key), []).append(rowid)
    values = _threshold_values(number(other), False)
    small_first = sorted(groups.items(), key=lambda g: (len(g[1]), repr(g[0])))
    updates = []
    for value, (_, rowids) in zip(values, small_first, strict=False):
        per_row = _per_row(value, len(rowids), isinstance(agg, exp.Sum | exp.Avg), isinstance(agg, exp.Sum))
        updates.append(_set(site, per_row, rowids))
    return updates


def _per_row(target: float, n: int, summed: bool, total: bool) -> float:
    """The value ``n`` rows must hold so that their AVG (or SUM, if ``total``) is ``target`` to
    the last bit when SQLite adds them one by one (1.2 in 82 rows averages 1.2000000000000017)."""
    if not summed or n == 1:
        return target
    w = target / n if total else target
    for _ in range(64):
        acc = 0.0
        for _ in range(n):
            acc += w
        got = acc if total else acc / n
        if got == target:
            return w
        w = math.nextafter(w, -math.inf if got > target else math.inf)
    return target / n if total else target


def _tie_updates(conn: sqlite3.Connection, site: Site, keys: list) -> list[Update]:
    """In each group (up to :data:`MAX_GROUPS`), the runner-up at both ends takes the extreme
    value: ties at every maximum and minimum, duplicates of returned values."""
    from sqlglot import exp

    col = exp.column(site.column, table=site.alias)
    groups: dict[tuple, list] = {}
    for rowid, value, *key in _rows(conn, site, [col, *keys]):
        if value is not None:
            groups.setdefault(tuple(key), []).append((value, rowid))
    updates = []
    for _, members in sorted(groups.items(), key=repr)[:MAX_GROUPS]:
        members.sort(key=lambda m: (str(type(m[0])), m[0], m[1]))
        if len(members) >= 4:
            updates.append(_set(site, members[-1][0], [members[-2][1]]))
            updates.append(_set(site, members[0][0], [members[1][1]]))
        elif len(members) >= 2:
            updates.append(_set(site, members[-1][0], [members[0][1]]))
    return updates


# ---- the cover -----------------------------------------------------------------------------------------
@dataclass
class Distilled:
    """What the distiller adds to a gold's default suite, and how well the suite does."""

    picks: list[Candidate]
    stats: dict[str, list[int]]
    """per family: ``[generated, runnable, differ somewhere, caught by the default suite,
    caught by the distilled suite]``"""
    differing: list[str] = field(default_factory=list)
    """the variants (SQL) that differ from the gold on some database: the suite must reject them"""

    def to_json(self) -> dict:
        return {"picks": [{"name": c.name, "updates": c.updates} for c in self.picks], "stats": self.stats,
                "differing": self.differing}

    @classmethod
    def from_json(cls, d: dict) -> Distilled:
        return cls([Candidate(p["name"], [tuple(u) for u in p["updates"]]) for p in d["picks"]], d["stats"],
                   d["differing"])


GoldRows = tuple[Rows, Ties | None, int]
"""The gold's rows and ties on one database, and a prediction's step budget there."""
RunGold = Callable[[ReadOnlySQLite], GoldRows]


def _differs(db: ReadOnlySQLite, sql: str, gold: GoldRows, order: bool) -> bool | None:
    """Whether ``sql`` returns something else than the gold here; None if it fails to run."""
    rows, ties, budget = gold
    try:
        _, got, truncated = db.query(sql, 60.0, len(rows) + 1, max_steps=budget)
    except QueryError:
        return None
    return truncated or not results_equal(rows, got, order, ties, True)


def distill(db_path: Path, gold_sql: str, order: bool, default: list[tuple[ReadOnlySQLite, GoldRows]],
            run_gold: RunGold) -> Distilled:
    """Distils the targeted candidates against the variants the ``default`` suite (original
    first, then the shared neighbours, each with the gold's rows) does not catch."""
    stats = {f: [0, 0, 0, 0, 0] for f in FAMILIES}
    pending, differing = [], []
    original_db, original_gold = default[0]
    for v in variants(gold_sql):
        s = stats[v.family]
        s[0] += 1
        first = _differs(original_db, v.sql, original_gold, order)
        if first is None:
            continue
        s[1] += 1
        caught = first or any(_differs(db, v.sql, gold, order) for db, gold in default[1:])
        if caught:
            s[2] += 1
            s[3] += 1
            s[4] += 1
            differing.append(v.sql)
        else:
            pending.append(v)
    catches: list[tuple[Candidate, set[int]]] = []
    if pending:
        for cand in targeted_candidates(db_path, gold_sql):
            db = ReadOnlySQLite(None, conn=build_copy(db_path, cand.updates), close_on_drop=True)
            try:
                gold = run_gold(db)
            except QueryError:
                continue
            if not gold[0] or len(gold[0]) > 10 * max(10, len(original_gold[0])):
                continue  # the gold's result must stay of the same order
            caught = {i for i, v in enumerate(pending) if _differs(db, v.sql, gold, order)}
            if caught:
                catches.append((cand, caught))
    covered: set[int] = set().union(*(c for _, c in catches)) if catches else set()
    picks = []
    left = set(covered)
    while left:  # greedy set cover, ties broken by candidate order
        cand, caught = max(catches, key=lambda cc: len(cc[1] & left))
        picks.append(cand)
        left -= caught
    for i in sorted(covered):
        stats[pending[i].family][2] += 1
        stats[pending[i].family][4] += 1
        differing.append(pending[i].sql)
    return Distilled(picks, stats, differing)


# ---- the cache ------------------------------------------------------------------------------------------
_memory: dict[tuple[str, str], Distilled] = {}
_digests: dict[tuple[str, int, int], str] = {}
_lock = threading.Lock()


def _folder(db_path: Path) -> Path:
    stat = db_path.stat()
    key = (str(db_path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if key not in _digests:
            _digests[key] = sha256_file(db_path)
        digest = _digests[key]
    return arenas_home() / "sql" / "distilled" / f"{db_path.stem}-v{DISTILL_VERSION}-{digest[:16]}"


def cached_distill(db_path: Path, gold_sql: str, compute: Callable[[], Distilled]) -> Distilled:
    """The gold's distilled suite, from memory, from disk, or computed and written atomically."""
    key = (str(db_path), gold_sql)
    with _lock:
        if key in _memory:
            return _memory[key]
    folder = _folder(db_path)
    path = folder / f"{hashlib.sha256(gold_sql.encode()).hexdigest()[:24]}.json"
    result = None
    if path.is_file():
        try:
            result = Distilled.from_json(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError):  # a damaged file is recomputed
            result = None
    if result is None:
        result = compute()
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump({"gold": gold_sql, **result.to_json()}, f)
        os.replace(tmp, path)
    with _lock:
        _memory[key] = result
        while len(_memory) > 4096:
            _memory.pop(next(iter(_memory)))
    return result


def forget_distilled() -> None:
    """Empties the in-memory cache (the files on disk stay)."""
    with _lock:
        _memory.clear()

