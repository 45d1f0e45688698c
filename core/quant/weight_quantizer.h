// Weight quantization for quantization-aware training (BitNet b1.58 and a five-level variant);
// activations are quantized in activation_quantizer.h.
//
// Ternary: gamma = max(mean|W|, 1e-5) over the scale group; code = clip(round(W/gamma), -1, 1);
//          value = code * gamma. Levels {-1, 0, +1} x gamma: log2(3) = 1.58 bits.
// Five-level: codes in {-2..2}, value = code * gamma/2, levels {-1, -0.5, 0, 0.5, 1} x gamma
//          (log2(5) = 2.32 bits); gamma is defined in the .cpp with its reason.
// Int8: codes in {-127..127}, value = code * absmax/127 over the scale group (symmetric absmax,
//          as LLM.int8 and BitNet's activations): 255 levels, 8 bits per weight stored.
// Scale groups: the whole tensor, each row, or each parameter cluster (a set of rows). Every
// case is expressed as one scale per row, so value(r, c) = code(r, c) * rowScale(r).
// Straight-through: the forward pass uses value(W); the gradient w.r.t. value is applied to the
// latent W unchanged (dL/dW := dL/dQ(W)).
#pragma once

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "core/base/types.h"

namespace h158 {

enum class QuantLevels { None, Ternary, FiveLevel, Int8 };
enum class QuantGranularity { Tensor, Row, Cluster };

// "none" | "ternary" | "five_level" | "int8"
QuantLevels parseQuantLevels(const std::string& s);
const char* quantLevelsName(QuantLevels l);                    // the names parse accepts
QuantGranularity parseQuantGranularity(const std::string& s);  // "tensor" | "row" | "cluster"
// Bits of information per weight, what a bit budget counts: 32 (none), log2 3 = 1.585,
// log2 5 = 2.322, 8 (int8). The stored sizes differ a little (h158_format.h: 1.6, 2.67, 8, 32).
double bitsPerWeight(QuantLevels l);
// The largest |code| of the level set (1, 2, 127; 0 for none).
int codeLimit(QuantLevels l);
// Mean bits per weight (bitsPerWeight) of tensors of these sizes at these levels, weighted by
// size: what quant.bits_budget bounds. 32 (all fp32) when there are no weights.
double meanBits(std::span<const int64_t> weights, std::span<const QuantLevels> levels);

struct QuantizedTensor {
    int64_t rows = 0, cols = 0;
    std::vector<int8_t> codes;  // (rows, cols) column-major, same layout as the latent tensor
    VecF rowScale;              // (rows) dequantized value = code * rowScale(r)
    QuantLevels levels = QuantLevels::None;
};

// Quantizes w (rows, cols; column-major) into q and writes the dequantized values to `out`
// (rows*cols floats; may be null when only the codes are wanted). rowCluster (rows entries in
// [0, k)) is read only for Cluster granularity. Rounding is half to even (std::nearbyint in the
// default rounding mode), as torch.round in the reference. QuantLevels::None passes through:
// out = w, no codes, no scales.
// Five-level gamma = 2.11 * mean|W| over the group (the minimum of ||Q(W) - W|| / ||W|| for
// Gaussian weights: 0.287, against 0.513 for ternary absmean).
void quantizeWeights(const float* w, int64_t rows, int64_t cols, QuantLevels levels,
                     QuantGranularity granularity, std::span<const int> rowCluster,
                     QuantizedTensor& q, float* out);

// The code of one latent weight at one row scale, exactly as quantizeWeights rounds it:
// clip(round(w / scale), -limit, limit), half to even. (For views and flip causes.)
int8_t codeAt(float w, float scale, int limit);

// Squared Frobenius norms for the quant_error metric: sum (Q(W) - W)^2 and sum W^2.
struct QuantErrorParts {
    double diff2 = 0, norm2 = 0;
};
QuantErrorParts quantErrorParts(const float* w, const float* q, int64_t n);

// Fractions of negative, zero and positive codes.
struct LevelFractions {
    double neg = 0, zero = 0, pos = 0;
};
LevelFractions levelFractions(std::span<const int8_t> codes);

}  // namespace h158
