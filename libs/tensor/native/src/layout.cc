#include "layout.h"

#include <cstring>
#include <stdexcept>
#include <vector>

#include "parallel.h"

namespace fp {

namespace {

/** One image [hw][c] -> [c/8][hw][8]. */
FP_VECTOR_CLONES
void toBlocked(const float* __restrict src, float* __restrict dst, int64_t hw, int64_t c) {
  for (int64_t g = 0; g < c / kBlock; g++)
    for (int64_t p = 0; p < hw; p++)
      for (int64_t j = 0; j < kBlock; j++) dst[(g * hw + p) * kBlock + j] = src[p * c + g * kBlock + j];
}

/** One image [c/8][hw][8] -> [hw][c]. */
FP_VECTOR_CLONES
void toNhwc(const float* __restrict src, float* __restrict dst, int64_t hw, int64_t c) {
  for (int64_t g = 0; g < c / kBlock; g++)
    for (int64_t p = 0; p < hw; p++)
      for (int64_t j = 0; j < kBlock; j++) dst[p * c + g * kBlock + j] = src[(g * hw + p) * kBlock + j];
}

}  // namespace

void relayoutInPlace(float* data, int64_t n, int64_t h, int64_t w, int64_t c, Layout from, Layout to) {
  if (from == to) return;
  if (c % kBlock != 0) throw std::invalid_argument("blocked layout needs channels divisible by 8");
  const int64_t image = h * w * c;
  // Each image goes through a per-thread scratch copy: images are small (at most a few MB) and
  // stay in cache between the two passes.
  parallelRanges(n, image, [&](int64_t b, int64_t e) {
    std::vector<float> scratch(static_cast<size_t>(image));
    for (int64_t i = b; i < e; i++) {
      float* img = data + i * image;
      if (to == Layout::Blocked8) toBlocked(img, scratch.data(), h * w, c);
      else toNhwc(img, scratch.data(), h * w, c);
      std::memcpy(img, scratch.data(), sizeof(float) * image);
    }
  });
}

}  // namespace fp
