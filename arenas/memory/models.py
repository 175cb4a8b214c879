"""The model families whose compiled graphs become workloads, in plain torch.

Weights are random (only shapes matter to memory mapping), so nothing is downloaded. Each
builder takes a small config dataclass and returns ``(module, example_inputs)``; the configs
that define the stored workloads live in :data:`arenas.memory.extract.WORKLOADS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class TransformerConfig:
    layers: int = 2
    """Number of blocks."""
    d_model: int = 128
    heads: int = 4
    seq: int = 128
    """Tokens per sequence."""
    batch: int = 1
    vocab: int = 1024
    causal: bool = True
    """True: GPT-style pre-LN decoder; False: BERT-style post-LN encoder."""


class Attention(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.heads, self.causal = cfg.heads, cfg.causal
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        if cfg.causal:
            self.register_buffer("mask", torch.ones(cfg.seq, cfg.seq).tril().bool(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.heads)
        if self.causal:
            scores = scores.masked_fill(~self.mask[:t, :t], float("-inf"))
        out = scores.softmax(-1) @ v
        return self.proj(out.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.pre_ln = cfg.causal
        self.ln1, self.ln2 = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.attn = Attention(cfg)
        self.mlp = nn.Sequential(nn.Linear(cfg.d_model, 4 * cfg.d_model), nn.GELU(),
                                 nn.Linear(4 * cfg.d_model, cfg.d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre_ln:
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))
        x = self.ln1(x + self.attn(x))
        return self.ln2(x + self.mlp(x))


class Transformer(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.tok = nn.Embedding(cfg.vocab, cfg.d_model)
        self.pos = nn.Parameter(torch.randn(cfg.seq, cfg.d_model) * 0.02)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.ln = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.tok(ids) + self.pos[: ids.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))


@dataclass(frozen=True)
class ResNetConfig:
    blocks: tuple[int, ...] = (2, 2, 2, 2)
    """Basic blocks per stage (ResNet-18: 2,2,2,2; ResNet-34: 3,4,6,3)."""
    width: int = 64
    """Channels of the first stage; doubled at each later stage."""
    image: int = 128
    batch: int = 1
    classes: int = 1000


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class ResNet(nn.Module):
    def __init__(self, cfg: ResNetConfig):
        super().__init__()
        w = cfg.width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 7, 2, 3, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        layers: list[nn.Module] = []
        cin = w
        for stage, n in enumerate(cfg.blocks):
            cout = w * 2**stage
            for i in range(n):
                layers.append(BasicBlock(cin, cout, 2 if (i == 0 and stage > 0) else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, cfg.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.layers(self.stem(x)).mean((2, 3)))


@dataclass(frozen=True)
class UNetConfig:
    depth: int = 3
    """Down/up-sampling levels."""
    width: int = 32
    image: int = 128
    batch: int = 1


def _double_conv(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1), nn.ReLU(), nn.Conv2d(cout, cout, 3, 1, 1), nn.ReLU())


class UNet(nn.Module):
    def __init__(self, cfg: UNetConfig):
        super().__init__()
        chans = [cfg.width * 2**i for i in range(cfg.depth + 1)]
        self.inc = _double_conv(3, chans[0])
        self.down = nn.ModuleList(_double_conv(chans[i], chans[i + 1]) for i in range(cfg.depth))
        self.up = nn.ModuleList(nn.ConvTranspose2d(chans[i + 1], chans[i], 2, 2) for i in range(cfg.depth))
        self.dec = nn.ModuleList(_double_conv(2 * chans[i], chans[i]) for i in range(cfg.depth))
        self.out = nn.Conv2d(chans[0], 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for down in self.down:
            skips.append(down(nn.functional.max_pool2d(skips[-1], 2)))
        x = skips.pop()
        for i in reversed(range(len(self.up))):
            x = self.dec[i](torch.cat([skips.pop(), self.up[i](x)], dim=1))
        return self.out(x)


@dataclass(frozen=True)
class MixerConfig:
    layers: int = 4
    patch: int = 16
    image: int = 128
    hidden: int = 256
    token_mlp: int = 128
    channel_mlp: int = 1024
    batch: int = 1
    classes: int = 1000


class MixerBlock(nn.Module):
    def __init__(self, cfg: MixerConfig, tokens: int):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.hidden), nn.LayerNorm(cfg.hidden)
        self.token = nn.Sequential(nn.Linear(tokens, cfg.token_mlp), nn.GELU(), nn.Linear(cfg.token_mlp, tokens))
        self.channel = nn.Sequential(nn.Linear(cfg.hidden, cfg.channel_mlp), nn.GELU(),
                                     nn.Linear(cfg.channel_mlp, cfg.hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.token(self.ln1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.channel(self.ln2(x))


class Mixer(nn.Module):
    def __init__(self, cfg: MixerConfig):
        super().__init__()
        tokens = (cfg.image // cfg.patch) ** 2
        self.stem = nn.Conv2d(3, cfg.hidden, cfg.patch, cfg.patch)
        self.blocks = nn.Sequential(*(MixerBlock(cfg, tokens) for _ in range(cfg.layers)))
        self.ln = nn.LayerNorm(cfg.hidden)
        self.head = nn.Linear(cfg.hidden, cfg.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x).flatten(2).transpose(1, 2)
        return self.head(self.ln(self.blocks(x)).mean(1))


@dataclass(frozen=True)
class MLPConfig:
    widths: tuple[int, ...] = (784, 1024, 1024, 10)
    batch: int = 64


class MLP(nn.Module):
    def __init__(self, cfg: MLPConfig):
        super().__init__()
        w = cfg.widths
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(w[:-1], w[1:], strict=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


ModelConfig = TransformerConfig | ResNetConfig | UNetConfig | MixerConfig | MLPConfig


def build(cfg: ModelConfig) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The module (random weights, eval mode) and example inputs for ``cfg``."""
    if isinstance(cfg, TransformerConfig):
        return Transformer(cfg).eval(), (torch.zeros(cfg.batch, cfg.seq, dtype=torch.long),)
    if isinstance(cfg, ResNetConfig):
        return ResNet(cfg).eval(), (torch.zeros(cfg.batch, 3, cfg.image, cfg.image),)
    if isinstance(cfg, UNetConfig):
        return UNet(cfg).eval(), (torch.zeros(cfg.batch, 3, cfg.image, cfg.image),)
    if isinstance(cfg, MixerConfig):
        return Mixer(cfg).eval(), (torch.zeros(cfg.batch, 3, cfg.image, cfg.image),)
    if isinstance(cfg, MLPConfig):
        return MLP(cfg).eval(), (torch.zeros(cfg.batch, cfg.widths[0]),)
    raise TypeError(f"unknown model config {cfg!r}")
