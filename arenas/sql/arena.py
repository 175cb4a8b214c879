"""The Table/SQL arena: answer questions about a real relational database with tools.

The agent explores the database (``list_tables``, ``describe_table``, ``sample_rows``,
``run_sql``) and answers each question with ``submit_sql`` (scored by test-suite execution
equivalence over neighbour databases) or ``submit_answer`` (a value, for scalar questions).
Follow-up conversations ask their next question after each submission; each answered question
pays its share of the reward at once (process reward) and the shares sum to the final total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from arenas.arena import ArenaConfig, ToolArena, ToolError
from arenas.conversation import Conversation
from arenas.engines.sql_schema import read_schema
from arenas.sql import baselines
from arenas.sql.data import database_path
from arenas.sql.engine import QueryError, connect, render_table
from arenas.sql.tasks import load_tasks
from arenas.tools import TOOL_CALL_FORMAT, tool
from arenas.types import Action, Observation, RewardBreakdown, Task, Termination
from arenas.verifiers import Component, Rubric, Verdict
from arenas.verifiers.sql import execution_accuracy, test_suite_equivalent, value_matches

INSTRUCTIONS = """You are a data analyst answering questions about the SQLite database "{db}"{engine}.
Explore it with read-only tools (results capped at {max_rows} rows):
- list_tables(): the tables and their row counts;
- describe_table(table): columns, types, primary and foreign keys of one table;
- sample_rows(table, n=5): a few rows of a table;
- run_sql(query): one SELECT statement, its result as a table.
Then answer each question with one of:
- submit_sql(query) when the question asks for rows: the query must return exactly the columns the
  question asks for (in any order; no extra columns such as ids it does not ask for), and the rows
  in the asked order if it asks for one. It is run against several variants of the database, so it
  must compute the answer, not hard-code it;
- submit_answer(answer) when the question asks for a single value: just that value.
Each submission is final for its question. You have {max_turns} turns.
{schema}
{tool_format}"""


def correct(candidate: dict[str, Any], reference: dict[str, Any], context: dict[str, Any]) -> Verdict:
    """Test-suite equivalence for SQL answers, value match for value answers."""
    if candidate["kind"] == "sql":
        return test_suite_equivalent(candidate["answer"], reference, context)
    return value_matches(candidate["answer"], reference, context)


def execution(candidate: dict[str, Any], reference: dict[str, Any], context: dict[str, Any]) -> Verdict:
    """Plain execution accuracy on the original database (BIRD-style; a secondary metric)."""
    if candidate["kind"] == "sql":
        return execution_accuracy(candidate["answer"], reference, context)
    return value_matches(candidate["answer"], reference, context)


QUESTION_RUBRIC = Rubric([Component("correct", correct, 1.0), Component("execution", execution, 0.0)])


def _kind(task: Task, question: int) -> str:
    kind = task.prompt.get("answer_kind", "sql")
    return kind[question] if isinstance(kind, list) else kind


def _context(task: Task, question: int, postgres: bool) -> dict[str, Any]:
    db = task.prompt["db"]
    context = {"db": db, "db_path": str(database_path(db)), "question": question, "task_id": task.id}
    if postgres:
        context["dialect"] = "postgresql"
    return context


@cache
def _schema_text(db: str) -> str:
    schema = read_schema(database_path(db))
    lines = []
    for t in schema.tables:
        cols = ", ".join(f"{c.name} {c.type}".strip() for c in t.columns)
        lines.append(f"  {t.name}({cols})")
    for fk in schema.foreign_keys:
        lines.append(f"  {fk.table}.{fk.column} -> {fk.ref_table}.{fk.ref_column}")
    return "Schema:\n" + "\n".join(lines)


@dataclass
class SQLConfig(ArenaConfig):
    show_schema: bool = True
    """Put the tables, columns and foreign keys in the first message."""
    db_url: str | None = None
    """A PostgreSQL URL (read-only role) to run the agent's queries on instead of SQLite, with
    ``{db}`` standing for the database name (``arenas load-postgres`` prints one); answers are
    still verified on the SQLite test suite."""
    timeout_s: float = 2.0
    """Statement timeout of run_sql and sample_rows."""
    max_rows: int = 30
    """Rows shown by run_sql and sample_rows."""


SUBMIT_TOOLS = {"submit_sql": ("sql", "query"), "submit_answer": ("value", "answer")}


class SQLArena(ToolArena):
    """Text-to-SQL over real databases with a test-suite execution verifier."""

    id = "sql"
    version = 0
    description = ("Answer questions about real relational databases (Chinook and others) by exploring "
                   "them with read-only tools and submitting SQL or a value; scored by test-suite "
                   "execution equivalence over neighbour databases.")
    reward_components = QUESTION_RUBRIC.names
    invalid_action_penalty = 0.0

    policies = ("oracle", "oracle_explore", "random")
    config_class = SQLConfig

    def __init__(self, **config: Any):
        super().__init__(**config)
        self.show_schema = self.cfg.show_schema
        self.db_url = self.cfg.db_url
        self.timeout_s = self.cfg.timeout_s
        self.max_rows = self.cfg.max_rows
        self._dbs: dict[str, Any] = {}

    # ---- tasks --------------------------------------------------------------------------
    def tasks(self, split: str) -> Sequence[Task]:
        return load_tasks(split)

    def _db(self):
        name = self.task.prompt["db"]
        if name not in self._dbs:
            self._dbs[name] = connect(self.db_url.format(db=name) if self.db_url else database_path(name))
        return self._dbs[name]

    @property
    def question(self) -> int:
        """Index of the current question of the conversation."""
        return self.conversation.index

    def first_observation(self, task: Task) -> Observation:
        self.conversation = Conversation(task.prompt["questions"], QUESTION_RUBRIC.names)
        db = task.prompt["db"]
        system = INSTRUCTIONS.format(db=db, engine=" (served by PostgreSQL)" if self.db_url else "",
                                     max_rows=self.max_rows, max_turns=self.max_turns,
                                     schema=_schema_text(db) if self.show_schema else "",
                                     tool_format=TOOL_CALL_FORMAT)
        return Observation([{"role": "system", "content": system},
                            {"role": "user", "content": self._question_text()}])

    def _question_text(self) -> str:
        qs = self.task.prompt["questions"]
        head = f"Question {self.question + 1} of {len(qs)}: " if len(qs) > 1 else ""
        kind = "a SQL query (submit_sql)" if self._kind() == "sql" else "a single value (submit_answer)"
        return f"{head}{qs[self.question]}\n(Answer with {kind}.)"

    def _kind(self) -> str:
        return _kind(self.task, self.question)

    # ---- tools --------------------------------------------------------------------------
    @tool
    def list_tables(self) -> str:
        """List the tables of the database with their row counts."""
        schema = read_schema(database_path(self.task.prompt["db"]))
        out = []
        for t in schema.tables:
            n = self._query(f'SELECT COUNT(*) FROM "{t.name}"', 1).rows[0][0]
            out.append(f"{t.name} ({n} rows)")
        return "\n".join(out)

    @tool
    def describe_table(self, table: str) -> str:
        """Columns, types, primary key and foreign keys of one table.

        Args:
            table: the table name
        """
        schema = read_schema(database_path(self.task.prompt["db"]))
        match = [t for t in schema.tables if t.name.lower() == table.strip().strip('"').lower()]
        if not match:
            raise ToolError(f"no table {table!r}; tables: {', '.join(t.name for t in schema.tables)}")
        t = match[0]
        lines = [f"{c.name} {c.type}" + (" PRIMARY KEY" if c.name in t.primary_key else "") for c in t.columns]
        lines += [f"{fk.column} REFERENCES {fk.ref_table}({fk.ref_column})"
                  for fk in schema.foreign_keys if fk.table == t.name]
        return f"{t.name}:\n  " + "\n  ".join(lines)

    @tool
    def sample_rows(self, table: str, n: int = 5) -> str:
        """A few rows of a table.

        Args:
            table: the table name
            n: how many rows (at most 20)
        """
        schema = read_schema(database_path(self.task.prompt["db"]))
        names = {t.name.lower(): t.name for t in schema.tables}
        name = names.get(table.strip().strip('"').lower())
        if name is None:
            raise ToolError(f"no table {table!r}; tables: {', '.join(names.values())}")
        return render_table(self._query(f'SELECT * FROM "{name}" LIMIT {max(1, min(int(n), 20))}', 20))

    @tool
    def run_sql(self, query: str) -> str:
        """Run one read-only SQL query and see its result (capped).

        Args:
            query: a single SELECT (or WITH ... SELECT) statement
        """
        return render_table(self._query(query, self.max_rows))

    @tool
    def submit_sql(self, query: str) -> str:
        """Submit the final SQL query answering the current question.

        Args:
            query: the SQL query whose result answers the question
        """
        if self._kind() != "sql":
            raise ToolError("this question asks for a single value: use submit_answer")
        return self._submit({"kind": "sql", "answer": query})

    @tool
    def submit_answer(self, answer: str) -> str:
        """Submit the final value answering the current question.

        Args:
            answer: the value (a number or a text)
        """
        if self._kind() != "value":
            raise ToolError("this question asks for rows: use submit_sql with a query")
        return self._submit({"kind": "value", "answer": answer})

    # ---- scoring ------------------------------------------------------------------------
    def _query(self, sql: str, max_rows: int):
        try:
            return self._db().execute(sql, timeout_s=max(0.05, self.time_left(self.timeout_s)), max_rows=max_rows)
        except QueryError as e:
            raise ToolError(str(e)) from e

    def _submit(self, candidate: dict[str, Any]) -> str:
        breakdown = QUESTION_RUBRIC.score(candidate, self.task.reference, _context(self.task, self.question, bool(self.db_url)))
        self.add_reward(self.conversation.answer(candidate, breakdown))
        if not self.conversation.finished:
            return "Answer recorded.\n\n" + self._question_text()
        self.finish(self.conversation.breakdown(), Termination.SUBMITTED)
        return "Answer recorded. The conversation is complete."

    def _on_forced_end(self) -> dict[str, Any]:
        self.finish(self.conversation.breakdown(), Termination.MAX_TURNS)
        return {}

    def rescore(self, task: Task, turns: list[dict[str, Any]]) -> RewardBreakdown:
        """Re-scores the submissions found in the recorded actions, in order, as the arena
        accepted them (a submission of the wrong kind or with bad arguments was refused)."""
        conversation = Conversation(task.prompt["questions"], QUESTION_RUBRIC.names)
        table = self._tool_table()
        for turn in turns:
            for call in Action.from_dict(turn["action"]).tool_calls:
                if conversation.finished:
                    break
                if call.name not in SUBMIT_TOOLS:
                    continue
                args, error = table[call.name][1].validate(call.arguments)
                kind, arg = SUBMIT_TOOLS[call.name]
                if error or _kind(task, conversation.index) != kind:
                    continue
                candidate = {"kind": kind, "answer": args[arg]}
                conversation.answer(candidate, QUESTION_RUBRIC.score(candidate, task.reference,
                                                                     _context(task, conversation.index,
                                                                              bool(self.db_url))))
        return conversation.breakdown()

    # ---- baselines ----------------------------------------------------------------------
    def policy(self, name: str):
        if name == "oracle":
            return baselines.OraclePolicy(self)
        if name == "oracle_explore":
            return baselines.ExploreOraclePolicy(self)
        if name == "random":
            return baselines.RandomPolicy(self, seed=int(self.np_random.integers(2**31)))
        return None

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()
        self._dbs.clear()
