"""SQL baselines: the oracle (replays the gold SQL / gold value) and a random explorer."""

from __future__ import annotations

import json
import random
import re
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


class ExploreOraclePolicy:
    """The oracle as an analyst would work: lists the tables (first question), describes the ones
    the gold query reads, samples one, runs the query, then submits, so SFT data built from it
    shows multi-turn tool use that ends in the right answer."""

    def __init__(self, arena: Any):
        self.arena = arena
        self.plan: list[str] = []
        self.planned_for: tuple[str, int] | None = None

    def _make_plan(self) -> list[str]:
        arena = self.arena
        i = arena.question
        ref = arena.task.reference
        gold = ref["gold"][i]
        tables = list(dict.fromkeys(re.findall(r'\b(?:FROM|JOIN)\s+"((?:[^"]|"")+)"', gold, re.I)))
        plan = [_call("list_tables")] if i == 0 else []
        plan += [_call("describe_table", table=t) for t in tables]
        plan += [_call("sample_rows", table=tables[0], n=3)] if tables else []
        plan.append(_call("run_sql", query=gold))
        if arena._kind() == "sql":
            plan.append(_call("submit_sql", query=gold))
        else:
            plan.append(_call("submit_answer", answer=str(ref["answers"][i][0][0])))
        return plan

    def __call__(self, observation: Observation) -> str:
        key = (self.arena.task.id, self.arena.question)
        if key != self.planned_for:
            self.planned_for, self.plan = key, self._make_plan()
        return self.plan.pop(0) if len(self.plan) > 1 else self.plan[0]


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
