#include "batchnorm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "parallel.h"

namespace fp {

namespace {

#define FP_INLINE inline __attribute__((always_inline))

// The activation is processed as panels of [rows x chans] sharing one channel group's parameters:
// NHWC is one panel of n*hw rows x c channels; blocked (nChw8c) is n * c/8 panels of hw rows x 8
// channels. Few channels per row (ResNet's 16, any blocked panel's 8) make an inner loop too short
// to vectorise well, so k rows are processed at a time as one row of width k*chans, with every
// per-channel vector tiled k times. Rows left over (fewer than k) use width chans and the first
// tile, which is the untiled vector.
struct Panels {
  int64_t count, rows, chans, groups, k, width;
  explicit Panels(const Activation& a)
      : count(a.layout == Layout::Blocked8 ? a.n * (a.c / kBlock) : 1),
        rows(a.layout == Layout::Blocked8 ? a.hw : a.n * a.hw),
        chans(a.layout == Layout::Blocked8 ? kBlock : a.c),
        groups(a.c / chans),
        k(std::max<int64_t>(1, (64 + chans - 1) / chans)),
        width(k * chans) {}

  int64_t group(int64_t panel) const { return panel % groups; }
  int64_t offset(int64_t panel, int64_t row) const { return (panel * rows + row) * chans; }
  int64_t channel(int64_t group, int64_t column) const { return group * chans + column % chans; }

  /** Per-channel vector v (c values) as groups x width: each group's chans values tiled k times. */
  std::vector<float> tile(const float* v) const {
    std::vector<float> out(static_cast<size_t>(groups * width));
    for (int64_t g = 0; g < groups; g++)
      for (int64_t q = 0; q < k; q++) std::copy(v + g * chans, v + (g + 1) * chans, out.begin() + g * width + q * chans);
    return out;
  }

  /** body(offset, rows, width, group) over rows [r0, r1) of a panel: groups of k rows, then the rest. */
  template <typename F>
  void rowsOf(int64_t panel, int64_t r0, int64_t r1, F&& body) const {
    const int64_t wide = (r1 - r0) / k;
    if (wide) body(offset(panel, r0), wide, width, group(panel));
    const int64_t rest = (r1 - r0) - wide * k;
    if (rest) body(offset(panel, r0 + wide * k), rest, chans, group(panel));
  }

  /**
   * fn(thread, panel, r0, r1) over the whole activation, spread over the threads: one panel's rows
   * split between them, or whole panels each.
   */
  template <typename F>
  int forEach(F&& fn) const {
    const int nt = threadsFor(count * rows * chans);
    const int64_t units = count == 1 ? rows : count;
    auto run = [&](int t, int64_t b, int64_t e) {
      if (count == 1) {
        if (b < e) fn(t, int64_t{0}, b, e);
      } else {
        for (int64_t p = b; p < e; p++) fn(t, p, int64_t{0}, rows);
      }
    };
    if (nt <= 1) {
      run(0, 0, units);
    } else {
#pragma omp parallel num_threads(nt)
      {
        int64_t b, e;
        share(units, omp_get_thread_num(), omp_get_num_threads(), &b, &e);
        run(omp_get_thread_num(), b, e);
      }
    }
    return nt;
  }
};

// Channel sums: float partial sums over blocks of rows (vectorised, exact enough for a few dozen
// rows), flushed into double accumulators, so the ~10^5 rows of a batch lose no digits.
constexpr int64_t kBlockRows = 16;

template <typename F>
FP_INLINE void blockedSums(int64_t rows, int64_t w, float* __restrict t1, float* __restrict t2, double* __restrict s1,
                           double* __restrict s2, F&& row) {
  for (int64_t r0 = 0; r0 < rows; r0 += kBlockRows) {
    const int64_t r1 = std::min(rows, r0 + kBlockRows);
    for (int64_t j = 0; j < w; j++) t1[j] = t2[j] = 0.f;
    for (int64_t r = r0; r < r1; r++) row(r);
    for (int64_t j = 0; j < w; j++) {
      s1[j] += t1[j];
      s2[j] += t2[j];
    }
  }
}

/** s1 += sum(x - pivot), s2 += sum((x - pivot)^2) per column. */
FP_VECTOR_CLONES
void momentSums(const float* __restrict x, const float* __restrict pivot, int64_t rows, int64_t w, float* __restrict t1,
                float* __restrict t2, double* __restrict s1, double* __restrict s2) {
  blockedSums(rows, w, t1, t2, s1, s2, [&](int64_t r) {
    const float* __restrict xr = x + r * w;
    for (int64_t j = 0; j < w; j++) {
      const float v = xr[j] - pivot[j];
      t1[j] += v;
      t2[j] += v * v;
    }
  });
}

// Loads are unconditional and the mask a select: a conditional load would stop vectorisation.
template <bool Masked>
FP_INLINE void gradSumsBody(const float* __restrict dy, const float* __restrict x, const float* __restrict y,
                            const float* __restrict mean, int64_t rows, int64_t w, float* __restrict t1,
                            float* __restrict t2, double* __restrict s1, double* __restrict s2) {
  blockedSums(rows, w, t1, t2, s1, s2, [&](int64_t r) {
    const float* __restrict dr = dy + r * w;
    const float* __restrict xr = x + r * w;
    const float* __restrict yr = Masked ? y + r * w : nullptr;
    for (int64_t j = 0; j < w; j++) {
      const float d = dr[j];
      const float g = Masked ? (yr[j] > 0.f ? d : 0.f) : d;
      t1[j] += g;
      t2[j] += g * (xr[j] - mean[j]);
    }
  });
}

/** s1 += sum(g), s2 += sum(g * (x - mean)) per column; g = dy, masked by y > 0 when y is given. */
FP_VECTOR_CLONES
void gradSums(const float* dy, const float* x, const float* y, const float* mean, int64_t rows, int64_t w, float* t1,
              float* t2, double* s1, double* s2) {
  if (y) gradSumsBody<true>(dy, x, y, mean, rows, w, t1, t2, s1, s2);
  else gradSumsBody<false>(dy, x, nullptr, mean, rows, w, t1, t2, s1, s2);
}

template <bool Res, bool Relu>
FP_INLINE void affineBody(const float* __restrict x, const float* __restrict res, const float* __restrict center,
                          const float* __restrict scale, const float* __restrict shift, int64_t rows, int64_t w,
                          float* __restrict out) {
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict xr = x + r * w;
    const float* __restrict rr = Res ? res + r * w : nullptr;
    float* __restrict o = out + r * w;
    for (int64_t j = 0; j < w; j++) {
      float v = (xr[j] - center[j]) * scale[j] + shift[j];
      if (Res) v += rr[j];
      o[j] = Relu ? std::max(v, 0.f) : v;
    }
  }
}

/** out = [relu]((x - center) * scale + shift [+ res]) per column. */
FP_VECTOR_CLONES
void affine(const float* x, const float* res, const float* center, const float* scale, const float* shift, int64_t rows,
            int64_t w, bool relu, float* out) {
  if (res) {
    if (relu) affineBody<true, true>(x, res, center, scale, shift, rows, w, out);
    else affineBody<true, false>(x, res, center, scale, shift, rows, w, out);
  } else {
    if (relu) affineBody<false, true>(x, nullptr, center, scale, shift, rows, w, out);
    else affineBody<false, false>(x, nullptr, center, scale, shift, rows, w, out);
  }
}

template <bool Masked, bool WriteRes>
FP_INLINE void gradApplyBody(const float* __restrict dy, const float* __restrict x, const float* __restrict y,
                             const float* __restrict mean, const float* __restrict a, const float* __restrict b,
                             const float* __restrict d, int64_t rows, int64_t w, float* __restrict dx,
                             float* __restrict dres) {
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict dr = dy + r * w;
    const float* __restrict xr = x + r * w;
    const float* __restrict yr = Masked ? y + r * w : nullptr;
    float* __restrict o = dx + r * w;
    float* __restrict q = WriteRes ? dres + r * w : nullptr;
    for (int64_t j = 0; j < w; j++) {
      const float u = dr[j];
      const float g = Masked ? (yr[j] > 0.f ? u : 0.f) : u;
      o[j] = a[j] * g + b[j] * (xr[j] - mean[j]) + d[j];
      if (WriteRes) q[j] = g;
    }
  }
}

/** dx = a*g + b*(x - mean) + d per column, g = dy masked by y > 0 when y is given; dres = g. */
FP_VECTOR_CLONES
void gradApply(const float* dy, const float* x, const float* y, const float* mean, const float* a, const float* b,
               const float* d, int64_t rows, int64_t w, float* dx, float* dres) {
  if (y) {
    if (dres) gradApplyBody<true, true>(dy, x, y, mean, a, b, d, rows, w, dx, dres);
    else gradApplyBody<true, false>(dy, x, y, mean, a, b, d, rows, w, dx, nullptr);
  } else {
    if (dres) gradApplyBody<false, true>(dy, x, nullptr, mean, a, b, d, rows, w, dx, dres);
    else gradApplyBody<false, false>(dy, x, nullptr, mean, a, b, d, rows, w, dx, nullptr);
  }
}

/**
 * Two per-channel sums over the whole activation. Each thread sums its rows into its own double
 * vectors (groups x width), then one serial fold adds threads and tiles: no atomics, a
 * deterministic order. accumulate(offset, rows, width, group, t1, t2, s1, s2) adds `rows` rows of
 * `width` at offset into s1 and s2 (already offset to the group).
 */
template <typename F>
void channelSums(const Panels& p, int64_t c, std::vector<double>& s1, std::vector<double>& s2, F&& accumulate) {
  const int maxThreads = threadsFor(p.count * p.rows * p.chans);
  const size_t span = static_cast<size_t>(p.groups * p.width);
  std::vector<double> part(2 * maxThreads * span, 0.0);
  std::vector<float> block(2 * maxThreads * static_cast<size_t>(p.width));
  const int nt = p.forEach([&](int t, int64_t panel, int64_t r0, int64_t r1) {
    float* tb = block.data() + 2 * t * p.width;
    double* sums = part.data() + 2 * t * span;
    p.rowsOf(panel, r0, r1, [&](int64_t off, int64_t rows, int64_t width, int64_t g) {
      accumulate(off, rows, width, g, tb, tb + p.width, sums + g * p.width, sums + span + g * p.width);
    });
  });
  s1.assign(static_cast<size_t>(c), 0.0);
  s2.assign(static_cast<size_t>(c), 0.0);
  for (int t = 0; t < nt; t++)
    for (int64_t g = 0; g < p.groups; g++)
      for (int64_t j = 0; j < p.width; j++) {
        s1[p.channel(g, j)] += part[2 * t * span + g * p.width + j];
        s2[p.channel(g, j)] += part[2 * t * span + span + g * p.width + j];
      }
}

/** Per-channel (x - center) * scale + shift. */
struct Affine {
  std::vector<float> center, scale, shift;
  explicit Affine(int64_t c) : center(c), scale(c), shift(c) {}
};

void applyAffine(const float* x, const float* res, const Affine& f, const Panels& p, bool relu, float* y) {
  const auto center = p.tile(f.center.data()), scale = p.tile(f.scale.data()), shift = p.tile(f.shift.data());
  p.forEach([&](int, int64_t panel, int64_t r0, int64_t r1) {
    p.rowsOf(panel, r0, r1, [&](int64_t off, int64_t rows, int64_t width, int64_t g) {
      const int64_t t = g * p.width;
      affine(x + off, res ? res + off : nullptr, center.data() + t, scale.data() + t, shift.data() + t, rows, width, relu, y + off);
    });
  });
}

}  // namespace

void batchNormTrainForward(const float* x, const float* gamma, const float* beta, const float* residual,
                           const Activation& a, float eps, bool relu, float* y, float* mean, float* var) {
  const Panels p(a);
  const int64_t c = a.c, m = a.n * a.hw;
  // Moments around a pivot (the first pixel's channels): E[(x-p)^2] - E[x-p]^2 does not cancel
  // when the mean is large next to the spread.
  std::vector<float> pivot(static_cast<size_t>(c));
  for (int64_t j = 0; j < c; j++) pivot[j] = x[a.layout == Layout::Blocked8 ? (j / kBlock) * a.hw * kBlock + j % kBlock : j];
  const auto tiledPivot = p.tile(pivot.data());
  std::vector<double> s1, s2;
  channelSums(p, c, s1, s2, [&](int64_t off, int64_t rows, int64_t w, int64_t g, float* t1, float* t2, double* p1, double* p2) {
    momentSums(x + off, tiledPivot.data() + g * p.width, rows, w, t1, t2, p1, p2);
  });
  Affine f(c);
  for (int64_t j = 0; j < c; j++) {
    const double shifted = s1[j] / m;  // mean - pivot
    const double v = std::max(0.0, s2[j] / m - shifted * shifted);
    mean[j] = f.center[j] = static_cast<float>(pivot[j] + shifted);
    var[j] = static_cast<float>(v);
    f.scale[j] = static_cast<float>(gamma[j] / std::sqrt(v + eps));
    f.shift[j] = beta[j];
  }
  applyAffine(x, residual, f, p, relu, y);
}

void batchNormBackward(const float* dy, const float* x, const float* y, const float* gamma, const float* mean,
                       const float* var, const Activation& a, float eps, bool relu, bool globalStats, float* dx,
                       float* dresidual, float* dgamma, float* dbeta) {
  const Panels p(a);
  const int64_t c = a.c, m = a.n * a.hw;
  const float* mask = relu ? y : nullptr;
  const auto tiledMean = p.tile(mean);
  std::vector<double> sdy, sdyx;
  channelSums(p, c, sdy, sdyx, [&](int64_t off, int64_t rows, int64_t w, int64_t g, float* t1, float* t2, double* p1, double* p2) {
    gradSums(dy + off, x + off, mask ? mask + off : nullptr, tiledMean.data() + g * p.width, rows, w, t1, t2, p1, p2);
  });
  // Train: dx = gamma*r*(g - sum(g)/m - xhat*sum(g*xhat)/m), xhat = (x - mean)*r, as
  // a*g + b*(x - mean) + d. Eval (global statistics): dx = gamma*r*g, so b = d = 0.
  std::vector<float> ka(c), kb(c), kd(c);
  for (int64_t j = 0; j < c; j++) {
    const double r = 1.0 / std::sqrt(static_cast<double>(var[j]) + eps);
    const double sxhat = sdyx[j] * r;  // sum(g * xhat)
    dgamma[j] = static_cast<float>(sxhat);
    dbeta[j] = static_cast<float>(sdy[j]);
    const double k = gamma[j] * r;
    ka[j] = static_cast<float>(k);
    kb[j] = globalStats ? 0.f : static_cast<float>(-k * r * sxhat / m);
    kd[j] = globalStats ? 0.f : static_cast<float>(-k * sdy[j] / m);
  }
  const auto ta = p.tile(ka.data()), tb = p.tile(kb.data()), td = p.tile(kd.data());
  p.forEach([&](int, int64_t panel, int64_t r0, int64_t r1) {
    p.rowsOf(panel, r0, r1, [&](int64_t off, int64_t rows, int64_t width, int64_t g) {
      const int64_t t = g * p.width;
      gradApply(dy + off, x + off, mask ? mask + off : nullptr, tiledMean.data() + t, ta.data() + t, tb.data() + t,
                td.data() + t, rows, width, dx + off, dresidual ? dresidual + off : nullptr);
    });
  });
}

void batchNormInference(const float* x, const float* mean, int64_t meanLen, const float* var, int64_t varLen,
                        const float* gamma, int64_t gammaLen, const float* beta, int64_t betaLen, const Activation& a,
                        const float* residual, float eps, bool relu, float* y) {
  auto at = [](const float* p, int64_t len, int64_t j, float fallback) { return p ? p[len == 1 ? 0 : j] : fallback; };
  Affine f(a.c);
  for (int64_t j = 0; j < a.c; j++) {
    f.center[j] = at(mean, meanLen, j, 0.f);
    f.scale[j] = at(gamma, gammaLen, j, 1.f) / std::sqrt(at(var, varLen, j, 0.f) + eps);
    f.shift[j] = at(beta, betaLen, j, 0.f);
  }
  applyAffine(x, residual, f, Panels(a), relu, y);
}

}  // namespace fp
