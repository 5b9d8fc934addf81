#include "blas_runtime.h"

#include <cblas.h>

#include <algorithm>
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
  info.num_procs = openblas_get_num_procs();
  info.parallel = openblas_get_parallel() != 0;
  return info;
}

void set_openblas_threads(int n) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  openblas_set_num_threads(std::max(n, 1));
}

}  // namespace rnnblas
