// An embedding table's lookup and its gradient (torch.nn.Embedding), for a
// training step's native job.
#pragma once
#include <cstdint>

namespace rnnblas {

// out[i, :] = weight[ids[i], :] for i < n (rows of E floats). Every id must be
// a valid row (the caller checks).
void embedding_gather(const int32_t* ids, int64_t n, const float* weight, int64_t E, float* out);

// grad[ids[i], :] += gy[i, :] for i = 0, 1, ..., n-1 in that order (float32
// adds: the bits of the TypeScript loop). Every id must be a valid row.
void embedding_scatter_add(const int32_t* ids, int64_t n, const float* gy, int64_t E, float* grad);

}  // namespace rnnblas
