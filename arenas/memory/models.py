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


@dataclass(frozen=True)
class ViTConfig:
    layers: int = 4
    d_model: int = 192
    heads: int = 3
    patch: int = 16
    image: int = 128
    batch: int = 1
    classes: int = 1000


class ViT(nn.Module):
    """Patch embedding, a class token and BERT-style encoder blocks (pre-LN, as in ViT)."""

    def __init__(self, cfg: ViTConfig):
        super().__init__()
        tokens = (cfg.image // cfg.patch) ** 2 + 1
        block = TransformerConfig(layers=cfg.layers, d_model=cfg.d_model, heads=cfg.heads, seq=tokens, causal=False)
        self.stem = nn.Conv2d(3, cfg.d_model, cfg.patch, cfg.patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.d_model))
        self.pos = nn.Parameter(torch.zeros(1, tokens, cfg.d_model))
        self.blocks = nn.Sequential(*(Block(block) for _ in range(cfg.layers)))
        self.ln = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        return self.head(self.ln(self.blocks(x))[:, 0])


@dataclass(frozen=True)
class T5Config:
    layers: int = 2
    """Encoder blocks; the decoder has as many."""
    d_model: int = 256
    heads: int = 4
    d_ff: int = 1024
    src: int = 128
    """Encoder tokens."""
    tgt: int = 64
    """Decoder tokens."""
    batch: int = 1
    vocab: int = 4096


class CrossAttention(nn.Module):
    """Multi-head attention of queries ``x`` over ``memory`` (no biases, as in T5)."""

    def __init__(self, d: int, heads: int, causal: bool = False):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.q, self.kv = nn.Linear(d, d, bias=False), nn.Linear(d, 2 * d, bias=False)
        self.o = nn.Linear(d, d, bias=False)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.heads
        q = self.q(x).view(b, t, h, d // h).transpose(1, 2)
        k, v = self.kv(memory).view(b, memory.shape[1], 2, h, d // h).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-2, -1)
        if self.causal:
            mask = torch.ones(t, memory.shape[1], dtype=torch.bool, device=x.device).tril()
            scores = scores.masked_fill(~mask, float("-inf"))
        return self.o((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d))


class T5Block(nn.Module):
    def __init__(self, cfg: T5Config, decoder: bool):
        super().__init__()
        d = cfg.d_model
        self.norms = nn.ModuleList(nn.RMSNorm(d) for _ in range(3 if decoder else 2))
        self.self_attn = CrossAttention(d, cfg.heads, causal=decoder)
        self.cross = CrossAttention(d, cfg.heads) if decoder else None
        self.ff = nn.Sequential(nn.Linear(d, cfg.d_ff, bias=False), nn.ReLU(), nn.Linear(cfg.d_ff, d, bias=False))

    def forward(self, x: torch.Tensor, memory: torch.Tensor | None = None) -> torch.Tensor:
        y = self.norms[0](x)
        x = x + self.self_attn(y, y)
        if self.cross is not None:
            x = x + self.cross(self.norms[1](x), memory)
        return x + self.ff(self.norms[-1](x))


class T5(nn.Module):
    """Encoder-decoder with pre-RMSNorm blocks, shared embedding (relative position bias omitted)."""

    def __init__(self, cfg: T5Config):
        super().__init__()
        self.embed = nn.Embedding(cfg.vocab, cfg.d_model)
        self.encoder = nn.ModuleList(T5Block(cfg, decoder=False) for _ in range(cfg.layers))
        self.decoder = nn.ModuleList(T5Block(cfg, decoder=True) for _ in range(cfg.layers))
        self.enc_norm, self.dec_norm = nn.RMSNorm(cfg.d_model), nn.RMSNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab, bias=False)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        memory = self.embed(src)
        for block in self.encoder:
            memory = block(memory)
        memory = self.enc_norm(memory)
        x = self.embed(tgt)
        for block in self.decoder:
            x = block(x, memory)
        return self.head(self.dec_norm(x))


@dataclass(frozen=True)
class LSTMConfig:
    layers: int = 2
    hidden: int = 256
    seq: int = 16
    batch: int = 8
    vocab: int = 4096


class LSTM(nn.Module):
    """A stacked LSTM language model unrolled over time (one cell per step, as a compiler sees it)."""

    def __init__(self, cfg: LSTMConfig):
        super().__init__()
        h = cfg.hidden
        self.embed = nn.Embedding(cfg.vocab, h)
        self.cells = nn.ModuleList(nn.Linear(2 * h, 4 * h) for _ in range(cfg.layers))
        self.head = nn.Linear(h, cfg.vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids)
        b, t, h = x.shape
        for cell in self.cells:
            hx = cx = x.new_zeros(b, h)
            outs = []
            for step in range(t):
                i, f, g, o = cell(torch.cat([x[:, step], hx], dim=1)).chunk(4, dim=1)
                cx = torch.sigmoid(f) * cx + torch.sigmoid(i) * torch.tanh(g)
                hx = torch.sigmoid(o) * torch.tanh(cx)
                outs.append(hx)
            x = torch.stack(outs, dim=1)
        return self.head(x[:, -1])


@dataclass(frozen=True)
class MobileNetConfig:
    stages: tuple[tuple[int, int, int, int], ...] = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2),
                                                     (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
    """MobileNetV2's (expansion, channels, blocks, stride) per stage."""
    image: int = 160
    batch: int = 1
    classes: int = 1000


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6()]
        layers += [nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
                   nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.residual else self.body(x)


class MobileNet(nn.Module):
    """MobileNetV2: inverted residual blocks with depthwise convolutions."""

    def __init__(self, cfg: MobileNetConfig):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6()]
        cin = 32
        for expand, cout, n, stride in cfg.stages:
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand))
                cin = cout
        layers += [nn.Conv2d(cin, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(1280, cfg.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean((2, 3)))


@dataclass(frozen=True)
class DiffusionConfig:
    widths: tuple[int, ...] = (64, 128)
    """Channels per resolution level (one residual block each way, attention at the lowest)."""
    image: int = 32
    channels: int = 4
    """Latent channels."""
    time_dim: int = 256
    batch: int = 1


class TimeResBlock(nn.Module):
    """Diffusion residual block: GroupNorm, SiLU, conv, plus the projected time embedding."""

    def __init__(self, cin: int, cout: int, time_dim: int):
        super().__init__()
        self.norm1, self.norm2 = nn.GroupNorm(8, cin), nn.GroupNorm(8, cout)
        self.conv1, self.conv2 = nn.Conv2d(cin, cout, 3, 1, 1), nn.Conv2d(cout, cout, 3, 1, 1)
        self.time = nn.Linear(time_dim, cout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(nn.functional.silu(self.norm1(x))) + self.time(temb)[:, :, None, None]
        return self.skip(x) + self.conv2(nn.functional.silu(self.norm2(h)))


class SpatialAttention(nn.Module):
    def __init__(self, c: int, heads: int = 4):
        super().__init__()
        self.norm = nn.GroupNorm(8, c)
        self.attn = CrossAttention(c, heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, hh, ww = x.shape
        y = self.norm(x).flatten(2).transpose(1, 2)
        return x + self.attn(y, y).transpose(1, 2).reshape(b, c, hh, ww)


class DiffusionUNet(nn.Module):
    """A latent-diffusion UNet: time-conditioned residual blocks, attention at the lowest resolution."""

    def __init__(self, cfg: DiffusionConfig):
        super().__init__()
        w, td = cfg.widths, cfg.time_dim
        self.time_mlp = nn.Sequential(nn.Linear(td, td), nn.SiLU(), nn.Linear(td, td))
        self.inc = nn.Conv2d(cfg.channels, w[0], 3, 1, 1)
        self.down = nn.ModuleList(TimeResBlock(w[max(i - 1, 0)], w[i], td) for i in range(len(w)))
        self.mid = TimeResBlock(w[-1], w[-1], td)
        self.attn = SpatialAttention(w[-1])
        self.up = nn.ModuleList(TimeResBlock(2 * w[i], w[max(i - 1, 0)], td) for i in reversed(range(len(w))))
        self.out = nn.Conv2d(w[0], cfg.channels, 3, 1, 1)

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        temb = self.time_mlp(temb)
        x = self.inc(x)
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else nn.functional.avg_pool2d(x, 2), temb)
            skips.append(x)
        x = self.attn(self.mid(x, temb))
        for block in self.up:
            x = block(torch.cat([x, skips.pop()], dim=1), temb)
            if skips:
                x = nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
        return self.out(x)


@dataclass(frozen=True)
class MoEConfig:
    layers: int = 2
    d_model: int = 256
    heads: int = 4
    experts: int = 8
    d_ff: int = 512
    capacity_factor: float = 1.25
    seq: int = 128
    batch: int = 1
    vocab: int = 4096


class SwitchFFN(nn.Module):
    """Top-1 mixture of experts with a fixed expert capacity (Switch Transformer dispatch by
    one-hot einsums, so every shape is static)."""

    def __init__(self, cfg: MoEConfig):
        super().__init__()
        tokens = cfg.seq * cfg.batch
        self.capacity = max(1, int(cfg.capacity_factor * tokens / cfg.experts))
        self.router = nn.Linear(cfg.d_model, cfg.experts, bias=False)
        self.w_in = nn.Parameter(torch.randn(cfg.experts, cfg.d_model, cfg.d_ff) * 0.02)
        self.w_out = nn.Parameter(torch.randn(cfg.experts, cfg.d_ff, cfg.d_model) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        tokens = x.reshape(b * t, d)
        gates = self.router(tokens).softmax(-1)
        gate, expert = gates.max(-1)
        onehot = nn.functional.one_hot(expert, gates.shape[-1]).to(x.dtype)
        position = (onehot.cumsum(0) - 1) * onehot
        keep = onehot * (position < self.capacity).to(x.dtype)
        slot = nn.functional.one_hot(position.sum(-1).long().clamp(max=self.capacity - 1), self.capacity)
        dispatch = keep[:, :, None] * slot[:, None, :].to(x.dtype)
        routed = torch.einsum("tec,td->ecd", dispatch, tokens)
        hidden = nn.functional.gelu(torch.einsum("ecd,edf->ecf", routed, self.w_in))
        out = torch.einsum("ecf,efd->ecd", hidden, self.w_out)
        return torch.einsum("tec,ecd->td", dispatch * gate[:, None, None], out).reshape(b, t, d)


class MoEBlock(nn.Module):
    def __init__(self, cfg: MoEConfig):
        super().__init__()
        attn = TransformerConfig(d_model=cfg.d_model, heads=cfg.heads, seq=cfg.seq)
        self.ln1, self.ln2 = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.attn = Attention(attn)
        self.moe = SwitchFFN(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.moe(self.ln2(x))


class MoE(nn.Module):
    """A GPT-style decoder whose MLPs are top-1 mixtures of experts."""

    def __init__(self, cfg: MoEConfig):
        super().__init__()
        self.tok = nn.Embedding(cfg.vocab, cfg.d_model)
        self.blocks = nn.Sequential(*(MoEBlock(cfg) for _ in range(cfg.layers)))
        self.head = nn.Linear(cfg.d_model, cfg.vocab, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.tok(ids)))


ModelConfig = (TransformerConfig | ResNetConfig | UNetConfig | MixerConfig | MLPConfig | ViTConfig | T5Config
               | LSTMConfig | MobileNetConfig | DiffusionConfig | MoEConfig)

_IMAGE_MODELS = {ResNetConfig: ResNet, UNetConfig: UNet, MixerConfig: Mixer, ViTConfig: ViT,
                 MobileNetConfig: MobileNet}


def build(cfg: ModelConfig) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The module (random weights, eval mode) and example inputs for ``cfg``."""
    if isinstance(cfg, TransformerConfig):
        return Transformer(cfg).eval(), (torch.zeros(cfg.batch, cfg.seq, dtype=torch.long),)
    if type(cfg) in _IMAGE_MODELS:
        return _IMAGE_MODELS[type(cfg)](cfg).eval(), (torch.zeros(cfg.batch, 3, cfg.image, cfg.image),)
    if isinstance(cfg, T5Config):
        return T5(cfg).eval(), (torch.zeros(cfg.batch, cfg.src, dtype=torch.long),
                                torch.zeros(cfg.batch, cfg.tgt, dtype=torch.long))
    if isinstance(cfg, (LSTMConfig, MoEConfig)):
        model = LSTM(cfg) if isinstance(cfg, LSTMConfig) else MoE(cfg)
        return model.eval(), (torch.zeros(cfg.batch, cfg.seq, dtype=torch.long),)
    if isinstance(cfg, DiffusionConfig):
        return DiffusionUNet(cfg).eval(), (torch.zeros(cfg.batch, cfg.channels, cfg.image, cfg.image),
                                           torch.zeros(cfg.batch, cfg.time_dim))
    if isinstance(cfg, MLPConfig):
        return MLP(cfg).eval(), (torch.zeros(cfg.batch, cfg.widths[0]),)
    raise TypeError(f"unknown model config {cfg!r}")
