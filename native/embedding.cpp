#include "embedding.h"

#include <cstring>

#include "clones.h"

namespace rnnblas {

void embedding_gather(const int32_t* ids, int64_t n, const float* weight, int64_t E, float* out) {
  for (int64_t i = 0; i < n; ++i) std::memcpy(out + i * E, weight + static_cast<int64_t>(ids[i]) * E, sizeof(float) * E);
}

namespace {

RNNBLAS_CLONES
void add_row(float* __restrict dst, const float* __restrict src, int64_t E) {
  for (int64_t j = 0; j < E; ++j) dst[j] += src[j];
}

}  // namespace

void embedding_scatter_add(const int32_t* ids, int64_t n, const float* gy, int64_t E, float* grad) {
  // Rows in index order: a repeated id accumulates in the order the loop meets it.
  for (int64_t i = 0; i < n; ++i) add_row(grad + static_cast<int64_t>(ids[i]) * E, gy + i * E, E);
}

}  // namespace rnnblas
