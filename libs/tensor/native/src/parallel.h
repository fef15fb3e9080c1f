// Helpers for our own (non-oneDNN) loops: static work splitting over OpenMP threads and
// per-CPU code versions for the vectorised inner loops.
#pragma once

#include <algorithm>
#include <cstdint>

// Hot inner loops are compiled twice, for AVX2+FMA (x86-64-v3) and for the baseline, and picked
// at load time: the addon is built on the machine that runs it, but a container image may not be.
#if defined(__x86_64__) && ((defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11) || (defined(__clang__) && __clang_major__ >= 14))
#define FP_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FP_VECTOR_CLONES
#endif

#ifdef _OPENMP
#include <omp.h>
#else
// Built without OpenMP (e.g. Apple clang without libomp): our loops run on the calling thread.
inline int omp_get_max_threads() { return 1; }
inline int omp_get_thread_num() { return 0; }
inline int omp_get_num_threads() { return 1; }
inline void omp_set_num_threads(int) {}
#endif

namespace fp {

/** Below this many elements a loop runs on the calling thread: waking the pool costs more. */
constexpr int64_t kParallelMin = 1 << 15;

/** Threads worth using for `work` elements. */
inline int threadsFor(int64_t work) {
  return work < kParallelMin ? 1 : std::max(1, std::min<int>(omp_get_max_threads(), static_cast<int>(work / (kParallelMin / 2))));
}

/** The [begin, end) share of `total` items for thread `t` of `nt`, contiguous and balanced. */
inline void share(int64_t total, int t, int nt, int64_t* begin, int64_t* end) {
  const int64_t base = total / nt;
  const int64_t extra = total % nt;
  *begin = t * base + std::min<int64_t>(t, extra);
  *end = *begin + base + (t < extra ? 1 : 0);
}

/** Calls fn(begin, end) on contiguous ranges of [0, total), in parallel when the work is large. */
template <typename F>
void parallelRanges(int64_t total, int64_t workPerItem, F&& fn) {
  const int nt = threadsFor(total * workPerItem);
  if (nt <= 1 || total < 2) {
    fn(int64_t{0}, total);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    int64_t b, e;
    share(total, omp_get_thread_num(), omp_get_num_threads(), &b, &e);
    if (b < e) fn(b, e);
  }
}

}  // namespace fp
