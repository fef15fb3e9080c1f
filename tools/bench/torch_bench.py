#!/usr/bin/env python3
"""PyTorch CPU reference throughput for `npm run bench` (kept out of the test suite).

    torch_bench.py --archs vgg13,resnet56,mobilenet_v1 --batch-size 128 --steps 5 --threads 2

Prints one JSON object per line: {"arch", "mode" ("train" | "eval"), "img_s", "steps", "threads"}.
Training is what flowprune's trainEpoch does per batch: uint8 NHWC pixels -> normalised float
input, forward in train mode, cross-entropy of logits / 5, backward, SGD (momentum 0.9, weight
decay 1e-4). Eval is a no-grad forward in eval mode plus the loss. One warm-up step per mode.
"""
import argparse
import json
import time

import torch

from torch_models import build, loss_fn


def synthetic_batch(step: int, bs: int):
    """The pixels and labels src/synthetic-batches.ts generates (pixel j of batch i: (31 j + 7 i) mod 256)."""
    j = torch.arange(bs * 32 * 32 * 3, dtype=torch.int64)
    pixels = ((j * 31 + step * 7) % 256).to(torch.uint8).view(bs, 32, 32, 3)
    labels = torch.arange(bs, dtype=torch.int64) % 10
    return pixels, labels


def to_input(pixels: torch.Tensor) -> torch.Tensor:
    return ((pixels.float() / 255 - 0.5) / 0.5).permute(0, 3, 1, 2).contiguous()


def time_train(model, batches) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    model.train()

    def step(pixels, labels):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(to_input(pixels)), labels)
        loss.backward()
        opt.step()
        return loss.item()

    step(*batches[0])
    t0 = time.perf_counter()
    for b in batches[1:]:
        step(*b)
    return time.perf_counter() - t0


def time_eval(model, batches) -> float:
    model.eval()

    def step(pixels, labels):
        with torch.no_grad():
            return loss_fn(model(to_input(pixels)), labels).item()

    step(*batches[0])
    t0 = time.perf_counter()
    for b in batches[1:]:
        step(*b)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archs", default="vgg13,resnet56,mobilenet_v1")
    ap.add_argument("--modes", default="train,eval")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5, help="timed steps per architecture and mode")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    batches = [synthetic_batch(i, args.batch_size) for i in range(args.steps + 1)]
    for arch in args.archs.split(","):
        model = build(arch)
        for mode in args.modes.split(","):
            seconds = (time_train if mode == "train" else time_eval)(model, batches)
            img_s = args.steps * args.batch_size / seconds
            record = {"arch": arch, "mode": mode, "img_s": round(img_s, 2), "steps": args.steps, "threads": args.threads}
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
