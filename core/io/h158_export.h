// A trained model as a .h158 file (format in h158_format.h): which tensor becomes which kind,
// the JSON header that rebuilds the model, packing a model's weights, and storage figures.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/io/h158_format.h"

namespace h158 {

struct Config;
struct QuantState;
class ParamLayout;
enum class QuantLevels;

// Each layout tensor's kind, decided by the configuration alone (so a model's file size is known
// without its weights): quantized layout tensors of a quantized model take the configured levels,
// scales per tensor for granularity "tensor", per row for "row" and "cluster"; every other tensor
// is fp32. quant.weights=adaptive throws h158::Error: its levels are chosen during training.
std::vector<H158TensorPlan> planH158(const Config& cfg, const ParamLayout& layout);
// The same with each tensor's levels given (one per layout tensor; None -> fp32), as a mixed-
// precision model stores them. Throws h158::Error when levels are given to a tensor the layout
// does not quantize, or to any tensor of a model with quant.weights=none.
std::vector<H158TensorPlan> planH158(const Config& cfg, const ParamLayout& layout,
                                     std::span<const QuantLevels> levels);
// {"format": "hybrid158-h158", "version": 1, "model": kind, "parameters": N, "config": {...}}.
nlohmann::json h158Header(const Config& cfg, int64_t parameters);

// Packs the weights the model computes with: `effective` (the flat vector, quantized tensors
// dequantized) and q's codes and row scales for quantized tensors (q null when quantization is
// off). Each tensor's kind is its own q->tensors[i].levels (no codes -> fp32 from `effective`), so
// a mixed-precision model packs what it computes with; unless quant.weights=adaptive, the kinds
// must be the configuration's (planH158), else h158::Error names the tensor. Tensors follow the
// layout's order and names.
H158Model packModel(const Config& cfg, const ParamLayout& layout, const float* effective,
                    const QuantState* q);

// Storage figures of a model file.
struct H158Stats {
    int64_t parameters = 0;
    int64_t ternaryWeights = 0, ternaryPackedBytes = 0, ternaryScaleBytes = 0;
    int64_t fiveLevelWeights = 0, fiveLevelPackedBytes = 0, fiveLevelScaleBytes = 0;
    int64_t int8Weights = 0, int8PackedBytes = 0, int8ScaleBytes = 0;
    int64_t fp32Weights = 0;
    int64_t fileBytes = 0;
};
H158Stats h158Stats(const H158Model& m);

// The mean of bitsPerWeight over the weights of the layout's quantized tensors, each at its
// stored kind (fp32 = 32): what quant.bits_budget bounds. Embeddings, norms and the head, never
// quantized, do not count. Throws h158::Error when a quantized layout tensor is not in m, or
// NaN when the layout quantizes nothing.
double meanBitsPerWeight(const H158Model& m, const ParamLayout& layout);

}  // namespace h158
