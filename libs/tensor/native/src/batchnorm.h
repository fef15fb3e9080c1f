// Batch normalisation over NHWC or blocked (layout.h) activations, per channel, with the ReLU and
// residual add that follow it in the paper's networks fused in (each saves a full pass over the
// activations forward and another backward).
#pragma once

#include <cstdint>

#include "layout.h"

namespace fp {

/** An activation's geometry: n images of hw pixels and c channels, in `layout`. */
struct Activation {
  Layout layout;
  int64_t n, hw, c;
  int64_t size() const { return n * hw * c; }
};

/**
 * Train mode: mean and biased variance over the m rows, then
 * y = [relu](gamma * (x - mean) / sqrt(var + eps) + beta [+ residual]).
 * residual may be null; mean and var (c each) are outputs.
 */
void batchNormTrainForward(const float* x, const float* gamma, const float* beta, const float* residual,
                           const Activation& a, float eps, bool relu, float* y, float* mean, float* var);

/**
 * Gradient of batchNormTrainForward, or with globalStats of the eval-mode forward (mean and var
 * given, not functions of x: dx = gamma * r * dy). y (the forward output) is read only when relu
 * is set, to mask dy. Outputs dx, dgamma, dbeta and, when dresidual is non-null, the residual's
 * gradient (the masked dy).
 */
void batchNormBackward(const float* dy, const float* x, const float* y, const float* gamma, const float* mean,
                       const float* var, const Activation& a, float eps, bool relu, bool globalStats, float* dx,
                       float* dresidual, float* dgamma, float* dbeta);

/**
 * Inference with given statistics: y = [relu]((x - mean) * gamma / sqrt(var + eps) + beta).
 * Each per-channel input has `xxLen` elements: c (per channel) or 1 (broadcast); gamma and beta
 * may be null (1 and 0). residual (x's shape and layout), when not null, is added before the ReLU.
 */
void batchNormInference(const float* x, const float* mean, int64_t meanLen, const float* var, int64_t varLen,
                        const float* gamma, int64_t gammaLen, const float* beta, int64_t betaLen, const Activation& a,
                        const float* residual, float eps, bool relu, float* y);

}  // namespace fp
