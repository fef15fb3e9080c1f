#include "context.h"

#include "parallel.h"

#include <cstdlib>
#include <new>
#include <stdexcept>

namespace fp {

namespace {
constexpr size_t kAlign = 64;

void* alignedAlloc(size_t bytes) {
  const size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  void* p = std::aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void Context::Aligned::operator()(void* p) const { std::free(p); }

dnnl::memory Context::scratchpad(const dnnl::memory::desc& md) {
  const size_t bytes = md.get_size();
  if (bytes > scratchBytes_) {
    scratch_.reset(alignedAlloc(bytes));
    scratchBytes_ = bytes;
  }
  return dnnl::memory(md, engine, scratch_.get());
}

float* Context::temp(size_t floats, int slot) {
  if (slot < 0 || slot >= 4) throw std::logic_error("temp slot out of range");
  const size_t bytes = floats * sizeof(float);
  if (bytes > tempBytes_[slot]) {
    temps_[slot].reset(alignedAlloc(bytes));
    tempBytes_[slot] = bytes;
  }
  return static_cast<float*>(temps_[slot].get());
}

Context& context() {
  static Context ctx;
  return ctx;
}

int setThreads(int n) {
  if (n > 0) omp_set_num_threads(n);
  return omp_get_max_threads();
}

int getThreads() { return omp_get_max_threads(); }

}  // namespace fp
