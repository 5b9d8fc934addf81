#include "blas_runtime.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace rnnblas {

namespace {
std::mutex mutex;  // serialises changes; reads are lock-free (every call reads)
std::atomic<int> wanted{0};  // 0: not chosen yet
std::atomic<GemmThreading> mode{GemmThreading::Team};

// Default: every core, as OpenBLAS would use; OpenBLAS itself single-threaded.
int wanted_locked() {
  if (wanted.load() == 0) {
    const int procs = openblas_get_num_procs();
    openblas_set_num_threads(1);
    wanted.store(std::max(procs, 1));
  }
  return wanted.load();
}

void apply_locked() {
  openblas_set_num_threads(mode.load() == GemmThreading::OpenBlas ? wanted_locked() : 1);
}
}  // namespace

BlasInfo blas_info() {
  BlasInfo info;
#ifdef OPENBLAS_VERSION
  info.version = OPENBLAS_VERSION;
  while (!info.version.empty() && info.version.back() == ' ') info.version.pop_back();
  if (!info.version.empty() && info.version.front() == ' ') info.version.erase(0, 1);
#else
  info.version = "OpenBLAS";
#endif
  const char* config = openblas_get_config();
  info.config = config ? config : "";
  const char* core = openblas_get_corename();
  info.core = core ? core : "";
  info.num_threads = threads();
  info.num_procs = openblas_get_num_procs();
  info.parallel = openblas_get_parallel() != 0;
  return info;
}

void set_gemm_threading(GemmThreading m) {
  std::lock_guard<std::mutex> lock(mutex);
  mode.store(m);
  apply_locked();
}

GemmThreading gemm_threading() {
  threads();  // OpenBLAS set up before the first GEMM
  return mode.load(std::memory_order_relaxed);
}

void set_threads(int n) {
  std::lock_guard<std::mutex> lock(mutex);
  wanted_locked();
  wanted.store(std::max(n, 1));
  apply_locked();
}

int threads() {
  const int n = wanted.load(std::memory_order_acquire);
  if (n != 0) return n;
  std::lock_guard<std::mutex> lock(mutex);
  return wanted_locked();
}

}  // namespace rnnblas
