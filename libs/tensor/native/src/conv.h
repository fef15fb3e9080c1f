// 2-D convolutions (regular, strided, 1x1, grouped/depthwise) on tfjs tensors via oneDNN.
#pragma once

#include <cstdint>

#include "layout.h"

namespace fp {

/** Geometry of one convolution in tfjs terms (NHWC activations, HWIO or HW-C-multiplier filters). */
struct ConvShape {
  int64_t n, ih, iw, ic;  // input
  int64_t oh, ow, oc;     // output
  int64_t kh, kw;         // filter taps
  int64_t sh, sw;         // strides
  int64_t dh, dw;         // dilations (1 = none)
  int64_t pt, pl, pb, pr; // padding top, left, bottom, right
  int64_t groups;         // 1, or ic for depthwise (oc = ic * channel multiplier)
  Layout in = Layout::Nhwc;   // x / dx
  Layout out = Layout::Nhwc;  // y / dy
};

enum class ConvPass { Forward = 0, BackwardData = 1, BackwardWeights = 2 };

/**
 * Forward:         a = x [n,ih,iw,ic],  b = filter,            out = y [n,oh,ow,oc]
 * BackwardData:    a = dy [n,oh,ow,oc], b = filter,            out = dx [n,ih,iw,ic]
 * BackwardWeights: a = x [n,ih,iw,ic],  b = dy [n,oh,ow,oc],   out = dfilter
 * Filters are tfjs-layout: [kh,kw,ic,oc], or [kh,kw,ic,multiplier] when groups = ic.
 */
void convolution(ConvPass pass, const ConvShape& s, const float* a, const float* b, float* out);

/**
 * Whether this convolution (layouts ignored) keeps its activations blocked (nChw8c). Only where
 * both channel counts are divisible by 8 and oneDNN has optimised (non-reference) implementations
 * of all three passes in that layout; then as the policy says. Decided once per geometry.
 */
bool convPrefersBlocked(const ConvShape& s);

enum class LayoutPolicy : int {
  Measure = 0,  // time both layouts once per geometry and keep the faster (the default)
  Nhwc = 1,     // never blocked
  Blocked = 2,  // blocked wherever viable
};

/** Sets the policy (initially from FLOWPRUNE_NATIVE_LAYOUT = auto | nhwc | blocked) and forgets past decisions. */
void setConvLayoutPolicy(LayoutPolicy p);

}  // namespace fp
