// Batched matrix multiply with tfjs BatchMatMul semantics, via oneDNN.
#pragma once

#include <cstdint>

namespace fp {

struct MatMulShape {
  int64_t batchA, batchB;  // equal, or one of them 1 (broadcast)
  int64_t m, n, k;
  bool transposeA, transposeB;  // a stored [batch, k, m] / b stored [batch, n, k]
};

/** out [max(batchA, batchB), m, n] = a x b. */
void matmul(const MatMulShape& s, const float* a, const float* b, float* out);

}  // namespace fp
