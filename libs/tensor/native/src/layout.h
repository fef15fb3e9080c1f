// Physical layouts of 4-D activations in the wasm heap. tfjs's own layout is NHWC; the native
// backend may keep activations in oneDNN's blocked nChw8c ([n][c/8][h][w][8]) between its own
// kernels, where oneDNN's AVX2 convolutions run fastest. Blocked needs c % 8 == 0 (no padding, so
// both layouts have the same size and elementwise kernels do not care which one they see).
#pragma once

#include <cstdint>

namespace fp {

enum class Layout : int { Nhwc = 0, Blocked8 = 1 };

constexpr int64_t kBlock = 8;

/** Rewrites an n x h x w x c tensor from one layout to the other in place, image by image. */
void relayoutInPlace(float* data, int64_t n, int64_t h, int64_t w, int64_t c, Layout from, Layout to);

}  // namespace fp
