// 2-D max and average pooling over NHWC tensors, forward and gradient, with tfjs-cpu semantics:
// max-pool gradient goes to the first maximum of each window in row-major order; average pools
// divide by the number of in-bounds taps.
#pragma once

#include <cstdint>

namespace fp {

struct PoolShape {
  int64_t n, ih, iw, c;
  int64_t oh, ow;
  int64_t fh, fw;  // window
  int64_t sh, sw;  // strides
  int64_t pt, pl;  // padding top, left (bottom/right follow from the output size)
};

void maxPool(const PoolShape& s, const float* x, float* y);
/** dx for max-pool: x is the pool's input, dy the upstream gradient. */
void maxPoolGrad(const PoolShape& s, const float* x, const float* dy, float* dx);
void avgPool(const PoolShape& s, const float* x, float* y);
void avgPoolGrad(const PoolShape& s, const float* dy, float* dx);

}  // namespace fp
