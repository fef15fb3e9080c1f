#include "inference.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <immintrin.h>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "context.h"
#include "dnnl_compat.h"
#include "parallel.h"
#include "winograd.h"

namespace fp {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct TensorDef {
  int rank;  // 4: a [n, c, h, w] map; 2: [n, c] features
  int64_t c, h, w;
  int64_t perImage() const { return c * h * w; }
};

struct OpDef {
  InferenceOpKind kind;
  int in, out, residual;
  double p[kOpRecord - 4];
};

// Conv parameters (OpDef::p), as native-inference.ts writes them.
enum ConvParam { kIc, kOc, kKh, kKw, kSh, kSw, kDh, kDw, kPt, kPl, kPb, kPr, kGroups, kHasBn, kEps, kAct, kActMin, kActMax, kHasPostBn, kPostEps };
// Pool parameters.
enum PoolParam { kAlg, kPoolKh, kPoolKw, kPoolSh, kPoolSw, kPoolPt, kPoolPl, kPoolPb, kPoolPr };
// Linear parameters.
enum LinearParam { kIn, kOut, kLinAct, kLinActMin, kLinActMax };

/** Host copies of an op's weights after folding, in tfjs's layouts (conv HWIO / hwigo, linear [in, out]). */
struct Folded {
  std::vector<float> w, bias, postScale, postShift;
};

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float, AlignedFree>;

Buffer allocate(size_t bytes) {
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p) throw std::bad_alloc();
  return Buffer(static_cast<float*>(p));
}

/**
 * Ops of less work than this run on one thread (FLOWPRUNE_SERIAL_MFLOP, default 4). Each OpenMP
 * parallel region wakes the other threads: microseconds on an idle machine, where 4 MFLOP (ResNet-56
 * at batch 1: 7.9 -> 4.8 ms, MobileNet-V1 3.8 -> 2.6 ms against 32) splits the work where it pays;
 * but a scheduler time slice each on an oversubscribed one (load 16 on 2 cores made batch-1 eval
 * ~20x slower on 2 threads than on 1), where 32 or more keeps small ops serial.
 */
double serialFlops() {
  static const double v = [] {
    const char* e = std::getenv("FLOWPRUNE_SERIAL_MFLOP");
    const double mflop = e && *e ? std::atof(e) : 4;
    return (mflop >= 0 ? mflop : 4) * 1e6;
  }();
  return v;
}

/** omp_set_num_threads for a scope (oneDNN sizes its kernels by the count at creation and at execution). */
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : previous_(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~ThreadScope() { omp_set_num_threads(previous_); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
};

struct OpPlan {
  dnnl::primitive prim;
  int threads = 1;
  memory::desc src, dst, scratch;
  std::optional<dnnl::reorder> srcReorder;  // stored layout -> the layout the primitive reads
  Buffer srcTemp;
  memory wei, bias, postScale, postShift;  // owned, in the primitive's layouts
  memory::desc weiUser;
  bool aliasResidual = false;  // the sum post-op adds into the residual's own buffer
  std::string impl;
  // A 3x3 convolution run by our Winograd kernel instead of `prim` (see planWinograd).
  std::unique_ptr<Winograd3x3> winograd;
  MapAccess winogradIn{}, winogradOut{};
  std::vector<float> winogradWeights, winogradBias, winogradPostScale, winogradPostShift;
  // A 1x1 convolution carrying the next op, a stride-2 depthwise one, as a post-op (see
  // depthwiseFusable); that op's own plan is then `fusedAway`.
  bool carriesDepthwise = false, fusedAway = false;
  memory dwWei, dwBias;
  memory::desc dwWeiUser;
};

struct BatchPlan {
  std::vector<OpPlan> ops;
  std::vector<memory::desc> desc;  // per tensor: how it is stored
  std::vector<int> slot;           // per tensor: index into buffers; -1 for the input and the output
  std::vector<Buffer> buffers;
  uint64_t weightsVersion = 0;
};

struct Executor {
  std::vector<TensorDef> tensors;
  std::vector<OpDef> ops;
  int output = 0;
  Layout layout = Layout::Blocked8;
  std::vector<Folded> folded;
  uint64_t version = 0;  // 0: no weights yet
  std::map<std::pair<int64_t, int>, std::unique_ptr<BatchPlan>> plans;
};

std::map<int, std::unique_ptr<Executor>>& executors() {
  static std::map<int, std::unique_ptr<Executor>> all;
  return all;
}

Executor& executor(int handle) {
  auto it = executors().find(handle);
  if (it == executors().end()) throw std::invalid_argument("unknown inference handle (released?)");
  return *it->second;
}

int64_t at(const double* p, int i) { return static_cast<int64_t>(p[i]); }

memory::desc tensorDesc(const TensorDef& t, int64_t n, Layout layout) {
  if (t.rank == 2) return memory::desc({n, t.c}, dt::f32, tag::nc);
  const bool blocked = layout == Layout::Blocked8 && t.c % kBlock == 0;
  return memory::desc({n, t.c, t.h, t.w}, dt::f32, blocked ? tag::nChw8c : tag::nhwc);
}

/** The tfjs filter as oneDNN sees it: HWIO (groups 1) or hwigo (grouped and depthwise, see conv.cc). */
memory::desc convUserWeights(const OpDef& op) {
  const int64_t g = at(op.p, kGroups), ic = at(op.p, kIc), oc = at(op.p, kOc), kh = at(op.p, kKh), kw = at(op.p, kKw);
  if (g == 1) return memory::desc({oc, ic, kh, kw}, dt::f32, tag::hwio);
  return memory::desc({g, oc / g, ic / g, kh, kw}, dt::f32, tag::hwigo);
}

memory::desc convAnyWeights(const OpDef& op) {
  const int64_t g = at(op.p, kGroups), ic = at(op.p, kIc), oc = at(op.p, kOc), kh = at(op.p, kKh), kw = at(op.p, kKw);
  if (g == 1) return memory::desc({oc, ic, kh, kw}, dt::f32, tag::any);
  return memory::desc({g, oc / g, ic / g, kh, kw}, dt::f32, tag::any);
}

/** tfjs's linear weight [in, out] seen as the inner product's [out, c, h, w] (flattened NCHW order) or [out, in]. */
memory::desc linearUserWeights(const TensorDef& src, int64_t out) {
  if (src.rank == 4)
    return memory::desc({out, src.c, src.h, src.w}, dt::f32, memory::dims{1, src.h * src.w * out, src.w * out, out});
  return memory::desc({out, src.c}, dt::f32, memory::dims{1, out});
}

dnnl::algorithm activation(double kind, double lo, double hi, float* alpha, float* beta) {
  *alpha = static_cast<float>(lo);
  *beta = static_cast<float>(hi);
  if (kind == 1) {
    *alpha = 0.f;
    *beta = 0.f;
    return dnnl::algorithm::eltwise_relu;
  }
  return dnnl::algorithm::eltwise_clip;
}

bool isReference(const std::string& impl) { return impl.find("ref") != std::string::npos; }

/** The plan of a primitive with weights and a bias (convolution, inner product), its buffers in the layouts pd chose. */
template <typename Primitive, typename PrimitiveDesc>
OpPlan weightedPlan(const PrimitiveDesc& pd, const memory::desc& dst, const memory::desc& weiUser, const memory::desc& bias) {
  OpPlan plan;
  plan.prim = Primitive(pd);
  plan.src = pd.src_desc();
  plan.dst = dst;
  plan.scratch = pd.scratchpad_desc();
  plan.wei = memory(pd.weights_desc(), context().engine);
  plan.weiUser = weiUser;
  plan.bias = memory(bias, context().engine);
  plan.impl = pd.impl_info_str();
  return plan;
}

OpPlan planConv(const OpDef& op, const memory::desc& src, const memory::desc& dst) {
  Context& ctx = context();
  const int64_t oc = at(op.p, kOc);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::post_ops post;
  if (op.residual >= 0) post.append_sum(1.f);
  if (op.p[kAct] != 0) {
    float alpha, beta;
    const auto alg = activation(op.p[kAct], op.p[kActMin], op.p[kActMax], &alpha, &beta);
    appendEltwise(post, alg, alpha, beta);
  }
  const memory::desc perChannel({1, oc, 1, 1}, dt::f32, tag::nchw);
  if (op.p[kHasPostBn] != 0) {
    post.append_binary(dnnl::algorithm::binary_mul, perChannel);
    post.append_binary(dnnl::algorithm::binary_add, perChannel);
  }
  attr.set_post_ops(post);
  const memory::dims strides{at(op.p, kSh), at(op.p, kSw)}, dilates{at(op.p, kDh) - 1, at(op.p, kDw) - 1};
  const memory::dims padL{at(op.p, kPt), at(op.p, kPl)}, padR{at(op.p, kPb), at(op.p, kPr)};
  const memory::desc bias({oc}, dt::f32, tag::x);
  auto pd = convInferencePd(ctx.engine, src, convAnyWeights(op), bias, dst, strides, dilates, padL, padR, attr);
  bool reorderSrc = false;
  if (isReference(pd.impl_info_str())) {
    // No optimised kernel reads this source layout (e.g. a 3-channel NHWC image into a blocked
    // output): let oneDNN pick the source layout and reorder the input into it.
    const memory::desc anySrc(src.dims(), dt::f32, tag::any);
    auto alt = convInferencePd(ctx.engine, anySrc, convAnyWeights(op), bias, dst, strides, dilates, padL, padR, attr);
    if (!isReference(alt.impl_info_str())) {
      pd = alt;
      reorderSrc = true;
    }
  }
  OpPlan plan = weightedPlan<dnnl::convolution_forward>(pd, dst, convUserWeights(op), bias);
  if (reorderSrc) {
    plan.srcReorder = dnnl::reorder(dnnl::reorder::primitive_desc(ctx.engine, src, ctx.engine, pd.src_desc()));
    plan.srcTemp = allocate(pd.src_desc().get_size());
  }
  if (op.p[kHasPostBn] != 0) {
    plan.postScale = memory(perChannel, ctx.engine);
    plan.postShift = memory(perChannel, ctx.engine);
  }
  return plan;
}

OpPlan planPool(const OpDef& op, const memory::desc& src, const memory::desc& dst) {
  Context& ctx = context();
  const int alg = static_cast<int>(op.p[kAlg]);
  const dnnl::algorithm a = alg == 0   ? dnnl::algorithm::pooling_max
                            : alg == 1 ? dnnl::algorithm::pooling_avg_include_padding
                                       : dnnl::algorithm::pooling_avg_exclude_padding;
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto pd = poolInferencePd(ctx.engine, a, src, dst, {at(op.p, kPoolSh), at(op.p, kPoolSw)}, {at(op.p, kPoolKh), at(op.p, kPoolKw)},
                                  {at(op.p, kPoolPt), at(op.p, kPoolPl)}, {at(op.p, kPoolPb), at(op.p, kPoolPr)}, attr);
  OpPlan plan;
  plan.prim = dnnl::pooling_forward(pd);
  plan.src = src;
  plan.dst = dst;
  plan.scratch = pd.scratchpad_desc();
  plan.impl = pd.impl_info_str();
  return plan;
}

OpPlan planLinear(const OpDef& op, const TensorDef& in, const memory::desc& src, const memory::desc& dst) {
  Context& ctx = context();
  const int64_t out = at(op.p, kOut);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (op.p[kLinAct] != 0) {
    dnnl::post_ops post;
    float alpha, beta;
    const auto alg = activation(op.p[kLinAct], op.p[kLinActMin], op.p[kLinActMax], &alpha, &beta);
    appendEltwise(post, alg, alpha, beta);
    attr.set_post_ops(post);
  }
  const memory::desc anyWei = in.rank == 4 ? memory::desc({out, in.c, in.h, in.w}, dt::f32, tag::any) : memory::desc({out, in.c}, dt::f32, tag::any);
  const memory::desc bias({out}, dt::f32, tag::x);
  const auto pd = innerProductInferencePd(ctx.engine, src, anyWei, bias, dst, attr);
  return weightedPlan<dnnl::inner_product_forward>(pd, dst, linearUserWeights(in, out), bias);
}

/** How a map is addressed by channel blocks of 8 (blocked nChw8c, or NHWC with 8k channels); nullopt otherwise. */
std::optional<MapAccess> mapAccess(const memory::desc& d) {
  const memory::dims dims = d.dims();
  if (dims.size() != 4 || dims[1] % kBlock != 0) return std::nullopt;
  const int64_t c = dims[1], h = dims[2], w = dims[3];
  if (d == memory::desc(dims, dt::f32, tag::nChw8c)) return MapAccess::of(true, c, h, w);
  if (d == memory::desc(dims, dt::f32, tag::nhwc)) return MapAccess::of(false, c, h, w);
  return std::nullopt;
}

/**
 * Whether op runs on the Winograd kernel (winograd.h): a convolution that suits it
 * (Winograd3x3::suits), between maps addressed by blocks of 8 channels, with any residual stored
 * as its output is.
 */
bool winogradFits(const Executor& ex, const OpDef& op, int64_t n, const memory::desc& src, const memory::desc& dst, const memory::desc* residual) {
  if (op.kind != InferenceOpKind::Conv) return false;
  const TensorDef& in = ex.tensors[op.in];
  const TensorDef& out = ex.tensors[op.out];
  return Winograd3x3::suits(at(op.p, kKh), at(op.p, kKw), at(op.p, kSh), at(op.p, kSw), at(op.p, kDh), at(op.p, kDw), at(op.p, kGroups), in.c, out.c,
                            out.h, out.w, n) &&
         mapAccess(src) && mapAccess(dst) && (!residual || *residual == dst);
}

OpPlan planWinograd(const Executor& ex, const OpDef& op, const memory::desc& src, const memory::desc& dst) {
  const TensorDef& in = ex.tensors[op.in];
  const TensorDef& out = ex.tensors[op.out];
  OpPlan plan;
  plan.winograd = std::make_unique<Winograd3x3>(in.c, out.c, in.h, in.w, at(op.p, kPt), at(op.p, kPl), out.h, out.w);
  plan.winogradIn = *mapAccess(src);
  plan.winogradOut = *mapAccess(dst);
  plan.src = src;
  plan.dst = dst;
  plan.impl = "winograd_2x3:avx2";
  return plan;
}

/**
 * Whether ops i (a 1x1 convolution) and i + 1 (a 3x3 stride-2 depthwise convolution of its output,
 * MobileNet's pointwise-then-next-block pair) run as one oneDNN primitive with a depthwise post-op:
 * the pointwise output, read by nothing else, is then never written out. Only where every map is
 * blocked (the fused kernel is the blocked 1x1 one). Measured at batch 128 (2 threads): 11.7 ->
 * 9.2 ms (32 -> 64 channels at 32x32), 13.0 -> 8.4 ms, 22.3 -> 16.1 ms; stride 1 gained little or
 * lost (18.3 -> 23.3 ms at 512 channels, 4x4), so it stays two primitives.
 */
bool depthwiseFusable(const Executor& ex, size_t i, const std::vector<int>& readers, const std::vector<memory::desc>& desc) {
  if (i + 1 >= ex.ops.size()) return false;
  const OpDef& a = ex.ops[i];
  const OpDef& b = ex.ops[i + 1];
  if (a.kind != InferenceOpKind::Conv || b.kind != InferenceOpKind::Conv || a.residual >= 0 || b.residual >= 0) return false;
  if (a.p[kHasPostBn] != 0 || b.p[kHasPostBn] != 0 || b.in != a.out || a.out == ex.output || b.out == ex.output || readers[a.out] != 1) return false;
  const TensorDef& mid = ex.tensors[a.out];
  const TensorDef& out = ex.tensors[b.out];
  const bool pointwise = at(a.p, kKh) == 1 && at(a.p, kKw) == 1 && at(a.p, kSh) == 1 && at(a.p, kSw) == 1 && at(a.p, kGroups) == 1 &&
                         at(a.p, kPt) == 0 && at(a.p, kPl) == 0 && at(a.p, kPb) == 0 && at(a.p, kPr) == 0;
  const bool depthwise = at(b.p, kGroups) == mid.c && at(b.p, kOc) == mid.c && at(b.p, kKh) == 3 && at(b.p, kKw) == 3 && at(b.p, kSh) == 2 &&
                         at(b.p, kSw) == 2 && at(b.p, kDh) == 1 && at(b.p, kDw) == 1 && at(b.p, kPt) == 1 && at(b.p, kPl) == 1 &&
                         out.h == (mid.h - 1) / 2 + 1 && out.w == (mid.w - 1) / 2 + 1;
  auto blocked = [&](int t) { return desc[t] == tensorDesc(ex.tensors[t], desc[t].dims()[0], Layout::Blocked8); };
  return pointwise && depthwise && ex.tensors[a.in].rank == 4 && blocked(a.in) && blocked(a.out) && blocked(b.out);
}

/** The pointwise op a with the depthwise op b as a post-op (nullopt where oneDNN has only its reference kernel for it). */
std::optional<OpPlan> planConvWithDepthwise(const OpDef& a, const OpDef& b, const memory::desc& src, const memory::desc& mid, const memory::desc& dst) {
  Context& ctx = context();
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::post_ops post;
  float alpha, beta;
  if (a.p[kAct] != 0) appendEltwise(post, activation(a.p[kAct], a.p[kActMin], a.p[kActMax], &alpha, &beta), alpha, beta);
  appendDepthwise(post, 2, 1);
  if (b.p[kAct] != 0) appendEltwise(post, activation(b.p[kAct], b.p[kActMin], b.p[kActMax], &alpha, &beta), alpha, beta);
  attr.set_post_ops(post);
  const int64_t oc = at(a.p, kOc);
  const memory::desc bias({oc}, dt::f32, tag::x);
  dnnl::convolution_forward::primitive_desc pd;
  try {
    pd = convInferencePd(ctx.engine, src, convAnyWeights(a), bias, mid, {1, 1}, {0, 0}, {0, 0}, {0, 0}, attr);
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
  if (isReference(pd.impl_info_str()) || pd.dst_desc() != dst) return std::nullopt;
  OpPlan plan = weightedPlan<dnnl::convolution_forward>(pd, dst, convUserWeights(a), bias);
  plan.carriesDepthwise = true;
  plan.dwWei = memory(pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS), ctx.engine);
  plan.dwWeiUser = convUserWeights(b);
  plan.dwBias = memory(bias, ctx.engine);
  plan.impl = std::string(pd.impl_info_str()) + " + depthwise";
  return plan;
}

/** Floating-point operations of one op on a batch of n (2 per multiply-accumulate; a pooling window's reads). */
double opFlops(const Executor& ex, const OpDef& op, int64_t n) {
  const TensorDef& out = ex.tensors[op.out];
  const double pixels = static_cast<double>(n) * out.h * out.w;
  switch (op.kind) {
    case InferenceOpKind::Conv:
      return 2 * pixels * out.c * op.p[kKh] * op.p[kKw] * (op.p[kIc] / op.p[kGroups]);
    case InferenceOpKind::Pool:
      return pixels * out.c * op.p[kPoolKh] * op.p[kPoolKw];
    case InferenceOpKind::Linear:
      return 2.0 * n * op.p[kIn] * op.p[kOut];
  }
  return 0;
}

std::unique_ptr<BatchPlan> makePlan(const Executor& ex, Layout inLayout, int64_t n) {
  auto plan = std::make_unique<BatchPlan>();
  const size_t count = ex.tensors.size();
  plan->desc.resize(count);
  plan->slot.assign(count, -1);
  for (size_t t = 0; t < count; t++) plan->desc[t] = tensorDesc(ex.tensors[t], n, t == 0 ? inLayout : ex.layout);
  // The output is written into the caller's tensor: NHWC when it is a map.
  plan->desc[ex.output] = tensorDesc(ex.tensors[ex.output], n, Layout::Nhwc);

  std::vector<int> lastUse(count, -1), readers(count, 0);
  for (size_t i = 0; i < ex.ops.size(); i++) {
    lastUse[ex.ops[i].in] = static_cast<int>(i);
    readers[ex.ops[i].in]++;
    if (ex.ops[i].residual >= 0) {
      lastUse[ex.ops[i].residual] = static_cast<int>(i);
      if (ex.ops[i].residual != ex.ops[i].in) readers[ex.ops[i].residual]++;
    }
  }
  std::vector<int> free;  // slots whose tensor is dead
  std::vector<size_t> slotBytes;
  auto acquire = [&](size_t bytes) {
    for (size_t k = 0; k < free.size(); k++) {
      if (slotBytes[free[k]] == bytes) {
        const int s = free[k];
        free.erase(free.begin() + static_cast<long>(k));
        return s;
      }
    }
    plan->buffers.push_back(allocate(bytes));
    slotBytes.push_back(bytes);
    return static_cast<int>(plan->buffers.size() - 1);
  };

  for (size_t i = 0; i < ex.ops.size(); i++) {
    const OpDef& op = ex.ops[i];
    const memory::desc& src = plan->desc[op.in];
    const memory::desc& dst = plan->desc[op.out];
    const int threads = opFlops(ex, op, n) < serialFlops() ? 1 : getThreads();
    const ThreadScope scope(threads);
    if (depthwiseFusable(ex, i, readers, plan->desc)) {
      const OpDef& next = ex.ops[i + 1];
      if (auto fused = planConvWithDepthwise(op, next, src, dst, plan->desc[next.out])) {
        fused->threads = threads;
        plan->slot[next.out] = acquire(plan->desc[next.out].get_size());
        if (op.in > 0 && lastUse[op.in] == static_cast<int>(i)) free.push_back(plan->slot[op.in]);
        plan->ops.push_back(std::move(*fused));
        OpPlan away;
        away.fusedAway = true;
        away.impl = "in the previous primitive";
        plan->ops.push_back(std::move(away));
        i++;
        continue;
      }
    }
    OpPlan p = winogradFits(ex, op, n, src, dst, op.residual >= 0 ? &plan->desc[op.residual] : nullptr) ? planWinograd(ex, op, src, dst)
               : op.kind == InferenceOpKind::Conv ? planConv(op, src, dst)
               : op.kind == InferenceOpKind::Pool ? planPool(op, src, dst)
                                                  : planLinear(op, ex.tensors[op.in], src, dst);
    p.threads = threads;
    if (op.out != ex.output) {
      const int r = op.residual;
      if (r > 0 && lastUse[r] == static_cast<int>(i) && r != op.in && plan->desc[r] == dst) {
        plan->slot[op.out] = plan->slot[r];
        p.aliasResidual = true;
      } else {
        plan->slot[op.out] = acquire(dst.get_size());
      }
    }
    for (int t : {op.in, op.residual}) {
      if (t <= 0 || lastUse[t] != static_cast<int>(i) || t == ex.output) continue;
      if (p.aliasResidual && t == op.residual) continue;
      if (t == op.residual && t == op.in) continue;
      free.push_back(plan->slot[t]);
    }
    plan->ops.push_back(std::move(p));
  }
  return plan;
}

/** Reorders the folded host weights into each primitive's own layout (once per weights version). */
void loadWeights(const Executor& ex, BatchPlan& plan) {
  Context& ctx = context();
  for (size_t i = 0; i < ex.ops.size(); i++) {
    OpPlan& p = plan.ops[i];
    const Folded& f = ex.folded[i];
    if (p.winograd) {
      p.winogradWeights.resize(static_cast<size_t>(p.winograd->weightFloats()));
      p.winograd->transformWeights(f.w.data(), false, p.winogradWeights.data());
      p.winogradBias = f.bias;
      p.winogradPostScale = f.postScale;
      p.winogradPostShift = f.postShift;
      continue;
    }
    if (!p.wei) continue;
    if (p.carriesDepthwise) {
      const Folded& dw = ex.folded[i + 1];
      memory user(p.dwWeiUser, ctx.engine, const_cast<float*>(dw.w.data()));
      dnnl::reorder(user, p.dwWei).execute(ctx.stream, user, p.dwWei);
      std::memcpy(p.dwBias.get_data_handle(), dw.bias.data(), dw.bias.size() * sizeof(float));
    }
    memory user(p.weiUser, ctx.engine, const_cast<float*>(f.w.data()));
    dnnl::reorder(user, p.wei).execute(ctx.stream, user, p.wei);
    std::memcpy(p.bias.get_data_handle(), f.bias.data(), f.bias.size() * sizeof(float));
    if (p.postScale) {
      std::memcpy(p.postScale.get_data_handle(), f.postScale.data(), f.postScale.size() * sizeof(float));
      std::memcpy(p.postShift.get_data_handle(), f.postShift.data(), f.postShift.size() * sizeof(float));
    }
  }
  ctx.stream.wait();
  plan.weightsVersion = ex.version;
}

BatchPlan& planFor(Executor& ex, Layout inLayout, int64_t n) {
  if (inLayout == Layout::Blocked8 && ex.tensors[0].c % kBlock != 0) throw std::invalid_argument("blocked input needs channels divisible by 8");
  const auto key = std::make_pair(n, static_cast<int>(inLayout));
  auto it = ex.plans.find(key);
  if (it == ex.plans.end()) {
    if (ex.plans.size() >= 8) ex.plans.clear();  // odd batch sizes (last batches) come and go
    it = ex.plans.emplace(key, makePlan(ex, inLayout, n)).first;
  }
  return *it->second;
}

/** Reads `count` floats at a heap offset (bounds-checked); nullptr for a negative (absent) offset. */
const float* heapFloats(const uint8_t* heap, size_t heapBytes, double offset, size_t count, const char* what) {
  if (offset < 0) return nullptr;
  if (static_cast<size_t>(offset) + count * sizeof(float) > heapBytes) throw std::invalid_argument(std::string(what) + " outside the heap");
  return reinterpret_cast<const float*>(heap + static_cast<size_t>(offset));
}

/** scale, shift of y = scale * x + shift for an eval-mode BatchNorm (times a 0/1 mask, as libs/models applies it). */
void batchNormAffine(const uint8_t* heap, size_t bytes, const double* w, int64_t c, double eps, std::vector<double>* scale,
                     std::vector<double>* shift) {
  const float* mean = heapFloats(heap, bytes, w[0], c, "BatchNorm mean");
  const float* var = heapFloats(heap, bytes, w[1], c, "BatchNorm variance");
  const float* gamma = heapFloats(heap, bytes, w[2], c, "BatchNorm weight");
  const float* beta = heapFloats(heap, bytes, w[3], c, "BatchNorm bias");
  const float* mask = heapFloats(heap, bytes, w[4], c, "mask");
  if (!mean || !var) throw std::invalid_argument("BatchNorm needs its running mean and variance");
  scale->resize(c);
  shift->resize(c);
  for (int64_t j = 0; j < c; j++) {
    const double m = mask ? mask[j] : 1.0;
    const double s = (gamma ? gamma[j] : 1.0) * m / std::sqrt(static_cast<double>(var[j]) + eps);
    (*scale)[j] = s;
    (*shift)[j] = (beta ? beta[j] : 0.0) * m - s * mean[j];
  }
}

}  // namespace

int inferenceCompile(const double* program, size_t length, Layout layout) {
  if (length < 3) throw std::invalid_argument("inference program too short");
  const int64_t tensors = at(program, 0), output = at(program, 1), ops = at(program, 2);
  if (tensors < 2 || ops < 1 || length != static_cast<size_t>(3 + tensors * kTensorRecord + ops * kOpRecord))
    throw std::invalid_argument("inference program has the wrong length");
  auto ex = std::make_unique<Executor>();
  ex->layout = layout;
  ex->output = static_cast<int>(output);
  const double* t = program + 3;
  for (int64_t i = 0; i < tensors; i++, t += kTensorRecord) {
    const TensorDef d{static_cast<int>(t[0]), at(t, 1), at(t, 2), at(t, 3)};
    if ((d.rank != 2 && d.rank != 4) || d.c < 1 || d.h < 1 || d.w < 1) throw std::invalid_argument("bad tensor record");
    ex->tensors.push_back(d);
  }
  if (ex->tensors[0].rank != 4) throw std::invalid_argument("the input must be an image batch");
  if (output <= 0 || output >= tensors) throw std::invalid_argument("bad output tensor");
  std::vector<bool> defined(tensors, false);
  defined[0] = true;
  for (int64_t i = 0; i < ops; i++, t += kOpRecord) {
    OpDef op{static_cast<InferenceOpKind>(at(t, 0)), static_cast<int>(t[1]), static_cast<int>(t[2]), static_cast<int>(t[3]), {}};
    std::copy(t + 4, t + kOpRecord, op.p);
    if (at(t, 0) < 0 || at(t, 0) > 2) throw std::invalid_argument("unknown inference op");
    auto valid = [&](int id) { return id >= 0 && id < tensors && defined[id]; };
    if (!valid(op.in) || (op.residual >= 0 && !valid(op.residual)) || op.out <= 0 || op.out >= tensors || defined[op.out])
      throw std::invalid_argument("inference op reads an undefined tensor or redefines one");
    defined[op.out] = true;
    ex->ops.push_back(op);
  }
  if (!defined[output]) throw std::invalid_argument("no op computes the output");
  ex->folded.resize(ex->ops.size());
  static int next = 0;
  executors().emplace(++next, std::move(ex));
  return next;
}

void inferenceSetWeights(int handle, const uint8_t* heap, size_t heapBytes, const double* table, size_t length) {
  Executor& ex = executor(handle);
  if (length != ex.ops.size() * kWeightRecord) throw std::invalid_argument("weights table has the wrong length");
  for (size_t i = 0; i < ex.ops.size(); i++) {
    const OpDef& op = ex.ops[i];
    const double* w = table + i * kWeightRecord;
    Folded& f = ex.folded[i];
    if (op.kind == InferenceOpKind::Pool) continue;
    if (op.kind == InferenceOpKind::Linear) {
      const int64_t in = at(op.p, kIn), out = at(op.p, kOut);
      const float* src = heapFloats(heap, heapBytes, w[0], in * out, "linear weight");
      const float* bias = heapFloats(heap, heapBytes, w[1], out, "linear bias");
      if (!src) throw std::invalid_argument("linear without a weight");
      f.w.assign(src, src + in * out);
      f.bias.assign(out, 0.f);
      if (bias) std::copy(bias, bias + out, f.bias.begin());
      continue;
    }
    const int64_t oc = at(op.p, kOc), per = at(op.p, kKh) * at(op.p, kKw) * (at(op.p, kIc) / at(op.p, kGroups));
    const float* src = heapFloats(heap, heapBytes, w[0], per * oc, "conv weight");
    const float* bias = heapFloats(heap, heapBytes, w[1], oc, "conv bias");
    if (!src) throw std::invalid_argument("conv without a weight");
    std::vector<double> scale(oc, 1.0), shift(oc, 0.0);
    if (op.p[kHasBn] != 0) batchNormAffine(heap, heapBytes, w + 2, oc, op.p[kEps], &scale, &shift);
    // Every filter layout here keeps the output channel innermost (see convUserWeights).
    f.w.resize(per * oc);
    for (int64_t k = 0; k < per; k++)
      for (int64_t o = 0; o < oc; o++) f.w[k * oc + o] = static_cast<float>(src[k * oc + o] * scale[o]);
    f.bias.resize(oc);
    for (int64_t o = 0; o < oc; o++) f.bias[o] = static_cast<float>(scale[o] * (bias ? bias[o] : 0.0) + shift[o]);
    if (op.p[kHasPostBn] != 0) {
      std::vector<double> s, b;
      batchNormAffine(heap, heapBytes, w + 7, oc, op.p[kPostEps], &s, &b);
      f.postScale.assign(s.begin(), s.end());
      f.postShift.assign(b.begin(), b.end());
    }
  }
  ex.version++;
}

void inferenceRun(int handle, const float* x, Layout inLayout, int64_t n, float* out) {
  Executor& ex = executor(handle);
  if (ex.version == 0) throw std::logic_error("inference weights not set");
  if (n < 1) throw std::invalid_argument("batch must be positive");
  BatchPlan& plan = planFor(ex, inLayout, n);
  if (plan.weightsVersion != ex.version) loadWeights(ex, plan);
  Context& ctx = context();
  auto tensorMem = [&](int t) {
    float* p = t == 0 ? const_cast<float*>(x) : t == ex.output ? out : plan.buffers[plan.slot[t]].get();
    return memory(plan.desc[t], ctx.engine, p);
  };
  for (size_t i = 0; i < ex.ops.size(); i++) {
    const OpDef& op = ex.ops[i];
    OpPlan& p = plan.ops[i];
    if (p.fusedAway) continue;
    const ThreadScope scope(p.threads);
    memory src = tensorMem(op.in);
    memory dst = tensorMem(p.carriesDepthwise ? ex.ops[i + 1].out : op.out);
    if (p.winograd) {
      WinogradEpilogue e;
      e.bias = p.winogradBias.data();
      if (op.residual >= 0) e.residual = static_cast<const float*>((p.aliasResidual ? dst : tensorMem(op.residual)).get_data_handle());
      if (op.p[kAct] != 0) {
        const auto alg = activation(op.p[kAct], op.p[kActMin], op.p[kActMax], &e.lo, &e.hi);
        e.activation = alg == dnnl::algorithm::eltwise_relu ? 1 : 2;
      }
      if (!p.winogradPostScale.empty()) {
        e.postScale = p.winogradPostScale.data();
        e.postShift = p.winogradPostShift.data();
      }
      p.winograd->run(static_cast<const float*>(src.get_data_handle()), p.winogradIn, static_cast<float*>(dst.get_data_handle()), p.winogradOut, n,
                      p.winogradWeights.data(), e, p.threads);
      continue;
    }
    if (p.srcReorder) {
      memory packed(p.src, ctx.engine, p.srcTemp.get());
      p.srcReorder->execute(ctx.stream, src, packed);
      src = packed;
    }
    if (op.residual >= 0 && !p.aliasResidual) {
      memory residual = tensorMem(op.residual);
      dnnl::reorder(residual, dst).execute(ctx.stream, residual, dst);
    }
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, ctx.scratchpad(p.scratch)}};
    if (p.wei) {
      args.emplace(DNNL_ARG_WEIGHTS, p.wei);
      args.emplace(DNNL_ARG_BIAS, p.bias);
    }
    if (p.carriesDepthwise) {
      args.emplace(DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS, p.dwWei);
      args.emplace(DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_BIAS, p.dwBias);
    }
    if (p.postScale) {
      // Binary post-ops come after the optional sum and eltwise ones (see planConv).
      const int first = (op.residual >= 0 ? 1 : 0) + (op.p[kAct] != 0 ? 1 : 0);
      args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(first) | DNNL_ARG_SRC_1, p.postScale);
      args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(first + 1) | DNNL_ARG_SRC_1, p.postShift);
    }
    p.prim.execute(ctx.stream, args);
  }
  ctx.stream.wait();
}

std::string inferenceDescribe(int handle, Layout inLayout, int64_t n) {
  Executor& ex = executor(handle);
  BatchPlan& plan = planFor(ex, inLayout, n);
  std::string s;
  for (size_t i = 0; i < ex.ops.size(); i++) {
    const OpDef& op = ex.ops[i];
    const char* kind = op.kind == InferenceOpKind::Conv ? "conv" : op.kind == InferenceOpKind::Pool ? "pool" : "linear";
    s += std::string(kind) + " " + std::to_string(op.in) + "->" + std::to_string(op.out) + " " + plan.ops[i].impl +
         (plan.ops[i].srcReorder ? " (input reordered)" : "") + (plan.ops[i].aliasResidual ? " (sum in place)" : "") + "\n";
  }
  return s;
}

void inferenceRelease(int handle) { executors().erase(handle); }

double sgemmProbe(int64_t size, int repeats) {
  const size_t count = static_cast<size_t>(size * size);
  std::vector<float> a(count, 0.5f), b(count, 0.25f), c(count, 0.f);
  auto once = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    if (dnnl::sgemm('N', 'N', size, size, size, 1.f, a.data(), size, b.data(), size, 0.f, c.data(), size) != dnnl::status::success)
      throw std::runtime_error("sgemm failed");
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  once();
  double best = once();
  for (int r = 1; r < repeats; r++) best = std::min(best, once());
  return best;
}

namespace {

constexpr int kFmaChains = 14;  // independent accumulators: more than FMA latency x pipes on AVX2 cores

/** `iterations` rounds of kFmaChains dependent-free 8-wide FMAs; the sum keeps the compiler from dropping them. */
__attribute__((target("avx2,fma"))) float fmaChains(int64_t iterations) {
  __m256 acc[kFmaChains];
  for (int k = 0; k < kFmaChains; k++) acc[k] = _mm256_set1_ps(1e-3f * static_cast<float>(k));
  const __m256 scale = _mm256_set1_ps(0.999999f), shift = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; i++) {
    for (int k = 0; k < kFmaChains; k++) acc[k] = _mm256_fmadd_ps(acc[k], scale, shift);
  }
  __m256 sum = acc[0];
  for (int k = 1; k < kFmaChains; k++) sum = _mm256_add_ps(sum, acc[k]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  return lanes[0];
}

}  // namespace

double fmaProbe(int threads, int64_t iterations, int repeats) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
  volatile float sink = 0;
  auto once = [&] {
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
    {
      const float v = fmaChains(iterations);
#pragma omp critical
      sink = sink + v;
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  once();
  double best = once();
  for (int r = 1; r < repeats; r++) best = std::min(best, once());
  return best;
}

int64_t fmaProbeFlops(int threads, int64_t iterations) { return static_cast<int64_t>(threads) * iterations * kFmaChains * 8 * 2; }

}  // namespace fp
