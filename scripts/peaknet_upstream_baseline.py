#!/usr/bin/env python3
"""Same-run baseline from the UPSTREAM PeakNet code (issue 17): carbonscott/peaknet's
peaknet/modeling/convnextv2_bifpn_net.py (HF transformers ConvNextV2Backbone + peaknet BiFPN and seg head), built
as peaknet-pipeline-ray's config builds it, random weights (init_weights), bf16 autocast, model only (input already on
the GPU), cudnn.benchmark on; eager or torch.compile. The upstream sources are NOT in this repository: pass the folder
that holds the `peaknet` package (an ignored copy such as .upstream/, made on the developer machine).

Prints one line "upstream ...: ... frames/s=F ..." (the format run_vs_eager.sh and scripts/gpu-bench-673m.sh read),
plus the compile time (first call) and the peak GPU memory.
"""
import argparse
import os
import statistics
import sys
import time

CONFIGS = {
    # hidden sizes, depths, BiFPN blocks, BiFPN features, learned upsample, parameters (golden manifests)
    "33m": dict(hidden=[96, 192, 384, 768], depths=[3, 3, 9, 3], blocks=2, features=256, learned=False,
                params=33_164_768),
    "673m": dict(hidden=[352, 704, 1408, 2816], depths=[3, 3, 27, 3], blocks=4, features=512, learned=True,
                 params=673_012_480),
}


def build_upstream(name, image_size):
    from transformers.models.convnextv2.configuration_convnextv2 import ConvNextV2Config
    from peaknet.modeling.bifpn_config import BiFPNBlockConfig, BiFPNConfig
    from peaknet.modeling.convnextv2_bifpn_net import PeakNet, PeakNetConfig, SegHeadConfig

    c = CONFIGS[name]
    backbone = ConvNextV2Config(num_channels=1, patch_size=4, num_stages=4, hidden_sizes=c["hidden"],
                                depths=c["depths"], hidden_act="gelu", drop_path_rate=0.0, image_size=image_size,
                                out_features=["stage1", "stage2", "stage3", "stage4"])
    bifpn = BiFPNConfig(num_blocks=c["blocks"], block=BiFPNBlockConfig(num_features=c["features"], num_levels=4,
                                                                       base_level=4, up_scale_factor=2,
                                                                       down_scale_factor=0.5))
    head = SegHeadConfig(up_scale_factor=[4, 8, 16, 32], num_groups=32, out_channels=256, num_classes=2,
                         base_scale_factor=2, uses_learned_upsample=c["learned"])
    model = PeakNet(PeakNetConfig(backbone=backbone, bifpn=bifpn, seg_head=head))
    model.init_weights()
    return model, c["params"]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--upstream", default=os.path.join(os.path.dirname(__file__), "..", ".upstream"),
                   help="folder holding the upstream `peaknet` package")
    p.add_argument("--config", default="33m", choices=sorted(CONFIGS))
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--height", type=int, default=1920)
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--compile", default="none", choices=["none", "default", "reduce-overhead", "max-autotune"])
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    args, _ = p.parse_known_args()  # bench_model_forward's other flags are ignored

    sys.path.insert(0, os.path.abspath(args.upstream))
    import torch

    if not os.path.isdir(os.path.join(args.upstream, "peaknet", "modeling")):
        sys.exit(f"peaknet_upstream_baseline: no upstream sources under {args.upstream}/peaknet/modeling")
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda")
    t0 = time.perf_counter()
    with torch.device(device):  # parameters created and initialised on the GPU (673M: seconds, not a minute)
        model, expected = build_upstream(args.config, args.height)
    params = sum(t.numel() for t in model.parameters())
    if params != expected:
        sys.exit(f"peaknet_upstream_baseline: {args.config} has {params} parameters, the manifest says {expected}")
    model = model.to(device).eval()
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = torch.randn(args.batch, 1, args.height, args.width, device=device).contiguous(memory_format=fmt)
    build_s = time.perf_counter() - t0
    if args.compile != "none":
        model = torch.compile(model, mode=args.compile)

    def step():
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
            return model(x)

    t0 = time.perf_counter()
    step()
    torch.cuda.synchronize()
    first_s = time.perf_counter() - t0
    for _ in range(args.warmup):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(args.iters):
            step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    fps = args.batch * args.iters / median
    mode = "eager" if args.compile == "none" else f"torch.compile({args.compile})"
    print(f"upstream {mode}: config={args.config} params={params} input={args.batch}x1x{args.height}x{args.width} "
          f"bf16 autocast channels_last={int(args.channels_last)} device={torch.cuda.get_device_name()} "
          f"ms/batch={1e3 * median / args.iters:.2f} frames/s={fps:.2f} "
          f"build_s={build_s:.1f} first_call_s={first_s:.1f} peak_mem_GiB={torch.cuda.max_memory_allocated() / 2**30:.2f} "
          f"torch={torch.__version__}")


if __name__ == "__main__":
    main()
