#include "pool.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "parallel.h"

namespace fp {

namespace {

/** In-bounds input rows (or columns) [lo, hi) of the window that starts at `corner`. */
inline void window(int64_t corner, int64_t f, int64_t in, int64_t* lo, int64_t* hi) {
  *lo = std::max<int64_t>(0, corner);
  *hi = std::min<int64_t>(in, corner + f);
}

/** Runs fn(image) for every image of the batch, images spread over the threads. */
template <typename F>
void perImage(const PoolShape& s, F&& fn) {
  parallelRanges(s.n, s.ih * s.iw * s.c, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) fn(i);
  });
}

FP_VECTOR_CLONES
void maxPoolImage(const PoolShape& s, const float* __restrict x, float* __restrict y) {
  const int64_t c = s.c;
  for (int64_t oy = 0; oy < s.oh; oy++) {
    int64_t r0, r1;
    window(oy * s.sh - s.pt, s.fh, s.ih, &r0, &r1);
    for (int64_t ox = 0; ox < s.ow; ox++) {
      int64_t c0, c1;
      window(ox * s.sw - s.pl, s.fw, s.iw, &c0, &c1);
      float* out = y + (oy * s.ow + ox) * c;
      for (int64_t j = 0; j < c; j++) out[j] = -std::numeric_limits<float>::infinity();
      for (int64_t r = r0; r < r1; r++)
        for (int64_t q = c0; q < c1; q++) {
          const float* px = x + (r * s.iw + q) * c;
          for (int64_t j = 0; j < c; j++) out[j] = px[j] > out[j] ? px[j] : out[j];
        }
    }
  }
}

FP_VECTOR_CLONES
void maxPoolGradImage(const PoolShape& s, const float* __restrict x, const float* __restrict dy, float* __restrict dx,
                      float* __restrict best, int64_t* __restrict at) {
  const int64_t c = s.c;
  std::memset(dx, 0, sizeof(float) * s.ih * s.iw * c);
  for (int64_t oy = 0; oy < s.oh; oy++) {
    int64_t r0, r1;
    window(oy * s.sh - s.pt, s.fh, s.ih, &r0, &r1);
    for (int64_t ox = 0; ox < s.ow; ox++) {
      int64_t c0, c1;
      window(ox * s.sw - s.pl, s.fw, s.iw, &c0, &c1);
      for (int64_t j = 0; j < c; j++) {
        best[j] = -std::numeric_limits<float>::infinity();
        at[j] = -1;
      }
      // Strict '>' keeps the first maximum in row-major order, as the reference backend does.
      for (int64_t r = r0; r < r1; r++)
        for (int64_t q = c0; q < c1; q++) {
          const int64_t base = (r * s.iw + q) * c;
          const float* px = x + base;
          for (int64_t j = 0; j < c; j++)
            if (px[j] > best[j]) {
              best[j] = px[j];
              at[j] = base + j;
            }
        }
      const float* g = dy + (oy * s.ow + ox) * c;
      for (int64_t j = 0; j < c; j++)
        if (at[j] >= 0) dx[at[j]] += g[j];
    }
  }
}

void avgPoolImage(const PoolShape& s, const float* x, float* y) {
  const int64_t c = s.c;
  for (int64_t oy = 0; oy < s.oh; oy++) {
    int64_t r0, r1;
    window(oy * s.sh - s.pt, s.fh, s.ih, &r0, &r1);
    for (int64_t ox = 0; ox < s.ow; ox++) {
      int64_t c0, c1;
      window(ox * s.sw - s.pl, s.fw, s.iw, &c0, &c1);
      float* out = y + (oy * s.ow + ox) * c;
      std::fill(out, out + c, 0.f);
      for (int64_t r = r0; r < r1; r++)
        for (int64_t q = c0; q < c1; q++) {
          const float* px = x + (r * s.iw + q) * c;
          for (int64_t j = 0; j < c; j++) out[j] += px[j];
        }
      const float inv = 1.f / static_cast<float>(std::max<int64_t>(1, (r1 - r0) * (c1 - c0)));
      for (int64_t j = 0; j < c; j++) out[j] *= inv;
    }
  }
}

void avgPoolGradImage(const PoolShape& s, const float* dy, float* dx) {
  const int64_t c = s.c;
  std::memset(dx, 0, sizeof(float) * s.ih * s.iw * c);
  for (int64_t oy = 0; oy < s.oh; oy++) {
    int64_t r0, r1;
    window(oy * s.sh - s.pt, s.fh, s.ih, &r0, &r1);
    for (int64_t ox = 0; ox < s.ow; ox++) {
      int64_t c0, c1;
      window(ox * s.sw - s.pl, s.fw, s.iw, &c0, &c1);
      const float inv = 1.f / static_cast<float>(std::max<int64_t>(1, (r1 - r0) * (c1 - c0)));
      const float* g = dy + (oy * s.ow + ox) * c;
      for (int64_t r = r0; r < r1; r++)
        for (int64_t q = c0; q < c1; q++) {
          float* px = dx + (r * s.iw + q) * c;
          for (int64_t j = 0; j < c; j++) px[j] += g[j] * inv;
        }
    }
  }
}

}  // namespace

void maxPool(const PoolShape& s, const float* x, float* y) {
  const int64_t in = s.ih * s.iw * s.c, out = s.oh * s.ow * s.c;
  perImage(s, [&](int64_t i) { maxPoolImage(s, x + i * in, y + i * out); });
}

void maxPoolGrad(const PoolShape& s, const float* x, const float* dy, float* dx) {
  const int64_t in = s.ih * s.iw * s.c, out = s.oh * s.ow * s.c;
  perImage(s, [&](int64_t i) {
    thread_local std::vector<float> best;
    thread_local std::vector<int64_t> at;
    best.resize(s.c);
    at.resize(s.c);
    maxPoolGradImage(s, x + i * in, dy + i * out, dx + i * in, best.data(), at.data());
  });
}

void avgPool(const PoolShape& s, const float* x, float* y) {
  const int64_t in = s.ih * s.iw * s.c, out = s.oh * s.ow * s.c;
  perImage(s, [&](int64_t i) { avgPoolImage(s, x + i * in, y + i * out); });
}

void avgPoolGrad(const PoolShape& s, const float* dy, float* dx) {
  const int64_t in = s.ih * s.iw * s.c, out = s.oh * s.ow * s.c;
  perImage(s, [&](int64_t i) { avgPoolGradImage(s, dy + i * out, dx + i * in); });
}

}  // namespace fp
