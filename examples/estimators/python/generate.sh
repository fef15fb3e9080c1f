#!/bin/sh
# Generates the Python protobuf code of the flowprune.v1 contract from proto/ (the repository's
# contract) with protoc. Usage: ./generate.sh [OUT_DIR]   (default: ./gen, which git ignores)
# The gRPC service itself needs no generated stub: fpgm_estimator.py registers its two methods
# with grpc's generic handlers, so protoc's --python_out is enough (no grpc_tools plugin).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/gen"}
mkdir -p "$out"
protoc -I "$here/../../../proto" --python_out="$out" flowprune/v1/common.proto flowprune/v1/importance_estimator.proto
