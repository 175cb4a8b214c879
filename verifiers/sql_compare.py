"""Comparing query results the way test-suite execution equivalence needs: as bags of rows (or
lists, when the gold orders its result), up to a permutation of the columns, with a small
numeric tolerance, and without punishing a different but equally valid choice among ties.

Ties: ``ORDER BY total DESC LIMIT 3`` does not say which row to keep when the third and fourth
totals are equal, and ``ORDER BY country`` does not order two rows of the same country. A
neighbour database creates such ties freely. :func:`tie_probe` rewrites the gold query to also
return its sort keys (and a few rows past its LIMIT); :class:`Ties` records the runs of rows with
equal keys, and :func:`results_equal` then accepts any order inside a run and any choice of tied
rows at the LIMIT.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from itertools import chain, permutations, repeat
from typing import Any

Rows = list[tuple]
TIE_WINDOW = 200
"""Rows past the gold's LIMIT fetched to find the rows that tie with the last one kept."""

_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def norm(v: Any) -> Any:
    """Canonical form for exact matching: integral floats become ints, other floats keep 9
    significant digits (sums computed in a different order agree)."""
    if isinstance(v, float):
        if not math.isfinite(v):
            return v
        if v.is_integer() and abs(v) < 2**53:
            return int(v)
        return float(f"{v:.9g}")
    if isinstance(v, bool):
        return int(v)
    return v


_NEEDS_NORM = (float, bool)


def norm_rows(rows: Rows) -> Rows:
    """Rows as tuples of :func:`norm`'d values (only floats and bools change: the rest is
    returned as is, found by iterating in C)."""
    out = list(map(tuple, rows))
    if not any(map(isinstance, chain.from_iterable(out), repeat(_NEEDS_NORM))):
        return out
    return [tuple(map(norm, r)) if any(map(isinstance, r, repeat(_NEEDS_NORM))) else r for r in out]


@dataclass(frozen=True)
class Ties:
    """Where the gold's ORDER BY leaves the result open: ``runs`` are the ``[start, end)`` spans
    of rows with equal sort keys (in order); ``cut_pool`` are rows past the LIMIT whose keys
    equal the last kept row's, any of which could replace a row of the last run."""

    runs: tuple[tuple[int, int], ...]
    cut_pool: tuple[tuple, ...] = ()


@dataclass(frozen=True)
class Probe:
    sql: str
    n_keys: int
    limit: int | None


def tie_probe(sql: str) -> Probe | None:
    """The gold query with its ORDER BY keys appended as columns and its LIMIT raised by
    :data:`TIE_WINDOW`, or None where that cannot be done safely (no ORDER BY, DISTINCT,
    OFFSET, compound queries, unparsable SQL, sqlglot not installed)."""
    if not _ORDER_BY.search(sql):
        return None
    try:
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(sql, read="sqlite")
    except Exception:  # ImportError or any of sqlglot's parse errors: no tie handling
        return None
    order = tree.args.get("order") if isinstance(tree, exp.Select) else None
    if order is None or tree.args.get("distinct") or tree.args.get("offset"):
        return None
    selects = tree.expressions
    aliases = {e.alias: e.this for e in selects if isinstance(e, exp.Alias)}
    keys = []
    for ordered in order.expressions:
        key = ordered.this
        if isinstance(key, exp.Literal) and not key.is_string and key.this.isdigit():
            if not 1 <= int(key.this) <= len(selects):
                return None
            key = selects[int(key.this) - 1]
            key = key.this if isinstance(key, exp.Alias) else key
        elif isinstance(key, exp.Column) and not key.table and key.name in aliases:
            key = aliases[key.name]
        keys.append(exp.alias_(key.copy(), f"__tie_key_{len(keys)}"))
    probe = tree.copy()
    probe.set("expressions", [*probe.expressions, *keys])
    limit = None
    if tree.args.get("limit") is not None:
        value = tree.args["limit"].expression
        if not (isinstance(value, exp.Literal) and value.this.isdigit()):
            return None
        limit = int(value.this)
        probe = probe.limit(limit + TIE_WINDOW)
    return Probe(probe.sql(dialect="sqlite"), len(keys), limit)


def split_probe(rows: Rows, probe: Probe) -> tuple[Rows, Ties | None]:
    """The gold rows (normalised) and their ties, from the probe's rows."""
    kept = rows[:probe.limit]  # all of them when there is no LIMIT
    if not kept:
        return [], None
    n = len(kept[0]) - probe.n_keys
    keys = [norm_rows([r[n:]])[0] for r in kept]
    gold = norm_rows([r[:n] for r in kept])
    runs, start = [], 0
    for i in range(1, len(kept) + 1):
        if i == len(kept) or keys[i] != keys[start]:
            runs.append((start, i))
            start = i
    pool = tuple(norm_rows([r[:n]])[0] for r in rows[len(kept):] if norm_rows([r[n:]])[0] == keys[-1])
    if len(runs) == len(kept) and not pool:
        return gold, None
    return gold, Ties(tuple(runs), pool)


def _sort_key(row: tuple) -> tuple:
    return tuple((0, 0) if v is None else (1, v) if isinstance(v, int | float) else (2, str(v)) for v in row)


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return a == b


def _rows_equal(gold: Rows, pred: Rows, order_matters: bool) -> bool:
    if order_matters:
        return gold == pred or all(_close(a, b) for g, p in zip(gold, pred, strict=True)
                                   for a, b in zip(g, p, strict=True))
    if Counter(gold) == Counter(pred):
        return True
    if not any(isinstance(v, float) for row in gold for v in row):
        return False
    return all(_close(a, b) for g, p in zip(sorted(gold, key=_sort_key), sorted(pred, key=_sort_key), strict=True)
               for a, b in zip(g, p, strict=True))


def _equal_with_ties(gold: Rows, pred: Rows, order_matters: bool, ties: Ties) -> bool:
    runs = ties.runs
    if ties.cut_pool:  # the last run may be filled with any of the tied rows
        start = runs[-1][0]
        allowed = Counter(gold[start:]) + Counter(ties.cut_pool)
        if order_matters:
            head_ok = all(Counter(gold[a:b]) == Counter(pred[a:b]) for a, b in runs[:-1])
            tail = Counter(pred[start:])
        else:
            fixed = Counter(gold[:start])
            head_ok = fixed <= Counter(pred)
            tail = Counter(pred) - fixed
        return head_ok and all(allowed[row] >= n for row, n in tail.items())
    if not order_matters:
        return Counter(gold) == Counter(pred)
    return all(Counter(gold[a:b]) == Counter(pred[a:b]) for a, b in runs)


def _permutations(gold_cols: list[Counter], pred_cols: list[Counter], limit: int = 256) -> list[tuple[int, ...]]:
    """Orders of the predicted columns whose value bags match the gold columns one by one."""
    options = [[j for j, pc in enumerate(pred_cols) if pc == gc] for gc in gold_cols]
    found: list[tuple[int, ...]] = []

    def extend(prefix: list[int]) -> None:
        if len(found) >= limit:
            return
        if len(prefix) == len(options):
            found.append(tuple(prefix))
            return
        for j in options[len(prefix)]:
            if j not in prefix:
                extend(prefix + [j])

    extend([])
    return found


def results_equal(gold: Rows, pred: Rows, order_matters: bool, ties: Ties | None = None,
                  gold_normalised: bool = False) -> bool:
    """Bag (or list, if ``order_matters``) equality of two results, up to a permutation of the
    predicted columns, a small numeric tolerance and, given ``ties``, any order or choice
    among rows the gold's ORDER BY does not separate."""
    if not gold and not pred:
        return True
    if len(gold) != len(pred) or len(gold[0]) != len(pred[0]):
        return False
    gold = gold if gold_normalised else norm_rows(gold)
    pred = norm_rows(pred)
    if _rows_equal(gold, pred, order_matters):
        return True
    width = len(gold[0])
    identity = tuple(range(width))
    if ties is not None and ties.cut_pool and width <= 4:  # tied rows change the column bags
        perms = list(permutations(identity))
    else:
        gold_cols = [Counter(r[i] for r in gold) for i in range(width)]
        pred_cols = [Counter(r[i] for r in pred) for i in range(width)]
        perms = _permutations(gold_cols, pred_cols)
        if ties is not None and identity not in perms:
            perms.insert(0, identity)
    for perm in perms:
        candidate = pred if perm == identity else [tuple(r[j] for j in perm) for r in pred]
        if perm != identity and _rows_equal(gold, candidate, order_matters):
            return True
        if ties is not None and _equal_with_ties(gold, candidate, order_matters, ties):
            return True
    return False
