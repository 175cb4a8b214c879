"""``arenas train``: GRPO on one or more arenas from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from arenas.cli import parse_pairs


def parse_arenas(arenas: list[str], split: str, arena_config: dict[str, Any]) -> list[dict[str, Any]]:
    """``name[:weight]`` entries; an option ``name.key=value`` applies to that arena only, a plain
    ``key=value`` to all of them."""
    mixes = []
    for entry in arenas:
        name, _, weight = entry.partition(":")
        config = {k: v for k, v in arena_config.items() if "." not in k}
        config.update({k.split(".", 1)[1]: v for k, v in arena_config.items() if k.startswith(name + ".")})
        mixes.append({"arena": name, "weight": float(weight) if weight else 1.0, "split": split, "config": config})
    return mixes


def train(
    arena: Annotated[list[str], typer.Option("--arena", help="arena id, optionally with a mixing weight "
                                             "(memory:0.7); repeat for a multi-arena mix")],
    model: Annotated[Path, typer.Option(help="local transformers model directory (with tokenizer and chat template)")],
    steps: Annotated[int, typer.Option(help="training steps")] = 10,
    out: Annotated[Path, typer.Option(help="run directory (metrics, checkpoints, plot, final model)")] = Path("runs/grpo"),
    tasks_per_step: Annotated[int, typer.Option(help="tasks (groups) per step")] = 4,
    group_size: Annotated[int, typer.Option("--group-size", "-G", help="episodes per task")] = 4,
    loss: Annotated[str, typer.Option(help="grpo | dr_grpo | dapo")] = "grpo",
    lr: Annotated[float, typer.Option(help="learning rate")] = 1e-5,
    mu: Annotated[int, typer.Option(help="update passes per batch")] = 1,
    kl_coef: Annotated[float, typer.Option(help="k3 KL weight to the initial model")] = 0.0,
    lora_rank: Annotated[int, typer.Option(help="LoRA rank (0 = full fine-tuning)")] = 0,
    generator: Annotated[str, typer.Option(help="generation backend: hf | vllm")] = "hf",
    split: Annotated[str, typer.Option(help="training split")] = "train",
    seed: Annotated[int, typer.Option(help="seeds tasks, episodes and sampling")] = 0,
    resume: Annotated[bool, typer.Option(help="continue from the newest checkpoint in --out")] = False,
    config: Annotated[list[str] | None, typer.Option("-c", "--config", help="arena option key=value "
                                                     "(arena.key=value for one arena of a mix)")] = None,
    trainer_option: Annotated[list[str] | None, typer.Option("-t", "--trainer-option",
                                                             help="any GRPOConfig field, key=value")] = None,
    generator_option: Annotated[list[str] | None, typer.Option("-o", "--generator-option",
                                                               help="agent backend option key=value")] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Train a model with GRPO on arena episodes; writes metrics, a learning curve and the model."""
    from arenas.agents.grpo.config import GRPOConfig
    from arenas.agents.grpo.trainer import GRPOTrainer

    fields = {"model": str(model), "out": str(out), "steps": steps, "tasks_per_step": tasks_per_step,
              "group_size": group_size, "loss": loss, "learning_rate": lr, "mu": mu, "kl_coef": kl_coef,
              "lora_rank": lora_rank, "generator": generator, "seed": seed, "resume": resume,
              "generator_options": parse_pairs(generator_option),
              "arenas": parse_arenas(arena, split, parse_pairs(config))}
    fields.update(parse_pairs(trainer_option))
    trainer = GRPOTrainer(GRPOConfig(**fields))
    try:
        summary = trainer.train(progress=not quiet)
    finally:
        trainer.close()
    typer.echo(json.dumps({k: v for k, v in summary.items() if not isinstance(v, dict)}, indent=2))
