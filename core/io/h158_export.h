// A trained model as a .h158 file (format in h158_format.h): which tensor becomes which kind,
// the JSON header that rebuilds the model, packing a model's weights, and storage figures.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/h158_format.h"

namespace h158 {

struct Config;
struct QuantState;
class ParamLayout;

// Each layout tensor's kind, decided by the configuration alone (so a model's file size is known
// without its weights): quantized layout tensors of a quantized model take the configured levels,
// scales per tensor for granularity "tensor", per row for "row" and "cluster"; every other tensor
// is fp32.
std::vector<H158TensorPlan> planH158(const Config& cfg, const ParamLayout& layout);
// {"format": "hybrid158-h158", "version": 1, "model": kind, "parameters": N, "config": {...}}.
nlohmann::json h158Header(const Config& cfg, int64_t parameters);

// Packs the weights the model computes with: `effective` (the flat vector, quantized tensors
// dequantized) and q's codes and row scales for quantized tensors (q null when quantization is
// off). Tensors follow the layout's order and names.
H158Model packModel(const Config& cfg, const ParamLayout& layout, const float* effective,
                    const QuantState* q);

// Storage figures of a model file.
struct H158Stats {
    int64_t parameters = 0;
    int64_t ternaryWeights = 0, ternaryPackedBytes = 0, ternaryScaleBytes = 0;
    int64_t fiveLevelWeights = 0, fiveLevelPackedBytes = 0, fiveLevelScaleBytes = 0;
    int64_t fp32Weights = 0;
    int64_t fileBytes = 0;
};
H158Stats h158Stats(const H158Model& m);

}  // namespace h158
