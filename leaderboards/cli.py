"""Commands (entry points in ``arenas.commands``): ``arenas eval``, ``arenas export`` and the
``arenas leaderboard`` group (``show``, the default; ``ingest``; ``publish``).

Leaderboard commands read the results database (``--db``, default
``$ARENAS_HOME/leaderboard.sqlite``), or, given run folders, a board of just those runs built
in memory (every run re-scored first): ``arenas leaderboard publish runs/a runs/b --out site``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

DB_HELP = "results database URL (default sqlite:///$ARENAS_HOME/leaderboard.sqlite; postgresql+psycopg://...)"
RunsArg = Annotated[list[Path] | None, typer.Argument(help="run folders (or folders holding them)")]
DbOpt = Annotated[str | None, typer.Option("--db", help=DB_HELP)]
SuiteOpt = Annotated[str | None, typer.Option(help="only this suite (e.g. core-v1)")]


class _ShowByDefault(TyperGroup):
    """``arenas leaderboard RUNS`` means ``arenas leaderboard show RUNS``."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


leaderboard = typer.Typer(cls=_ShowByDefault, no_args_is_help=False, add_completion=False,
                          help="Ranked, verified results: show, ingest, publish.")


def _database(runs: list[Path] | None, db: str | None):
    from arenas.config import ConfigError

    try:
        from arenas.leaderboards.db import ResultsDB
        from arenas.leaderboards.results import ingest_into_memory
    except ImportError as e:
        raise ConfigError(f"leaderboards need SQLAlchemy ({e}): pip install 'arenas[leaderboard]'") from e

    return ingest_into_memory(runs) if runs and db is None else ResultsDB(db)


@leaderboard.command()
def show(runs: RunsArg = None, db: DbOpt = None, suite: SuiteOpt = None,
         out: Annotated[Path | None, typer.Option(help="write the Markdown here")] = None) -> None:
    """Print the ranked boards as Markdown (of RUNS when given, else of the database)."""
    from arenas.leaderboards.results import load_boards, render_markdown

    text = render_markdown(load_boards(_database(runs, db), suite))
    if out:
        out.write_text(text)
    print(text)


@leaderboard.command()
def ingest(runs: Annotated[list[Path], typer.Argument(help="run folders (or folders holding them)")],
           db: DbOpt = None, suite: SuiteOpt = None) -> None:
    """Re-score the episodes of run folders and add the agreeing ones to the database."""
    database = _database(None, db)
    from arenas.leaderboards.ingest import RejectedEntry, find_runs, ingest_run
    from arenas.leaderboards.suites import load_suite

    chosen = load_suite(suite) if suite else None
    rejected = 0
    for run_dir in find_runs(runs):
        try:
            entry = ingest_run(database, run_dir, suite=chosen)
            print(f"accepted {run_dir} as entry {entry}")
        except RejectedEntry as e:
            rejected += 1
            print(f"error: {e}")
    if rejected:
        raise typer.Exit(1)


@leaderboard.command()
def publish(runs: RunsArg = None, out: Annotated[Path, typer.Option(help="folder of the site")] = Path("site"),
            db: DbOpt = None, suite: SuiteOpt = None,
            train: Annotated[list[Path] | None, typer.Option(help="arenas train output folders (learning curves)")] = None
            ) -> None:
    """Write the static HTML site (tables, plots, entry pages with sample trajectories)."""
    from arenas.leaderboards.site import publish as write_site

    pages = write_site(_database(runs, db), out, suite, train or [])
    print(f"wrote {len(pages)} pages: {out / 'index.html'}")


def evaluate(
    suite: Annotated[str, typer.Argument(help="suite id, e.g. core-v1 (see leaderboards/suites/)")],
    agent: Annotated[str, typer.Option("--agent", "-a", help="agent spec (random, oracle, heuristic, openai:<model>, ...)")],
    arenas: Annotated[str | None, typer.Option(help="comma-separated arenas of the suite (default: all)")] = None,
    runs: Annotated[Path, typer.Option(help="run folders go to RUNS/<suite>/<arena>/<agent>")] = Path("runs"),
    db: DbOpt = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", help="episodes in flight per arena")] = 1,
    agent_option: Annotated[list[str] | None, typer.Option("-o", "--agent-option", help="key=value")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server for openai:<model>")] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Run a suite with one agent (resumable), re-score and ingest the runs, print the boards."""
    from arenas.cli import parse_pairs
    from arenas.leaderboards.evaluate import evaluate as run_suite
    from arenas.leaderboards.results import load_boards, render_markdown
    from arenas.leaderboards.suites import load_suite

    chosen = load_suite(suite)
    options = parse_pairs(agent_option)
    if base_url:
        options["base_url"] = base_url
    database = _database(None, db)
    selected = [a.strip() for a in arenas.split(",") if a.strip()] if arenas else None
    results = run_suite(chosen, agent, database, runs, selected, concurrency, options, progress=not quiet)
    for r in results:
        print(f"{r.arena}: skipped ({r.skipped})" if r.skipped else
              f"{r.arena}: {r.summary['episodes']} episodes, entry {r.entry_id} ({r.run_dir})")
    print(render_markdown(load_boards(database, chosen.id)))
    if all(r.skipped for r in results):
        raise typer.Exit(1)


def export(runs: Annotated[list[Path], typer.Argument(help="run folders (or folders holding them)")],
           out: Annotated[Path, typer.Option(help="output file")],
           format: Annotated[str, typer.Option("--format", "-f", help="parquet | jsonl | csv | hf (a dataset folder)")] = "parquet") -> None:
    """Write the episodes of run folders as one flat table (messages, rewards, token ids and masks)."""
    from arenas.leaderboards.export import export as write_table

    n = write_table(runs, out, format)
    print(f"wrote {n} episodes to {out}")
