// Reductions over flat float vectors (parameters, gradients, steps), accumulated in double.
// The summation order is fixed by element index alone, so a result depends only on the values:
// not on the buffer's alignment, the thread count or the SIMD width the build chose. Vectors
// longer than kReduceChunk are cut into chunks of that many elements, reduced in parallel, and
// the chunk sums added in chunk order.
#pragma once

#include <span>

namespace h158 {

inline constexpr size_t kReduceChunk = size_t(1) << 16;

// Σ a_i b_i. Each product of two floats is exact in double; within a chunk the sum runs in 8
// interleaved double lanes (lane j takes the elements i ≡ j mod 8 of the leading multiple of 8),
// the lanes are added in a fixed tree, then the tail in order. Throws Error when the sizes differ.
double dot(std::span<const float> a, std::span<const float> b);
// Σ a_i², same order as dot(a, a).
double squaredNorm(std::span<const float> a);
// ‖a‖₂ = sqrt(squaredNorm(a)).
double l2Norm(std::span<const float> a);

}  // namespace h158
