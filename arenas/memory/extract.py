"""Regenerates the stored workloads: ``python -m arenas.memory.extract [names...]``.

Each model of :mod:`arenas.memory.models` is exported with ``torch.export`` and lowered to core
ATen ops. Every non-aliasing op becomes one op of the workload (aliasing ops such as ``view``,
``split`` and ``getitem`` cost nothing and merge into the buffer they alias; runtime assertions,
which output nothing, are dropped); every tensor becomes one buffer with its size in bytes, its
``[start, end)`` live interval in op order, its defining op and its uses. FLOPs come from ``torch.utils.flop_counter``'s formulas evaluated on the export's
shape metadata (nothing is executed); ops without a formula count one FLOP per output element.

Only this module needs torch; the arena reads the JSON it writes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import operator
from pathlib import Path
from typing import Any

import torch
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry

from arenas.memory.models import (
    DiffusionConfig,
    LSTMConfig,
    MixerConfig,
    MLPConfig,
    MobileNetConfig,
    ModelConfig,
    MoEConfig,
    ResNetConfig,
    T5Config,
    TransformerConfig,
    UNetConfig,
    ViTConfig,
    build,
)
from arenas.memory.workloads import FORMAT_VERSION, WORKLOAD_DIR

WORKLOADS: dict[str, ModelConfig] = {
    "mlp_small": MLPConfig(widths=(784,) + (512,) * 12 + (10,), batch=64),
    "mlp_deep": MLPConfig(widths=(1024,) + (2048,) * 24 + (10,), batch=256),
    "gpt_tiny": TransformerConfig(layers=2, d_model=128, heads=4, seq=128),
    "gpt_small": TransformerConfig(layers=6, d_model=384, heads=6, seq=256),
    "gpt_medium": TransformerConfig(layers=12, d_model=768, heads=12, seq=256, vocab=8192),
    "gpt_large": TransformerConfig(layers=24, d_model=1024, heads=16, seq=256, vocab=8192),
    "gpt_xl": TransformerConfig(layers=40, d_model=768, heads=12, seq=256, vocab=8192),
    "bert_small": TransformerConfig(layers=4, d_model=256, heads=4, seq=128, causal=False),
    "bert_base": TransformerConfig(layers=12, d_model=768, heads=12, seq=256, vocab=8192, causal=False),
    "resnet18": ResNetConfig(blocks=(2, 2, 2, 2), width=64, image=128),
    "resnet34": ResNetConfig(blocks=(3, 4, 6, 3), width=64, image=160),
    "unet_small": UNetConfig(depth=3, width=32, image=128),
    "unet": UNetConfig(depth=4, width=64, image=160),
    "mixer": MixerConfig(layers=8, patch=16, image=160, hidden=512, token_mlp=256, channel_mlp=2048),
    "vit_tiny": ViTConfig(layers=4, d_model=192, heads=3, patch=16, image=128),
    "vit_small": ViTConfig(layers=8, d_model=384, heads=6, patch=16, image=160),
    "t5_small": T5Config(layers=2, d_model=256, heads=4, d_ff=1024, src=128, tgt=64),
    "t5_base": T5Config(layers=6, d_model=512, heads=8, d_ff=2048, src=256, tgt=128, vocab=8192),
    "lstm_small": LSTMConfig(layers=2, hidden=256, seq=16, batch=8),
    "lstm_large": LSTMConfig(layers=3, hidden=512, seq=32, batch=16),
    "mobilenet_small": MobileNetConfig(stages=((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 2, 2)),
                                       image=128),
    "mobilenet_v2": MobileNetConfig(image=160),
    "diffusion_small": DiffusionConfig(widths=(64, 128), image=32),
    "diffusion_unet": DiffusionConfig(widths=(128, 256, 512), image=64),
    "moe_small": MoEConfig(layers=2, d_model=256, heads=4, experts=8, d_ff=512, seq=128),
    "moe_base": MoEConfig(layers=6, d_model=512, heads=8, experts=16, d_ff=1024, seq=256, vocab=8192),
}
"""Workload name -> model config. Changing one changes the data: bump FORMAT_VERSION."""


def _is_alias(target: Any) -> bool:
    if target is operator.getitem:
        return True
    schema = getattr(target, "_schema", None)
    if schema is None or not schema.returns:
        return False
    alias = schema.returns[0].alias_info
    return alias is not None and not alias.is_write


def _tensors(value: Any) -> list[Any]:
    return [v for v in tree_flatten(value)[0] if isinstance(v, torch.Tensor)]


def _nbytes(t: torch.Tensor) -> int:
    return int(t.numel()) * t.element_size()


def _flops(node: torch.fx.Node) -> int:
    packet = getattr(node.target, "overloadpacket", None)
    out = node.meta.get("val")
    if packet in flop_registry:
        args, kwargs = torch.fx.node.map_arg((node.args, node.kwargs), lambda n: n.meta.get("val"))
        return int(flop_registry[packet](*args, **kwargs, out_val=out))
    return max((int(t.numel()) for t in _tensors(out)), default=0)


def extract(name: str, cfg: ModelConfig) -> dict[str, Any]:
    """Exports the model of ``cfg`` and returns its workload as plain JSON-ready data."""
    with torch.device("meta"):  # shapes only: no weights are allocated
        model, inputs = build(cfg)
    with torch.no_grad():
        program = torch.export.export(model, inputs).run_decompositions()
    sig = program.graph_signature
    user_inputs = set(sig.user_inputs)
    buffers: list[dict[str, Any]] = []
    node_buffers: dict[torch.fx.Node, list[int | None]] = {}
    ops: list[dict[str, Any]] = []
    outputs: set[int] = set()

    def new_buffer(bname: str, t: torch.Tensor, kind: str, def_op: int) -> int | None:
        if _nbytes(t) == 0:
            return None
        buffers.append({"name": bname, "size": _nbytes(t), "kind": kind, "def_op": def_op, "uses": []})
        return len(buffers) - 1

    for node in program.graph.nodes:
        if node.op == "placeholder":
            kind = "input" if node.name in user_inputs else "parameter"
            node_buffers[node] = [new_buffer(node.name, node.meta["val"], kind, -1)]
        elif node.op == "call_function" and _is_alias(node.target):
            src = node_buffers[node.args[0]]
            if node.target is operator.getitem:
                node_buffers[node] = [src[node.args[1]]]
            else:  # a view, or a list of views (split, chunk): every one aliases the source
                outs = node.meta.get("val")
                node_buffers[node] = [src[0]] * (len(outs) if isinstance(outs, (tuple, list)) else 1)
        elif node.op == "call_function" and not _tensors(node.meta.get("val")):
            continue  # runtime checks (_assert_async ...): no output, nothing for a compiler to place
        elif node.op == "call_function":
            op = len(ops)
            read: list[int] = []
            for arg in tree_flatten((node.args, node.kwargs))[0]:
                if isinstance(arg, torch.fx.Node):
                    read.extend(b for b in node_buffers.get(arg, []) if b is not None and b not in read)
            outs = node.meta.get("val")
            outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
            made = [new_buffer(f"{node.name}.{i}" if len(outs) > 1 else node.name, t, "activation", op)
                    if isinstance(t, torch.Tensor) else None for i, t in enumerate(outs)]
            node_buffers[node] = made
            for b in read:
                buffers[b]["uses"].append(op)
            written = [b for b in made if b is not None]
            ops.append({"name": str(node.target.overloadpacket).removeprefix("aten."), "flops": _flops(node),
                        "bytes_read": sum(buffers[b]["size"] for b in read),
                        "bytes_written": sum(buffers[b]["size"] for b in written)})
        elif node.op == "output":
            for arg in tree_flatten(node.args)[0]:
                if isinstance(arg, torch.fx.Node):
                    outputs.update(b for b in node_buffers.get(arg, []) if b is not None)
    n_ops = len(ops)
    kept = []
    for i, b in enumerate(buffers):
        if not b["uses"] and b["def_op"] < 0:
            continue  # an input nothing reads
        first = b["def_op"] if b["def_op"] >= 0 else b["uses"][0]
        last = n_ops if i in outputs else max(b["uses"], default=first) + 1
        b.update(start=first, end=last)
        kept.append(b)
    return {
        "format": FORMAT_VERSION,
        "name": name,
        "model": type(cfg).__name__,
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in vars(cfg).items()},
        "torch": torch.__version__.split("+")[0],
        "ops": {k: [o[k] for o in ops] for k in ("name", "flops", "bytes_read", "bytes_written")},
        "buffers": {k: [b[k] for b in kept] for k in ("name", "size", "start", "end", "kind", "def_op", "uses")},
    }


def encode(data: dict[str, Any]) -> bytes:
    """Deterministic gzip of compact JSON (no timestamp, no file name), so regeneration is byte-exact."""
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return gzip.compress(raw, compresslevel=9, mtime=0)


def write(names: list[str] | None = None, folder: Path = WORKLOAD_DIR) -> list[Path]:
    """Extracts and writes the named workloads (all by default); returns the files written."""
    paths = []
    for name in names or list(WORKLOADS):
        path = folder / f"{name}.json.gz"
        path.write_bytes(encode(extract(name, WORKLOADS[name])))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"workloads to regenerate (default: all of {list(WORKLOADS)})")
    for path in write(parser.parse_args().names or None):
        print(path)


if __name__ == "__main__":
    main()
