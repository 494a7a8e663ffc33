#!/usr/bin/env python3
"""PyTorch eager baseline of PeakNet for bench/model_forward (issue 9).

The same architecture as the C++ port in daemons/model (upstream PeakNet: ConvNeXtV2 backbone, BiFPN,
FPN segmentation head; shared reference peaknet-model.md), written from torch.nn modules with random
weights, op for op as the port runs it: channels-first LayerNorms as permute + layer_norm, GRN as in HF
ConvNextV2, BiFPN fusion with masked-ReLU weights, bilinear resampling in fp32, head sum L3+L2+L1+L0.
Runs under autocast (bf16 by default), optionally channels_last and torch.compile, and prints frames/s.
Accepts bench_model_forward's flags (C++-only ones are ignored) so one command line serves both.
"""
import argparse
import contextlib
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    # hidden sizes, depths, BiFPN blocks, BiFPN features, head channels
    "33m": dict(hidden=(96, 192, 384, 768), depths=(3, 3, 9, 3), blocks=2, features=256, head=256),
    "tiny": dict(hidden=(24, 48, 96, 192), depths=(1, 1, 2, 1), blocks=2, features=64, head=64),
}
PARAMS_33M = 33_164_768  # upstream sum(p.numel()) (shared reference peaknet-model.md §2.1)


# Norms run in fp32 as CUDA autocast runs them; the explicit casts (as in the C++ port) keep that true
# under any autocast policy (torch 1.13's CPU autocast leaves layer_norm alone).
class LayerNormFp32(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.float())


class LayerNormChannelsFirst(LayerNormFp32):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class GroupNormFp32(nn.GroupNorm):
    def forward(self, x):
        return super().forward(x.float())


def resample(x, scale):
    return F.interpolate(x.float(), scale_factor=scale, mode="bilinear", align_corners=False).to(x.dtype)


class GRN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, 1, 1, c))
        self.bias = nn.Parameter(torch.zeros(1, 1, 1, c))

    def forward(self, x):
        g = torch.linalg.vector_norm(x.float(), ord=2, dim=(1, 2), keepdim=True)
        n = g / (g.mean(dim=-1, keepdim=True) + 1e-6)
        return self.weight * (x * n) + self.bias + x


class ConvNextV2Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dwconv = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.layernorm = LayerNormFp32(c, eps=1e-6)
        self.pwconv1 = nn.Linear(c, 4 * c)
        self.grn = GRN(4 * c)
        self.pwconv2 = nn.Linear(4 * c, c)

    def forward(self, residual):
        x = self.dwconv(residual).permute(0, 2, 3, 1)
        x = self.grn(F.gelu(self.pwconv1(self.layernorm(x))))
        return residual + self.pwconv2(x).permute(0, 3, 1, 2)


class Backbone(nn.Module):
    def __init__(self, hidden, depths):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, hidden[0], 4, stride=4), LayerNormChannelsFirst(hidden[0], eps=1e-6))
        self.stages = nn.ModuleList()
        for s, (c, depth) in enumerate(zip(hidden, depths)):
            down = (nn.Sequential(LayerNormChannelsFirst(hidden[s - 1], eps=1e-6),
                                  nn.Conv2d(hidden[s - 1], c, 2, stride=2)) if s > 0 else nn.Identity())
            self.stages.append(nn.Sequential(down, *[ConvNextV2Layer(c) for _ in range(depth)]))
        self.norms = nn.ModuleList(LayerNormChannelsFirst(c, eps=1e-6) for c in hidden)

    def forward(self, x):
        h = self.stem(x)
        features = []
        for stage, norm in zip(self.stages, self.norms):
            h = stage(h)
            features.append(norm(h))
        return features


class FusionUnit(nn.Sequential):
    def __init__(self, f):
        super().__init__(nn.Conv2d(f, f, 1, groups=f, bias=False), nn.Conv2d(f, f, 1, bias=False),
                         LayerNormChannelsFirst(f, eps=1e-6), nn.GELU())


class BiFPNBlock(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.w_m = nn.Parameter(torch.ones(3, 2))
        w_q = torch.ones(3, 3)
        w_q[2, 0] = 0.0
        self.w_q = nn.Parameter(w_q)
        mask = torch.ones(3, 3, dtype=torch.bool)
        mask[2, 0] = False
        self.register_buffer("w_q_mask", mask)
        self.m = nn.ModuleList(FusionUnit(f) for _ in range(3))  # m4, m5, m6
        self.q = nn.ModuleList(FusionUnit(f) for _ in range(3))  # q5, q6, q7

    def forward(self, p):
        mm = [None] * 4
        upper = p[3]
        for idx in range(3):  # top-down: m6, m5, m4
            level = 2 - idx
            w = F.relu(self.w_m[idx])
            a, b = p[level], resample(upper, 2.0)
            mm[level] = self.m[level]((w[0] * a + w[1] * b) / (w[0] + w[1] + 1e-5)) + a
            upper = mm[level]
        out = [mm[0], None, None, None]
        for idx in range(3):  # bottom-up: q5, q6, q7 (no m7: p7 and a zero weight)
            level = idx + 1
            w = F.relu(self.w_q[idx] * self.w_q_mask[idx])
            p_low = p[level]
            m_low = mm[level] if level < 3 else p[3]
            h = resample(out[level - 1], 0.5)
            fused = (w[0] * p_low + w[1] * m_low + w[2] * h) / (w[0] + w[1] + w[2] + 1e-5)
            out[level] = self.q[idx](fused) + p_low
        return out


class LateralHead(nn.Module):
    def __init__(self, level, f, oc):
        super().__init__()
        self.upsample = level > 0
        self.units = nn.ModuleList(
            nn.Sequential(nn.Conv2d(f if k == 0 else oc, oc, 3, padding=1), GroupNormFp32(32, oc), nn.GELU())
            for k in range(max(level, 1)))

    def forward(self, x):
        for unit in self.units:
            x = unit(x)
            if self.upsample:
                x = resample(x, 2.0)
        return x


class PeakNet(nn.Module):
    def __init__(self, hidden, depths, blocks, features, head, num_classes=2):
        super().__init__()
        self.backbone = Backbone(hidden, depths)
        self.backbone_to_bifpn = nn.ModuleList(nn.Conv2d(c, features, 1) for c in hidden)
        self.bifpn = nn.ModuleList(BiFPNBlock(features) for _ in range(blocks))
        self.lateral = nn.ModuleList(LateralHead(i, features, head) for i in range(4))
        self.head_segmask = nn.Conv2d(head, num_classes, 1)

    def forward(self, x):
        p = [adapter(f) for adapter, f in zip(self.backbone_to_bifpn, self.backbone(x))]
        for block in self.bifpn:
            p = block(p)
        acc = self.lateral[3](p[3])
        for i in (2, 1, 0):
            acc = acc + self.lateral[i](p[i])
        return resample(self.head_segmask(acc), 4.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    ap.add_argument("--config", default="33m", choices=sorted(CONFIGS))
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--height", type=int, default=1920)
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--precision", default="bf16", choices=["fp32", "bf16", "fp16"])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--compile", action="store_true", help="torch.compile (default mode) instead of eager")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    args, ignored = ap.parse_known_args()
    if ignored:
        print(f"peaknet_eager_baseline: ignoring C++-only options {' '.join(ignored)}", file=sys.stderr)

    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda and not torch.cuda.is_available():
        sys.exit("peaknet_eager_baseline: no CUDA device available")
    torch.backends.cudnn.benchmark = True  # as the upstream anchors
    torch.manual_seed(0)
    model = PeakNet(**CONFIGS[args.config]).eval().to(device)
    n_params = sum(p.numel() for p in model.parameters())
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = torch.randn(args.batch, 1, args.height, args.width, device=device).contiguous(memory_format=fmt)
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[args.precision]
    run = torch.compile(model) if args.compile else model

    def step():
        autocast = torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            run(x)

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    for _ in range(max(args.warmup, 1)):
        step()
    sync()
    seconds = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(args.iters):
            step()
        sync()
        seconds.append(time.perf_counter() - t0)
    median = statistics.median(seconds)
    mode = "torch.compile" if args.compile else "eager"
    print(f"peaknet_eager_baseline: {mode} torch={torch.__version__} config={args.config} params={n_params}"
          + (f" (upstream {PARAMS_33M}: {'match' if n_params == PARAMS_33M else 'MISMATCH'})" if args.config == "33m" else "")
          + f" input={args.batch}x1x{args.height}x{args.width} precision={args.precision} device={device}"
          f" channels_last={int(args.channels_last)}")
    print(f"  {1e3 * median / args.iters:.2f} ms/batch, frames/s={args.batch * args.iters / median:.2f}"
          f" (median of {args.repeats} x {args.iters} batches)")


if __name__ == "__main__":
    main()
