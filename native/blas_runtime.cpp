#include "blas_runtime.h"

#include <cblas.h>

#include <algorithm>
#include <mutex>
#include <thread>

namespace rnnblas {

namespace {
std::mutex mutex;
int wanted = 0;  // 0: not chosen yet
GemmThreading mode = GemmThreading::Team;

// Default: every core, as OpenBLAS would use.
int wanted_locked() {
  if (wanted == 0) {
    const int procs = openblas_get_num_procs();
    wanted = std::max(procs, 1);
    openblas_set_num_threads(1);
  }
  return wanted;
}

void apply_locked() {
  openblas_set_num_threads(mode == GemmThreading::OpenBlas ? wanted_locked() : 1);
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
  mode = m;
  apply_locked();
}

GemmThreading gemm_threading() {
  std::lock_guard<std::mutex> lock(mutex);
  wanted_locked();
  return mode;
}

void set_threads(int n) {
  std::lock_guard<std::mutex> lock(mutex);
  wanted = std::max(n, 1);
  apply_locked();
}

int threads() {
  std::lock_guard<std::mutex> lock(mutex);
  return wanted_locked();
}

}  // namespace rnnblas
