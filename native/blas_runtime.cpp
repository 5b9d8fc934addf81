#include "blas_runtime.h"

#include <cblas.h>

#include <mutex>

namespace rnnblas {

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
  info.num_threads = blas_threads();
  info.num_procs = openblas_get_num_procs();
  info.parallel = openblas_get_parallel() != 0;
  return info;
}

namespace {
std::mutex governor_mutex;
int desired_threads = 0;  // 0: not read yet
int single_scopes = 0;

int desired_locked() {
  if (desired_threads == 0) desired_threads = openblas_get_num_threads();
  return desired_threads;
}
}  // namespace

void set_blas_threads(int n) {
  std::lock_guard<std::mutex> lock(governor_mutex);
  desired_threads = n;
  if (single_scopes == 0) openblas_set_num_threads(n);
}

int blas_threads() {
  std::lock_guard<std::mutex> lock(governor_mutex);
  return desired_locked();
}

SingleThreadedBlas::SingleThreadedBlas() {
  std::lock_guard<std::mutex> lock(governor_mutex);
  desired_locked();
  if (single_scopes++ == 0) openblas_set_num_threads(1);
}

SingleThreadedBlas::~SingleThreadedBlas() {
  std::lock_guard<std::mutex> lock(governor_mutex);
  if (--single_scopes == 0) openblas_set_num_threads(desired_threads);
}

}  // namespace rnnblas
