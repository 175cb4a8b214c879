"""Nested-query, window-function and follow-up conversation templates (see
:mod:`arenas.sql.templates`)."""

from __future__ import annotations

from collections.abc import Iterator

from arenas.sql.templates import (
    Draft,
    Gen,
    and_,
    cols,
    draws,
    entities_with,
    join_on,
    label_is,
    lit,
    no_ties,
    pick_category,
    pick_measure,
    q,
    shown,
    template,
)
from arenas.sql.templates_basic import MAX_ROWS, _topk, as_their, cutoff, grouped, parent_choice


# ---- nested ------------------------------------------------------------------------------------
@template("nested_above_average", "nested")
def nested_above_average(g: Gen) -> Iterator[Draft]:
    options = [e for e in entities_with(g, "categories") if e.measures]
    for _ in draws(g):
        e = g.pick(options)
        cat = pick_category(g, e, 0.5)
        m, mphrase = pick_measure(g, e)
        if cat is None or cat[0] == m or cat[3] < 3:
            continue
        col, cphrase, v, _ = cat
        vals = [r[0] for r in g.rows(f"SELECT {q(m)} FROM {q(e.table)} WHERE {q(col)} = {lit(v)} "
                                     f"AND {q(m)} IS NOT NULL")]
        mean = sum(vals) / len(vals) if vals else 0
        if any(abs(x - mean) <= 1e-6 * max(1.0, abs(mean)) for x in vals):
            continue  # a value at the average itself is above it on one engine and not on another
        yield Draft([f"Which {e.plural} whose {cphrase} is {shown(v)} have {mphrase} above the average "
                     f"{mphrase} of all {e.plural} with that {cphrase}? Give their {and_(e.label_phrase)} {mphrase}."],
                    [f"SELECT {cols('t', e.label)}, t.{q(m)} FROM {q(e.table)} AS t WHERE t.{q(col)} = {lit(v)} "
                     f"AND t.{q(m)} > (SELECT AVG(s.{q(m)}) FROM {q(e.table)} AS s WHERE s.{q(col)} = {lit(v)})"],
                    [False])


@template("nested_not_exists", "nested")
def nested_not_exists(g: Gen) -> Iterator[Draft]:
    for _ in draws(g):
        rel = g.pick(g.relations)
        c, p = rel.child, rel.parent
        extra, text = "", ""
        if c.measures and g.rng.random() < 0.7:
            m, mphrase = pick_measure(g, c)
            x = cutoff(g, c.table, m, True, max_rows=10 * MAX_ROWS)
            if x is None:
                continue
            extra, text = f" AND c.{q(m)} > {lit(x)}", f" with {mphrase} above {shown(x)}"
        total = g.count(p.table)
        yield Draft([f"Which {p.plural} have no {c.plural}{text}{as_their(rel)}? "
                     f"Give their {p.label_phrase}."],
                    [f"SELECT {cols('p', p.label)} FROM {q(p.table)} AS p WHERE NOT EXISTS (SELECT 1 FROM "
                     f"{q(c.table)} AS c WHERE {join_on('c', 'p', rel.fk)}{extra})"], [False],
                    accept=lambda res, total=total: len(res[0]) < total)


@template("nested_max_in_group", "nested")
def nested_max_in_group(g: Gen) -> Iterator[Draft]:
    options = [r for r in g.relations if r.child.measures]
    for _ in draws(g):
        rel = g.pick(options)
        choice = parent_choice(g, rel, 10_000)
        if choice is None:
            continue
        c, p = rel.child, rel.parent
        (cond, text), (inner, _) = label_is("p", p, choice), label_is("p2", p, choice)
        m, mphrase = pick_measure(g, c)
        (rivals,) = g.rows(f"SELECT COUNT(c2.{q(m)}) FROM {q(c.table)} AS c2 JOIN {q(p.table)} AS p2 "
                           f"ON {join_on('c2', 'p2', rel.fk)} WHERE {inner}")[0]
        yield Draft([f'Among the {c.plural} whose {rel.phrase} is "{text}", which have the highest {mphrase}? '
                     f"Give their {and_(c.label_phrase)} {mphrase} (all of them if tied)."],
                    [f"SELECT {cols('c', c.label)}, c.{q(m)} FROM {q(c.table)} AS c JOIN {q(p.table)} AS p "
                     f"ON {join_on('c', 'p', rel.fk)} WHERE {cond} AND c.{q(m)} = (SELECT MAX(c2.{q(m)}) "
                     f"FROM {q(c.table)} AS c2 JOIN {q(p.table)} AS p2 ON {join_on('c2', 'p2', rel.fk)} "
                     f"WHERE {inner})"], [False],
                    accept=lambda res, rivals=rivals: len(res[0]) < min(5, rivals))  # the maximum must matter


# ---- window ------------------------------------------------------------------------------------
def _aliased(alias: str, columns: tuple[str, ...], prefix: str) -> str:
    return ", ".join(f"{alias}.{q(c)} AS {prefix}{i}" for i, c in enumerate(columns))


@template("window_top_per_group", "window")
def window_top_per_group(g: Gen) -> Iterator[Draft]:
    options = [r for r in g.relations if r.child.measures and g.count(r.parent.table) <= MAX_ROWS]
    for _ in draws(g):
        rel = g.pick(options)
        if rel is None:
            return
        c, p = rel.child, rel.parent
        m, mphrase = pick_measure(g, c)
        desc = g.rng.random() < 0.7
        word = "highest" if desc else "lowest"
        inner = (f"SELECT {_aliased('p', p.label, 'p')}, {_aliased('c', c.label, 'c')}, c.{q(m)} AS measure, "
                 f"RANK() OVER (PARTITION BY c.{q(rel.fk.column)} ORDER BY c.{q(m)} {'DESC' if desc else 'ASC'}) "
                 f"AS rnk FROM {q(c.table)} AS c JOIN {q(p.table)} AS p ON {join_on('c', 'p', rel.fk)} "
                 f"WHERE c.{q(m)} IS NOT NULL")
        outer = ", ".join([f"ranked.p{i}" for i in range(len(p.label))] + [f"ranked.c{i}" for i in range(len(c.label))])
        yield Draft([f"For each {rel.phrase}, which of its {c.plural} has the {word} {mphrase}? Give the "
                     f"{rel.phrase}'s {p.label_phrase}, the {c.noun}'s {and_(c.label_phrase)} the {mphrase} "
                     "(all of them when tied)."],
                    [f"SELECT {outer}, ranked.measure FROM ({inner}) AS ranked WHERE ranked.rnk = 1"], [False])


@template("window_running_total", "window")
def window_running_total(g: Gen) -> Iterator[Draft]:
    options = [r for r in g.relations if r.child.measures and len(g.schema.table(r.child.table).primary_key) == 1
               and g.schema.table(r.child.table).column(g.schema.table(r.child.table).primary_key[0]).type
               == "INTEGER"]
    for _ in draws(g):
        rel = g.pick(options)
        if rel is None:
            return
        choice = parent_choice(g, rel, 25)
        if choice is None:
            continue
        cond, text = label_is("p", rel.parent, choice)
        c, p = rel.child, rel.parent
        (key,) = g.schema.table(c.table).primary_key
        m, mphrase = pick_measure(g, c)
        yield Draft([f'Take the {c.plural} whose {rel.phrase} is "{text}" in the order they were recorded (their '
                     f'"{key}" column): give their {c.label_phrase}, their {mphrase} and the running total of '
                     f"{mphrase} in that order."],
                    [f"SELECT {cols('c', c.label)}, c.{q(m)}, SUM(c.{q(m)}) OVER (ORDER BY c.{q(key)}) AS running_total "
                     f"FROM {q(c.table)} AS c JOIN {q(p.table)} AS p ON {join_on('c', 'p', rel.fk)} "
                     f"WHERE {cond} ORDER BY c.{q(key)}"], [True],
                    accept=lambda res: len(res[0]) >= 2)


@template("window_rank", "window")
def window_rank(g: Gen) -> Iterator[Draft]:
    options = [e for e in entities_with(g, "categories") if e.measures]
    for _ in draws(g):
        e = g.pick(options)
        cat = pick_category(g, e, 0.5)
        m, mphrase = pick_measure(g, e)
        if cat is None or cat[0] == m or not 3 <= cat[3] <= MAX_ROWS:
            continue
        col, cphrase, v, _ = cat
        yield Draft([f"Rank the {e.plural} whose {cphrase} is {shown(v)} by {mphrase}, highest first (rank 1 is "
                     "the highest; tied rows share a rank and the next rank skips, as RANK does). Give their "
                     f"{e.label_phrase}, {mphrase} and rank."],
                    [f"SELECT {cols('t', e.label)}, t.{q(m)}, RANK() OVER (ORDER BY t.{q(m)} DESC) AS rnk "
                     f"FROM {q(e.table)} AS t WHERE t.{q(col)} = {lit(v)} AND t.{q(m)} IS NOT NULL"], [False],
                    accept=lambda res: len(res[0]) >= 3)


# ---- follow-up conversations -------------------------------------------------------------------
@template("followup_refine", "followup")
def followup_refine(g: Gen) -> Iterator[Draft]:
    options = [e for e in entities_with(g, "categories") if e.measures]
    for _ in draws(g):
        e = g.pick(options)
        cat = pick_category(g, e, 0.5)
        m, mphrase = pick_measure(g, e)
        if cat is None or cat[0] == m or not 4 <= cat[3] <= MAX_ROWS:
            continue
        col, cphrase, v, n = cat
        x = cutoff(g, e.table, m, True, max_rows=n - 1, where=f"{q(col)} = {lit(v)}")
        if x is None:
            continue
        base = f"FROM {q(e.table)} AS t WHERE t.{q(col)} = {lit(v)}"
        narrow = f"{base} AND t.{q(m)} > {lit(x)}"
        yield Draft([f"List the {and_(e.label_phrase)} {mphrase} of the {e.plural} whose {cphrase} is {shown(v)}.",
                     f"Of those, keep only the ones with {mphrase} above {shown(x)}.",
                     f"How many {e.plural} is that? Answer with a query returning the count."],
                    [f"SELECT {cols('t', e.label)}, t.{q(m)} {base}",
                     f"SELECT {cols('t', e.label)}, t.{q(m)} {narrow}",
                     f"SELECT COUNT(*) {narrow}"], [False, False, False],
                    accept=lambda res: 0 < len(res[1]) < len(res[0]))


@template("followup_switch", "followup")
def followup_switch(g: Gen) -> Iterator[Draft]:
    options = [e for e in entities_with(g, "categories") if e.measures]
    for _ in draws(g):
        e = g.pick(options)
        first, second = pick_category(g, e, 0.5), pick_category(g, e, 0.5)
        m, mphrase = pick_measure(g, e)
        k = g.pick([3, 5])
        if first is None or second is None or first[0] != second[0] or first[2] == second[2] or first[0] == m:
            continue
        col, cphrase, v, _ = first
        w = second[2]
        if not (_topk(g, e.table, m, True, k, f"{q(col)} = {lit(v)}")
                and _topk(g, e.table, m, True, k, f"{q(col)} = {lit(w)}")):
            continue
        gold = [f"SELECT {cols('t', e.label)}, t.{q(m)} FROM {q(e.table)} AS t WHERE t.{q(col)} = {lit(value)} "
                f"AND t.{q(m)} IS NOT NULL ORDER BY t.{q(m)} DESC LIMIT {k}" for value in (v, w)]
        yield Draft([f"Which {k} {e.plural} whose {cphrase} is {shown(v)} have the highest {mphrase}? "
                     f"Give their {and_(e.label_phrase)} {mphrase}, highest first.",
                     f"And the same for {cphrase} {shown(w)}?"], gold, [True, True])


@template("followup_group_detail", "followup")
def followup_group_detail(g: Gen) -> Iterator[Draft]:
    for _ in draws(g):
        rel = g.pick(g.relations)
        counts = sorted((r[0] for r in g.rows(f"SELECT COUNT(*) {grouped(rel)}")), reverse=True)
        if len(counts) < 3 or not no_ties(counts, 1) or counts[0] > MAX_ROWS:
            continue
        n = counts[g.rng.randint(1, min(len(counts) - 1, MAX_ROWS))]
        c, p = rel.child, rel.parent
        fk = q(rel.fk.column)
        yield Draft([f"Which {p.plural} have at least {n} {c.plural}{as_their(rel)}? "
                     f"Give the {and_(p.label_phrase)} the number of {c.plural}.",
                     f"List the {c.label_phrase} of the {c.plural} of the one with the most {c.plural}."],
                    [f"SELECT {cols('p', p.label)}, COUNT(*) AS n {grouped(rel)} HAVING COUNT(*) >= {n}",
                     f"SELECT {cols('c', c.label)} FROM {q(c.table)} AS c WHERE c.{fk} = (SELECT c2.{fk} FROM "
                     f"{q(c.table)} AS c2 WHERE c2.{fk} IS NOT NULL GROUP BY c2.{fk} ORDER BY COUNT(*) DESC LIMIT 1)"],
                    [False, False], accept=lambda res, total=len(counts): len(res[0]) < total)
