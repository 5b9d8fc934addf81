// What the linked OpenBLAS is, and its own thread count.
#pragma once
#include <string>

namespace rnnblas {

struct BlasInfo {
  std::string version;  // "OpenBLAS 0.3.21"
  std::string config;   // openblas_get_config()
  std::string core;     // the kernel set OpenBLAS picked for this CPU
  int num_procs = 1;    // cores OpenBLAS detected
  bool parallel = false;  // OpenBLAS built with threading support
};

BlasInfo blas_info();

// OpenBLAS's own thread count (process-wide, OpenBLAS has one pool). rnnblas
// keeps it at 1 and splits work over its own team; GemmThreading::OpenBlas
// raises it, for comparisons and the sgemm peak only.
void set_openblas_threads(int n);

}  // namespace rnnblas
