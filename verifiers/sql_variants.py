"""Plausible wrong variants of a gold query, generated mechanically from its parse tree.

Test-suite execution equivalence is only as strong as its databases: a neighbour catches a
wrong query only if the data makes it return something else. To know what the suite must catch,
the variants here model the mistakes a text-to-SQL system makes (Zhong et al., 2020, section
3.2 distils neighbour databases against such a set): each one changes the gold in one place.

Families (the report counts them separately):

- ``comparison``: ``>`` for ``>=``, ``<`` for ``<=`` and back, wherever they occur (``WHERE``,
  ``HAVING``, inside ``NOT EXISTS``);
- ``constant``: a numeric threshold off by one, rounded, or moved by its last decimal;
- ``tie``: ``= (SELECT MAX(...))`` for ``ORDER BY ... LIMIT 1`` and back, ``RANK`` for
  ``ROW_NUMBER`` / ``DENSE_RANK``;
- ``distinct``: ``DISTINCT`` added or dropped (also inside ``COUNT``);
- ``count``: ``COUNT(*)`` for ``COUNT(column)`` and back;
- ``join``: ``INNER`` for ``LEFT`` join and back;
- ``logic``: ``AND`` for ``OR`` and back;
- ``predicate``: a conjunct of ``WHERE``/``HAVING`` dropped, or ``IS NOT NULL`` added on a column
  the query returns;
- ``group``: a ``GROUP BY`` key replaced by another column the query returns, or dropped;
- ``aggregate``: ``SUM``/``AVG``/``MAX``/``MIN`` swapped;
- ``order``: a sort direction flipped (also in window functions), a ``LIMIT`` off by one.

Variants are SQLite SQL; some do not run (a grouped column no longer grouped is still fine in
SQLite, but not everything is), and some are equivalent to the gold; the distiller keeps those
that differ from it on some database (:mod:`arenas.verifiers.sql_distill`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

FAMILIES = ("comparison", "constant", "tie", "distinct", "count", "join", "logic", "predicate", "group",
            "aggregate", "order")
MAX_VARIANTS = 60
"""Variants per gold at most (the first ones in tree order; a typical gold has 10 to 30)."""


@dataclass(frozen=True)
class Variant:
    family: str
    change: str
    """what was changed, in words (for reports)"""
    sql: str


def number(lit) -> float | int | None:
    from sqlglot import exp

    if not isinstance(lit, exp.Literal) or lit.is_string:
        return None
    try:
        return int(lit.this)
    except ValueError:
        try:
            return float(lit.this)
        except ValueError:
            return None


def nearby_constants(c: float | int) -> list[float | int]:
    """The constants a careless query puts in place of ``c``: off by one, rounded, or moved by
    the last shown decimal."""
    if isinstance(c, int):
        return [c - 1, c + 1]
    text = repr(c)
    decimals = min(len(text.split(".")[1]), 6) if "." in text and "e" not in text else 2
    step = 10.0 ** -decimals
    out = {round(c - step, decimals), round(c + step, decimals), float(round(c))}
    if decimals > 1:
        out.add(round(c, decimals - 1))
    out.discard(c)
    return sorted(out)


def _literal(value: float | int):
    from sqlglot import exp

    return exp.Literal.number(format(value, ".10g") if isinstance(value, float) else str(value))


def _in_limit(node) -> bool:
    from sqlglot import exp

    return node.find_ancestor(exp.Limit, exp.Offset) is not None


def conjuncts(cond) -> list:
    from sqlglot import exp

    return list(cond.flatten()) if isinstance(cond, exp.And) else [cond]


def _drop(node) -> None:
    """Removes one conjunct from its ``AND`` chain, or the whole clause it is alone in."""
    from sqlglot import exp

    parent = node.parent
    while isinstance(parent, exp.Paren):
        node, parent = parent, parent.parent
    if isinstance(parent, exp.And):
        other = parent.expression if parent.this is node else parent.this
        parent.replace(other)
    elif isinstance(parent, exp.Where | exp.Having):
        parent.pop()
    else:
        node.replace(exp.true())


def _projected_columns(select) -> list:
    from sqlglot import exp

    out = []
    for e in select.expressions:
        inner = e.this if isinstance(e, exp.Alias) else e
        if isinstance(inner, exp.Column):
            out.append(inner)
    return out


def _site_mutations(node) -> Iterator[tuple[str, str, Callable]]:
    """``(family, change, apply)`` for every mistake that can be made at ``node``; ``apply``
    edits a copy of the node (found at the same position in a copy of the tree)."""
    from sqlglot import exp

    strict = {exp.GT: exp.GTE, exp.GTE: exp.GT, exp.LT: exp.LTE, exp.LTE: exp.LT}
    if type(node) in strict:
        new = strict[type(node)]
        yield "comparison", f"{node.key} -> {new.key}", lambda n: n.replace(new(this=n.this, expression=n.expression))
    c = number(node)
    if c is not None and not _in_limit(node) and isinstance(node.parent, exp.Predicate | exp.Neg):
        for alt in nearby_constants(c):
            yield "constant", f"{c} -> {alt}", lambda n, alt=alt: n.replace(_literal(alt))
    if isinstance(node, exp.EQ) and isinstance(node.expression, exp.Subquery):
        inner = node.expression.this
        agg = inner.expressions[0] if isinstance(inner, exp.Select) and len(inner.expressions) == 1 else None
        if isinstance(agg, exp.Max | exp.Min) and node.find_ancestor(exp.Where) is not None:
            desc = isinstance(agg, exp.Max)

            def order_limit(n, desc=desc):
                select = n.find_ancestor(exp.Select)
                key = n.this.copy()
                _drop(n)
                select.order_by(exp.Ordered(this=key, desc=desc), copy=False).limit(1, copy=False)
            yield "tie", "= MAX/MIN(...) -> ORDER BY ... LIMIT 1", order_limit
    if isinstance(node, exp.Select):
        yield from _select_mutations(node)
    for kind, others in ((exp.Rank, (exp.RowNumber, exp.DenseRank)), (exp.DenseRank, (exp.Rank, exp.RowNumber)),
                         (exp.RowNumber, (exp.Rank, exp.DenseRank))):
        if isinstance(node, kind):
            for other in others:
                yield "tie", f"{kind.key} -> {other.key}", lambda n, other=other: n.replace(other())
    if isinstance(node, exp.Count):
        if isinstance(node.this, exp.Distinct):
            yield "distinct", "COUNT(DISTINCT x) -> COUNT(x)", lambda n: n.set("this", n.this.expressions[0])
        elif isinstance(node.this, exp.Star):
            select = node.find_ancestor(exp.Select)
            seen = set()
            for col in select.find_all(exp.Column) if select else ():
                if col.sql() not in seen and col.find_ancestor(exp.Select) is select:
                    seen.add(col.sql())
                    yield "count", f"COUNT(*) -> COUNT({col.sql()})", lambda n, col=col: n.set("this", col.copy())
        else:
            yield "count", "COUNT(x) -> COUNT(*)", lambda n: n.set("this", exp.Star())
            yield "distinct", "COUNT(x) -> COUNT(DISTINCT x)", lambda n: n.set(
                "this", exp.Distinct(expressions=[n.this]))
    aggregates = (exp.Sum, exp.Avg, exp.Max, exp.Min)
    if type(node) in aggregates and node.find_ancestor(exp.Window) is None:
        for other in aggregates:
            if other is not type(node):
                yield "aggregate", f"{node.key} -> {other.key}", lambda n, other=other: n.replace(other(this=n.this))
    if isinstance(node, exp.Join) and node.args.get("on") is not None:
        if node.side == "LEFT":
            yield "join", "LEFT JOIN -> JOIN", lambda n: n.set("side", None)
        elif not node.side:
            yield "join", "JOIN -> LEFT JOIN", lambda n: n.set("side", "LEFT")
    if isinstance(node, exp.And):
        yield "logic", "AND -> OR", lambda n: n.replace(exp.Or(this=n.this, expression=n.expression))
    if isinstance(node, exp.Or):
        yield "logic", "OR -> AND", lambda n: n.replace(exp.And(this=n.this, expression=n.expression))
    if isinstance(node, exp.Where | exp.Having):
        for i, part in enumerate(conjuncts(node.this)):
            def drop(n, i=i):
                _drop(conjuncts(n.this)[i])
            yield "predicate", f"drop {part.sql()[:60]}", drop
    if isinstance(node, exp.Ordered):
        yield "order", "ASC <-> DESC", lambda n: n.set("desc", not n.args.get("desc"))


def _select_mutations(select) -> Iterator[tuple[str, str, Callable]]:
    from sqlglot import exp

    yield "distinct", "DISTINCT toggled", lambda n: n.set("distinct", None if n.args.get("distinct")
                                                            else exp.Distinct())
    limit = select.args.get("limit")
    k = number(limit.expression) if limit is not None else None
    if isinstance(k, int):
        for alt in (k - 1, k + 1):
            if alt >= 1:
                yield "order", f"LIMIT {k} -> {alt}", lambda n, alt=alt: n.args["limit"].set(
                    "expression", exp.Literal.number(alt))
    order = select.args.get("order")
    if (k == 1 and order is not None and len(order.expressions) == 1 and not select.args.get("group")
            and not select.args.get("distinct")):
        def max_filter(n):
            ordered = n.args["order"].expressions[0]
            agg = (exp.Max if ordered.args.get("desc") else exp.Min)(this=ordered.this.copy())
            inner = n.copy()
            for arg in ("order", "limit"):
                inner.set(arg, None)
            inner.set("expressions", [agg])
            n.set("order", None)
            n.set("limit", None)
            n.where(exp.EQ(this=ordered.this.copy(), expression=exp.Subquery(this=inner)), copy=False)
        yield "tie", "ORDER BY ... LIMIT 1 -> = MAX/MIN(...)", max_filter
    projected = _projected_columns(select)
    group = select.args.get("group")
    if group is not None:
        keys = group.expressions
        for i, key in enumerate(keys):
            for col in projected:
                if col.sql() not in {k.sql() for k in keys}:
                    def regroup(n, i=i, col=col):
                        n.args["group"].expressions[i].replace(col.copy())
                    yield "group", f"GROUP BY {key.sql()} -> {col.sql()}", regroup
            if len(keys) > 1:
                yield "group", f"GROUP BY without {key.sql()}", lambda n, i=i: n.args["group"].expressions[i].pop()
    for col in projected:
        def not_null(n, col=col):
            n.where(exp.Not(this=exp.Is(this=col.copy(), expression=exp.Null())), copy=False)
        yield "predicate", f"add {col.sql()} IS NOT NULL", not_null


def variants(gold_sql: str, limit: int = MAX_VARIANTS) -> list[Variant]:
    """The wrong variants of ``gold_sql`` (SQLite), deduplicated, in tree order; empty when
    sqlglot is missing or cannot parse it."""
    try:
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(gold_sql, read="sqlite")
    except Exception:  # ImportError or any of sqlglot's parse errors
        return []
    if not isinstance(tree, exp.Query):
        return []
    canonical = tree.sql(dialect="sqlite")
    nodes = list(tree.walk())
    out: list[Variant] = []
    seen = {canonical}
    for index, node in enumerate(nodes):
        for family, change, apply in _site_mutations(node):
            copy = tree.copy()
            target = list(copy.walk())[index]
            try:
                apply(target)
                sql = copy.sql(dialect="sqlite")
            except Exception:  # a mutation that does not fit this tree: no variant
                continue
            if sql not in seen:
                seen.add(sql)
                out.append(Variant(family, change, sql))
                if len(out) >= limit:
                    return out
    return out
