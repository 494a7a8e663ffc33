#!/usr/bin/env python3
"""Convert an upstream PeakNet checkpoint to safetensors with clean upstream key names.

The C++ loader already reads torch.save() zip state_dicts directly; use this for what it cannot read:
FSDP sharded (torch.distributed.checkpoint) directories, legacy (non-zip) torch.save files, or
checkpoints holding non-tensor objects. Needs python3 + torch (run it on the GPU machine).

    scripts/convert_checkpoint.py model_state_dict.pt peaknet.safetensors
"""
import argparse
import os
import struct
import json
import sys

WRAPPERS = ("_fsdp_wrapped_module.", "_checkpoint_wrapped_module.", "_orig_mod.", "module.")
DTYPES = {"torch.float32": "F32", "torch.float16": "F16", "torch.bfloat16": "BF16", "torch.float64": "F64",
          "torch.bool": "BOOL", "torch.int64": "I64", "torch.int32": "I32", "torch.uint8": "U8"}


def strip(key):
    parts = []
    for p in key.split("."):
        if p + "." in WRAPPERS:
            continue
        parts.append(p)
    key = ".".join(parts)
    return key[len("peaknet_model."):] if key.startswith("peaknet_model.") else key


def load(path):
    import torch
    if os.path.isdir(path):  # FSDP sharded checkpoint (DCP)
        from torch.distributed.checkpoint.format_utils import dcp_to_torch_save
        tmp = path.rstrip("/") + ".full.pt"
        dcp_to_torch_save(path, tmp)
        path = tmp
    obj = torch.load(path, map_location="cpu", weights_only=False)
    for wrapper in ("model", "state_dict", "model_state_dict"):
        if isinstance(obj, dict) and wrapper in obj and isinstance(obj[wrapper], dict):
            obj = obj[wrapper]
    return {strip(k): v for k, v in obj.items() if hasattr(v, "dtype")}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        data = t.view(-1).view(__import__("torch").uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": DTYPES[str(t.dtype)], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("output")
    args = ap.parse_args()
    tensors = load(args.checkpoint)
    if not tensors:
        sys.exit(f"{args.checkpoint}: no tensors found")
    write_safetensors(args.output, tensors)
    print(f"wrote {len(tensors)} tensors to {args.output}")


if __name__ == "__main__":
    main()
