"""Filter, aggregate, join, group-by and top-k templates (see :mod:`arenas.sql.templates`)."""

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
    round_between,
    shown,
    template,
)

MAX_ROWS = 50
"""Largest gold result a list question may have: answers stay readable and checkable."""

AGGREGATES = (("AVG", "average"), ("MAX", "highest"), ("MIN", "lowest"), ("SUM", "combined"))


def cutoff(g: Gen, table: str, column: str, above: bool, max_rows: int = MAX_ROWS, where: str = "") -> object:
    """A value of ``column`` such that at most about ``max_rows`` rows lie strictly above it (or
    below it, when ``above`` is false)."""
    cond = f"{q(column)} IS NOT NULL" + (f" AND {where}" if where else "")
    vals = [r[0] for r in g.rows(f"SELECT {q(column)} FROM {q(table)} WHERE {cond} ORDER BY {q(column)}")]
    if len(vals) < 3:
        return None
    if above:  # rows strictly above vals[k]: any cut-off in [vals[k], vals[k + 1]) keeps them
        k = g.rng.randint(max(1, len(vals) - max_rows - 1), len(vals) - 2)
        return round_between(vals[k], vals[k + 1]) if vals[k] != vals[k + 1] else vals[k]
    k = g.rng.randint(1, min(max_rows, len(vals) - 2))
    return -round_between(-vals[k], -vals[k - 1]) if vals[k] != vals[k - 1] else vals[k]


def part_of(total: int):
    """An ``accept`` check: the first result keeps at most 60% of a table of ``total`` rows."""
    return lambda res: len(res[0]) <= 0.6 * total


# ---- filter ------------------------------------------------------------------------------------
@template("filter_category", "filter")
def filter_category(g: Gen) -> Iterator[Draft]:
    options = entities_with(g, "categories")
    for _ in draws(g):
        e = g.pick(options)
        cat = pick_category(g, e, 0.3)
        if cat is None or cat[3] > MAX_ROWS:
            continue
        col, phrase, v, _ = cat
        yield Draft([f"List the {e.label_phrase} of every {e.noun} whose {phrase} is {shown(v)}."],
                    [f"SELECT {cols('t', e.label)} FROM {q(e.table)} AS t WHERE t.{q(col)} = {lit(v)}"], [False])


@template("filter_measure", "filter")
def filter_measure(g: Gen) -> Iterator[Draft]:
    options = entities_with(g, "measures")
    for _ in draws(g):
        e = g.pick(options)
        m, phrase = pick_measure(g, e)
        above = g.rng.random() < 0.6
        x = cutoff(g, e.table, m, above)
        if x is None:
            continue
        word, op = ("greater", ">") if above else ("less", "<")
        yield Draft([f"Which {e.plural} have {phrase} {word} than {shown(x)}? "
                     f"Give their {and_(e.label_phrase)} {phrase}."],
                    [f"SELECT {cols('t', e.label)}, t.{q(m)} FROM {q(e.table)} AS t WHERE t.{q(m)} {op} {lit(x)}"],
                    [False], accept=part_of(g.count(e.table)))


@template("filter_category_measure", "filter")
def filter_category_measure(g: Gen) -> Iterator[Draft]:
    options = [e for e in entities_with(g, "categories") if e.measures]
    for _ in draws(g):
        e = g.pick(options)
        cat = pick_category(g, e, 0.5)
        m, mphrase = pick_measure(g, e)
        if cat is None or cat[0] == m or cat[3] < 4:
            continue
        col, cphrase, v, _ = cat
        above = g.rng.random() < 0.5
        x = cutoff(g, e.table, m, above, where=f"{q(col)} = {lit(v)}")
        if x is None:
            continue
        word, op = ("above", ">") if above else ("below", "<")
        yield Draft([f"List the {and_(e.label_phrase)} {mphrase} of the {e.plural} whose {cphrase} is {shown(v)} "
                     f"and whose {mphrase} is {word} {shown(x)}."],
                    [f"SELECT {cols('t', e.label)}, t.{q(m)} FROM {q(e.table)} AS t "
                     f"WHERE t.{q(col)} = {lit(v)} AND t.{q(m)} {op} {lit(x)}"], [False])


@template("filter_text", "filter")
def filter_text(g: Gen) -> Iterator[Draft]:
    options = [e for e in g.entities.values() if len(e.label) == 1
               and g.schema.table(e.table).column(e.label[0]).type == "TEXT"]
    for _ in draws(g):
        e = g.pick(options)
        if e is None:
            return
        (name,) = e.label
        words = [w.lower() for row in [g.pick(g.label_values(e))] for w in str(row[0]).split()]
        words = [w for w in words if len(w) >= 4 and w.isascii() and w.isalpha()]
        word = g.pick(words)
        if word is None:
            continue
        yield Draft([f'List the {e.label_phrase} of every {e.noun} whose {e.label_phrase} contains "{word}" '
                     "(in any letter case)."],
                    [f"SELECT t.{q(name)} FROM {q(e.table)} AS t WHERE LOWER(t.{q(name)}) LIKE '%{word}%'"],
                    [False], accept=part_of(g.count(e.table)))


# ---- aggregate ---------------------------------------------------------------------------------
@template("count_category", "aggregate")
def count_category(g: Gen) -> Iterator[Draft]:
    options = entities_with(g, "categories")
    for _ in draws(g):
        e = g.pick(options)
        cat = pick_category(g, e, 0.5)
        if cat is None:
            continue
        col, phrase, v, _ = cat
        yield Draft([f"How many {e.plural} have {shown(v)} as their {phrase}?"],
                    [f"SELECT COUNT(*) FROM {q(e.table)} AS t WHERE t.{q(col)} = {lit(v)}"], [False], "value")


@template("aggregate_measure", "aggregate")
def aggregate_measure(g: Gen) -> Iterator[Draft]:
    options = [e for e in entities_with(g, "categories") if e.measures]
    for _ in draws(g):
        e = g.pick(options)
        cat = pick_category(g, e, 0.5)
        m, mphrase = pick_measure(g, e)
        if cat is None or cat[0] == m:
            continue
        col, cphrase, v, _ = cat
        fn, word = g.pick(list(AGGREGATES))
        yield Draft([f"What is the {word} {mphrase} of the {e.plural} whose {cphrase} is {shown(v)}?"],
                    [f"SELECT {fn}(t.{q(m)}) FROM {q(e.table)} AS t WHERE t.{q(col)} = {lit(v)}"], [False], "value")


@template("count_distinct", "aggregate")
def count_distinct(g: Gen) -> Iterator[Draft]:
    options = [e for e in entities_with(g, "categories") if len(e.categories) >= 2]
    for _ in draws(g):
        e = g.pick(options)
        if e is None:
            return
        cat = pick_category(g, e, 0.5)
        if cat is None:
            continue
        col, cphrase, v, n = cat
        other, ophrase = g.pick(sorted((c, p) for c, p in e.categories.items() if c != col))
        yield Draft([f"Among the {e.plural} whose {cphrase} is {shown(v)}, how many different values of "
                     f"{ophrase} are there?"],
                    [f"SELECT COUNT(DISTINCT t.{q(other)}) FROM {q(e.table)} AS t WHERE t.{q(col)} = {lit(v)}"],
                    [False], "value", accept=lambda res: res[0][0][0] >= 2)


# ---- join --------------------------------------------------------------------------------------
def parent_choice(g: Gen, rel, max_children: int = MAX_ROWS) -> tuple | None:
    """The label of one parent that has 1..max_children children."""
    p, c = rel.parent, rel.child
    counts = g.rows(f"SELECT {cols('p', p.label)}, COUNT(*) FROM {q(c.table)} AS c "
                    f"JOIN {q(p.table)} AS p ON {join_on('c', 'p', rel.fk)} GROUP BY {cols('p', p.label)} "
                    f"ORDER BY {cols('p', p.label)}")
    ok = [r for r in counts if r[-1] <= max_children and all(v is not None for v in r[:-1])]
    row = g.pick(ok)
    return None if row is None else row[:-1]


@template("join_parent", "join")
def join_parent(g: Gen) -> Iterator[Draft]:
    for _ in draws(g):
        rel = g.pick(g.relations)
        choice = parent_choice(g, rel)
        if choice is None:
            continue
        cond, text = label_is("p", rel.parent, choice)
        c, p = rel.child, rel.parent
        yield Draft([f'List the {c.label_phrase} of the {c.plural} whose {rel.phrase} is "{text}".'],
                    [f"SELECT {cols('c', c.label)} FROM {q(c.table)} AS c JOIN {q(p.table)} AS p "
                     f"ON {join_on('c', 'p', rel.fk)} WHERE {cond}"], [False])


@template("join_two_hop", "join")
def join_two_hop(g: Gen) -> Iterator[Draft]:
    paths = [(r1, r2) for r1 in g.relations for r2 in g.relations
             if r1.parent.table == r2.child.table and r2.fk != r1.fk]
    for _ in draws(g):
        pair = g.pick(paths)
        if pair is None:
            return
        r1, r2 = pair
        c, top = r1.child, r2.parent
        row = g.pick(g.label_values(top))
        cond, text = label_is("p", top, row)
        yield Draft([f'List the {c.label_phrase} of the {c.plural} whose {r1.phrase}\'s {r2.phrase} is "{text}".'],
                    [f"SELECT {cols('c', c.label)} FROM {q(c.table)} AS c "
                     f"JOIN {q(r1.parent.table)} AS m ON {join_on('c', 'm', r1.fk)} "
                     f"JOIN {q(top.table)} AS p ON {join_on('m', 'p', r2.fk)} WHERE {cond}"], [False])


@template("join_aggregate", "join")
def join_aggregate(g: Gen) -> Iterator[Draft]:
    for _ in draws(g):
        rel = g.pick(g.relations)
        choice = parent_choice(g, rel, 10_000)
        if choice is None:
            continue
        cond, text = label_is("p", rel.parent, choice)
        c, p = rel.child, rel.parent
        joined = f"FROM {q(c.table)} AS c JOIN {q(p.table)} AS p ON {join_on('c', 'p', rel.fk)} WHERE {cond}"
        if c.measures and g.rng.random() < 0.6:
            m, mphrase = pick_measure(g, c)
            fn, word = g.pick(list(AGGREGATES))
            yield Draft([f'What is the {word} {mphrase} of the {c.plural} whose {rel.phrase} is "{text}"?'],
                        [f"SELECT {fn}(c.{q(m)}) {joined}"], [False], "value")
        else:
            yield Draft([f'How many {c.plural} have "{text}" as their {rel.phrase}?'],
                        [f"SELECT COUNT(*) {joined}"], [False], "value")


@template("join_many_to_many", "join")
def join_many_to_many(g: Gen) -> Iterator[Draft]:
    links = []
    for t in g.schema.tables:
        fks = g.schema.references_from(t.name)
        if len(fks) == 2 and set(t.primary_key) == {fk.column for fk in fks} \
                and all(fk.ref_table in g.entities for fk in fks):
            links += [(t.name, fks[0], fks[1]), (t.name, fks[1], fks[0])]
    for _ in draws(g):
        link = g.pick(links)
        if link is None:
            return
        table, fa, fb = link
        a, b = g.entities[fa.ref_table], g.entities[fb.ref_table]
        counts = g.rows(f"SELECT {cols('b', b.label)}, COUNT(*) FROM {q(table)} AS l JOIN {q(b.table)} AS b "
                        f"ON l.{q(fb.column)} = b.{q(fb.ref_column)} GROUP BY {cols('b', b.label)} "
                        f"ORDER BY {cols('b', b.label)}")
        row = g.pick([r for r in counts if r[-1] <= MAX_ROWS])
        if row is None:
            continue
        cond, text = label_is("b", b, row[:-1])
        link = g.entities.get(table)
        through = f" through their {link.plural}" if link is not None else ""
        yield Draft([f'List the {a.label_phrase} of every {a.noun} linked to the {b.noun} "{text}"{through}.'],
                    [f"SELECT {cols('a', a.label)} FROM {q(a.table)} AS a "
                     f"JOIN {q(table)} AS l ON l.{q(fa.column)} = a.{q(fa.ref_column)} "
                     f"JOIN {q(b.table)} AS b ON l.{q(fb.column)} = b.{q(fb.ref_column)} WHERE {cond}"], [False])


# ---- group by ----------------------------------------------------------------------------------
def group_keys(rel) -> str:
    p = rel.parent
    keys = list(dict.fromkeys((rel.fk.ref_column, *p.label)))
    return cols("p", tuple(keys))


def grouped(rel) -> str:
    c, p = rel.child, rel.parent
    return (f"FROM {q(c.table)} AS c JOIN {q(p.table)} AS p ON {join_on('c', 'p', rel.fk)} "
            f"GROUP BY {group_keys(rel)}")


def as_their(rel) -> str:
    """`` (as their <phrase>)`` when the relation's phrase is not simply the parent's noun."""
    return "" if rel.phrase == rel.parent.noun else f" (as their {rel.phrase})"


@template("group_count_having", "groupby")
def group_count_having(g: Gen) -> Iterator[Draft]:
    for _ in draws(g):
        rel = g.pick(g.relations)
        counts = sorted(r[-1] for r in g.rows(f"SELECT COUNT(*) {grouped(rel)}"))
        if len(set(counts)) < 3:
            continue
        n = counts[g.rng.randint(max(0, len(counts) - MAX_ROWS - 1), len(counts) - 2)]
        c, p = rel.child, rel.parent
        yield Draft([f"Which {p.plural} have more than {n} {c.plural}{as_their(rel)}? "
                     f"Give the {and_(p.label_phrase)} the number of {c.plural}."],
                    [f"SELECT {cols('p', p.label)}, COUNT(*) AS n {grouped(rel)} HAVING COUNT(*) > {n}"], [False],
                    accept=lambda res, total=len(counts): len(res[0]) < total)


@template("group_average_having", "groupby")
def group_average_having(g: Gen) -> Iterator[Draft]:
    options = [r for r in g.relations if r.child.measures]
    for _ in draws(g):
        rel = g.pick(options)
        m, mphrase = pick_measure(g, rel.child)
        avgs = sorted(r[0] for r in g.rows(f"SELECT AVG(c.{q(m)}) {grouped(rel)}") if r[0] is not None)
        i = g.rng.randint(max(0, len(avgs) - MAX_ROWS - 1), max(0, len(avgs) - 2))
        if len(avgs) < 3 or avgs[i + 1] - avgs[i] < 1e-6 * max(1.0, abs(avgs[i])):
            continue  # the cut-off must fall clearly between two averages (engines round differently)
        x = round_between(avgs[i], avgs[i + 1], low_inclusive=False)
        c, p = rel.child, rel.parent
        yield Draft([f"Which {p.plural} have an average {mphrase} above {shown(x)} over their {c.plural}{as_their(rel)}? "
                     f"Give the {and_(p.label_phrase)} that average."],
                    [f"SELECT {cols('p', p.label)}, AVG(c.{q(m)}) AS average {grouped(rel)} "
                     f"HAVING AVG(c.{q(m)}) > {lit(float(x))}"], [False],
                    accept=lambda res, total=len(avgs): len(res[0]) < total)


@template("group_category", "groupby")
def group_category(g: Gen) -> Iterator[Draft]:
    options = [e for e in entities_with(g, "categories") if e.measures]
    for _ in draws(g):
        e = g.pick(options)
        col, cphrase = g.pick(sorted(e.categories.items()))
        m, mphrase = pick_measure(g, e)
        sizes = sorted(c for _, c in g.values(e.table, col))
        if col == m or len(set(sizes)) < 3:
            continue
        n = sizes[g.rng.randint(max(1, len(sizes) - MAX_ROWS), len(sizes) - 1)]
        yield Draft([f"For each {cphrase} shared by at least {n} {e.plural}, give the number of {e.plural} "
                     f"and their average {mphrase}."],
                    [f"SELECT t.{q(col)}, COUNT(*) AS n, AVG(t.{q(m)}) AS average FROM {q(e.table)} AS t "
                     f"WHERE t.{q(col)} IS NOT NULL GROUP BY t.{q(col)} HAVING COUNT(*) >= {n}"], [False],
                    accept=lambda res, total=len(sizes): len(res[0]) < total)


# ---- top-k -------------------------------------------------------------------------------------
def _topk(g: Gen, table: str, m: str, desc: bool, k: int, where: str = "") -> bool:
    cond = f"{q(m)} IS NOT NULL" + (f" AND {where}" if where else "")
    vals = [r[0] for r in g.rows(f"SELECT {q(m)} FROM {q(table)} WHERE {cond} "
                                 f"ORDER BY {q(m)} {'DESC' if desc else 'ASC'} LIMIT {k + 1}")]
    return len(vals) > k and no_ties(vals, k)


@template("topk_measure", "topk")
def topk_measure(g: Gen) -> Iterator[Draft]:
    options = entities_with(g, "measures")
    for _ in draws(g):
        e = g.pick(options)
        m, phrase = pick_measure(g, e)
        k, desc = g.pick([3, 5, 10]), g.rng.random() < 0.7
        if not _topk(g, e.table, m, desc, k):
            continue
        word, first = ("highest", "highest") if desc else ("lowest", "lowest")
        yield Draft([f"Which {k} {e.plural} have the {word} {phrase}? Give their {and_(e.label_phrase)} {phrase}, "
                     f"{first} first."],
                    [f"SELECT {cols('t', e.label)}, t.{q(m)} FROM {q(e.table)} AS t WHERE t.{q(m)} IS NOT NULL "
                     f"ORDER BY t.{q(m)} {'DESC' if desc else 'ASC'} LIMIT {k}"], [True])


@template("topk_filtered", "topk")
def topk_filtered(g: Gen) -> Iterator[Draft]:
    options = [e for e in entities_with(g, "categories") if e.measures]
    for _ in draws(g):
        e = g.pick(options)
        cat = pick_category(g, e, 0.5)
        m, phrase = pick_measure(g, e)
        k = g.pick([3, 5])
        if cat is None or cat[0] == m or not _topk(g, e.table, m, True, k, f"{q(cat[0])} = {lit(cat[2])}"):
            continue
        col, cphrase, v, _ = cat
        yield Draft([f"Among the {e.plural} whose {cphrase} is {shown(v)}, which {k} have the highest {phrase}? "
                     f"Give their {and_(e.label_phrase)} {phrase}, highest first."],
                    [f"SELECT {cols('t', e.label)}, t.{q(m)} FROM {q(e.table)} AS t "
                     f"WHERE t.{q(col)} = {lit(v)} AND t.{q(m)} IS NOT NULL ORDER BY t.{q(m)} DESC LIMIT {k}"],
                    [True])


@template("topk_group_count", "topk")
def topk_group_count(g: Gen) -> Iterator[Draft]:
    for _ in draws(g):
        rel = g.pick(g.relations)
        k = g.pick([3, 5])
        counts = sorted((r[0] for r in g.rows(f"SELECT COUNT(*) {grouped(rel)}")), reverse=True)
        if len(counts) <= k or not no_ties(counts, k):
            continue
        c, p = rel.child, rel.parent
        yield Draft([f"Which {k} {p.plural} have the most {c.plural}{as_their(rel)}? "
                     f"Give the {and_(p.label_phrase)} the number of {c.plural}, most first."],
                    [f"SELECT {cols('p', p.label)}, COUNT(*) AS n {grouped(rel)} ORDER BY COUNT(*) DESC LIMIT {k}"],
                    [True])
