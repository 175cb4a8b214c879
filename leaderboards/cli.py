"""``arenas leaderboard RUNS``: render the leaderboard of the run folders under RUNS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def leaderboard(runs: Annotated[Path, typer.Argument(help="folder containing run folders")],
                suite: Annotated[str | None, typer.Option(help="only runs that match this suite")] = None,
                out: Annotated[Path | None, typer.Option(help="write the Markdown here")] = None) -> None:
    """Rank the agents of every run under RUNS (summaries recomputed from episodes)."""
    from arenas.leaderboards.results import load_results, render_markdown

    text = render_markdown(load_results(runs), suite)
    if out:
        out.write_text(text)
    print(text)
