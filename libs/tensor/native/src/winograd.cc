#include "winograd.h"

#include <immintrin.h>

#include <algorithm>
#include <memory>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "parallel.h"

#define FP_AVX2 __attribute__((target("avx2,fma")))

namespace fp {

namespace {

struct FreeFloats {
  void operator()(float* p) const { std::free(p); }
};
using Floats = std::unique_ptr<float, FreeFloats>;

Floats allocateFloats(size_t count) {
  const size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
  if (!p) throw std::bad_alloc();
  return Floats(static_cast<float*>(p));
}

/** A buffer that grows to the largest size asked of it and is never shrunk. */
class GrowOnly {
 public:
  float* get(size_t floats) {
    if (floats > size_) {
      buffer_ = allocateFloats(floats);
      size_ = floats;
    }
    return buffer_.get();
  }

 private:
  Floats buffer_;
  size_t size_ = 0;
};

/** Per-thread transformed tiles (V) and products (M): OpenMP threads persist, and so do these. */
float* threadScratch(size_t floats) {
  thread_local GrowOnly buffer;
  return buffer.get(floats);
}

/**
 * m[r][0..8*NV) (+)= sum over i < inner of v[r * rs + i * is] * u[i * ldu + 0..8*NV), for R rows
 * (a 6 x 16 register tile at most: 12 accumulators, 2 filter rows and a broadcast in the 16 ymm
 * registers). Accumulate adds to m instead of overwriting it.
 */
template <int R, int NV, bool Accumulate>
FP_AVX2 inline void gemmTile(const float* v, int64_t rs, int64_t is, const float* u, int64_t ldu, float* m, int64_t ldm, int64_t inner) {
  __m256 acc[R][NV];
#pragma GCC unroll 6
  for (int r = 0; r < R; r++)
#pragma GCC unroll 2
    for (int j = 0; j < NV; j++) acc[r][j] = Accumulate ? _mm256_loadu_ps(m + r * ldm + 8 * j) : _mm256_setzero_ps();
  for (int64_t i = 0; i < inner; i++) {
    __m256 b[NV];
#pragma GCC unroll 2
    for (int j = 0; j < NV; j++) b[j] = _mm256_loadu_ps(u + i * ldu + 8 * j);
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
      const __m256 a = _mm256_broadcast_ss(v + r * rs + i * is);
#pragma GCC unroll 2
      for (int j = 0; j < NV; j++) acc[r][j] = _mm256_fmadd_ps(a, b[j], acc[r][j]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; r++)
#pragma GCC unroll 2
    for (int j = 0; j < NV; j++) _mm256_storeu_ps(m + r * ldm + 8 * j, acc[r][j]);
}

template <int NV, bool Accumulate>
FP_AVX2 void gemmRows(int rows, const float* v, int64_t rs, int64_t is, const float* u, int64_t ldu, float* m, int64_t ldm, int64_t inner) {
  switch (rows) {
    case 6: return gemmTile<6, NV, Accumulate>(v, rs, is, u, ldu, m, ldm, inner);
    case 5: return gemmTile<5, NV, Accumulate>(v, rs, is, u, ldu, m, ldm, inner);
    case 4: return gemmTile<4, NV, Accumulate>(v, rs, is, u, ldu, m, ldm, inner);
    case 3: return gemmTile<3, NV, Accumulate>(v, rs, is, u, ldu, m, ldm, inner);
    case 2: return gemmTile<2, NV, Accumulate>(v, rs, is, u, ldu, m, ldm, inner);
    default: return gemmTile<1, NV, Accumulate>(v, rs, is, u, ldu, m, ldm, inner);
  }
}

/**
 * out [rows][k] (+)= a b over `inner`, where row r, inner index i of a is a[r * rs + i * is] and b
 * is [inner][k]: the forward's M = V U (rows = tiles) and the filter gradient's dU += V^T dM
 * (rows = input channels, inner = tiles).
 */
template <bool Accumulate>
FP_AVX2 void gemm(const float* a, int64_t rs, int64_t is, int64_t rows, const float* b, float* out, int64_t inner, int64_t k) {
  int64_t k0 = 0;
  for (; k0 + 16 <= k; k0 += 16)
    for (int64_t r0 = 0; r0 < rows; r0 += 6)
      gemmRows<2, Accumulate>(static_cast<int>(std::min<int64_t>(6, rows - r0)), a + r0 * rs, rs, is, b + k0, k, out + r0 * k + k0, k, inner);
  if (k0 < k)
    for (int64_t r0 = 0; r0 < rows; r0 += 6)
      gemmRows<1, Accumulate>(static_cast<int>(std::min<int64_t>(6, rows - r0)), a + r0 * rs, rs, is, b + k0, k, out + r0 * k + k0, k, inner);
}

/** B^T d B of a 4x4 patch, 8 channels at once; out[xi * stride] for the 16 elements xi = 4 * row + column. */
FP_AVX2 inline void inputTransform(const __m256 (&d)[4][4], float* out, int64_t stride) {
  __m256 t[4][4];
  for (int j = 0; j < 4; j++) {
    t[0][j] = _mm256_sub_ps(d[0][j], d[2][j]);
    t[1][j] = _mm256_add_ps(d[1][j], d[2][j]);
    t[2][j] = _mm256_sub_ps(d[2][j], d[1][j]);
    t[3][j] = _mm256_sub_ps(d[1][j], d[3][j]);
  }
  for (int i = 0; i < 4; i++) {
    _mm256_storeu_ps(out + (4 * i + 0) * stride, _mm256_sub_ps(t[i][0], t[i][2]));
    _mm256_storeu_ps(out + (4 * i + 1) * stride, _mm256_add_ps(t[i][1], t[i][2]));
    _mm256_storeu_ps(out + (4 * i + 2) * stride, _mm256_sub_ps(t[i][2], t[i][1]));
    _mm256_storeu_ps(out + (4 * i + 3) * stride, _mm256_sub_ps(t[i][1], t[i][3]));
  }
}

}  // namespace

Winograd3x3::Winograd3x3(int64_t c, int64_t k, int64_t h, int64_t w, int64_t padT, int64_t padL, int64_t oh, int64_t ow)
    : c_(c), k_(k), h_(h), w_(w), padT_(padT), padL_(padL), oh_(oh), ow_(ow) {}

bool Winograd3x3::available() {
  static const bool on = [] {
    const char* e = std::getenv("FLOWPRUNE_WINOGRAD");
    return !(e && std::string(e) == "0") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return on;
}

bool Winograd3x3::suits(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t groups, int64_t c, int64_t k, int64_t oh,
                        int64_t ow, int64_t n) {
  if (kh != 3 || kw != 3 || sh != 1 || sw != 1 || dh != 1 || dw != 1 || groups != 1) return false;
  const int64_t tiles = n * ((oh + 1) / 2) * ((ow + 1) / 2);
  return available() && c % 8 == 0 && k % 8 == 0 && std::min(c, k) >= 16 && oh >= 4 && ow >= 4 && tiles >= 16;
}

namespace {

/** U = G g G^T of one 3x3 filter g, with G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]; u[xi * stride]. */
inline void filterTransform(const float (&g)[3][3], float* u, int64_t stride) {
  float gg[4][3];
  for (int j = 0; j < 3; j++) {
    gg[0][j] = g[0][j];
    gg[1][j] = 0.5f * (g[0][j] + g[1][j] + g[2][j]);
    gg[2][j] = 0.5f * (g[0][j] - g[1][j] + g[2][j]);
    gg[3][j] = g[2][j];
  }
  for (int i = 0; i < 4; i++) {
    u[(4 * i + 0) * stride] = gg[i][0];
    u[(4 * i + 1) * stride] = 0.5f * (gg[i][0] + gg[i][1] + gg[i][2]);
    u[(4 * i + 2) * stride] = 0.5f * (gg[i][0] - gg[i][1] + gg[i][2]);
    u[(4 * i + 3) * stride] = gg[i][2];
  }
}

}  // namespace

void Winograd3x3::transformWeights(const float* filter, bool rotated, float* u) const {
  const int64_t ck = c_ * k_;
  // Per step in training (the filter changes every step): spread over the threads.
#pragma omp parallel for schedule(static) if (ck >= 16384)
  for (int64_t ci = 0; ci < c_; ci++)
    for (int64_t ko = 0; ko < k_; ko++) {
      float g[3][3];
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
          g[i][j] = rotated ? filter[((2 - i) * 3 + (2 - j)) * ck + ko * c_ + ci] : filter[(i * 3 + j) * ck + ci * k_ + ko];
      filterTransform(g, u + ci * k_ + ko, ck);
    }
}

namespace {

struct Geometry {
  int64_t c, k, h, w, padT, padL, oh, ow, tilesX, tilesPerImage;
};

/** The input transform of tiles [t0, t0 + tb) into v ([16][tb][c]). */
FP_AVX2 void transformInput(const Geometry& g, const float* src, const MapAccess& in, int64_t t0, int64_t tb, float* v) {
  const int64_t stride = tb * g.c;
  for (int64_t t = 0; t < tb; t++) {
    const int64_t tile = t0 + t, img = tile / g.tilesPerImage, r = tile % g.tilesPerImage;
    const int64_t y0 = (r / g.tilesX) * 2 - g.padT, x0 = (r % g.tilesX) * 2 - g.padL;
    const bool interior = y0 >= 0 && x0 >= 0 && y0 + 4 <= g.h && x0 + 4 <= g.w;
    const float* image = src + img * in.image;
    for (int64_t cb = 0; cb < g.c / 8; cb++) {
      const float* base = image + cb * in.block;
      __m256 d[4][4];
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
          const int64_t y = y0 + i, x = x0 + j;
          d[i][j] = interior || (y >= 0 && y < g.h && x >= 0 && x < g.w) ? _mm256_loadu_ps(base + (y * g.w + x) * in.pixel) : _mm256_setzero_ps();
        }
      inputTransform(d, v + t * g.c + cb * 8, stride);
    }
  }
}

/** A^T m A of tiles [t0, t0 + tb) from m ([16][tb][k]), plus the epilogue, into dst. */
FP_AVX2 void transformOutput(const Geometry& g, const float* m, int64_t t0, int64_t tb, float* dst, const MapAccess& out, const WinogradEpilogue& e) {
  const int64_t stride = tb * g.k;
  const __m256 zero = _mm256_setzero_ps(), lo = _mm256_set1_ps(e.lo), hi = _mm256_set1_ps(e.hi);
  for (int64_t t = 0; t < tb; t++) {
    const int64_t tile = t0 + t, img = tile / g.tilesPerImage, r = tile % g.tilesPerImage;
    const int64_t y0 = (r / g.tilesX) * 2, x0 = (r % g.tilesX) * 2;
    const int rows = y0 + 1 < g.oh ? 2 : 1, cols = x0 + 1 < g.ow ? 2 : 1;
    for (int64_t kb = 0; kb < g.k / 8; kb++) {
      const float* p = m + t * g.k + kb * 8;
      __m256 s[2][4];
      for (int j = 0; j < 4; j++) {
        const __m256 m0 = _mm256_loadu_ps(p + (0 + j) * stride), m1 = _mm256_loadu_ps(p + (4 + j) * stride);
        const __m256 m2 = _mm256_loadu_ps(p + (8 + j) * stride), m3 = _mm256_loadu_ps(p + (12 + j) * stride);
        s[0][j] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
        s[1][j] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
      }
      const __m256 bias = e.bias ? _mm256_loadu_ps(e.bias + kb * 8) : zero;
      float* base = dst + img * out.image + kb * out.block;
      const float* res = e.residual ? e.residual + img * out.image + kb * out.block : nullptr;
      for (int a = 0; a < rows; a++) {
        __m256 y[2];
        y[0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s[a][0], s[a][1]), s[a][2]), bias);
        y[1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s[a][1], s[a][2]), s[a][3]), bias);
        for (int b = 0; b < cols; b++) {
          const int64_t offset = ((y0 + a) * g.ow + x0 + b) * out.pixel;
          __m256 v = y[b];
          if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res + offset));
          if (e.activation == 1) v = _mm256_max_ps(v, zero);
          else if (e.activation == 2) v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
          if (e.postScale) v = _mm256_fmadd_ps(v, _mm256_loadu_ps(e.postScale + kb * 8), _mm256_loadu_ps(e.postShift + kb * 8));
          _mm256_storeu_ps(base + offset, v);
        }
      }
    }
  }
}

}  // namespace

int64_t Winograd3x3::chunkTiles(int64_t total, int threads) const {
  // One product's rows (tb x c floats, 192 KiB) stay in L2 while the filter streams through 16
  // columns at a time, and the filter is read once per chunk, not per few tiles (VGG-13's
  // 512-channel layers ran at half speed with 6-tile chunks). Every thread gets a chunk.
  const int64_t tb = std::clamp<int64_t>(49152 / std::max(c_, k_), 12, 256) / 6 * 6;
  const int64_t perThread = (total + threads - 1) / threads;
  return std::max<int64_t>(1, std::min(tb, perThread));
}

void Winograd3x3::run(const float* src, const MapAccess& in, float* dst, const MapAccess& out, int64_t n, const float* u,
                      const WinogradEpilogue& epilogue, int threads) const {
  const int64_t tilesX = (ow_ + 1) / 2, tilesY = (oh_ + 1) / 2;
  const Geometry g{c_, k_, h_, w_, padT_, padL_, oh_, ow_, tilesX, tilesX * tilesY};
  const int64_t total = n * g.tilesPerImage;
  const int64_t tb = chunkTiles(total, threads);
  const int64_t chunks = (total + tb - 1) / tb;
  const int64_t ck = c_ * k_;
  auto chunk = [&](int64_t index) {
    const int64_t t0 = index * tb, count = std::min(tb, total - t0);
    float* v = threadScratch(static_cast<size_t>(16 * tb * (c_ + k_)));
    float* m = v + 16 * tb * c_;
    transformInput(g, src, in, t0, count, v);
    for (int xi = 0; xi < 16; xi++) gemm<false>(v + xi * count * c_, c_, 1, count, u + xi * ck, m + xi * count * k_, c_, k_);
    transformOutput(g, m, t0, count, dst, out, epilogue);
  };
  const int nt = static_cast<int>(std::min<int64_t>(threads, chunks));
  if (nt <= 1) {
    for (int64_t i = 0; i < chunks; i++) chunk(i);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t i = 0; i < chunks; i++) chunk(i);
}

namespace {

/** A dY A^T of the 2x2 output-gradient block of tiles [t0, t0 + tb) (zero outside the map), into d ([16][tb][k]). */
FP_AVX2 void transformOutputGradient(const Geometry& g, const float* dy, const MapAccess& out, int64_t t0, int64_t tb, float* d) {
  const int64_t stride = tb * g.k;
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t t = 0; t < tb; t++) {
    const int64_t tile = t0 + t, img = tile / g.tilesPerImage, r = tile % g.tilesPerImage;
    const int64_t y0 = (r / g.tilesX) * 2, x0 = (r % g.tilesX) * 2;
    const int rows = y0 + 1 < g.oh ? 2 : 1, cols = x0 + 1 < g.ow ? 2 : 1;
    for (int64_t kb = 0; kb < g.k / 8; kb++) {
      const float* base = dy + img * out.image + kb * out.block;
      __m256 y[2][2];
      for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) y[a][b] = a < rows && b < cols ? _mm256_loadu_ps(base + ((y0 + a) * g.ow + x0 + b) * out.pixel) : zero;
      // A = [[1, 0], [1, 1], [1, -1], [0, -1]], on the rows, then on the columns.
      __m256 q[4][2];
      for (int b = 0; b < 2; b++) {
        q[0][b] = y[0][b];
        q[1][b] = _mm256_add_ps(y[0][b], y[1][b]);
        q[2][b] = _mm256_sub_ps(y[0][b], y[1][b]);
        q[3][b] = _mm256_sub_ps(zero, y[1][b]);
      }
      float* p = d + t * g.k + kb * 8;
      for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(p + (4 * i + 0) * stride, q[i][0]);
        _mm256_storeu_ps(p + (4 * i + 1) * stride, _mm256_add_ps(q[i][0], q[i][1]));
        _mm256_storeu_ps(p + (4 * i + 2) * stride, _mm256_sub_ps(q[i][0], q[i][1]));
        _mm256_storeu_ps(p + (4 * i + 3) * stride, _mm256_sub_ps(zero, q[i][1]));
      }
    }
  }
}

/** Per-thread dU partial sums (filter gradients run one at a time, on the JS thread). */
float* gradientPartials(size_t floats) {
  static GrowOnly buffer;
  return buffer.get(floats);
}

}  // namespace

void Winograd3x3::filterGradient(const float* src, const MapAccess& in, const float* dy, const MapAccess& out, int64_t n, float* dfilter,
                                 int threads) const {
  const int64_t tilesX = (ow_ + 1) / 2, tilesY = (oh_ + 1) / 2;
  const Geometry g{c_, k_, h_, w_, padT_, padL_, oh_, ow_, tilesX, tilesX * tilesY};
  const int64_t total = n * g.tilesPerImage;
  const int64_t tb = chunkTiles(total, threads);
  const int64_t chunks = (total + tb - 1) / tb;
  const int nt = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, chunks)));
  const int64_t ck = c_ * k_;
  float* partials = gradientPartials(static_cast<size_t>(nt * 16 * ck));
#pragma omp parallel num_threads(nt)
  {
    const int64_t id = omp_get_thread_num();
    float* du = partials + id * 16 * ck;
    bool first = true;
    for (int64_t i = id; i < chunks; i += nt) {
      const int64_t t0 = i * tb, count = std::min(tb, total - t0);
      float* v = threadScratch(static_cast<size_t>(16 * tb * (c_ + k_)));
      float* d = v + 16 * tb * c_;
      transformInput(g, src, in, t0, count, v);
      transformOutputGradient(g, dy, out, t0, count, d);
      for (int xi = 0; xi < 16; xi++) {
        // dU[xi] (c x k) += V[xi]^T (tiles x c, read transposed) dM[xi] (tiles x k).
        if (first) gemm<false>(v + xi * count * c_, 1, c_, c_, d + xi * count * k_, du + xi * ck, count, k_);
        else gemm<true>(v + xi * count * c_, 1, c_, c_, d + xi * count * k_, du + xi * ck, count, k_);
      }
      first = false;
    }
  }
  // Sum the partials and return to the filter: dg = G^T dU G.
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t ci = 0; ci < c_; ci++)
    for (int64_t ko = 0; ko < k_; ko++) {
      float du[4][4];
      for (int xi = 0; xi < 16; xi++) {
        float sum = 0;
        for (int th = 0; th < nt; th++) sum += partials[th * 16 * ck + xi * ck + ci * k_ + ko];
        du[xi / 4][xi % 4] = sum;
      }
      float t[3][4];
      for (int j = 0; j < 4; j++) {
        t[0][j] = du[0][j] + 0.5f * (du[1][j] + du[2][j]);
        t[1][j] = 0.5f * (du[1][j] - du[2][j]);
        t[2][j] = 0.5f * (du[1][j] + du[2][j]) + du[3][j];
      }
      for (int a = 0; a < 3; a++) {
        float* o = dfilter + a * 3 * ck + ci * k_ + ko;
        o[0] = t[a][0] + 0.5f * (t[a][1] + t[a][2]);
        o[ck] = 0.5f * (t[a][1] - t[a][2]);
        o[2 * ck] = 0.5f * (t[a][1] + t[a][2]) + t[a][3];
      }
    }
}

}  // namespace fp
