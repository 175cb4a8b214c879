"""The results database: SQLAlchemy models behind ``arenas eval`` and ``arenas leaderboard``.

SQLite by default (``$ARENAS_HOME/leaderboard.sqlite``), PostgreSQL (or any SQLAlchemy URL) for a
board shared by a team. The schema is versioned (``schema_info.version``); opening an older
database upgrades it in place with the steps in :data:`UPGRADES`, so a file written by an older
release keeps its entries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

SCHEMA_VERSION = 2
"""1: first release. 2: per-episode reward components and token counts (``episodes.components``,
``episodes.tokens``), the entry's hardware record."""


class Base(DeclarativeBase):
    pass


class SchemaInfo(Base):
    __tablename__ = "schema_info"
    version: Mapped[int] = mapped_column(primary_key=True)


class SuiteRow(Base):
    """A suite's definition as it was when an entry was ingested (suites are versioned data)."""

    __tablename__ = "suites"
    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


class AgentRow(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(primary_key=True)
    spec: Mapped[str] = mapped_column(sa.String(1000), unique=True)


class Entry(Base):
    """One run of one agent on one arena (a run folder), accepted after re-scoring."""

    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(sa.ForeignKey("agents.id"))
    suite: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    arena: Mapped[str] = mapped_column(sa.String(100), index=True)
    arena_version: Mapped[int] = mapped_column(default=0)
    split: Mapped[str] = mapped_column(sa.String(50))
    seed: Mapped[int] = mapped_column(default=0)
    rollouts: Mapped[int] = mapped_column(default=1)
    config: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    """The run's resolved configuration (``run.json`` ``config``)."""
    config_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    identity_hash: Mapped[str] = mapped_column(sa.String(64), default="", index=True)
    git: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    packages: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    hardware: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    run_dir: Mapped[str] = mapped_column(sa.Text, default="")
    started: Mapped[str] = mapped_column(sa.String(40), default="")
    ingested_at: Mapped[datetime] = mapped_column(sa.DateTime, default=lambda: datetime.now(UTC).replace(tzinfo=None))
    verified: Mapped[bool] = mapped_column(default=False)
    """Every finished episode's reward was recomputed by the arena's verifier and agreed."""
    note: Mapped[str] = mapped_column(sa.Text, default="")
    elapsed_s: Mapped[float] = mapped_column(sa.Float, default=0.0)
    agent: Mapped[AgentRow] = relationship(lazy="joined")
    episodes: Mapped[list[EpisodeRow]] = relationship(back_populates="entry", cascade="all, delete-orphan",
                                                      order_by="EpisodeRow.id")

    @property
    def agent_spec(self) -> str:
        return self.agent.spec


class EpisodeRow(Base):
    """The per-episode summary the ranking needs (the trajectory itself stays in its run folder)."""

    __tablename__ = "episodes"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(sa.Text)
    seed: Mapped[int] = mapped_column()
    rollout: Mapped[int] = mapped_column()
    reward: Mapped[float] = mapped_column(sa.Float)
    """Recorded episode return (0 for an errored episode in every statistic)."""
    success: Mapped[bool] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    termination: Mapped[str] = mapped_column(sa.String(100), default="")
    invalid_actions: Mapped[int] = mapped_column(default=0)
    turns: Mapped[int] = mapped_column(default=0)
    seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
    components: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    tokens: Mapped[int] = mapped_column(default=0)
    entry: Mapped[Entry] = relationship(back_populates="episodes")

    @property
    def score(self) -> float:
        return 0.0 if self.error else self.reward


def _add_column(table: str, column: str, type_: sa.types.TypeEngine, default: str | None = None) -> Callable:
    def step(conn: sa.Connection) -> None:
        ddl = f"ALTER TABLE {table} ADD COLUMN {column} {type_.compile(dialect=conn.dialect)}"
        conn.execute(sa.text(ddl + (f" DEFAULT {default}" if default is not None else "")))
    return step


UPGRADES: dict[int, list[Callable[[sa.Connection], None]]] = {
    1: [_add_column("episodes", "components", sa.JSON()), _add_column("episodes", "tokens", sa.Integer(), "0"),
        _add_column("entries", "hardware", sa.JSON())],
}
"""Version -> the steps that bring a database of that version to the next one."""


class OutdatedSchemaError(RuntimeError):
    """The database was written by a newer release than this one."""


def default_url() -> str:
    from arenas.engines.cache import arenas_home

    home = arenas_home()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'leaderboard.sqlite'}"


class ResultsDB:
    """A connection to a results database; creates or upgrades the schema on open."""

    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        self.engine = sa.create_engine(self.url)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", lambda c, _: c.execute("PRAGMA foreign_keys=ON"))
        self.upgraded_from = self._prepare()

    def _prepare(self) -> int | None:
        """Creates a new schema or upgrades an old one; returns the version upgraded from."""
        with self.engine.begin() as conn:
            if not sa.inspect(conn).has_table("schema_info"):
                Base.metadata.create_all(conn)
                conn.execute(sa.insert(SchemaInfo).values(version=SCHEMA_VERSION))
                return None
            version = conn.execute(sa.select(sa.func.max(SchemaInfo.version))).scalar_one()
            if version > SCHEMA_VERSION:
                raise OutdatedSchemaError(f"{self.url}: schema version {version} is newer than this release's "
                                          f"{SCHEMA_VERSION}; upgrade arenas")
            if version == SCHEMA_VERSION:
                return None
            for v in range(version, SCHEMA_VERSION):
                for step in UPGRADES[v]:
                    step(conn)
            conn.execute(sa.update(SchemaInfo).values(version=SCHEMA_VERSION))
            return version

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def agent(self, session: Session, spec: str) -> AgentRow:
        row = session.scalar(sa.select(AgentRow).where(AgentRow.spec == spec))
        if row is None:
            row = AgentRow(spec=spec)
            session.add(row)
            session.flush()
        return row

    def add_entry(self, entry: Entry, agent_spec: str, suite: dict[str, Any] | None = None) -> int:
        """Stores an entry; an earlier entry of the same run (agent, suite and run identity) is replaced."""
        with self.session() as s, s.begin():
            entry.agent = self.agent(s, agent_spec)
            if suite is not None:
                s.merge(SuiteRow(id=entry.suite, definition=suite))
            old = s.scalars(sa.select(Entry).where(Entry.agent_id == entry.agent.id, Entry.arena == entry.arena,
                                                   Entry.identity_hash == entry.identity_hash,
                                                   Entry.suite.is_(None) if entry.suite is None
                                                   else Entry.suite == entry.suite)).all()
            for row in old:
                s.delete(row)
            s.flush()
            s.add(entry)
            s.flush()
            return entry.id

    def entries(self, suite: str | None = None, arena: str | None = None) -> list[Entry]:
        """Entries with their episodes loaded (detached, safe to use after the session)."""
        q = sa.select(Entry).order_by(Entry.arena, Entry.id)
        if suite is not None:
            q = q.where(Entry.suite == suite)
        if arena is not None:
            q = q.where(Entry.arena == arena)
        with self.session() as s:
            rows = s.scalars(q).unique().all()
            for r in rows:
                _ = r.episodes, r.agent
            return list(rows)

    def suites(self) -> dict[str, dict[str, Any]]:
        with self.session() as s:
            return {r.id: r.definition for r in s.scalars(sa.select(SuiteRow))}

    def close(self) -> None:
        self.engine.dispose()
