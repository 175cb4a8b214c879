"""The SQL arena's databases: real data, complete, keyed, pinned; and schema introspection."""

from __future__ import annotations

import sqlite3

import pytest

from arenas.engines.sql_schema import ForeignKey, read_schema
from arenas.sql import sources
from arenas.sql.data import DATABASES, EXPECTED_DIGESTS, data_digest, database_path, source, write_sqlite
from arenas.sql.sources import SourceError, TableSpec, package_file

CHINOOK_TABLES = {"Album", "Artist", "Customer", "Employee", "Genre", "Invoice", "InvoiceLine", "MediaType",
                  "Playlist", "PlaylistTrack", "Track"}


def _counts(path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {t.name: conn.execute(f'SELECT COUNT(*) FROM "{t.name}"').fetchone()[0]
                for t in read_schema(path).tables}
    finally:
        conn.close()


def test_chinook_is_complete_with_its_own_names():
    path = database_path("chinook")
    counts = _counts(path)
    assert set(counts) == CHINOOK_TABLES
    assert counts == {"Album": 347, "Artist": 275, "Customer": 59, "Employee": 8, "Genre": 25, "Invoice": 412,
                      "InvoiceLine": 2240, "MediaType": 5, "Playlist": 18, "PlaylistTrack": 8715, "Track": 3503}
    assert sum(counts.values()) == 15_607
    conn = sqlite3.connect(path)
    row = conn.execute('SELECT t."Name", a."Title", r."Name", g."Name", t."UnitPrice" FROM "Track" t '
                       'JOIN "Album" a ON a."AlbumId" = t."AlbumId" JOIN "Artist" r ON r."ArtistId" = a."ArtistId" '
                       'JOIN "Genre" g ON g."GenreId" = t."GenreId" WHERE t."TrackId" = 1').fetchone()
    assert row == ("For Those About To Rock (We Salute You)", "For Those About To Rock We Salute You", "AC/DC",
                   "Rock", 0.99)
    assert conn.execute('SELECT "InvoiceDate" FROM "Invoice" WHERE "InvoiceId" = 1').fetchone() == ("2007-01-01 00:00:00",)
    conn.close()


@pytest.mark.parametrize("name", DATABASES)
def test_database_keys_hold_and_match_the_source(name):
    path = database_path(name)
    schema = read_schema(path)
    src = source(name)
    assert len(schema.tables) >= 3 and len(schema.foreign_keys) >= 3
    assert _counts(path) == src.ROW_COUNTS
    for spec in src.TABLES:
        table = schema.table(spec.name)
        assert table.primary_key == spec.primary_key
        assert table.column_names == tuple(c for c, _ in spec.columns)
        assert set(schema.references_from(spec.name)) == {ForeignKey(spec.name, *fk) for fk in spec.foreign_keys}
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    for fk in schema.foreign_keys:  # every key is used: the joins are real, not decorative
        assert conn.execute(f'SELECT COUNT(*) FROM "{fk.table}" WHERE "{fk.column}" IS NOT NULL').fetchone()[0] > 0
    conn.close()
    # every entity that task templates talk about exists with the columns they name
    for e in src.ENTITIES:
        names = schema.table(e.table).column_names
        assert set(e.label) | set(e.measures) | set(e.categories) <= set(names)


@pytest.mark.parametrize("name", DATABASES)
def test_content_digest_is_pinned(name):
    assert EXPECTED_DIGESTS[name] and data_digest(database_path(name)) == EXPECTED_DIGESTS[name]


def test_read_schema_reports_types_keys_and_order(tmp_path):
    schema = read_schema(database_path("chinook"))
    track = schema.table("Track")
    assert track.primary_key == ("TrackId",)
    assert track.column("UnitPrice").type == "NUMERIC(10,2)" and track.column("Name").notnull
    assert schema.table("PlaylistTrack").primary_key == ("PlaylistId", "TrackId")
    assert ForeignKey("Employee", "ReportsTo", "Employee", "EmployeeId") in schema.foreign_keys
    assert {fk.table for fk in schema.references_to("Track")} == {"InvoiceLine", "PlaylistTrack"}
    order = schema.dependency_order()
    for fk in schema.foreign_keys:
        assert fk.table == fk.ref_table or order.index(fk.ref_table) < order.index(fk.table)
    with pytest.raises(KeyError):
        schema.table("Nope")


def test_write_sqlite_refuses_rows_that_break_a_key(tmp_path):
    tables = (TableSpec("p", (("id", "INTEGER"),), ("id",)),
              TableSpec("c", (("id", "INTEGER"), ("p_id", "INTEGER")), ("id",), (("p_id", "p", "id"),)))
    with pytest.raises(sqlite3.IntegrityError):
        write_sqlite(tmp_path / "bad.sqlite", tables, {"p": [(1,)], "c": [(1, 2)]})
    write_sqlite(tmp_path / "ok.sqlite", tables, {"p": [(1,)], "c": [(1, 1)]})
    assert read_schema(tmp_path / "ok.sqlite").foreign_keys == (ForeignKey("c", "p_id", "p", "id"),)


def test_package_file_checks_the_pinned_checksum(tmp_path, monkeypatch):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    monkeypatch.setattr(sources, "_installed_file", lambda *a: data)
    wrong = "9d6d2a0cfc5a3a8c3b4a0d8b1e5bb2b4b1e0d7c7e4f0b9e3c0c7d2b8e5a1c3f6"
    with pytest.raises(SourceError, match="SHA-256"):
        package_file("x", "1", "x", "data.csv", wrong)
    import hashlib
    assert package_file("x", "1", "x", "data.csv", hashlib.sha256(data.read_bytes()).hexdigest()) == data.read_bytes()


def test_unknown_database_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown database"):
        database_path("nope")
