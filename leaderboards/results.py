"""Boards: the database's entries grouped by (suite, arena, split) and ranked; Markdown rendering."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from arenas.leaderboards.db import Entry, ResultsDB
from arenas.leaderboards.ranking import Standing, rank
from arenas.leaderboards.ratings import entry_label

OTHER = "other runs"
"""The board of entries that match no suite."""

Boards = dict[tuple[str, str, str], list[Standing]]


def boards(entries: list[Entry], suites: dict[str, dict[str, Any]]) -> Boards:
    """(suite id or :data:`OTHER`, arena, split) -> ranked standings (by the suite's metric)."""
    groups: dict[tuple[str, str, str], list[Entry]] = {}
    for e in entries:
        groups.setdefault((e.suite or OTHER, e.arena, e.split), []).append(e)
    return {key: rank(rows, (suites.get(key[0]) or {}).get("metric", "mean_reward"))
            for key, rows in sorted(groups.items())}


def load_boards(db: ResultsDB, suite: str | None = None) -> Boards:
    return boards(db.entries(suite=suite), db.suites())


def ingest_into_memory(runs: list[str | Path]) -> ResultsDB:
    """An in-memory database of the run folders under ``runs`` (a board of just those runs). A
    rejected run is reported on stderr and left out; if every run is rejected, that is an error."""
    import sys

    from arenas.leaderboards.ingest import RejectedEntry, find_runs, ingest_run

    db = ResultsDB("sqlite://")
    found = find_runs(runs)
    rejected = []
    for run_dir in found:
        try:
            ingest_run(db, run_dir)
        except RejectedEntry as e:
            rejected.append(e)
            print(f"error: {e}", file=sys.stderr)
    if found and len(rejected) == len(found):
        raise rejected[0]
    return db


def interval(s: Standing) -> str:
    if math.isnan(s.lo):
        return f"{s.value:.3f}"
    return f"{s.value:.3f} [{s.lo:.3f}, {s.hi:.3f}]"


def tie_note(s: Standing) -> str:
    """What the paired test says about this entry and the next one."""
    v = s.versus_next
    if v is None:
        return ""
    if not v["pairs"]:
        return "no shared episodes with the next"
    if s.distinguishable_from_next:
        return "above the next (p<0.001)" if v["p"] < 0.001 else f"above the next (p={v['p']:.3f})"
    return f"not distinguishable from the next (p={v['p']:.2f})"


def render_markdown(boards: Boards) -> str:
    """One table per board: rank, agent, metric with its 95% cluster-bootstrap interval, errors."""
    out = []
    for (suite, arena, split), rows in boards.items():
        out.append(f"### {arena} · {split} · {suite}\n")
        out.append("| rank | agent | score [95% CI] | success | invalid actions | episodes | errors | verified | note |")
        out.append("|---:|---|---|---:|---:|---:|---:|:---:|---|")
        for s in rows:
            invalid = s.invalid_actions / s.turns if s.turns else 0.0
            out.append(f"| {s.rank} | `{entry_label(s.entry)}` | {interval(s)} | {s.success_rate:.1%} | {invalid:.1%} | "
                       f"{s.episodes} | {s.errors} | {'yes' if s.entry.verified else 'no'} | {tie_note(s)} |")
        out.append("")
    return "\n".join(out)
