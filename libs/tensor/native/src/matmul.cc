#include "matmul.h"

#include <algorithm>
#include <array>
#include <map>
#include <stdexcept>

#include "context.h"

namespace fp {

namespace {

using dnnl::memory;
using dt = memory::data_type;

struct MatMulPlan {
  dnnl::matmul prim;
  memory::desc a, b, c, scratch;
};

/** A row-major [batch, rows, cols] matrix, or its transpose read through strides. */
memory::desc matrix(int64_t batch, int64_t rows, int64_t cols, bool storedTransposed) {
  const memory::dims strides = storedTransposed ? memory::dims{rows * cols, 1, rows} : memory::dims{rows * cols, cols, 1};
  return memory::desc({batch, rows, cols}, dt::f32, strides);
}

using Key = std::array<int64_t, 7>;

const MatMulPlan& planFor(const MatMulShape& s) {
  static std::map<Key, MatMulPlan> cache;
  const Key key{s.batchA, s.batchB, s.m, s.n, s.k, s.transposeA, s.transposeB};
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (s.batchA != s.batchB && s.batchA != 1 && s.batchB != 1) throw std::invalid_argument("batch sizes do not broadcast");
  if (cache.size() >= 1024) cache.clear();
  Context& ctx = context();
  const memory::desc a = matrix(s.batchA, s.m, s.k, s.transposeA);
  const memory::desc b = matrix(s.batchB, s.k, s.n, s.transposeB);
  const memory::desc c = matrix(std::max(s.batchA, s.batchB), s.m, s.n, false);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto pd = matmulPd(ctx.engine, a, b, c, attr);
  return cache.emplace(key, MatMulPlan{dnnl::matmul(pd), a, b, c, pd.scratchpad_desc()}).first->second;
}

}  // namespace

void matmul(const MatMulShape& s, const float* a, const float* b, float* out) {
  Context& ctx = context();
  const MatMulPlan& plan = planFor(s);
  auto mem = [&](const memory::desc& md, const float* p) { return memory(md, ctx.engine, const_cast<float*>(p)); };
  plan.prim.execute(ctx.stream, {{DNNL_ARG_SRC, mem(plan.a, a)},
                                 {DNNL_ARG_WEIGHTS, mem(plan.b, b)},
                                 {DNNL_ARG_DST, mem(plan.c, out)},
                                 {DNNL_ARG_SCRATCHPAD, ctx.scratchpad(plan.scratch)}});
  ctx.stream.wait();
}

}  // namespace fp
