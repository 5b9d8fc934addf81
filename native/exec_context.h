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
// others force one (for tests and benchmarks of each). Auto and Avx512 also
// let the AVX-512 weight-gradient kernel (tall_gemm.h) stand in for OpenBLAS
// on the shapes it is faster for; Blas is OpenBLAS for every product.
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
  // Subnormal floats are flushed to zero (x86 FTZ and DAZ) while a call runs:
  // gradients that vanish over long sequences otherwise crawl through
  // microcode-assisted subnormal arithmetic (F1, T=400: 39 ms -> 4.5 ms per
  // step at 1 thread). Values below 1.2e-38 are noise at float precision.
  bool flush_denormals = true;
  // Below these many multiply-adds a whole layer call (T*B*H*(I+H)*G), or a
  // time step's recurrent product (B*G*H*H), runs on one thread: waking the
  // team costs more than it saves (measured in rnn_layer.cpp, where a call of
  // steps of at least solo_step_macs splits from 2^23 on). Tests lower them
  // to put small shapes on the team.
  int64_t solo_call_macs = int64_t{1} << 26;
  int64_t solo_step_macs = int64_t{1} << 19;
};

// The calling thread's floating-point mode for the scope of one call: FTZ and
// DAZ as ctx says (restored on exit). Helper threads of the team adopt the
// mode of the job's caller (thread_team.cpp), so a result never depends on
// which thread ran a task.
class FloatModeScope {
 public:
  explicit FloatModeScope(const ExecContext& ctx);
  ~FloatModeScope();
  FloatModeScope(const FloatModeScope&) = delete;
  FloatModeScope& operator=(const FloatModeScope&) = delete;

 private:
  unsigned saved_ = 0;
};

// The FTZ/DAZ bits of this thread's mode (0 where the CPU has none), and
// setting them.
unsigned float_mode();
void set_float_mode(unsigned bits);

// CPUs this process may use: its affinity mask, further capped by a cgroup
// CPU quota (cpu.max / cfs_quota_us), at least 1. Read once.
int available_cpus();

}  // namespace rnnblas
