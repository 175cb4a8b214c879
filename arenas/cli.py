"""The ``arenas`` command line: list, info, run, new — plus the commands arenas declare in their
manifests (``[commands]`` in ``arena.toml``) and packages declare in the entry-point group
``arenas.commands`` (the trainer, the model server, leaderboards)."""

from __future__ import annotations

import importlib
import json
import math
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Multi-turn environments with verifiable rewards for LLM agents.")
console = Console()

COMMAND_GROUP = "arenas.commands"


@app.callback(invoke_without_command=True)
def _root(version: Annotated[bool, typer.Option("--version", help="print the version and exit")] = False,
          debug: Annotated[bool, typer.Option("--debug", help="show tracebacks of user errors")] = False) -> None:
    """Multi-turn environments with verifiable rewards for LLM agents."""
    if version:
        from arenas import __version__

        console.print(f"arenas {__version__}")
        raise typer.Exit()


def parse_pairs(pairs: list[str] | None) -> dict[str, Any]:
    """``key=value`` pairs; values are JSON when they parse as JSON, else strings."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected key=value, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


@app.command("list")
def list_command() -> None:
    """List the registered arenas."""
    from arenas.registry import list_arenas

    table = Table("arena", "gymnasium id", "summary")
    for spec in list_arenas():
        table.add_row(spec.id, spec.gym_id, spec.summary)
    console.print(table)


@app.command()
def info(arena: str, config: Annotated[list[str] | None, typer.Option("-c", "--config")] = None,
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Describe an arena: tools, splits, task counts, reward components."""
    from arenas.registry import make

    with make(arena, **parse_pairs(config)) as env:
        d = env.info()
    if as_json:
        print(json.dumps(d, indent=2))
        return
    console.print(f"[bold]{d['id']}[/bold] v{d['version']}: {d['description']}")
    console.print(f"max turns: {d['max_turns']}   structured view: {d['structured_view']}")
    console.print("splits: " + ", ".join(f"{k} ({v} tasks)" for k, v in d["splits"].items()))
    console.print("reward components: " + ", ".join(d["reward_components"]))
    console.print("baseline policies: " + (", ".join(d["policies"]) or "none"))
    if d["action_grammar"]:
        console.print("text actions: " + d["action_grammar"], highlight=False)
    config_table = Table("config key", "type", "default", "meaning", title="config (-c key=value)")
    for row in d["config"]:
        config_table.add_row(row["name"], row["type"], repr(row["default"]), row["doc"])
    console.print(config_table)
    if d["tools"]:
        table = Table("tool", "arguments", "description")
        for t in d["tools"]:
            fn = t["function"]
            props = fn["parameters"].get("properties", {})
            table.add_row(fn["name"], ", ".join(f"{k}: {v.get('type', 'any')}" for k, v in props.items()),
                          fn["description"])
        console.print(table)


@app.command("build-data")
def build_data(arenas: Annotated[list[str] | None, typer.Argument(help="arena ids (default: all)")] = None) -> None:
    """Build (or verify) the cached data of arenas ahead of time (otherwise built at first use)."""
    from arenas.registry import list_arenas, spec

    specs = [spec(a) for a in arenas] if arenas else [s for s in list_arenas() if s.build]
    for s in specs:
        if not s.build:
            console.print(f"{s.id}: nothing to build")
            continue
        module, _, attr = s.build.partition(":")
        console.print(f"[bold]{s.id}[/bold]: building data")
        getattr(importlib.import_module(module), attr)()


@app.command()
def demo(arenas: Annotated[list[str] | None, typer.Argument(help="arena ids (default: every arena)")] = None,
         out: Annotated[Path, typer.Option(help="folder of the demo's run folders")] = Path("runs/demo"),
         quiet: Annotated[bool, typer.Option(help="no progress bars")] = False) -> None:
    """Run every arena's baselines briefly (what each manifest's [demo] table names) and show one table."""
    from arenas.demo import format_rows, run_demo

    rows = run_demo(out, arenas, progress=not quiet)
    table = Table("arena", "agent", "episodes", "mean reward (95% CI)", "success", "errors", "seconds",
                  title="arenas demo (errors count as 0)")
    for row in format_rows(rows):
        table.add_row(*row)
    console.print(table)
    console.print(f"run folders: {out}/<arena>-<agent>/ (episodes.jsonl, run.json)")
    if rows and all("failed" in r for r in rows):
        raise typer.Exit(1)


@app.command()
def new(arena_id: Annotated[str, typer.Argument(help="id of the new arena (a Python identifier)")],
        root: Annotated[Path, typer.Option(help="folder that holds arena folders")] = Path("arenas")) -> None:
    """Scaffold a working minimal arena folder: manifest, arena, verifier, tasks and a test."""
    from arenas.scaffold import scaffold

    for path in scaffold(arena_id, root):
        console.print(f"created {path}")


@app.command()
def run(
    arena: Annotated[str, typer.Argument(help="arena id (see `arenas list`)")],
    agent: Annotated[str, typer.Option("--agent", "-a", help="random | oracle | heuristic | policy:<name> | "
                                       "python:<mod>:<Class> | openai:<model> | vllm:<path> | hf:<path>")] = "random",
    n: Annotated[int, typer.Option("-n", help="number of tasks")] = 10,
    split: Annotated[str, typer.Option(help="task split")] = "test",
    seed: Annotated[int, typer.Option(help="selects tasks and seeds episodes")] = 0,
    rollouts: Annotated[int, typer.Option(help="episodes per task")] = 1,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", help="episodes in flight")] = 1,
    out: Annotated[Path | None, typer.Option(help="folder for episodes.jsonl and run.json "
                                             "(default runs/<arena>-<agent>-<time>)")] = None,
    resume: Annotated[bool, typer.Option(help="skip episodes already finished in --out")] = False,
    config: Annotated[list[str] | None, typer.Option("-c", "--config", help="arena option key=value")] = None,
    agent_option: Annotated[list[str] | None, typer.Option("-o", "--agent-option",
                                                           help="agent/backend option key=value")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server for openai:<model>")] = None,
    opponent: Annotated[str | None, typer.Option(help="opponent agent spec (multi-agent arenas)")] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
    ray: Annotated[bool, typer.Option("--ray", help="play the episodes on a Ray cluster")] = False,
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster to join (default: $RAY_ADDRESS or a "
                                                    "local one)")] = None,
) -> None:
    """Run an agent on an arena's tasks and print a summary."""
    from arenas.agent_spec import make_agent_factory
    from arenas.rollout import RunConfig
    from arenas.rollout import run as run_episodes

    arena_config = parse_pairs(config)
    if opponent:
        arena_config["opponent"] = opponent
    options = parse_pairs(agent_option)
    if base_url:
        options["base_url"] = base_url
    cfg = RunConfig(arena=arena, agent=agent, n=n, split=split, seed=seed, rollouts=rollouts,
                    concurrency=concurrency, arena_config=arena_config, agent_options=options)
    factory = make_agent_factory(agent, **options)
    if out is None:
        out = default_out(arena, agent)
    iterate = None
    if ray or ray_address:
        from arenas.distributed import ray_iterator

        iterate = ray_iterator(ray_address)
    summary = run_episodes(cfg, factory, out=out, resume=resume, progress=not quiet, iterate=iterate)
    print_summary(summary, title=f"{arena} · {agent} · {split}")
    console.print(f"episodes: {out / 'episodes.jsonl'}   run record: {out / 'run.json'}")
    if summary["episodes"] and summary["errors"] == summary["episodes"]:
        console.print(f"[red]every episode failed[/red]; the first error is in {out / 'episodes.jsonl'}")
        raise typer.Exit(1)


def default_out(arena: str, agent: str) -> Path:
    """``runs/<arena>-<agent>-<UTC time>`` with the agent spec made safe for a folder name."""
    import re
    import time

    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", agent).strip("_")[:60] or "agent"
    return Path("runs") / f"{arena}-{safe}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"


def _fmt(x: float, spec: str = ".3f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def print_summary(s: dict[str, Any], title: str = "") -> None:
    table = Table("metric", "value", title=title)
    ci = "" if math.isnan(s["ci95"]) else f" ± {s['ci95']:.3f}"
    table.add_row("episodes", str(s["episodes"]))
    table.add_row("mean reward (95% CI, errors as 0)", _fmt(s["mean_reward"]) + ci)
    if s.get("ci95_method", "student t") != "student t":
        table.add_row("95% CI method", s["ci95_method"])
    if s["errors"]:
        table.add_row("mean reward of finished episodes", _fmt(s["mean_reward_finished"]))
    table.add_row("success rate", _fmt(s["success_rate"], ".1%"))
    table.add_row("invalid-action rate", _fmt(s["invalid_action_rate"], ".1%"))
    table.add_row("errors", str(s["errors"]))
    table.add_row("mean turns", _fmt(s["mean_turns"], ".2f"))
    table.add_row("episodes/s", _fmt(s.get("episodes_per_s", float("nan")), ".1f"))
    if s.get("tokens"):
        table.add_row("tokens/s", _fmt(s.get("tokens_per_s", float("nan")), ".0f"))
    for name, value in s["components"].items():
        table.add_row(f"  {name}", _fmt(value))
    console.print(table)


def extra_commands() -> dict[str, str]:
    """Command name -> ``"module:function"``: from the entry-point group, then every arena's
    manifest. The functions import their heavy dependencies lazily."""
    from arenas.registry import list_arenas

    found = {ep.name: ep.value for ep in entry_points(group=COMMAND_GROUP)}
    for spec in list_arenas():
        found.update(spec.commands)
    return found


def _register_extra_commands() -> None:
    """A command whose module cannot be imported (its extra is not installed) is left out."""
    for name, path in extra_commands().items():
        module, _, attr = path.partition(":")
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        if isinstance(fn, typer.Typer):  # a command group (``arenas leaderboard publish``)
            app.add_typer(fn, name=name)
        else:
            app.command(name)(fn)


def main() -> None:
    """The entry point: user errors (bad config keys, unknown arenas or agents, a busy run folder,
    an unreachable model server) print one line and exit with status 2; ``--debug`` shows the
    traceback instead."""
    import sys

    import click

    from arenas.config import ConfigError
    from arenas.trajectory import RunLockedError

    _register_extra_commands()
    debug = "--debug" in sys.argv
    try:
        app(standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except (ConfigError, FileExistsError, RunLockedError) as e:
        if debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
