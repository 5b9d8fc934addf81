#include "exec_context.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define RNNBLAS_HAS_MXCSR 1
#endif

namespace rnnblas {
namespace {

// CPUs in this process's affinity mask (taskset, cpusets, docker --cpuset-cpus).
int affinity_cpus() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  return std::max(static_cast<int>(std::thread::hardware_concurrency()), 1);
}

// A CPU quota (docker --cpus, Kubernetes limits) rounded up, or 0 for none:
// cgroup v2 cpu.max ("max 100000" or "150000 100000"), else v1 cfs_quota_us.
int quota_cpus() {
#if defined(__linux__)
  {
    std::ifstream f("/sys/fs/cgroup/cpu.max");
    std::string quota;
    double period = 0;
    if (f >> quota >> period && quota != "max" && period > 0) {
      const double q = std::stod(quota);
      if (q > 0) return std::max(1, static_cast<int>(std::ceil(q / period)));
    }
  }
  {
    std::ifstream q("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
    std::ifstream p("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    double quota = 0, period = 0;
    if (q >> quota && p >> period && quota > 0 && period > 0) {
      return std::max(1, static_cast<int>(std::ceil(quota / period)));
    }
  }
#endif
  return 0;
}

}  // namespace

int available_cpus() {
  static const int cpus = [] {
    int n = affinity_cpus();
    const int quota = quota_cpus();
    if (quota > 0) n = std::min(n, quota);
    return std::max(n, 1);
  }();
  return cpus;
}

// MXCSR: bit 15 flush-to-zero, bit 6 denormals-are-zero.
constexpr unsigned kFlushBits = 0x8040;

unsigned float_mode() {
#if defined(RNNBLAS_HAS_MXCSR)
  return _mm_getcsr() & kFlushBits;
#else
  return 0;
#endif
}

void set_float_mode(unsigned bits) {
#if defined(RNNBLAS_HAS_MXCSR)
  const unsigned csr = _mm_getcsr();
  const unsigned want = (csr & ~kFlushBits) | (bits & kFlushBits);
  if (want != csr) _mm_setcsr(want);
#else
  (void)bits;
#endif
}

FloatModeScope::FloatModeScope(const ExecContext& ctx) : saved_(float_mode()) {
  set_float_mode(ctx.flush_denormals ? kFlushBits : 0);
}

FloatModeScope::~FloatModeScope() { set_float_mode(saved_); }

}  // namespace rnnblas
