"""Command functions ``arenas check-template``, ``arenas serve-model`` and ``arenas tiny-model``.

Also runnable alone: ``python -m arenas.agents.llm.cli serve-model <path> --port 8000``,
``python -m arenas.agents.llm.cli tiny-model <folder>``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer


def check_template(
    model: Annotated[str, typer.Argument(help="model folder (or hub-cache name) whose tokenizer to check")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Check that a model's chat template is prefix-consistent across turns.

    Replays a scripted conversation (reasoning, tool calls, tool results, a later user turn) and
    checks that every re-rendered prompt starts with the tokens of the previous prompt and reply.
    Exits with status 1 when it does not: token-level trajectories from such a model record
    template mismatches (the sampled tokens are kept).
    """
    from transformers import AutoTokenizer

    from arenas.agents.llm.template import check_prefix_consistency

    report = check_prefix_consistency(AutoTokenizer.from_pretrained(model))
    if as_json:
        print(json.dumps(asdict(report), indent=2))
    else:
        verdict = "prefix-consistent" if report.consistent else "NOT prefix-consistent"
        print(f"{model}: chat template is {verdict} over {report.turns_checked} turns "
              f"(native tools: {'yes' if report.supports_tools else 'no'}, end of turn: {report.end_of_turn!r})")
        for p in report.problems:
            print(f"  re-render {p['turn']} changes token {p['position']}:\n"
                  f"    sampled : {p['expected']!r}\n    rendered: {p['rendered']!r}")
    if not report.consistent:
        raise typer.Exit(1)


def tiny_model(
    path: Annotated[str, typer.Argument(help="folder to write the model and tokenizer to")],
    hidden: Annotated[int, typer.Option(help="hidden size")] = 64,
    layers: Annotated[int, typer.Option(help="transformer layers")] = 2,
    vocab_size: Annotated[int, typer.Option(help="BPE vocabulary size")] = 1024,
    seed: Annotated[int, typer.Option(help="weight initialisation seed")] = 0,
) -> None:
    """Write a tiny random-init chat model with a locally trained tokenizer (no download), to try
    the LLM path without weights: ``arenas run sql --agent hf:<path> -n 2``."""
    from arenas.agents.llm.tiny_model import create_tiny_model

    out = create_tiny_model(path, vocab_size=vocab_size, hidden=hidden, layers=layers, seed=seed)
    info = json.loads((out / "arenas_tiny_model.json").read_text())
    print(f"wrote a {info['parameters']:,}-parameter model to {out}; try: arenas run sql --agent hf:{out} -n 2")


def serve_model(
    path: Annotated[str, typer.Argument(help="transformers model folder")],
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one)")] = 8000,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    name: Annotated[str | None, typer.Option(help="model name clients use (default: the path)")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
    max_batch: Annotated[int, typer.Option(help="requests batched into one generate call")] = 64,
    verbose: Annotated[bool, typer.Option(help="log every request")] = False,
) -> None:
    """Serve a transformers model over the OpenAI chat-completions protocol (with token ids and
    logprobs, like vLLM), so `--agent openai:<name> --base-url ...` works on CPU."""
    from arenas.agents.llm.hf import HFBackend
    from arenas.agents.llm.server import ChatServer

    server = ChatServer(HFBackend(path, device=device, max_batch=max_batch), name or path, host, port, verbose)
    print(f"serving {name or path} on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


app = typer.Typer(add_completion=False, no_args_is_help=True)
app.command("check-template")(check_template)
app.command("serve-model")(serve_model)
app.command("tiny-model")(tiny_model)

if __name__ == "__main__":
    app()
