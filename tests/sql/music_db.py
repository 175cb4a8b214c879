"""A small Chinook-like music store database with foreign keys, built deterministically, for the
engine and verifier tests (they must not depend on the downloaded data sets)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE artist (ArtistId INTEGER PRIMARY KEY, Name TEXT NOT NULL UNIQUE);
CREATE TABLE album (AlbumId INTEGER PRIMARY KEY, Title TEXT NOT NULL,
    ArtistId INTEGER NOT NULL REFERENCES artist(ArtistId));
CREATE TABLE genre (GenreId INTEGER PRIMARY KEY, Name TEXT NOT NULL);
CREATE TABLE track (TrackId INTEGER PRIMARY KEY, Name TEXT NOT NULL,
    AlbumId INTEGER NOT NULL REFERENCES album(AlbumId), GenreId INTEGER REFERENCES genre(GenreId),
    Milliseconds INTEGER NOT NULL, UnitPrice REAL NOT NULL, Composer TEXT);
CREATE TABLE employee (EmployeeId INTEGER PRIMARY KEY, LastName TEXT NOT NULL,
    ReportsTo INTEGER REFERENCES employee(EmployeeId));
CREATE TABLE customer (CustomerId INTEGER PRIMARY KEY, FirstName TEXT NOT NULL, Country TEXT NOT NULL,
    SupportRepId INTEGER REFERENCES employee(EmployeeId));
CREATE TABLE invoice (InvoiceId INTEGER PRIMARY KEY, CustomerId INTEGER NOT NULL REFERENCES customer(CustomerId),
    InvoiceDate TEXT NOT NULL, Total REAL NOT NULL);
CREATE TABLE invoice_line (InvoiceLineId INTEGER PRIMARY KEY,
    InvoiceId INTEGER NOT NULL REFERENCES invoice(InvoiceId), TrackId INTEGER NOT NULL REFERENCES track(TrackId),
    UnitPrice REAL NOT NULL, Quantity INTEGER NOT NULL);
CREATE TABLE playlist (PlaylistId INTEGER PRIMARY KEY, Name TEXT NOT NULL);
CREATE TABLE playlist_track (PlaylistId INTEGER NOT NULL REFERENCES playlist(PlaylistId),
    TrackId INTEGER NOT NULL REFERENCES track(TrackId), PRIMARY KEY (PlaylistId, TrackId));
CREATE INDEX track_album ON track (AlbumId);
"""

ARTISTS = ["AC/DC", "Accept", "Aerosmith", "Alanis Morissette", "Alice In Chains", "Antonio Carlos Jobim",
           "Apocalyptica", "Audioslave", "BackBeat", "Billy Cobham", "Black Label Society", "Black Sabbath",
           "Body Count", "Bruce Dickinson", "Buddy Guy"]
GENRES = ["Rock", "Jazz", "Metal", "Alternative & Punk", "Blues", "Latin"]
COUNTRIES = ["Brazil", "Canada", "USA", "Germany", "France", "Norway", "India"]


def build_music_db(path: Path) -> Path:
    rng = random.Random(0)
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO artist VALUES (?,?)", enumerate(ARTISTS, 1))
    conn.executemany("INSERT INTO album VALUES (?,?,?)",
                     [(i, f"Album {i}", 1 + (i * 7) % len(ARTISTS)) for i in range(1, 41)])
    conn.executemany("INSERT INTO genre VALUES (?,?)", enumerate(GENRES, 1))
    conn.executemany("INSERT INTO track VALUES (?,?,?,?,?,?,?)", [
        (i, f"Track {i}", rng.randint(1, 40), None if i % 17 == 0 else rng.randint(1, len(GENRES)),
         rng.randint(60_000, 600_000), 0.99 if i % 5 else 1.99, None if i % 3 == 0 else f"Composer {i % 11}")
        for i in range(1, 401)])
    conn.executemany("INSERT INTO employee VALUES (?,?,?)",
                     [(1, "Adams", None), (2, "Edwards", 1), (3, "Peacock", 2), (4, "Park", 2)])
    conn.executemany("INSERT INTO customer VALUES (?,?,?,?)", [
        (i, f"Name{i}", COUNTRIES[i % len(COUNTRIES)], None if i % 10 == 0 else 2 + i % 3) for i in range(1, 31)])
    lines = []
    invoices = []
    for inv in range(1, 121):
        n = rng.randint(1, 6)
        total = 0.0
        for _ in range(n):
            track = rng.randint(1, 400)
            price = 0.99 if track % 5 else 1.99
            qty = rng.choice([1, 1, 1, 2])
            lines.append((len(lines) + 1, inv, track, price, qty))
            total += price * qty
        invoices.append((inv, rng.randint(1, 30), f"20{rng.randint(21, 24)}-{rng.randint(1, 12):02d}-01",
                         round(total, 2)))
    conn.executemany("INSERT INTO invoice VALUES (?,?,?,?)", invoices)
    conn.executemany("INSERT INTO invoice_line VALUES (?,?,?,?,?)", lines)
    conn.executemany("INSERT INTO playlist VALUES (?,?)", [(1, "Music"), (2, "Heavy"), (3, "Chill")])
    conn.executemany("INSERT INTO playlist_track VALUES (?,?)",
                     sorted({(rng.randint(1, 3), rng.randint(1, 400)) for _ in range(300)}))
    conn.commit()
    conn.close()
    return path
