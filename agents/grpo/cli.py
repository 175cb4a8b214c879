"""``arenas train``: GRPO on one or more arenas; ``arenas sft``: the supervised warm start before it."""

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
    loss: Annotated[str, typer.Option(help="grpo | dr_grpo | dapo (each with its paper's defaults)")] = "grpo",
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
    """Train a model with GRPO on arena episodes; writes metrics, a learning curve and the model.
    Data parallel over N processes: ``torchrun --nproc_per_node N -m arenas.cli train ...``."""
    from arenas.agents.grpo.config import GRPOConfig
    from arenas.agents.grpo.data_parallel import env_world
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
    if env_world()[1] == 0:  # under torchrun every rank returns the same summary: rank 0 prints it
        typer.echo(json.dumps({k: v for k, v in summary.items() if not isinstance(v, dict)}, indent=2))
    if summary.get("stopped"):
        typer.echo(f"arenas train {summary['stopped']}", err=True)
        raise typer.Exit(1)


def sft(
    model: Annotated[Path, typer.Option(help="local transformers model directory to warm-start")],
    out: Annotated[Path, typer.Option(help="directory of the fine-tuned model")],
    arena: Annotated[str | None, typer.Option(help="arena whose baseline policy plays the episodes")] = None,
    policy: Annotated[str, typer.Option(help="baseline policy of --arena (oracle, heuristic, ...)")] = "oracle",
    trajectories: Annotated[Path | None, typer.Option(help="episodes.jsonl of any run, instead of --arena")] = None,
    split: Annotated[str, typer.Option(help="split the policy plays")] = "train",
    n: Annotated[int, typer.Option(help="tasks the policy plays")] = 20,
    min_reward: Annotated[float | None, typer.Option(help="skip episodes below this reward")] = None,
    steps: Annotated[int, typer.Option(help="optimizer steps")] = 50,
    lr: Annotated[float, typer.Option(help="learning rate")] = 1e-4,
    batch_size: Annotated[int, typer.Option(help="examples per step")] = 8,
    config: Annotated[list[str] | None, typer.Option("-c", "--config", help="arena option key=value")] = None,
) -> None:
    """Supervised warm start on a baseline policy's or a run's replies (reply tokens only), before GRPO."""
    from arenas.agents.grpo.sft import examples_from_trajectories, policy_trajectories
    from arenas.agents.grpo.sft import sft as run_sft
    from arenas.config import ConfigError
    from arenas.trajectory import read_trajectories

    if (arena is None) == (trajectories is None):
        raise ConfigError("give exactly one of --arena (a baseline policy plays) or --trajectories (a run's episodes)")
    trajs = (list(read_trajectories(trajectories)) if trajectories is not None
             else policy_trajectories(arena, policy, split, n=n, **parse_pairs(config)))
    stats = run_sft(model, examples_from_trajectories(trajs, min_reward), out, steps=steps, learning_rate=lr,
                    batch_size=batch_size)
    typer.echo(json.dumps({**stats, "episodes": len(trajs), "model": str(out)}, indent=2))
