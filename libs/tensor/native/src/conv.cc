#include "conv.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <cstring>

#include "context.h"
#include "parallel.h"
#include "winograd.h"

namespace fp {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

/**
 * A ready-to-run convolution for one shape, pass and pair of activation layouts (tfjs's NHWC or
 * blocked nChw8c, see layout.h). The filter layout is left to oneDNN (`any`), because tfjs's HWIO
 * layout measured at about half speed, and the filter is reordered on each call (filters are small
 * next to activations).
 */
struct ConvPlan {
  dnnl::primitive prim;
  memory::desc act;      // NHWC input-side activations (x or dx)
  memory::desc out;      // NHWC output-side activations (y or dy)
  memory::desc userWei;  // the tfjs filter layout
  memory::desc primWei;  // the layout the primitive reads or writes
  std::optional<dnnl::reorder> reorder;  // user -> prim (forward, backward data) or prim -> user
  memory::desc scratch;
  bool im2col = false;  // backward weights as im2col + one sgemm instead of `prim` (see im2colWeights)
};

using Key = std::array<int64_t, 21>;

Key keyOf(ConvPass pass, const ConvShape& s) {
  return {static_cast<int64_t>(pass), s.n, s.ih, s.iw, s.ic, s.oh, s.ow, s.oc, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw,
          s.pt, s.pl, s.pb, s.pr, s.groups, static_cast<int64_t>(s.in), static_cast<int64_t>(s.out)};
}

tag tagOf(Layout l) { return l == Layout::Blocked8 ? tag::nChw8c : tag::nhwc; }

memory::desc filterDesc(const ConvShape& s, bool any) {
  if (s.groups == 1) return memory::desc({s.oc, s.ic, s.kh, s.kw}, dt::f32, any ? tag::any : tag::hwio);
  // Grouped: dims (g, oc/g, ic/g, kh, kw). hwigo puts g then o innermost, which is exactly tfjs's
  // depthwise [kh, kw, ic, multiplier] with ic/g = 1.
  return memory::desc({s.groups, s.oc / s.groups, s.ic / s.groups, s.kh, s.kw}, dt::f32, any ? tag::any : tag::hwigo);
}

// The im2col matrix of the filter gradient may take at most this many floats (64 MiB).
constexpr int64_t kIm2colMaxFloats = int64_t{16} << 20;
// Output maps of at most this many pixels get the im2col filter gradient whatever oneDNN offers.
constexpr int64_t kIm2colMaxPixels = 16;

/**
 * Where oneDNN falls back to its gemm-based filter gradient (NHWC geometries with no blocked
 * kernel: VGG-13's 2x2 and 4x4 stages), it ran at ~20 GFLOP/s here, against ~150 for one sgemm
 * over an explicit im2col matrix; the matrix is small exactly there (few output pixels).
 */
bool im2colWeightsFor(const ConvShape& s, const char* impl) {
  if (s.groups != 1 || s.in != Layout::Nhwc || s.out != Layout::Nhwc) return false;
  if (std::string(impl).find("gemm") == std::string::npos && s.oh * s.ow > kIm2colMaxPixels) return false;
  return s.n * s.oh * s.ow * s.kh * s.kw * s.ic <= kIm2colMaxFloats;
}

/**
 * dfilter[kh,kw,ic,oc] = sum over (n,oy,ox) of x[n, oy*sh-pt+kh*dh, ox*sw-pl+kw*dw, ic] * dy[n,oy,ox,oc]:
 * col (one row per output pixel, one column per filter tap and input channel; zero where the
 * tap falls in the padding) transposed times dy, which is tfjs's HWIO layout as it stands.
 */
void im2colWeights(const ConvShape& s, const float* x, const float* dy, float* dw) {
  const int64_t m = s.n * s.oh * s.ow, k = s.kh * s.kw * s.ic;
  float* col = context().temp(static_cast<size_t>(m * k), 1);
  const size_t rowBytes = static_cast<size_t>(s.ic) * sizeof(float);
  parallelRanges(m, k, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const int64_t n = r / (s.oh * s.ow), p = r % (s.oh * s.ow), oy = p / s.ow, ox = p % s.ow;
      for (int64_t ky = 0; ky < s.kh; ky++) {
        const int64_t iy = oy * s.sh - s.pt + ky * s.dh;
        for (int64_t kx = 0; kx < s.kw; kx++) {
          const int64_t ix = ox * s.sw - s.pl + kx * s.dw;
          float* dst = col + r * k + (ky * s.kw + kx) * s.ic;
          if (iy < 0 || iy >= s.ih || ix < 0 || ix >= s.iw) std::memset(dst, 0, rowBytes);
          else std::memcpy(dst, x + ((n * s.ih + iy) * s.iw + ix) * s.ic, rowBytes);
        }
      }
    }
  });
  if (dnnl::sgemm('T', 'N', k, s.oc, m, 1.f, col, k, dy, s.oc, 0.f, dw, s.oc) != dnnl::status::success)
    throw std::runtime_error("sgemm failed in the filter gradient");
}

ConvPlan makePlan(ConvPass pass, const ConvShape& s) {
  if (s.groups != 1 && s.ic % s.groups != 0) throw std::invalid_argument("channels not divisible by groups");
  Context& ctx = context();
  const memory::desc act({s.n, s.ic, s.ih, s.iw}, dt::f32, tagOf(s.in));
  const memory::desc out({s.n, s.oc, s.oh, s.ow}, dt::f32, tagOf(s.out));
  const memory::desc userWei = filterDesc(s, false);
  const memory::desc anyWei = filterDesc(s, true);
  const memory::dims strides{s.sh, s.sw};
  const memory::dims dilates{s.dh - 1, s.dw - 1};  // oneDNN counts dilation from 0
  const memory::dims padL{s.pt, s.pl};
  const memory::dims padR{s.pb, s.pr};
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

  const auto fwd = convFwdPd(ctx.engine, act, anyWei, out, strides, dilates, padL, padR, attr);
  ConvPlan plan{dnnl::primitive(), act, out, userWei, memory::desc(), std::nullopt, memory::desc()};
  switch (pass) {
    case ConvPass::Forward:
      plan.prim = dnnl::convolution_forward(fwd);
      plan.primWei = fwd.weights_desc();
      plan.scratch = fwd.scratchpad_desc();
      if (plan.primWei != userWei) plan.reorder = dnnl::reorder(dnnl::reorder::primitive_desc(ctx.engine, userWei, ctx.engine, plan.primWei));
      break;
    case ConvPass::BackwardData: {
      const auto pd = convBwdDataPd(ctx.engine, act, anyWei, out, strides, dilates, padL, padR, fwd, attr);
      plan.prim = dnnl::convolution_backward_data(pd);
      plan.primWei = pd.weights_desc();
      plan.scratch = pd.scratchpad_desc();
      if (plan.primWei != userWei) plan.reorder = dnnl::reorder(dnnl::reorder::primitive_desc(ctx.engine, userWei, ctx.engine, plan.primWei));
      break;
    }
    case ConvPass::BackwardWeights: {
      const auto pd = convBwdWeightsPd(ctx.engine, act, anyWei, out, strides, dilates, padL, padR, fwd, attr);
      plan.prim = dnnl::convolution_backward_weights(pd);
      plan.primWei = pd.diff_weights_desc();
      plan.scratch = pd.scratchpad_desc();
      plan.im2col = im2colWeightsFor(s, pd.impl_info_str());
      if (plan.primWei != userWei) plan.reorder = dnnl::reorder(dnnl::reorder::primitive_desc(ctx.engine, plan.primWei, ctx.engine, userWei));
      break;
    }
  }
  return plan;
}

// Creating a primitive costs milliseconds (JIT), running one can cost microseconds: plans are kept
// per shape. A training run sees a few dozen shapes; the bound only guards odd long-lived uses.
std::map<Key, ConvPlan>& plans() {
  static std::map<Key, ConvPlan> cache;
  return cache;
}

const ConvPlan& planFor(ConvPass pass, const ConvShape& s) {
  auto& cache = plans();
  const Key key = keyOf(pass, s);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= 1024) cache.clear();
  return cache.emplace(key, makePlan(pass, s)).first->second;
}

bool isReference(const char* impl) { return std::string(impl).find("ref") != std::string::npos; }

bool blockedViable(const ConvShape& geometry) {
  if (geometry.ic % kBlock != 0 || geometry.oc % kBlock != 0) return false;
  ConvShape s = geometry;
  s.in = s.out = Layout::Blocked8;
  Context& ctx = context();
  const memory::desc act({s.n, s.ic, s.ih, s.iw}, dt::f32, tag::nChw8c);
  const memory::desc out({s.n, s.oc, s.oh, s.ow}, dt::f32, tag::nChw8c);
  const memory::desc wei = filterDesc(s, true);
  const memory::dims strides{s.sh, s.sw}, dilates{s.dh - 1, s.dw - 1}, padL{s.pt, s.pl}, padR{s.pb, s.pr};
  const dnnl::primitive_attr attr;
  const auto fwd = convFwdPd(ctx.engine, act, wei, out, strides, dilates, padL, padR, attr);
  const auto bwdData = convBwdDataPd(ctx.engine, act, wei, out, strides, dilates, padL, padR, fwd, attr);
  const auto bwdWeights = convBwdWeightsPd(ctx.engine, act, wei, out, strides, dilates, padL, padR, fwd, attr);
  // oneDNN's reference kernels are correct but orders of magnitude slower (measured: seconds for a
  // 512-channel 2x2 weight gradient); such geometries stay NHWC, which has optimised kernels.
  return !isReference(fwd.impl_info_str()) && !isReference(bwdData.impl_info_str()) &&
         !isReference(bwdWeights.impl_info_str());
}

/** The policy in effect: FLOWPRUNE_NATIVE_LAYOUT (nhwc, blocked, auto) until setConvLayoutPolicy. */
LayoutPolicy& policy() {
  static LayoutPolicy p = [] {
    const char* v = std::getenv("FLOWPRUNE_NATIVE_LAYOUT");
    const std::string mode = v ? v : "";
    return mode == "nhwc" ? LayoutPolicy::Nhwc : mode == "blocked" ? LayoutPolicy::Blocked : LayoutPolicy::Measure;
  }();
  return p;
}

std::map<Key, bool>& decisions() {
  static std::map<Key, bool> cache;
  return cache;
}

/** Seconds for the three passes of geometry s in `layout`: the best of a few runs after a warm-up. */
double timePasses(ConvShape s, Layout layout) {
  s.in = s.out = layout;
  const size_t in = static_cast<size_t>(s.n * s.ih * s.iw * s.ic), out = static_cast<size_t>(s.n * s.oh * s.ow * s.oc);
  const size_t filt = static_cast<size_t>(s.kh * s.kw * (s.ic / s.groups) * s.oc);
  std::vector<float> x(in, 0.5f), dx(in), y(out), dy(out, 0.25f), w(filt, 0.125f), dw(filt);
  double total = 0;
  for (ConvPass pass : {ConvPass::Forward, ConvPass::BackwardData, ConvPass::BackwardWeights}) {
    auto once = [&] {
      const auto t0 = std::chrono::steady_clock::now();
      if (pass == ConvPass::Forward) convolution(pass, s, x.data(), w.data(), y.data());
      else if (pass == ConvPass::BackwardData) convolution(pass, s, dy.data(), w.data(), dx.data());
      else convolution(pass, s, x.data(), dy.data(), dw.data());
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    once();
    double best = once();
    for (int r = 0; r < 2; r++) best = std::min(best, once());
    total += best;
  }
  return total;
}

/**
 * Which layout is faster depends on the geometry (and the CPU): measured blocked wins clearly for
 * ResNet-56's small-channel 3x3 layers but loses for some depthwise backward passes. So each
 * geometry is timed once in both layouts on a sample of the batch (at most 16 images, which keeps
 * this to milliseconds), all three passes together, and the faster one is kept.
 */
bool chooseBlocked(const ConvShape& s) {
  if (!blockedViable(s)) return false;
  if (policy() != LayoutPolicy::Measure) return policy() == LayoutPolicy::Blocked;
  ConvShape sample = s;
  sample.n = std::min<int64_t>(s.n, 16);
  return timePasses(sample, Layout::Blocked8) < timePasses(sample, Layout::Nhwc);
}

/**
 * The Winograd kernel (winograd.h) for any pass of a convolution that suits it; nullopt otherwise.
 * Backward data is the forward convolution of dy, padded by 2 - the forward's padding, with the
 * filter turned by 180 degrees and transposed.
 */
std::optional<Winograd3x3> winogradFor(ConvPass pass, const ConvShape& s) {
  auto suits = [&](int64_t c, int64_t k, int64_t oh, int64_t ow) {
    return Winograd3x3::suits(s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.groups, c, k, oh, ow, s.n);
  };
  if (pass != ConvPass::BackwardData) {
    if (!suits(s.ic, s.oc, s.oh, s.ow)) return std::nullopt;
    return Winograd3x3(s.ic, s.oc, s.ih, s.iw, s.pt, s.pl, s.oh, s.ow);
  }
  if (s.pt > 2 || s.pl > 2 || !suits(s.oc, s.ic, s.ih, s.iw)) return std::nullopt;
  return Winograd3x3(s.oc, s.ic, s.oh, s.ow, 2 - s.pt, 2 - s.pl, s.ih, s.iw);
}

}  // namespace

void setConvLayoutPolicy(LayoutPolicy p) {
  policy() = p;
  decisions().clear();
}

bool convPrefersBlocked(const ConvShape& s) {
  std::map<Key, bool>& cache = decisions();
  ConvShape g = s;
  g.in = g.out = Layout::Nhwc;
  const Key key = keyOf(ConvPass::Forward, g);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= 1024) cache.clear();
  return cache.emplace(key, chooseBlocked(g)).first->second;
}

void convolution(ConvPass pass, const ConvShape& s, const float* a, const float* b, float* out) {
  Context& ctx = context();
  if (const auto winograd = winogradFor(pass, s)) {
    const MapAccess x = MapAccess::of(s.in == Layout::Blocked8, s.ic, s.ih, s.iw), y = MapAccess::of(s.out == Layout::Blocked8, s.oc, s.oh, s.ow);
    if (pass == ConvPass::BackwardWeights) {
      winograd->filterGradient(a, x, b, y, s.n, out, getThreads());
      return;
    }
    float* u = ctx.temp(static_cast<size_t>(winograd->weightFloats()), 2);
    winograd->transformWeights(b, pass == ConvPass::BackwardData, u);
    if (pass == ConvPass::Forward) winograd->run(a, x, out, y, s.n, u, WinogradEpilogue{}, getThreads());
    else winograd->run(a, y, out, x, s.n, u, WinogradEpilogue{}, getThreads());
    return;
  }
  const ConvPlan& plan = planFor(pass, s);
  auto mem = [&](const memory::desc& md, const float* p) { return memory(md, ctx.engine, const_cast<float*>(p)); };
  const memory scratch = ctx.scratchpad(plan.scratch);
  float* tmp = plan.reorder ? ctx.temp(plan.primWei.get_size() / sizeof(float), 0) : nullptr;

  switch (pass) {
    case ConvPass::Forward:
    case ConvPass::BackwardData: {
      memory wei = mem(plan.userWei, b);
      if (plan.reorder) {
        memory packed = mem(plan.primWei, tmp);
        plan.reorder->execute(ctx.stream, wei, packed);
        wei = packed;
      }
      if (pass == ConvPass::Forward) {
        plan.prim.execute(ctx.stream, {{DNNL_ARG_SRC, mem(plan.act, a)},
                                       {DNNL_ARG_WEIGHTS, wei},
                                       {DNNL_ARG_DST, mem(plan.out, out)},
                                       {DNNL_ARG_SCRATCHPAD, scratch}});
      } else {
        plan.prim.execute(ctx.stream, {{DNNL_ARG_DIFF_DST, mem(plan.out, a)},
                                       {DNNL_ARG_WEIGHTS, wei},
                                       {DNNL_ARG_DIFF_SRC, mem(plan.act, out)},
                                       {DNNL_ARG_SCRATCHPAD, scratch}});
      }
      break;
    }
    case ConvPass::BackwardWeights: {
      if (plan.im2col) {
        im2colWeights(s, a, b, out);
        return;
      }
      memory user = mem(plan.userWei, out);
      memory diffWei = plan.reorder ? mem(plan.primWei, tmp) : user;
      plan.prim.execute(ctx.stream, {{DNNL_ARG_SRC, mem(plan.act, a)},
                                     {DNNL_ARG_DIFF_DST, mem(plan.out, b)},
                                     {DNNL_ARG_DIFF_WEIGHTS, diffWei},
                                     {DNNL_ARG_SCRATCHPAD, scratch}});
      if (plan.reorder) plan.reorder->execute(ctx.stream, diffWei, user);
      break;
    }
  }
  ctx.stream.wait();
}

}  // namespace fp
