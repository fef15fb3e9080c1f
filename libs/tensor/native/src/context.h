// Process-wide oneDNN engine and stream, the shared scratchpad, and the thread count.
#pragma once

#include <cstddef>
#include <memory>

#include "dnnl_compat.h"

namespace fp {

class Context {
 public:
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};

  /**
   * One grow-only scratch buffer shared by every primitive (they run one at a time on the JS
   * thread), so no primitive allocates per call. Primitives are created with
   * scratchpad_mode::user for this reason.
   */
  dnnl::memory scratchpad(const dnnl::memory::desc& md);

  /** A second grow-only buffer for our own temporaries (reordered weights and the like). */
  float* temp(size_t floats, int slot);

 private:
  struct Aligned {
    void operator()(void* p) const;
  };
  std::unique_ptr<void, Aligned> scratch_;
  size_t scratchBytes_ = 0;
  std::unique_ptr<void, Aligned> temps_[4];
  size_t tempBytes_[4] = {0, 0, 0, 0};
};

Context& context();

/** Sets the OpenMP thread count used by oneDNN and our own loops; returns the count in effect. */
int setThreads(int n);
int getThreads();

}  // namespace fp
