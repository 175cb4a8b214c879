"""The ``arenas`` command line: list, info, run (and domain commands registered below)."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Multi-turn environments with verifiable rewards for LLM agents.")
console = Console()

#: command name -> "module:function" (imported when the CLI starts; the functions import their
#: heavy dependencies lazily). A module that cannot be imported leaves its command out.
EXTRA_COMMANDS: dict[str, str] = {
    "check-template": "arenas.agents.llm.cli:check_template",
    "serve-model": "arenas.agents.llm.cli:serve_model",
    "train": "arenas.agents.grpo.cli:train",
    "cross-eval": "arenas.pokemon.cli:cross_eval",
    "leaderboard": "arenas.leaderboards.cli:leaderboard",
    "build-data": "arenas.sql.data:build_data_command",
    "load-postgres": "arenas.sql.postgres:load_postgres_command",
}


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
    if d["tools"]:
        table = Table("tool", "arguments", "description")
        for t in d["tools"]:
            fn = t["function"]
            props = fn["parameters"].get("properties", {})
            table.add_row(fn["name"], ", ".join(f"{k}: {v.get('type', 'any')}" for k, v in props.items()),
                          fn["description"])
        console.print(table)


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
    out: Annotated[Path | None, typer.Option(help="folder for episodes.jsonl and run.json")] = None,
    resume: Annotated[bool, typer.Option(help="skip episodes already finished in --out")] = False,
    config: Annotated[list[str] | None, typer.Option("-c", "--config", help="arena option key=value")] = None,
    agent_option: Annotated[list[str] | None, typer.Option("-o", "--agent-option",
                                                           help="agent/backend option key=value")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server for openai:<model>")] = None,
    opponent: Annotated[str | None, typer.Option(help="opponent agent spec (multi-agent arenas)")] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Run an agent on an arena's tasks and print a summary."""
    from arenas.agents.spec import make_agent_factory
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
    summary = run_episodes(cfg, factory, out=out, resume=resume, progress=not quiet)
    print_summary(summary, title=f"{arena} · {agent} · {split}")
    if out:
        console.print(f"episodes: {out / 'episodes.jsonl'}   run record: {out / 'run.json'}")


def _fmt(x: float, spec: str = ".3f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def print_summary(s: dict[str, Any], title: str = "") -> None:
    table = Table("metric", "value", title=title)
    ci = "" if math.isnan(s["ci95"]) else f" ± {s['ci95']:.3f}"
    table.add_row("episodes", str(s["episodes"]))
    table.add_row("mean reward (95% CI)", _fmt(s["mean_reward"]) + ci)
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


def _register_extra_commands() -> None:
    for name, path in EXTRA_COMMANDS.items():
        module, _, attr = path.partition(":")
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        app.command(name)(fn)


def main() -> None:
    _register_extra_commands()
    app()


if __name__ == "__main__":
    main()
