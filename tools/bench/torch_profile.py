#!/usr/bin/env python3
"""Where PyTorch's CPU training step spends its time, for `npm run bench -- --suites profile`.

    torch_profile.py --arch resnet56 --batch-size 128 --steps 3 --threads 2

The step is torch_bench.py's (the same as flowprune's trainEpoch). After one warm-up step, the
wall time of `steps` steps unprofiled, then the same steps under torch.profiler: each operator's
self CPU time per step. Prints one JSON object: {"arch", "threads", "step_ms", "ops": [{"name",
"ms", "calls"}]}.
"""
import argparse
import json
import time

import torch
from torch.profiler import ProfilerActivity, profile

from torch_bench import synthetic_batch, to_input
from torch_models import build, loss_fn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args.arch)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    batches = [synthetic_batch(i, args.batch_size) for i in range(args.steps + 1)]

    def step(pixels, labels):
        opt.zero_grad(set_to_none=True)
        loss_fn(model(to_input(pixels)), labels).backward()
        opt.step()

    step(*batches[0])
    t0 = time.perf_counter()
    for b in batches[1:]:
        step(*b)
    step_ms = (time.perf_counter() - t0) / args.steps * 1000
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for b in batches[1:]:
            step(*b)
    ops = [
        {"name": e.key, "ms": e.self_cpu_time_total / 1000 / args.steps, "calls": e.count / args.steps}
        for e in prof.key_averages()
        if e.self_cpu_time_total > 0
    ]
    print(json.dumps({"arch": args.arch, "threads": args.threads, "step_ms": step_ms, "ops": ops}), flush=True)


if __name__ == "__main__":
    main()
