// What the linked OpenBLAS is, and how many threads rnnblas uses.
#pragma once
#include <string>

namespace rnnblas {

struct BlasInfo {
  std::string version;  // "OpenBLAS 0.3.21"
  std::string config;   // openblas_get_config()
  std::string core;     // the kernel set OpenBLAS picked for this CPU
  int num_threads = 1;  // threads rnnblas uses (set_threads)
  int num_procs = 1;    // cores OpenBLAS detected
  bool parallel = false;  // OpenBLAS built with threading support
};

BlasInfo blas_info();

// How big GEMMs use more than one core (see team_gemm.h).
//   Team: OpenBLAS single-threaded, work split over rnnblas' own thread team
//         (the default: one pool for the GEMMs and the time loop).
//   OpenBlas: OpenBLAS's own threads (for comparison and for the sgemm peak
//         measurement); the time loop still uses the team.
enum class GemmThreading { Team, OpenBlas };
void set_gemm_threading(GemmThreading mode);
GemmThreading gemm_threading();

// Threads rnnblas' calls use (the team size; OpenBLAS's own count too in
// OpenBlas mode). Process-wide.
void set_threads(int n);
int threads();

}  // namespace rnnblas
