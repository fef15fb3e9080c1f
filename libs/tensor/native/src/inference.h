// The fused eval-mode executor: a whole network compiled to oneDNN primitives. BatchNorm folded
// into the convolution's weights and bias; bias, residual add (sum post-op), ReLU/clip (eltwise
// post-op) and a BatchNorm after the activation (binary post-ops) fused into the convolution;
// weights reordered once per weights version into the primitive's layout; activations kept in one
// layout (blocked nChw8c, or NHWC) from the first convolution to the classifier; pooling and the
// classifier (inner product) in oneDNN too. The program format is written by
// libs/tensor/src/native-inference.ts (encodeProgram); keep the two in step.
#pragma once

#include <cstdint>
#include <string>

#include "layout.h"

namespace fp {

enum class InferenceOpKind : int { Conv = 0, Pool = 1, Linear = 2 };

/** Doubles per op record: kind, input, output, residual (-1: none), then 20 op parameters. */
constexpr int kOpRecord = 24;
/** Doubles per tensor record: rank (2 or 4), channels (or features), height, width. */
constexpr int kTensorRecord = 4;
/** Heap offsets per op in a weights table: w, b, mean, var, gamma, beta, mask, then the same five for the BatchNorm after the activation. */
constexpr int kWeightRecord = 12;

/**
 * Compiles `program` (header [tensors, output tensor, ops], tensor records, op records; tensor 0 is
 * the input) with activations in `layout`. Returns a handle (> 0). Throws on malformed programs.
 */
int inferenceCompile(const double* program, size_t length, Layout layout);

/** Folds and stores the weights read from the heap (table: kWeightRecord offsets per op). Bumps the version. */
void inferenceSetWeights(int handle, const uint8_t* heap, size_t heapBytes, const double* table, size_t length);

/** x: n input images in `inLayout`; out: the output tensor ([n, classes] logits, or an NHWC map). Weights must have been set. */
void inferenceRun(int handle, const float* x, Layout inLayout, int64_t n, float* out);

/** One line per primitive of the plan for batch n ("conv 3x3 16->16 jit:avx2" ...), building it if needed. */
std::string inferenceDescribe(int handle, Layout inLayout, int64_t n);

void inferenceRelease(int handle);

/** Seconds one sgemm of m = n = k = size takes on all threads (the bench's peak probe). */
double sgemmProbe(int64_t size, int repeats);

/**
 * Best seconds (of `repeats`) for `threads` OpenMP threads each running `iterations` rounds of
 * independent 8-wide FMAs: the cores' fp32 FMA peak (0 without AVX2 and FMA).
 */
double fmaProbe(int threads, int64_t iterations, int repeats);

/** Floating-point operations one fmaProbe round performs (2 per FMA lane). */
int64_t fmaProbeFlops(int threads, int64_t iterations);

}  // namespace fp
