// log over a block of values, vectorised: this file alone is compiled with
// -ffast-math so GCC calls glibc's libmvec log. Callers pass finite positive
// values only.
#include <cmath>
#include <cstdint>

#include "clones.h"

namespace rnnblas {

// out[i] = log(in[i]) for i < n, n a multiple of 8: every value through the
// same vector routine (no scalar epilogue), so a value's log does not depend
// on its position.
RNNBLAS_CLONES
void log_block(const double* in, double* out, int64_t n) {
  for (int64_t i = 0; i < n; i += 8) {
#pragma omp simd
    for (int k = 0; k < 8; ++k) out[i + k] = std::log(in[i + k]);
  }
}

}  // namespace rnnblas
