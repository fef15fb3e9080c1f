#!/usr/bin/env python3
"""PyTorch CPU reference timings of importance estimation for `npm run bench` (kept out of the tests).

    torch_importance.py --archs vgg13,resnet56,mobilenet_v1 --measures mag_based,loss_based,grasp \
        --imp-samples 2560 --threads 2

Prints one JSON object per line: {"arch", "measure", "seconds", "samples", "threads"}. The measures
follow docs/pruning-semantics.md §3, as the paper's code computes them, on the synthetic images of
torch_bench.py (pixel j of batch i: (31 j + 7 i) mod 256; labels j mod 10), eval-mode BatchNorm:
  mag_based   per filter ||W_i||_2
  loss_based  g = batch-size-weighted mean gradient over batches of 128 until imp_samples images
              (T = 5); per filter sum_j |W_ij g_ij|
  grasp       int(imp_samples / 10) images of each class, grasp_T = 200; g = mean class-group
              gradient (detached), Hg = mean over groups of grad <g, grad L_c> (double backward);
              per filter sum_j W_ij (Hg)_ij
The time covers one whole estimate (data to per-filter scores) on a fresh model, without a
warm-up run, as flowprune's side is timed: first-use costs (oneDNN primitive creation) included.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

from torch_bench import synthetic_batch, to_input
from torch_models import build

NUM_CLASSES = 10


def conv_weights(model):
    return [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d)]


def per_filter(w, values):
    return values.reshape(w.shape[0], -1).sum(1)


def mag_based(model, _batches, _groups):
    with torch.no_grad():
        return [w.reshape(w.shape[0], -1).norm(dim=1) for w in conv_weights(model)]


def loss_based(model, batches, _groups, temperature=5.0):
    params = [p for p in model.parameters() if p.requires_grad]
    acc = [torch.zeros_like(p) for p in params]
    seen = 0
    for pixels, labels in batches:
        n = labels.shape[0]
        loss = F.cross_entropy(model(to_input(pixels)) / temperature, labels)
        for a, g in zip(acc, torch.autograd.grad(loss, params)):
            a.add_(g, alpha=n)
        seen += n
    grads = dict(zip((id(p) for p in params), (a / seen for a in acc)))
    with torch.no_grad():
        return [per_filter(w, (w * grads[id(w)]).abs()) for w in conv_weights(model)]


def grasp(model, _batches, groups, temperature=200.0):
    params = [p for p in model.parameters() if p.requires_grad]
    g = [torch.zeros_like(p) for p in params]
    for x, y in groups:
        loss = F.cross_entropy(model(x) / temperature, y)
        for a, gi in zip(g, torch.autograd.grad(loss, params)):
            a.add_(gi, alpha=1 / len(groups))
    hg = [torch.zeros_like(p) for p in params]
    for x, y in groups:
        loss = F.cross_entropy(model(x) / temperature, y)
        inner = torch.autograd.grad(loss, params, create_graph=True)
        z = sum((gi * ci).sum() for gi, ci in zip(inner, g))
        for a, h in zip(hg, torch.autograd.grad(z, params)):
            a.add_(h, alpha=1 / len(groups))
    by_id = dict(zip((id(p) for p in params), hg))
    with torch.no_grad():
        return [per_filter(w, w * by_id[id(w)]) for w in conv_weights(model)]


MEASURES = {"mag_based": mag_based, "loss_based": loss_based, "grasp": grasp}


def class_groups(batches, per_class):
    """The first per_class images of every class, in loader order (docs/pruning-semantics.md §3.2)."""
    xs = torch.cat([to_input(p) for p, _ in batches])
    ys = torch.cat([y for _, y in batches])
    groups = []
    for c in range(NUM_CLASSES):
        idx = (ys == c).nonzero().flatten()[:per_class]
        if idx.numel() < per_class:
            raise SystemExit(f"only {idx.numel()} images of class {c}; need {per_class}")
        groups.append((xs[idx], ys[idx]))
    return groups


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archs", default="vgg13,resnet56,mobilenet_v1")
    ap.add_argument("--measures", default="mag_based,loss_based,grasp")
    ap.add_argument("--imp-samples", type=int, default=2560)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    # loss_based reads ceil(imp_samples / batch size) batches; grasp's class groups may need a few
    # more (labels cycle over 10 classes, so some classes are one short per batch).
    per_class = args.imp_samples // NUM_CLASSES
    n_batches = max(-(-args.imp_samples // args.batch_size), -(-per_class // (args.batch_size // NUM_CLASSES)))
    pool = [synthetic_batch(i, args.batch_size) for i in range(n_batches)]
    batches = pool[: -(-args.imp_samples // args.batch_size)]
    for arch in args.archs.split(","):
        model = build(arch, NUM_CLASSES)
        model.eval()
        for name in args.measures.split(","):
            fn = MEASURES[name]

            def run():
                groups = class_groups(pool, per_class) if name == "grasp" else None
                return fn(model, batches, groups)

            t0 = time.perf_counter()
            scores = run()
            seconds = time.perf_counter() - t0
            assert all(torch.isfinite(s).all() for s in scores)
            samples = 0 if name == "mag_based" else args.imp_samples
            print(json.dumps({"arch": arch, "measure": name, "seconds": round(seconds, 3), "samples": samples, "threads": args.threads}), flush=True)


if __name__ == "__main__":
    main()
