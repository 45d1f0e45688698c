// Per-tensor precision: how much validation loss each quantized tensor costs at each level set
// (sensitivity), and the per-tensor levels that meet an average bit budget (allocation), for
// quant.weights=adaptive and for `hybrid158-cli sensitivity`.
//
// Sensitivity (AIMET QuantAnalyzer's one-layer-at-a-time analysis), on the latent weights, over
// the first `batches` validation batches (the same batches for every figure):
//   fp32_loss         every tensor at full precision;
//   uniform[l]        every quantized tensor at level set l;
//   alone[i][l]       tensor i alone at l, every other tensor at full precision;
//   kept[i][l]        every quantized tensor at l except tensor i, kept at full precision.
// The rises alone[i][l] - fp32_loss say what quantizing tensor i costs; uniform[l] - kept[i][l]
// says what keeping it at full precision recovers. Level sets: ternary, five_level, int8.
//
// Allocation rule (allocateLevels), a greedy descent on loss rise per bit saved:
//   every quantized tensor starts at fp32 (32 bits); while the mean bits per quantized weight
//   (weighted by tensor size, bitsPerWeight: 32, 8, log2 5, log2 3) exceeds the budget, take the
//   one step down a ladder fp32 -> int8 -> five_level -> ternary whose cost
//   (loss[i][next] - loss[i][current]) / (bits saved x weights of i) is least (ties: the lower
//   tensor index); stop as soon as the mean is within the budget. Each step saves at most one
//   tensor's bits, so the mean ends within one tensor's worth of bits below the budget. The
//   rule assumes the tensors' rises add, as one-at-a-time analyses do.
// loss[i][l] is alone[i][l], and loss[i][fp32] is TensorSensitivity::fp32 (fp32_loss when not
// measured). During training (quant.weights=adaptive, every quant.adapt_every steps) the other
// tensors sit at the run's current levels rather than at fp32: latent weights trained under
// quantization are not a good fp32 model (their all-fp32 loss is often far above the quantized
// one), so "others at fp32" would measure every tensor against an operating point the run never
// uses. At step 0 the two agree (every tensor starts at fp32).
#pragma once

#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/quant/weight_quantizer.h"

namespace h158 {

// The level sets sensitivity measures, lowest bits first.
inline constexpr std::array<QuantLevels, 3> kSensitivityLevels = {
    QuantLevels::Ternary, QuantLevels::FiveLevel, QuantLevels::Int8};

struct TensorSensitivity {
    std::string name;
    int layoutIndex = 0;  // in the model's parameter layout
    int64_t weights = 0;
    QuantLevels level = QuantLevels::None;  // what the run uses for it now
    std::array<double, 3> alone{};          // validation loss, per kSensitivityLevels
    std::array<double, 3> kept{};
    double fp32 = std::numeric_limits<double>::quiet_NaN();  // loss with it at fp32, same others
};

struct SensitivityTable {
    int64_t step = 0;     // the run's step when measured
    int64_t batches = 0;  // validation batches per figure
    double fp32Loss = 0, currentLoss = 0;  // all fp32; the run's own levels
    std::array<double, 3> uniform{};       // per kSensitivityLevels
    std::vector<TensorSensitivity> tensors;  // the quantized tensors, layout order

    // {"step", "batches", "fp32_loss", "current_loss", "uniform": {"ternary": .., ...},
    //  "tensors": [{"name", "weights", "level", "fp32", "alone": {...}, "kept": {...}}]}
    nlohmann::json toJson() const;
    static SensitivityTable fromJson(const nlohmann::json& j);  // throws Error naming the field
    // One header line, then one line per tensor: tensor,weights,level, then the rises
    // alone_<l> = alone - fp32_loss and the recoveries kept_<l> = uniform - kept, per level set.
    std::string toCsv() const;
};

struct LevelAllocation {
    std::vector<QuantLevels> levels;  // per tensor of the input, in its order
    double meanBits = 0;              // weighted by the tensors' weights
};

// The greedy rule above over the tensors of `t` (their weights, alone[] and fp32 losses). Throws Error when the budget is below log2 3 (not
// reachable) or not finite.
LevelAllocation allocateLevels(const SensitivityTable& t, double budget);


}  // namespace h158
