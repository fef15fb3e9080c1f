#include "elementwise.h"

#include <algorithm>
#include <vector>

#include "parallel.h"

namespace fp {

namespace {

// No __restrict on out: binary ops may write in place.
FP_VECTOR_CLONES
void binaryRange(Binary op, const float* a, const float* b, int64_t n, float* out) {
  switch (op) {
    case Binary::Add:
      for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
      break;
    case Binary::Sub:
      for (int64_t i = 0; i < n; i++) out[i] = a[i] - b[i];
      break;
    case Binary::Mul:
      for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
      break;
  }
}

FP_VECTOR_CLONES
void reluRange(const float* x, int64_t n, float* out) {
  for (int64_t i = 0; i < n; i++) out[i] = std::max(x[i], 0.f);
}

FP_VECTOR_CLONES
void reluGradRange(const float* dy, const float* x, int64_t n, float* dx) {
  for (int64_t i = 0; i < n; i++) {
    const float d = dy[i];  // loaded unconditionally so the select vectorises
    dx[i] = x[i] > 0.f ? d : 0.f;
  }
}

FP_VECTOR_CLONES
void sgdRange(float* __restrict p, const float* __restrict g, float* __restrict buf, int64_t n, float lr, float mu,
              float wd, bool fresh) {
  if (!buf) {
    for (int64_t i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
  } else if (fresh) {
    for (int64_t i = 0; i < n; i++) {
      const float d = g[i] + wd * p[i];
      buf[i] = d;
      p[i] -= lr * d;
    }
  } else {
    for (int64_t i = 0; i < n; i++) {
      const float v = mu * buf[i] + (g[i] + wd * p[i]);
      buf[i] = v;
      p[i] -= lr * v;
    }
  }
}

}  // namespace

void binary(Binary op, const float* a, const float* b, int64_t n, float* out) {
  parallelRanges(n, 1, [&](int64_t s, int64_t e) { binaryRange(op, a + s, b + s, e - s, out + s); });
}

void relu(const float* x, int64_t n, float* out) {
  parallelRanges(n, 1, [&](int64_t s, int64_t e) { reluRange(x + s, e - s, out + s); });
}

void reluGrad(const float* dy, const float* x, int64_t n, float* dx) {
  parallelRanges(n, 1, [&](int64_t s, int64_t e) { reluGradRange(dy + s, x + s, e - s, dx + s); });
}

void sgdStep(const SgdSlot* slots, int64_t count, float lr, float momentum, float weightDecay) {
  // Flatten every parameter into chunks of about equal size so a few large filters and hundreds
  // of small BatchNorm vectors balance over the threads in one parallel region.
  constexpr int64_t kChunk = 1 << 14;
  struct Piece {
    int64_t slot, begin, end;
  };
  std::vector<Piece> pieces;
  int64_t total = 0;
  for (int64_t s = 0; s < count; s++) {
    for (int64_t b = 0; b < slots[s].size; b += kChunk) pieces.push_back({s, b, std::min(slots[s].size, b + kChunk)});
    total += slots[s].size;
  }
  const int64_t np = static_cast<int64_t>(pieces.size());
  const int nt = threadsFor(total);
#pragma omp parallel for schedule(dynamic, 4) num_threads(nt) if (nt > 1)
  for (int64_t i = 0; i < np; i++) {
    const Piece& q = pieces[i];
    const SgdSlot& s = slots[q.slot];
    sgdRange(s.param + q.begin, s.grad + q.begin, s.buf ? s.buf + q.begin : nullptr, q.end - q.begin, lr, momentum,
             weightDecay, s.fresh);
  }
}

}  // namespace fp
