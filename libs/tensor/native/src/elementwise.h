// Elementwise kernels over whole float32 tensors, and the fused optimiser step.
#pragma once

#include <cstdint>

namespace fp {

enum class Binary { Add = 0, Sub = 1, Mul = 2 };

/** out = a op b for same-size tensors (out may alias a or b). */
void binary(Binary op, const float* a, const float* b, int64_t n, float* out);

/** out = max(x, 0). */
void relu(const float* x, int64_t n, float* out);

/** dx = dy where x > 0, else 0 (the ReLU gradient; x may be the ReLU's input or output). */
void reluGrad(const float* dy, const float* x, int64_t n, float* dx);

/** One parameter of an SGD step: its value, gradient and momentum buffer, all of `size` floats. */
struct SgdSlot {
  float* param;
  const float* grad;
  float* buf;  // may be null when momentum is 0
  int64_t size;
  bool fresh;  // first step: buf = d instead of mu * buf + d
};

/**
 * PyTorch's SGD (dampening 0, not Nesterov) for every slot in one parallel pass:
 * d = g + wd * p; buf = mu * buf + d (buf = d when fresh); p -= lr * buf (lr * d without momentum).
 */
void sgdStep(const SgdSlot* slots, int64_t count, float lr, float momentum, float weightDecay);

}  // namespace fp
