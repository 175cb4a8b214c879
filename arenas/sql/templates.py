"""Question templates of the SQL arena: each turns a database's foreign-key graph, its wording
(:class:`~arenas.sql.sources.Entity`) and values sampled from its rows into candidate tasks.

A template is a generator of :class:`Draft` candidates drawn with the template's own random
generator; :mod:`arenas.sql.tasks` runs each candidate's gold SQL and keeps the ones whose
results are selective (non-empty, not the whole table, no ties where an order or a top-k is
asked for). Gold SQL is portable between SQLite and PostgreSQL: every identifier is
double-quoted, no engine-specific function is used, sorted measures exclude NULLs (the engines
sort NULLs differently) and text matching lower-cases first (LIKE's case rules differ).
"""

from __future__ import annotations

import math
import random
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from arenas.engines.sql import quote_ident as q
from arenas.engines.sql_schema import ForeignKey, Schema
from arenas.sql.sources import Entity

Rows = list[tuple]


@dataclass
class Draft:
    """One candidate task: questions with their gold SQL, before its results are checked."""

    questions: list[str]
    gold: list[str]
    order_matters: list[bool]
    answer_kind: str = "sql"
    accept: Callable[[list[Rows]], bool] | None = None
    """Extra check of the gold results (ties, selectivity) beyond the generic ones."""


@dataclass
class Relation:
    """A foreign key seen from both ends, with the phrase naming the parent from the child."""

    fk: ForeignKey
    child: Entity
    parent: Entity
    phrase: str


@dataclass
class Gen:
    """What a template may use: the database (read-only), its schema and wording, a seeded RNG."""

    db: str
    conn: sqlite3.Connection
    schema: Schema
    entities: dict[str, Entity]
    relations: list[Relation]
    rng: random.Random
    cache: dict[str, Rows] = field(default_factory=dict)
    """Results of helper queries by SQL text; templates of one database share it."""

    def rows(self, sql: str) -> Rows:
        if sql not in self.cache:
            self.cache[sql] = self.conn.execute(sql).fetchall()
        return self.cache[sql]

    def count(self, table: str) -> int:
        return self.rows(f"SELECT COUNT(*) FROM {q(table)}")[0][0]

    def values(self, table: str, column: str) -> list[tuple[Any, int]]:
        """Distinct non-NULL values of a column with their frequencies, in value order."""
        return self.rows(f"SELECT {q(column)}, COUNT(*) FROM {q(table)} WHERE {q(column)} IS NOT NULL "
                         f"GROUP BY {q(column)} ORDER BY {q(column)}")

    def category_values(self, table: str, column: str, max_share: float = 0.5) -> list[tuple[Any, int]]:
        """Values shared by at least two rows but by at most ``max_share`` of the table."""
        n = self.count(table)
        return [(v, c) for v, c in self.values(table, column) if 2 <= c <= max(2, max_share * n)]

    def threshold(self, table: str, column: str, low: float = 0.6, high: float = 0.97) -> Any:
        """A value of the column at a random quantile in [low, high]: a selective cut-off."""
        vals = [r[0] for r in self.rows(f"SELECT {q(column)} FROM {q(table)} WHERE {q(column)} IS NOT NULL "
                                        f"ORDER BY {q(column)}")]
        return vals[min(len(vals) - 1, int(self.rng.uniform(low, high) * len(vals)))]

    def label_values(self, entity: Entity) -> Rows:
        cols = ", ".join(q(c) for c in entity.label)
        notnull = " AND ".join(f"{q(c)} IS NOT NULL" for c in entity.label)
        return self.rows(f"SELECT DISTINCT {cols} FROM {q(entity.table)} WHERE {notnull} ORDER BY {cols}")

    def pick(self, items: list) -> Any:
        return items[self.rng.randrange(len(items))] if items else None


def round_between(low: Any, high: Any, low_inclusive: bool = True) -> Any:
    """The number with the fewest significant digits in ``[low, high)`` (``(low, high)`` when
    not ``low_inclusive``), as a person would write a threshold: any cut-off in that range
    selects the same rows, so 2,360,162.4 becomes 2,400,000 and 14.91 becomes 15 where the data
    allows it. An integer where no decimals remain."""
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in (low, high)):
        return low
    for digits in range(1, 16):
        for value in (low, high, (low + high) / 2):
            if value == 0:
                r: float = 0.0
            else:
                r = round(value, digits - 1 - math.floor(math.log10(abs(value))))
            if (low <= r if low_inclusive else low < r) and r < high:
                return int(r) if float(r).is_integer() else r
    return low


def lit(value: Any) -> str:
    """A SQL literal both engines read the same way."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"no portable literal for {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".10g")
    return "'" + str(value).replace("'", "''") + "'"


def shown(value: Any) -> str:
    """A value as a question shows it."""
    return f'"{value}"' if isinstance(value, str) else format(value, ".10g") if isinstance(value, float) else str(value)


def and_(phrase: str) -> str:
    """``phrase`` followed by "and", with a serial comma when it is itself a list."""
    return f"{phrase}, and" if " and " in phrase or "," in phrase else f"{phrase} and"


def cols(alias: str, columns: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{q(c)}" for c in columns)


def label_is(alias: str, entity: Entity, value: tuple) -> tuple[str, str]:
    """(SQL condition, question text) selecting rows of ``entity`` by their label."""
    cond = " AND ".join(f"{alias}.{q(c)} = {lit(v)}" for c, v in zip(entity.label, value, strict=True))
    return cond, " ".join(str(v) for v in value)


def no_ties(values: list, k: int) -> bool:
    """The first ``k + 1`` sorted values are all distinct: top-k and its order are unambiguous."""
    head = values[:k + 1]
    return len(set(head)) == len(head)


def pick_measure(g: Gen, entity: Entity) -> tuple[str, str] | None:
    return g.pick(sorted(entity.measures.items()))


def pick_category(g: Gen, entity: Entity, max_share: float = 0.5) -> tuple[str, str, Any, int] | None:
    """(column, phrase, value, rows) for a selective equality filter on ``entity``."""
    options = sorted(entity.categories.items())
    g.rng.shuffle(options)
    for column, phrase in options:
        values = g.category_values(entity.table, column, max_share)
        if values:
            value, n = g.pick(values)
            return column, phrase, value, n
    return None


def join_on(child_alias: str, parent_alias: str, fk: ForeignKey) -> str:
    return f"{child_alias}.{q(fk.column)} = {parent_alias}.{q(fk.ref_column)}"


def entities_with(g: Gen, attr: str) -> list[Entity]:
    return [e for e in g.entities.values() if getattr(e, attr)]


Template = Callable[[Gen], Iterator[Draft]]
TEMPLATES: dict[str, tuple[str, Template]] = {}


def template(name: str, family: str) -> Callable[[Template], Template]:
    """Registers a template under ``name`` in a family (filter, aggregate, join, ...)."""
    def register(fn: Template) -> Template:
        TEMPLATES[name] = (family, fn)
        return fn
    return register


ATTEMPTS = 200
"""Candidates a template draws per database at most (the task builder stops earlier when enough
are accepted)."""


def draws(g: Gen) -> range:
    return range(ATTEMPTS)
