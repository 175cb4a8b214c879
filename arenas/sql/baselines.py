"""SQL baselines: the oracle (replays the gold SQL / gold value) and a random explorer."""

from __future__ import annotations

import json
import random
from typing import Any

from arenas.types import Observation


def _call(name: str, **arguments: Any) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


class OraclePolicy:
    """Submits the reference answer of the current question: proves task and verifier agree."""

    def __init__(self, arena: Any):
        self.arena = arena

    def __call__(self, observation: Observation) -> str:
        arena = self.arena
        i = arena.question
        ref = arena.task.reference
        if arena._kind() == "sql":
            return _call("submit_sql", query=ref["gold"][i])
        rows = ref["answers"][i]
        return _call("submit_answer", answer=str(rows[0][0]))


class RandomPolicy:
    """Looks around at random, then submits a random well-formed answer."""

    def __init__(self, arena: Any, seed: int):
        self.arena = arena
        self.rng = random.Random(seed)

    def __call__(self, observation: Observation) -> str:
        from arenas.engines.sql_schema import read_schema
        from arenas.sql.data import database_path

        tables = read_schema(database_path(self.arena.task.prompt["db"])).tables
        table = self.rng.choice(tables)
        if self.rng.random() < 0.3:
            return _call("sample_rows", table=table.name) if self.rng.random() < 0.5 else _call("list_tables")
        if self.arena._kind() == "value":
            return _call("submit_answer", answer=str(self.rng.randint(0, 1000)))
        col = self.rng.choice(table.columns).name
        return _call("submit_sql", query=f'SELECT "{col}" FROM "{table.name}" LIMIT {self.rng.randint(1, 20)}')
