"""Reference outputs of a flowprune graph, computed with PyTorch's functional ops (an independent
implementation of every node type the ONNX exporter maps). Reads JSON from stdin:
{"graph": Graph, "weights": {name: {"shape": [...], "data": [...]}}, "input": [...], "batch": N};
writes the output tensor's values as a JSON list."""
import json
import sys

import torch
import torch.nn.functional as F

req = json.load(sys.stdin)
g = req["graph"]
w = {k: torch.tensor(v["data"], dtype=torch.float32).reshape(v["shape"]) for k, v in req["weights"].items()}
i = g["input"]
t = {i["name"]: torch.tensor(req["input"], dtype=torch.float32).reshape(req["batch"], i["channels"], i["height"], i["width"])}


def padded(x, pads):
    top, left, bottom, right = pads
    return F.pad(x, (left, right, top, bottom))


for n in g["nodes"]:
    x = [t[name] for name in n["inputs"]]
    op = n["op"]
    if op == "conv":
        y = F.conv2d(padded(x[0], n["padding"]), w[n["weight"]], w[n["bias"]] if n.get("bias") else None,
                     stride=n["stride"], dilation=n["dilation"], groups=n["groups"])
    elif op == "batchnorm":
        p = n["params"]
        y = F.batch_norm(x[0], w[p["runningMean"]], w[p["runningVar"]], w[p["weight"]], w[p["bias"]], False, 0.0, n["eps"])
    elif op == "relu":
        y = F.relu(x[0])
    elif op == "clip":
        y = torch.clamp(x[0], n["min"], n["max"])
    elif op == "sigmoid":
        y = torch.sigmoid(x[0])
    elif op == "mul":
        y = x[0] * x[1]
    elif op == "add":
        y = sum(x[1:], x[0])
    elif op == "concat":
        y = torch.cat(x, dim=1)
    elif op in ("maxpool", "avgpool"):
        top, left, bottom, right = n["padding"]
        assert top == bottom and left == right, "torch's pools pad symmetrically"
        if op == "maxpool":
            y = F.max_pool2d(x[0], n["kernel"], n["stride"], (top, left), ceil_mode=n["ceilMode"])
        else:
            y = F.avg_pool2d(x[0], n["kernel"], n["stride"], (top, left), ceil_mode=n["ceilMode"],
                             count_include_pad=n.get("countIncludePad", True))
    elif op == "globalavgpool":
        y = x[0].mean(dim=(2, 3), keepdim=True)
    elif op == "flatten":
        y = torch.flatten(x[0], 1)
    elif op == "linear":
        y = F.linear(x[0], w[n["weight"]], w[n["bias"]] if n.get("bias") else None)
    elif op in ("identity", "dropout"):
        y = x[0]
    else:
        raise SystemExit(f"unknown op {op}")
    t[n["output"]] = y

json.dump(t[g["output"]].flatten().tolist(), sys.stdout)
