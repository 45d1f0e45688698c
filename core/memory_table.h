// Memory needed to store a model's weights: fp32, fp16, the ideal 1.58 bits for every parameter
// (the original system's 20.25x claim) and hybrid158's packed format as actually written
// (block weights 5 trits per byte = 1.6 bits, one fp32 scale per row group, embeddings, norms
// and head in fp32, plus the file's header and tensor table).
#pragma once

#include <string>
#include <vector>

namespace h158 {

struct ModelShape {
    std::string name;
    int64_t layers = 0, dModel = 0, ffn = 0, vocab = 0, context = 0;
    int ffnMatrices = 2;  // 2 = GELU MLP (fc, out); 3 = SwiGLU (gate, up, down)
};

struct MemoryRow {
    std::string name;
    double params = 0;          // total parameters
    double ternaryParams = 0;   // in block linears (quantized)
    double fp32Bytes = 0, fp16Bytes = 0, ideal158Bytes = 0, packedBytes = 0;
};

MemoryRow memoryRow(const ModelShape& s, int64_t scalesPerTensor = 1);
// LLaMA-style reference shapes for 100M / 1B / 7B / 13B (SwiGLU, vocabulary 32000, untied).
std::vector<ModelShape> referenceShapes();
std::string formatBytes(double bytes);

}  // namespace h158
