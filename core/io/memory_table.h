// Memory needed to store a model's weights: fp32, fp16, the ideal 1.58 bits for every parameter
// (the original system's 20.25x claim) and hybrid158's .h158 file as actually written
// (h158_format.h: block weights 5 trits per byte per row, fp32 scales per tensor or per row,
// embeddings, norms and head in fp32, the 64-byte header, JSON header, 96-byte table entries and
// 64-byte payload alignment). The .h158 figure is the exact file size, computed by the same
// layout code the writer uses. A mixed-precision model (quant.weights=adaptive) has no size until
// its levels are chosen in training: its configuration's row leaves the size NaN, and the row
// of its file (memoryRow(file)) counts every tensor at its own kind.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/io/h158_export.h"

namespace h158 {

struct Config;

struct ModelShape {
    std::string name;
    int64_t layers = 0, dModel = 0, ffn = 0, vocab = 0, context = 0;
    int ffnMatrices = 2;  // 2 = GELU MLP (fc, out); 3 = SwiGLU (gate, up, down)
};

struct MemoryRow {
    std::string name;
    double params = 0;  // total parameters
    // Stored quantized (block linears); for an adaptive configuration's row, in the tensors whose
    // levels training will choose.
    double quantizedParams = 0;
    double ternaryParams = 0, fiveLevelParams = 0, int8Params = 0;  // of those, at each level
    double fp32Bytes = 0, fp16Bytes = 0, ideal158Bytes = 0;
    double packedBytes = 0;  // the .h158 file; NaN when unknown before training (adaptive)
    // What the quantized tensors hold: ternary | five_level | int8 | mixed (several kinds) |
    // none | adaptive (chosen in training)
    std::string packedLevels;
};

// The file's tensors for a shape: our GPT's blocks (2 FFN matrices: qkv (3d, d), proj, fc, out)
// or LLaMA-style ones (3: q, k, v, o, gate, up, down), each block with two LayerNorms (weight and
// bias), token and learned position embeddings, final LayerNorm and an untied head, all fp32
// except the ternary block linears.
std::vector<H158TensorPlan> shapeTensors(const ModelShape& s, bool perRowScales = false);
// A row from a file's tensors and the size of its JSON header (every quantized-kind tensor
// counts as quantized).
MemoryRow memoryRow(const std::string& name, std::span<const H158TensorPlan> tensors,
                    int64_t headerBytes);
// A model file's row, counted from its own tensors and header: packedBytes is its exact size.
MemoryRow memoryRow(const H158Model& file, const std::string& name);
// A shape's row with the JSON header the configuration `base` would have at that shape
// (base.model's layers, d_model and context replaced).
MemoryRow memoryRow(const ModelShape& s, bool perRowScales, const Config& base);
// The model a configuration builds, as its DIR/weights.h158 would be written (exact bytes). With
// quant.weights=adaptive the levels are not known yet: packedLevels "adaptive", quantizedParams
// the tensors the allocation chooses levels for, packedBytes NaN.
MemoryRow memoryRow(const Config& cfg, const std::string& name);
// LLaMA-style reference shapes for 100M / 1B / 7B / 13B (SwiGLU, vocabulary 32000, untied).
std::vector<ModelShape> referenceShapes();
std::string formatBytes(double bytes);  // NaN (unknown until training) -> "after training"
// The rows as a Markdown table (one header, one line per row).
std::string memoryTableMarkdown(const std::vector<MemoryRow>& rows);

}  // namespace h158
