// What the linked OpenBLAS is and how many threads it uses.
#pragma once
#include <string>

namespace rnnblas {

struct BlasInfo {
  std::string version;  // "OpenBLAS 0.3.21"
  std::string config;   // openblas_get_config()
  std::string core;     // the kernel set OpenBLAS picked for this CPU
  int num_threads = 1;  // threads BLAS calls use now
  int num_procs = 1;    // cores OpenBLAS detected
  bool parallel = false;  // built with threading support
};

BlasInfo blas_info();

// Process-global in OpenBLAS: affects every caller.
void set_blas_threads(int n);
int blas_threads();

}  // namespace rnnblas
