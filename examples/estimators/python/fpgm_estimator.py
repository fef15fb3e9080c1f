#!/usr/bin/env python3
"""An importance estimator written outside flowprune's code, from the contract alone.

It serves flowprune.v1.ImportanceEstimatorService with one measure the paper does not have:
``fpgm``, filter pruning via geometric median (He et al., CVPR 2019). A filter close to all the
other filters of its layer (small summed Euclidean distance, i.e. near their geometric median) is
redundant: the others can stand in for it, so its importance is low.

    score(filter i of a layer) = sum_j || W_i - W_j ||_2   over the filters j of that layer

The model arrives as safetensors bytes in the request (no run store is read) and the request's
layer manifest says which conv weights to score; the answer has one LayerScores per manifest
entry, keyed by the conv name. Needs python3-grpcio, python3-protobuf, python3-numpy and the code
./generate.sh makes from proto/ (see README.md).
"""

import argparse
import json
import os
import signal
import struct
import sys
import time

import grpc
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

ESTIMATOR_NAME = "fpgm-python"
SERVICE = "flowprune.v1.ImportanceEstimatorService"
# The models of this project are 3-40 MB; grpc's Python default accepts only 4 MB.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16}


class BadRequest(Exception):
    """The caller's mistake: answered with INVALID_ARGUMENT, naming the field."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")


def read_safetensors(data):
    """Tensors by name from safetensors bytes: 8-byte little-endian header length, JSON header, raw data."""
    if len(data) < 8:
        raise BadRequest("model", "not safetensors data (shorter than its 8-byte header length)")
    (header_len,) = struct.unpack("<Q", data[:8])
    if 8 + header_len > len(data):
        raise BadRequest("model", f"safetensors header of {header_len} bytes runs past the {len(data)}-byte file")
    try:
        header = json.loads(data[8 : 8 + header_len])
    except ValueError as e:
        raise BadRequest("model", f"safetensors header is not JSON ({e})")
    body = memoryview(data)[8 + header_len :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = DTYPES.get(info.get("dtype"))
        if dtype is None:
            continue  # integer buffers (e.g. BatchNorm counters): never a conv weight
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(info["shape"])
    return tensors


def fpgm_scores(weight):
    """Summed Euclidean distance of each output filter to all others of the layer."""
    filters = weight.reshape(weight.shape[0], -1).astype(np.float64)
    diff = filters[:, None, :] - filters[None, :, :]
    return np.sqrt((diff * diff).sum(axis=2)).sum(axis=1)


def estimate(pb, request):
    start = time.perf_counter()
    if request.measure != "fpgm":
        raise BadRequest("measure", f'unknown measure "{request.measure}"; this estimator offers fpgm')
    if request.params:
        raise BadRequest("params", f"fpgm takes no parameters, got {', '.join(sorted(request.params))}")
    if request.model.WhichOneof("source") != "safetensors":
        raise BadRequest("model", "send the model as safetensors bytes; this estimator reads no run store")
    if not request.layers:
        raise BadRequest("layers", "is empty; send the layer manifest (one PrunableLayer per filter layer to score)")
    tensors = read_safetensors(request.model.safetensors)
    response = pb.EstimateResponse(measure="fpgm", samples_used=0, backend=f"numpy {np.__version__}")
    for index, layer in enumerate(request.layers):
        weight = tensors.get(layer.conv, tensors.get("module." + layer.conv))
        if weight is None:
            raise BadRequest("layers", f'conv "{layer.conv}" is not a float tensor of the model')
        if weight.ndim != 4 or weight.shape[0] != layer.out_channels:
            raise BadRequest("layers", f'"{layer.conv}" has shape {list(weight.shape)}, not {layer.out_channels} output filters')
        response.layers.add(layer=index, conv=layer.conv, values=fpgm_scores(weight).tolist())
    response.seconds = time.perf_counter() - start
    return response


def list_measures(pb, _request):
    return pb.ListMeasuresResponse(
        estimator=ESTIMATOR_NAME,
        measures=[
            pb.MeasureInfo(
                name="fpgm",
                description="FPGM: summed Euclidean distance of a filter to the other filters of its layer "
                "(near the geometric median = redundant = pruned first); weights only",
                needs_data=False,
                needs_init_weights=False,
            )
        ],
    )


def handler(pb, fn, request_type, response_type):
    def call(request, context):
        try:
            return fn(pb, request)
        except BadRequest as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))

    return grpc.unary_unary_rpc_method_handler(call, request_deserializer=request_type.FromString, response_serializer=response_type.SerializeToString)


def main():
    parser = argparse.ArgumentParser(description="FPGM importance estimator (flowprune.v1.ImportanceEstimatorService)")
    parser.add_argument("--address", default=os.environ.get("FPGM_ESTIMATOR_ADDRESS", "127.0.0.1:50060"), help="listen address host:port (port 0: a free one)")
    parser.add_argument("--gen", default=os.path.join(HERE, "gen"), help="where ./generate.sh put the protobuf code")
    args = parser.parse_args()
    sys.path.insert(0, args.gen)
    try:
        from flowprune.v1 import importance_estimator_pb2 as pb
    except ImportError as e:
        sys.exit(f"fpgm-estimator: no generated protobuf code in {args.gen} ({e}); run ./generate.sh first")

    from concurrent import futures

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES), ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)],
    )
    methods = {
        "ListMeasures": handler(pb, list_measures, pb.ListMeasuresRequest, pb.ListMeasuresResponse),
        "Estimate": handler(pb, estimate, pb.EstimateRequest, pb.EstimateResponse),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, methods),))
    host = args.address.rsplit(":", 1)[0]
    port = server.add_insecure_port(args.address)
    if port == 0:
        sys.exit(f"fpgm-estimator: cannot listen on {args.address}")
    server.start()
    print(f"fpgm-estimator listening on {host}:{port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.stop(5))
    server.wait_for_termination()


if __name__ == "__main__":
    main()
