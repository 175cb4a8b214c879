"""``arenas cross-eval``: payoff matrix and Elo-scale ratings of a pool of VGC players."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def cross_eval(
    agent: Annotated[list[str] | None, typer.Option("--agent", "-a", help="a player: random, max_power, heuristic "
                                                    "or any agent spec (repeat the option)")] = None,
    n: Annotated[int, typer.Option("-n", help="battles per ordered pair")] = 10,
    split: Annotated[str, typer.Option(help="task split the matchups come from")] = "test",
    seed: Annotated[int, typer.Option(help="seed of the matchups and the baseline policies")] = 0,
    config: Annotated[list[str] | None, typer.Option("-c", "--config", help="arena option key=value")] = None,
    out: Annotated[Path | None, typer.Option(help="write the result as JSON here")] = None,
) -> None:
    """Every ordered pair of players battles n seeded times; prints the payoff matrix and ratings."""
    from rich.console import Console
    from rich.table import Table

    from arenas.cli import parse_pairs
    from arenas.pokemon.evaluation import cross_evaluate

    players = agent or ["random", "max_power", "heuristic"]
    if len(players) < 2:
        raise typer.BadParameter("cross-eval needs at least two players")
    console = Console()
    result = cross_evaluate(players, battles_per_pair=n, split=split, seed=seed,
                            progress=lambda k, total: console.print(f"pair {k}/{total} done", style="dim"),
                            **parse_pairs(config))
    table = Table(title=f"pokemon cross-eval · {n} battles per ordered pair · split {split} · seed {seed}")
    table.add_column("row vs column")
    for p in players:
        table.add_column(p, justify="right")
    table.add_column("Elo", justify="right")
    for i, p in enumerate(players):
        cells = ["—" if i == j else f"{result.score[i][j]:.2f}" for j in range(len(players))]
        table.add_row(p, *cells, f"{result.elo[p]:.0f}")
    console.print(table)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.to_dict(), indent=1))
        console.print(f"written: {out}")
