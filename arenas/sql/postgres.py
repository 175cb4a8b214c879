"""Loading an arena database into PostgreSQL, for running the arena at scale (``db_url``).

The tables, column names, primary keys, NOT NULL and foreign-key constraints and foreign-key
indexes are recreated from the SQLite file's own schema (:func:`arenas.engines.sql_schema.read_schema`),
and rows are streamed with ``COPY``, so the PostgreSQL copy holds exactly the same data. Types map
one to one: SQLite's 64-bit ``INTEGER`` -> ``BIGINT``, ``REAL`` -> ``DOUBLE PRECISION``, ``TEXT``
and ``NUMERIC(p,s)`` unchanged. Agents then connect through a read-only role
(:func:`arenas.sql.engine.create_readonly_role`: SELECT only, ``default_transaction_read_only``).
Needs the ``postgres`` extra (SQLAlchemy and psycopg 3).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Annotated

import typer

from arenas.engines.sql import quote_ident
from arenas.engines.sql_schema import Schema, Table, read_schema
from arenas.sql.data import database_path

__all__ = ["create_table_sql", "ensure_database", "load_all_into_postgres", "load_into_postgres",
           "load_postgres_command"]

_TYPES = {"INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION", "TEXT": "TEXT"}



def pg_type(sqlite_type: str) -> str:
    t = sqlite_type.strip().upper()
    if t in _TYPES:
        return _TYPES[t]
    if re.fullmatch(r"NUMERIC\(\d+,\s*\d+\)", t):
        return t
    raise ValueError(f"no PostgreSQL type for the SQLite type {sqlite_type!r}")


def create_table_sql(table: Table, schema: Schema) -> str:
    """PostgreSQL DDL for one table, with its keys, as SQLite declares them."""
    parts = [f"{quote_ident(c.name)} {pg_type(c.type)}" + (" NOT NULL" if c.notnull else "") for c in table.columns]
    if table.primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(map(quote_ident, table.primary_key))})")
    parts += [f"FOREIGN KEY ({quote_ident(fk.column)}) REFERENCES {quote_ident(fk.ref_table)} ({quote_ident(fk.ref_column)})"
              for fk in schema.references_from(table.name)]
    return f"CREATE TABLE {quote_ident(table.name)} (" + ", ".join(parts) + ")"


def _engine(url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.drivername in {"postgresql", "postgres"}:
        u = u.set(drivername="postgresql+psycopg")
    return create_engine(u), u


def ensure_database(url: str) -> None:
    """Creates the database named in ``url`` when it does not exist (via the ``postgres`` database)."""
    from sqlalchemy import text

    engine, u = _engine(url)
    admin, _ = _engine(u.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": u.database}).first()
            if not exists:
                conn.exec_driver_sql(f"CREATE DATABASE {quote_ident(u.database)}")
    finally:
        admin.dispose()
        engine.dispose()


def load_into_postgres(name: str, url: str, role: str = "arenas_reader", password: str = "arenas_reader") -> str:
    """Loads database ``name`` into the PostgreSQL database at ``url`` (an owner or superuser URL;
    the database is created if missing, its tables of the same names replaced) and returns the URL
    of a read-only role on it."""
    from arenas.sql.engine import create_readonly_role

    path = database_path(name)
    schema = read_schema(path)
    order = schema.dependency_order()
    ensure_database(url)
    engine, u = _engine(url)
    source = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    try:
        with engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()
            for table in reversed(order):
                cursor.execute(f"DROP TABLE IF EXISTS {quote_ident(table)} CASCADE")
            for table in order:
                t = schema.table(table)
                cursor.execute(create_table_sql(t, schema))
                columns = ", ".join(map(quote_ident, t.column_names))
                with cursor.copy(f"COPY {quote_ident(table)} ({columns}) FROM STDIN") as copy:
                    for row in source.execute(f"SELECT {columns} FROM {quote_ident(table)}"):
                        copy.write_row(row)
                for fk in schema.references_from(table):
                    cursor.execute(f"CREATE INDEX {quote_ident(f'ix_{table}_{fk.column}')} ON {quote_ident(table)} ({quote_ident(fk.column)})")
            for table in order:
                cursor.execute(f"ANALYZE {quote_ident(table)}")
    finally:
        source.close()
        engine.dispose()
    return create_readonly_role(u.render_as_string(hide_password=False), role=role, password=password)


def load_all_into_postgres(admin_url: str, names: tuple[str, ...] | None = None) -> dict[str, str]:
    """Loads each database into its own PostgreSQL database ``arenas_<name>`` on the server of
    ``admin_url``; returns name -> read-only URL."""
    from sqlalchemy.engine import make_url

    from arenas.sql.data import DATABASES

    base = make_url(admin_url)
    return {name: load_into_postgres(name, base.set(database=f"arenas_{name}").render_as_string(hide_password=False))
            for name in (names or DATABASES)}


def load_postgres_command(
    url: Annotated[str, typer.Argument(help="PostgreSQL owner/superuser URL, e.g. postgresql://user@host/postgres")],
    db: Annotated[list[str] | None, typer.Option(help="database(s) to load (default: all)")] = None,
) -> None:
    """Load the SQL arena's databases into PostgreSQL and print the read-only URL of each."""
    urls = load_all_into_postgres(url, tuple(db) if db else None)
    for name, ro in urls.items():
        print(f"{name}\t{ro}")
    name, ro = next(iter(urls.items()))
    print(f"\nrun the arena on PostgreSQL with: arenas run sql -c 'db_url={ro.replace(f'arenas_{name}', 'arenas_{db}')}'")
