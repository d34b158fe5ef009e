"""Image networks in pure PyTorch (no compiled extension, unlike the authors' NCSN++ code).

* :class:`NCSNppMap` -- the map T(x, z): an NCSN++-style U-Net (residual blocks, self-attention at
  16x16, skip rescaling by 1/sqrt 2) whose every normalisation is an *adaptive* group norm
  driven by an embedding of the noise z, as DDGAN's generator. Presets "large" (PAPER §6) and
  "small".
* :class:`SmallMap` + :class:`DCGANPotential` -- the small DCGAN/ResNet pair.
* :class:`EncoderDecoderMap` -- a map that works at a quarter of the resolution inside: the
  CPU-scale MNIST map.
* :class:`DDGANPotential` -- the authors' (DDGAN's) small discriminator, minibatch-stddev channel
  included, as a potential v(y) -> [n].

All maps take (x, z) with x of the data's shape and z of shape [n, nz], and end in tanh (data in
[-1, 1]); potentials return one value per sample.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SQRT_HALF = 1.0 / math.sqrt(2.0)


def _groups(ch: int) -> int:
    """Group count of a group norm over ``ch`` channels: at most 32 and a divisor of ``ch``."""
    return math.gcd(32, ch)


class ZEmbedding(nn.Module):
    """z -> style vector: pixel-normalised z through a 2-layer MLP (DDGAN's mapping network)."""

    def __init__(self, nz: int, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(nz, dim), nn.SiLU(), nn.Linear(dim, dim), nn.SiLU())

    def forward(self, z: Tensor) -> Tensor:
        z = z * torch.rsqrt(z.pow(2).mean(1, keepdim=True) + 1e-8)
        return self.net(z)


class AdaGN(nn.Module):
    """GroupNorm whose scale and shift are predicted from the style vector: GN(h)(1+g) + b."""

    def __init__(self, ch: int, style_dim: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(_groups(ch), ch, affine=False)
        self.style = nn.Linear(style_dim, 2 * ch)
        nn.init.zeros_(self.style.weight)
        nn.init.zeros_(self.style.bias)

    def forward(self, h: Tensor, s: Tensor) -> Tensor:
        gamma, beta = self.style(s)[:, :, None, None].chunk(2, dim=1)
        return self.norm(h) * (1 + gamma) + beta


class ResBlock(nn.Module):
    """AdaGN-SiLU-conv twice, optional up/down-sampling, rescaled skip (NCSN++)."""

    def __init__(self, cin: int, cout: int, style_dim: int, resample: Optional[str] = None,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.n1, self.n2 = AdaGN(cin, style_dim), AdaGN(cout, style_dim)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.drop = nn.Dropout(dropout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.resample = resample

    def _resample(self, h: Tensor) -> Tensor:
        if self.resample == "down":
            return F.avg_pool2d(h, 2)
        if self.resample == "up":
            return F.interpolate(h, scale_factor=2.0, mode="nearest")
        return h

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        h = self._resample(F.silu(self.n1(x, s)))
        h = self.c1(h)
        h = self.c2(self.drop(F.silu(self.n2(h, s))))
        return (self.skip(self._resample(x)) + h) * SQRT_HALF


class Attention(nn.Module):
    """Single-head self-attention over pixels with a rescaled residual."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(_groups(ch), ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, x: Tensor, s: Optional[Tensor] = None) -> Tensor:
        b, c, hh, ww = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, hh * ww).unbind(1)
        attn = torch.softmax(torch.einsum("bci,bcj->bij", q, k) / math.sqrt(c), dim=-1)
        out = torch.einsum("bij,bcj->bci", attn, v).reshape(b, c, hh, ww)
        return (x + self.proj(out)) * SQRT_HALF


class NCSNppMap(nn.Module):
    """NCSN++-style U-Net map T(x, z) with z injected by adaptive group norm."""

    def __init__(self, channels: int = 3, resolution: int = 32, ch: int = 128,
                 ch_mult: Sequence[int] = (1, 2, 2, 2), num_res_blocks: int = 2,
                 attn_resolutions: Sequence[int] = (16,), nz: int = 100, style_dim: int = 256,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if nz < 1:
            raise ValueError("NCSNppMap injects z through adaptive group norm: nz must be >= 1")
        if resolution % 2 ** (len(ch_mult) - 1):
            raise ValueError(f"resolution {resolution} is not divisible by "
                             f"2^{len(ch_mult) - 1} (len(ch_mult) - 1 down-samplings)")
        self.nz = nz
        self.embed = ZEmbedding(nz, style_dim)
        self.conv_in = nn.Conv2d(channels, ch, 3, padding=1)
        self.down = nn.ModuleList()
        skips, cur, res = [ch], ch, resolution
        for level, mult in enumerate(ch_mult):
            for _ in range(num_res_blocks):
                self.down.append(ResBlock(cur, ch * mult, style_dim, dropout=dropout))
                cur = ch * mult
                if res in attn_resolutions:
                    self.down.append(Attention(cur))
                skips.append(cur)
            if level != len(ch_mult) - 1:
                self.down.append(ResBlock(cur, cur, style_dim, "down", dropout))
                res //= 2
                skips.append(cur)
        self.mid = nn.ModuleList([ResBlock(cur, cur, style_dim, dropout=dropout), Attention(cur),
                                  ResBlock(cur, cur, style_dim, dropout=dropout)])
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(ch_mult))):
            for _ in range(num_res_blocks + 1):
                self.up.append(ResBlock(cur + skips.pop(), ch * mult, style_dim,
                                        dropout=dropout))
                cur = ch * mult
                if res in attn_resolutions:
                    self.up.append(Attention(cur))
            if level != 0:
                self.up.append(ResBlock(cur, cur, style_dim, "up", dropout))
                res *= 2
        self.norm_out = AdaGN(cur, style_dim)
        self.conv_out = nn.Conv2d(cur, channels, 3, padding=1)

    def forward(self, x: Tensor, z: Optional[Tensor] = None) -> Tensor:
        if z is None:
            raise ValueError("NCSNppMap needs the auxiliary noise z (set SJKOConfig.nz >= 1)")
        s = self.embed(z)
        h = self.conv_in(x)
        hs = [h]
        for m in self.down:
            h = m(h, s)
            if not isinstance(m, Attention):
                hs.append(h)
        for m in self.mid:
            h = m(h, s)
        for m in self.up:
            if isinstance(m, ResBlock) and m.resample is None:
                h = m(torch.cat([h, hs.pop()], dim=1), s)
            else:
                h = m(h, s)
        return torch.tanh(self.conv_out(F.silu(self.norm_out(h, s))))


class SmallMap(nn.Module):
    """The small map of the DCGAN/ResNet pair: a full-resolution residual conv net with AdaGN."""

    def __init__(self, channels: int = 3, ch: int = 48, blocks: int = 3, nz: int = 100,
                 style_dim: int = 64) -> None:
        super().__init__()
        self.nz = nz
        self.embed = ZEmbedding(nz, style_dim)
        self.conv_in = nn.Conv2d(channels, ch, 3, padding=1)
        self.blocks = nn.ModuleList([ResBlock(ch, ch, style_dim) for _ in range(blocks)])
        self.norm_out = AdaGN(ch, style_dim)
        self.conv_out = nn.Conv2d(ch, channels, 3, padding=1)

    def forward(self, x: Tensor, z: Optional[Tensor] = None) -> Tensor:
        if z is None:
            raise ValueError("SmallMap needs the auxiliary noise z (set SJKOConfig.nz >= 1)")
        s = self.embed(z)
        h = self.conv_in(x)
        for b in self.blocks:
            h = b(h, s)
        return torch.tanh(self.conv_out(F.silu(self.norm_out(h, s))))


class EncoderDecoderMap(nn.Module):
    """T(x, z) that works at a quarter of the resolution inside (a CPU-scale map).

    Two strided convolutions encode x to ``2 ch`` maps at r/4 and a ``code``-vector; z joins the
    code; two transposed convolutions (DCGAN's generator) decode to ``ch / 2`` maps at r, which
    a last convolution reads together with x itself (so T can stay near the identity), then tanh.
    """

    def __init__(self, channels: int = 1, resolution: int = 28, ch: int = 64, code: int = 128,
                 nz: int = 32) -> None:
        super().__init__()
        if resolution % 4:
            raise ValueError(f"EncoderDecoderMap needs a resolution divisible by 4, "
                             f"got {resolution}")
        self.nz, r = nz, resolution // 4
        self.encode = nn.Sequential(
            nn.Conv2d(channels, ch, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(ch, 2 * ch, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(),
            nn.Linear(2 * ch * r * r, code), nn.LeakyReLU(0.2))
        self.join = nn.Sequential(nn.Linear(code + nz, 2 * ch * r * r), nn.ReLU(),
                                  nn.Unflatten(1, (2 * ch, r, r)))
        self.decode = nn.Sequential(
            nn.ConvTranspose2d(2 * ch, ch, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1), nn.ReLU())
        self.out = nn.Conv2d(ch // 2 + channels, channels, 3, padding=1)

    def forward(self, x: Tensor, z: Optional[Tensor] = None) -> Tensor:
        if z is None and self.nz:
            raise ValueError("EncoderDecoderMap needs the auxiliary noise z (SJKOConfig.nz >= 1)")
        code = self.encode(x)
        if self.nz:
            code = torch.cat([code, z], dim=1)
        h = self.decode(self.join(code))
        return torch.tanh(self.out(torch.cat([h, x], dim=1)))


class MinibatchStd(nn.Module):
    """Append one channel: the feature standard deviation across groups of ``group`` samples
    (StyleGAN / DDGAN discriminators, as the authors' potentials). v(y) of one sample then
    depends on the other samples of its group -- what lets a potential see a collapsed batch."""

    def __init__(self, group: int = 4) -> None:
        super().__init__()
        self.group = group

    def forward(self, h: Tensor) -> Tensor:
        n, c, hh, ww = h.shape
        group = math.gcd(n, self.group)  # the authors' code needs n divisible by the group
        std = torch.sqrt(h.view(group, -1, c, hh, ww).var(0, unbiased=False) + 1e-8)
        std = std.mean([1, 2, 3]).view(-1, 1, 1, 1).repeat(group, 1, hh, ww)
        return torch.cat([h, std], 1)


class DCGANPotential(nn.Module):
    """The small potential: strided convolutions with LeakyReLU, then (``batch_stddev`` > 0) a
    minibatch-stddev channel and a 3x3 convolution, then a linear read-out."""

    def __init__(self, channels: int = 3, resolution: int = 32, ch: int = 64,
                 batch_stddev: int = 0) -> None:
        super().__init__()
        layers, cur, res = [], channels, resolution
        for mult in (1, 2, 4):
            layers += [nn.Conv2d(cur, ch * mult, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            cur, res = ch * mult, res // 2
        if batch_stddev:
            layers += [MinibatchStd(batch_stddev), nn.Conv2d(cur + 1, cur, 3, padding=1),
                       nn.LeakyReLU(0.2)]
        self.features = nn.Sequential(*layers)
        self.out = nn.Linear(cur * res * res, 1)

    def forward(self, y: Tensor) -> Tensor:
        return self.out(self.features(y).flatten(1)).squeeze(-1)


class DownBlock(nn.Module):
    """The authors' (DDGAN's) discriminator block: LReLU-conv-LReLU, optional 2x down-sampling,
    conv, plus a 1x1 skip of the (down-sampled) input, rescaled by 1/sqrt 2. Down-sampling is
    2x2 average pooling here (theirs: an FIR (1, 3, 3, 1) filter)."""

    def __init__(self, cin: int, cout: int, downsample: bool = True) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1, bias=False)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        h = F.leaky_relu(self.c1(F.leaky_relu(x, 0.2)), 0.2)
        if self.downsample:
            h, x = F.avg_pool2d(h, 2), F.avg_pool2d(x, 2)
        return (self.c2(h) + self.skip(x)) * SQRT_HALF


class DDGANPotential(nn.Module):
    """The authors' small discriminator (DDGAN's ``Discriminator_small``) as a potential: a 1x1
    convolution to ``ch * ch_mult[0]`` channels, :class:`DownBlock` s (the first at full
    resolution), a minibatch-stddev channel, a 3x3 convolution, sum pooling, a linear read-out."""

    def __init__(self, channels: int = 3, ch: int = 64, ch_mult: Sequence[int] = (2, 2, 4, 8, 8),
                 batch_stddev: int = 4) -> None:
        super().__init__()
        cur = ch * ch_mult[0]
        self.conv_in = nn.Conv2d(channels, cur, 1)
        blocks = []
        for i, mult in enumerate(ch_mult[1:]):
            blocks.append(DownBlock(cur, ch * mult, downsample=i > 0))
            cur = ch * mult
        self.blocks = nn.Sequential(*blocks)
        self.std = MinibatchStd(batch_stddev) if batch_stddev else nn.Identity()
        self.final = nn.Conv2d(cur + (1 if batch_stddev else 0), cur, 3, padding=1)
        self.out = nn.Linear(cur, 1)

    def forward(self, y: Tensor) -> Tensor:
        h = F.leaky_relu(self.final(self.std(self.blocks(self.conv_in(y)))), 0.2)
        return self.out(h.sum(dim=(2, 3))).squeeze(-1)


PRESETS = {
    "large": dict(map=lambda c, r, nz: NCSNppMap(c, r, 128, (1, 2, 2, 2), 2, (16,), nz),
                  potential=lambda c, r: DDGANPotential(c, 64, (2, 2, 4, 8, 8))),
    "small": dict(map=lambda c, r, nz: SmallMap(c, 48, 3, nz),
                  potential=lambda c, r: DCGANPotential(c, r, 32)),
    "tiny": dict(map=lambda c, r, nz: SmallMap(c, 16, 2, nz, 32),
                 potential=lambda c, r: DCGANPotential(c, r, 16)),
    "encdec": dict(map=lambda c, r, nz: EncoderDecoderMap(c, r, 32, 128, nz),
                   potential=lambda c, r: DCGANPotential(c, r, 32, batch_stddev=4)),
    "ncspp-small": dict(map=lambda c, r, nz: NCSNppMap(c, r, 32, (1, 2, 2), 1, (), nz, 128),
                        potential=lambda c, r: DDGANPotential(c, 32, (2, 2, 4, 4))),
}


def build(preset: str, channels: int, resolution: int, nz: int) -> tuple[nn.Module, nn.Module]:
    """(map, potential) of a preset: "large" (PAPER §6: NCSN++ map, DDGAN potential), "small"
    (the DCGAN/ResNet pair), "tiny" (a 4x narrower pair), "encdec" (the CPU-scale pair: an
    :class:`EncoderDecoderMap` working at a quarter resolution and a small DCGAN potential) or
    "ncspp-small" (a narrow NCSN++)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown image preset {preset!r}; available: {sorted(PRESETS)}")
    p = PRESETS[preset]
    return p["map"](channels, resolution, nz), p["potential"](channels, resolution)
