// Ternary update quantization (TernGrad, Wen et al. 2017): an unbiased stochastic ternarization
// of an optimizer step, so that a step can be sent / applied as {-s, 0, +s} values.
//
// For a vector d with s = max_i |d_i|:  out_i = s * sign(d_i) * b_i,  b_i ~ Bernoulli(|d_i| / s).
// E[out_i] = s * sign(d_i) * |d_i| / s = d_i (unbiased); Var[out_i] = |d_i| (s - |d_i|).
// The draws are deterministic by the Rng state: one 64-bit seed is taken from `rng`, and fixed
// chunks of 2^15 elements each draw from their own stream of it, so the result does not depend
// on the number of threads. b_i compares 32 random bits with |d_i|/s * 2^32 (bias < 2^-32).
#pragma once

#include <span>

#include "core/base/rng.h"

namespace h158 {

struct TernGradResult {
    double diff2 = 0;  // sum (out_i - d_i)^2
    double norm2 = 0;  // sum d_i^2; update_quant_error = sqrt(diff2 / norm2)
    float scale = 0;   // s = max|d|
};

// Writes the ternarized d to out (same size; out may be d itself). An all-zero d gives zeros.
// Throws h158::Error on a size mismatch or a non-finite value in d.
TernGradResult ternGrad(std::span<const float> d, std::span<float> out, Rng& rng);

}  // namespace h158
