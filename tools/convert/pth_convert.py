#!/usr/bin/env python3
"""Convert the paper's PyTorch checkpoints to flowprune safetensors and back.

    pth_convert.py to-safetensors IN.pth OUT.safetensors --arch vgg13 --num-classes 100
    pth_convert.py to-pth IN.safetensors OUT.pth [--no-data-parallel]

The original code saves {'net': state_dict} (base models) or {'net': state_dict, 'cfg': cfg}
(pruned models), with every key prefixed by 'module.' (DataParallel). flowprune keys tensors by the
plain PyTorch names and keeps arch, num_classes and the channel config in the safetensors metadata.
Only torch is needed (the safetensors layout is written directly: 8-byte little-endian header
length, JSON header, raw little-endian data).
"""
import argparse
import json
import struct
import sys

import torch

ARCHS = ["vgg13", "mobilenet_v1", "resnet56", "resnet18", "resnet34"]
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}
TORCH_DTYPES = {v: k for k, v in DTYPES.items()}


def cfg_to_json(cfg):
    """MobileNet configs hold (width, 2) tuples; JSON has lists."""
    if isinstance(cfg, dict):
        return {k: cfg_to_json(v) for k, v in cfg.items()}
    if isinstance(cfg, (list, tuple)):
        return [cfg_to_json(v) for v in cfg]
    if hasattr(cfg, "item"):  # numpy / torch scalars
        return cfg.item()
    return cfg


def cfg_from_json(cfg, arch):
    if arch == "mobilenet_v1" and isinstance(cfg, list):
        return [tuple(v) if isinstance(v, list) else v for v in cfg]
    return cfg


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in DTYPES:
            sys.exit(f"{name}: unsupported dtype {t.dtype}")
        data = t.numpy().tobytes() if t.dim() > 0 else t.reshape(1).numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=TORCH_DTYPES[e["dtype"]])
        tensors[name] = t.reshape(e["shape"]).clone()
    return tensors, meta


def to_safetensors(args):
    ckpt = torch.load(args.input, map_location="cpu")
    state = ckpt.get("net", ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(state, dict):
        sys.exit(f"{args.input}: expected a state_dict or {{'net': state_dict}}, got {type(state).__name__}")
    state = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}
    meta = {"format": "pt", "arch": args.arch, "num_classes": str(args.num_classes)}
    if isinstance(ckpt, dict) and "cfg" in ckpt:
        meta["config"] = json.dumps(cfg_to_json(ckpt["cfg"]))
    write_safetensors(args.output, state, meta)
    print(f"wrote {args.output}: {len(state)} tensors, arch {args.arch}, {args.num_classes} classes"
          + (", pruned config" if "config" in meta else ""))


def to_pth(args):
    tensors, meta = read_safetensors(args.input)
    prefix = "" if args.no_data_parallel else "module."
    out = {"net": {prefix + k: v for k, v in tensors.items()}}
    if "config" in meta:
        out["cfg"] = cfg_from_json(json.loads(meta["config"]), meta.get("arch"))
    torch.save(out, args.output)
    print(f"wrote {args.output}: {len(tensors)} tensors" + (" + cfg" if "cfg" in out else ""))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("to-safetensors", help=".pth (the paper's checkpoints) -> flowprune safetensors")
    a.add_argument("input")
    a.add_argument("output")
    a.add_argument("--arch", required=True, choices=ARCHS)
    a.add_argument("--num-classes", required=True, type=int)
    a.set_defaults(run=to_safetensors)
    b = sub.add_parser("to-pth", help="flowprune safetensors -> .pth loadable by the paper's code")
    b.add_argument("input")
    b.add_argument("output")
    b.add_argument("--no-data-parallel", action="store_true", help="do not prefix keys with 'module.'")
    b.set_defaults(run=to_pth)
    args = p.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
