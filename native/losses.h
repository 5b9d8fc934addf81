// Softmax cross-entropy over the rows of [N, C] logits, forward and backward
// in one pass (the loss and its gradient are always wanted together).
#pragma once
#include <cstdint>

namespace rnnblas {

// Returns the summed loss over rows with mask[n] != 0 (mask may be null) and
// targets[n] != ignore_index; writes grad = (softmax - onehot) * scale for
// those rows and 0 for the others. Computed in double precision.
double softmax_cross_entropy(const float* logits, const int32_t* targets,
                             const uint8_t* mask, int64_t N, int64_t C,
                             int32_t ignore_index, double scale, float* grad);

// Squared error over rows of `inner` values with mask[r] != 0 (mask may be
// null): returns the summed (pred - target)^2 and writes grad = scale * (pred -
// target) there and 0 elsewhere. Sums in double precision: a row's squares in eight lanes
// (element i into lane i % 8, combined pairwise, then the rest in order), the rows in order.
double squared_error(const float* pred, const float* target, const uint8_t* mask,
                     int64_t rows, int64_t inner, double scale, float* grad);

}  // namespace rnnblas
