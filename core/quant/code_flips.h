// Code flips: the quantized weights whose code changed between two quantizations of a tensor
// (the update of one training step, then re-quantization), each put down to its cause.
//
// A weight's code is c = codeAt(w, s, L) = clip(round(w / s), -L, L) with s its row's scale
// (weight_quantizer.h).
// After a step both w and s have moved. A flip (c' != c) is the weight's when the new latent at
// the old scale already rounds to another code, clip(round(w' / s), -L, L) != c: the weight
// crossed a threshold that stayed where it was. Otherwise the scale's: the weight stayed on its
// side but the thresholds (±s/2, ±3s/2, ...) moved over it, which is how one step of the absmean
// scale gamma can flip many weights at once. Every flip is exactly one of the two.
#pragma once

#include <cstdint>
#include <span>

#include "core/quant/weight_quantizer.h"

namespace h158 {

struct FlipCounts {
    int64_t weight = 0;  // flips the weight's own move caused
    int64_t scale = 0;   // flips the scale's move caused
    int64_t total() const { return weight + scale; }
};

enum class FlipCause : uint8_t { None = 0, Weight = 1, Scale = 2 };

// Compares `before` and `after`, two quantizations of one tensor at the same level set (codes
// of equal size), `latent` being the weights `after` was computed from. When lastFlip/cause are
// given (one entry per weight), each flipped weight gets lastFlip = step and its cause. Throws
// Error when the shapes or level sets differ or a level set is None.
FlipCounts countFlips(const QuantizedTensor& before, const QuantizedTensor& after,
                      const float* latent, std::span<int32_t> lastFlip = {},
                      std::span<uint8_t> cause = {}, int32_t step = 0);

}  // namespace h158
