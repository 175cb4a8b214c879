"""The SQL arena's task source: questions with gold SQL generated from templates over each
database's foreign-key graph, checked by running them, split by (template, database).

Generation is deterministic: every (database, template) pair draws candidates from its own
``random.Random("<seed>:<db>:<template>")``, runs each candidate's gold SQL on the database and
keeps it when every result is selective (see :mod:`arenas.sql.templates`), until the pair has
``per_pair`` tasks. A candidate whose gold SQL repeats an accepted one is dropped, so all tasks
are distinct (a rejected candidate is not tried twice). Questions with one scalar answer are ``answer_kind="value"`` (answered with
``submit_answer``; ``reference["answers"]`` holds the gold rows); the rest are ``"sql"``.

Split rule: templates are numbered by name (i) and databases in ``DATABASES`` order (j); the pair
goes to test when ``(i + j) % 5 == 0``, to dev when it is 1, to train otherwise. Each pair lives
in exactly one split, so test asks known templates on databases they were never trained on (and
templates that exist on one database only may be unseen altogether); every database and nearly
every template still appear in train.

The task list is cached as JSON under ``$ARENAS_HOME/sql/`` keyed by the data digests, the
template code and :data:`TASKS_VERSION`: cold generation takes seconds, a cached load milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import Any

from arenas.engines.cache import arenas_home, cached_build
from arenas.engines.sql_schema import read_schema
from arenas.sql import templates, templates_basic, templates_complex
from arenas.sql.data import BUILD_VERSION, DATABASES, EXPECTED_DIGESTS, database_path, source
from arenas.sql.templates import TEMPLATES, Draft, Gen, Relation
from arenas.sql.templates_basic import MAX_ROWS
from arenas.types import Task

__all__ = ["SPLITS", "build_tasks", "generate", "load_tasks", "split_of"]

SPLITS = ("train", "dev", "test")
TASKS_VERSION = 2
SEED = 0
PER_PAIR = {"followup": 15}
DEFAULT_PER_PAIR = 25


def split_of(template: str, db: str) -> str:
    """The split of every task of a (template, database) pair (rule in the module docstring)."""
    i, j = sorted(TEMPLATES).index(template), DATABASES.index(db)
    return {0: "test", 1: "dev"}.get((i + j) % 5, "train")


def _gen(db: str, conn: sqlite3.Connection, rng: random.Random, cache: dict[str, list[tuple]]) -> Gen:
    schema = read_schema(database_path(db))
    src = source(db)
    entities = {e.table: e for e in src.ENTITIES}
    relations = [Relation(fk, entities[fk.table], entities[fk.ref_table],
                          src.RELATIONS.get((fk.table, fk.column), entities[fk.ref_table].noun))
                 for fk in schema.foreign_keys if fk.table in entities and fk.ref_table in entities]
    return Gen(db, conn, schema, entities, relations, rng, cache)


def _results(conn: sqlite3.Connection, draft: Draft) -> list[list[tuple]] | None:
    """The gold results, or None when one is empty, too large, or not a scalar where one is due."""
    out = []
    for sql in draft.gold:
        rows = conn.execute(sql).fetchall()
        if not rows or len(rows) > MAX_ROWS:
            return None
        if draft.answer_kind == "value" and (len(rows) != 1 or len(rows[0]) != 1 or rows[0][0] is None):
            return None
        out.append(rows)
    if draft.accept is not None and not draft.accept(out):
        return None
    return out


def generate(db: str, per_pair: int | None = None, seed: int = SEED) -> list[Task]:
    """All tasks of one database, template by template (each pair capped at ``per_pair``)."""
    conn = sqlite3.connect(f"file:{database_path(db).resolve()}?mode=ro", uri=True)
    tasks: list[Task] = []
    seen: set[tuple[str, ...]] = set()
    try:
        shared_cache: dict[str, list[tuple]] = {}
        for name in sorted(TEMPLATES):
            family, fn = TEMPLATES[name]
            cap = per_pair or PER_PAIR.get(family, DEFAULT_PER_PAIR)
            g = _gen(db, conn, random.Random(f"{seed}:{db}:{name}"), shared_cache)
            n = 0
            for draft in fn(g):
                key = tuple(draft.gold)
                if key in seen:
                    continue
                seen.add(key)
                results = _results(conn, draft)
                if results is None:
                    continue
                tasks.append(_task(db, name, family, n, draft, results))
                n += 1
                if n >= cap:
                    break
    finally:
        conn.close()
    return tasks


def _task(db: str, name: str, family: str, n: int, draft: Draft, results: list[list[tuple]]) -> Task:
    reference: dict[str, Any] = {"gold": draft.gold, "order_matters": draft.order_matters}
    if draft.answer_kind == "value":
        reference["answers"] = [[list(r) for r in rows] for rows in results]
    return Task(id=f"sql-{db}-{name}-{n}", split=split_of(name, db),
                prompt={"db": db, "questions": draft.questions, "answer_kind": draft.answer_kind},
                reference=reference, meta={"template": name, "family": family, "db": db})


def _cache_key() -> str:
    h = hashlib.sha256(f"{TASKS_VERSION}:{BUILD_VERSION}:{SEED}:{json.dumps(EXPECTED_DIGESTS, sort_keys=True)}"
                       .encode())
    for module in (templates, templates_basic, templates_complex):
        h.update(Path(module.__file__).read_bytes())
    for path in sorted(Path(templates.__file__).with_name("sources").glob("*.py")):  # the wording
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _write(folder: Path) -> None:
    tasks = [t.to_dict() for db in DATABASES for t in generate(db)]
    (folder / "tasks.json").write_text(json.dumps({"version": TASKS_VERSION, "tasks": tasks}))


def build_tasks() -> dict[str, list[Task]]:
    """Every task, by split; generated once and cached on disk (and in memory)."""
    return _build_tasks(str(arenas_home()), _cache_key())


@lru_cache(maxsize=4)
def _build_tasks(home: str, key: str) -> dict[str, list[Task]]:
    folder = cached_build(f"sql/tasks-v{TASKS_VERSION}-{key}", _write)
    by_split: dict[str, list[Task]] = {s: [] for s in SPLITS}
    for d in json.loads((folder / "tasks.json").read_text())["tasks"]:
        by_split[d["split"]].append(Task(**d))
    return by_split


def load_tasks(split: str) -> list[Task]:
    """The tasks of one split (``train``, ``dev`` or ``test``)."""
    if split not in SPLITS:
        raise KeyError(f"unknown split {split!r}; splits: {', '.join(SPLITS)}")
    return build_tasks()[split]
