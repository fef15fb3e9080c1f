// Winograd F(2x2, 3x3) convolution for the fused eval executor (inference.cc): 3x3, stride 1,
// ungrouped convolutions on maps of 8k channels, blocked (nChw8c) or NHWC, with the executor's
// epilogue (bias, residual add, ReLU/clip, BatchNorm after the activation) applied as each output
// tile is written. 16 multiply-adds per 2x2 outputs and input channel instead of 36: oneDNN 2.6 has
// Winograd kernels for AVX-512 only, and on AVX2 its direct kernels already run near the FMA peak.
#pragma once

#include <cstdint>
#include <memory>

namespace fp {

/** Where channels [8b, 8b + 8) of pixel (y, x) of image i start: i * image + b * block + (y * width + x) * pixel floats. */
struct MapAccess {
  int64_t image, block, pixel;
};

struct WinogradEpilogue {
  const float* bias = nullptr;      // [k]
  const float* residual = nullptr;  // added before the activation; laid out as the output (may be the output itself)
  int activation = 0;               // 0: none, 1: ReLU, 2: clip to [lo, hi]
  float lo = 0, hi = 0;
  const float* postScale = nullptr;  // [k], with postShift: y * scale + shift after the activation
  const float* postShift = nullptr;
};

class Winograd3x3 {
 public:
  /** A 3x3 stride-1 convolution of a c-channel h x w map into k channels of oh x ow, padded by padT (top) and padL (left). */
  Winograd3x3(int64_t c, int64_t k, int64_t h, int64_t w, int64_t padT, int64_t padL, int64_t oh, int64_t ow);
  ~Winograd3x3();
  Winograd3x3(const Winograd3x3&) = delete;
  Winograd3x3& operator=(const Winograd3x3&) = delete;

  /** Whether this CPU runs the kernels (AVX2 and FMA). */
  static bool available();

  /** Transforms weights laid out [3][3][c][k] (tfjs HWIO) into the Winograd domain. */
  void setWeights(const float* hwio);

  /** n images of src into dst, on up to `threads` OpenMP threads. */
  void run(const float* src, const MapAccess& in, float* dst, const MapAccess& out, int64_t n, const WinogradEpilogue& epilogue, int threads) const;

 private:
  int64_t c_, k_, h_, w_, padT_, padL_, oh_, ow_;
  struct Weights;
  std::unique_ptr<Weights> u_;  // [16][c][k]
};

}  // namespace fp
