// How one native call runs: the thread count, the step kernel and how big
// GEMMs use several cores. The binding keeps one per Node environment (main
// thread or worker) and passes a copy down with every call, so kernels read
// no process-wide settings and two environments never change each other's.
//
// Determinism: every split of work (columns of a step, rows or the inner
// dimension of a GEMM, rows of a loss) is a function of `threads` and the
// shape alone, never of how many OS threads happen to run it, so results at
// a fixed thread count are bit-identical whatever else the process does.
#pragma once
#include <cstdint>

namespace rnnblas {

// How each time step's recurrent product runs for B >= 2. Auto picks the
// packed kernel for the best instruction set the CPU has, else OpenBLAS; the
// others force one (for tests and benchmarks of each).
enum class StepKernel : int32_t { Auto = 0, Blas = 1, Avx2 = 2, Avx512 = 3 };

// How big GEMMs use more than one core (see team_gemm.h).
//   Team: OpenBLAS single-threaded, work split over rnnblas' own thread team
//         (the default: one pool for the GEMMs and the time loop).
//   OpenBlas: OpenBLAS's own threads (for comparison and for the sgemm peak
//         measurement); the time loop still uses the team.
enum class GemmThreading : int32_t { Team = 0, OpenBlas = 1 };

struct ExecContext {
  int threads = 1;  // 1..available_cpus(): the team size every split is made for
  StepKernel step_kernel = StepKernel::Auto;
  GemmThreading gemm = GemmThreading::Team;
};

// CPUs this process may use: its affinity mask, further capped by a cgroup
// CPU quota (cpu.max / cfs_quota_us), at least 1. Read once.
int available_cpus();

}  // namespace rnnblas
