// Winograd F(2x2, 3x3) convolution for the fused eval executor (inference.cc): 3x3, stride 1,
// ungrouped convolutions on maps of 8k channels, blocked (nChw8c) or NHWC, with the executor's
// epilogue (bias, residual add, ReLU/clip, BatchNorm after the activation) applied as each output
// tile is written. 16 multiply-adds per 2x2 outputs and input channel instead of 36: oneDNN 2.6 has
// Winograd kernels for AVX-512 only, and on AVX2 its direct kernels already run near the FMA peak.
#pragma once

#include <cstdint>

namespace fp {

/** Where channels [8b, 8b + 8) of pixel (y, x) of image i start: i * image + b * block + (y * width + x) * pixel floats. */
struct MapAccess {
  int64_t image, block, pixel;

  /** A c x h x w map, blocked (nChw8c) or NHWC; c a multiple of 8. */
  static MapAccess of(bool blocked, int64_t c, int64_t h, int64_t w) {
    return blocked ? MapAccess{c * h * w, h * w * 8, 8} : MapAccess{h * w * c, 8, c};
  }
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

  /** Whether this CPU runs the kernels (AVX2 and FMA) and FLOWPRUNE_WINOGRAD is not 0. */
  static bool available();

  /**
   * Whether a convolution of c into k channels, kh x kw taps, with an oh x ow output and n images,
   * runs on the kernel: 3x3, stride 1, undilated (dilation 1), ungrouped; 8k channels, 16 or more
   * (with 8 the transforms cost more than they save); outputs of 4x4 or more (below that the direct
   * kernels skip most padded taps); 16 tiles or more in the batch (with fewer, reading the
   * transformed filter, 16/9 the size of the plain one, costs more than the multiplies saved:
   * VGG-13's 4x4 stage at batch 1).
   */
  static bool suits(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t groups, int64_t c, int64_t k, int64_t oh,
                    int64_t ow, int64_t n);

  /** Floats of the transformed filter (16 x c x k). */
  int64_t weightFloats() const { return 16 * c_ * k_; }

  /**
   * The filter in the Winograd domain, into u (weightFloats()): from tfjs's [3][3][c][k], or with
   * `rotated` from a [3][3][k][c] filter turned by 180 degrees, which makes a backward-data pass
   * (dx from dy, k = the forward's input channels) a forward convolution.
   */
  void transformWeights(const float* filter, bool rotated, float* u) const;

  /** n images of src into dst with the transformed filter u, on up to `threads` OpenMP threads. */
  void run(const float* src, const MapAccess& in, float* dst, const MapAccess& out, int64_t n, const float* u, const WinogradEpilogue& epilogue,
           int threads) const;

  /**
   * The filter gradient into dfilter (tfjs [3][3][c][k]), from n images of this convolution's input
   * src and of its output gradient dy (laid out as its output): dU = sum over tiles of V^T (A dY A^T)
   * in the Winograd domain, then G^T dU G.
   */
  void filterGradient(const float* src, const MapAccess& in, const float* dy, const MapAccess& out, int64_t n, float* dfilter, int threads) const;

 private:
  /** Tiles per chunk for n images on `threads` threads. */
  int64_t chunkTiles(int64_t total, int threads) const;

  int64_t c_, k_, h_, w_, padT_, padL_, oh_, ow_;
};

}  // namespace fp
