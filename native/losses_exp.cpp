// exp over one row, vectorised: this file alone is compiled with -ffast-math
// so GCC calls glibc's libmvec exp. Callers pass finite inputs only.
#include <cmath>
#include <cstdint>

#include "clones.h"

namespace rnnblas {

// e[c] = exp(row[c] - m); returns the sum.
RNNBLAS_CLONES
double exp_shifted_row(const float* row, int64_t C, double m, double* e) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t c = 0; c < C; ++c) {
    const double v = std::exp(static_cast<double>(row[c]) - m);
    e[c] = v;
    s += v;
  }
  return s;
}

}  // namespace rnnblas
