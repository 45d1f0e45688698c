// Memory-table arithmetic (see memory_table.h).
#include "core/memory_table.h"

#include <cmath>
#include <cstdio>

#include "core/packing.h"

namespace h158 {

MemoryRow memoryRow(const ModelShape& s, int64_t scalesPerTensor) {
    const double d = double(s.dModel);
    // per block: attention q, k, v, o (4 d²) and the MLP matrices (ffnMatrices · d · ffn)
    const double attn = 4 * d * d, mlp = double(s.ffnMatrices) * d * double(s.ffn);
    const double blockTernary = attn + mlp;
    const double norms = 2 * 2 * d;  // two LayerNorms (weight, bias) per block
    const double embed = double(s.vocab) * d + double(s.context) * d;
    const double head = double(s.vocab) * d + 2 * d;  // untied head and the final norm
    MemoryRow r;
    r.name = s.name;
    r.ternaryParams = blockTernary * double(s.layers);
    r.params = r.ternaryParams + norms * double(s.layers) + embed + head;
    r.fp32Bytes = 4 * r.params;
    r.fp16Bytes = 2 * r.params;
    r.ideal158Bytes = r.params * std::log2(3.0) / 8;
    const int tensorsPerBlock = 4 + s.ffnMatrices;
    // packed: each block linear is its own tensor, packed 5 trits per byte, plus fp32 scales
    double packed = 0;
    const double sizes[] = {d * d, d * double(s.ffn)};
    for (int t = 0; t < tensorsPerBlock; ++t) {
        const double n = t < 4 ? sizes[0] : sizes[1];
        packed += double(packedSize(int64_t(n))) + 4.0 * double(scalesPerTensor);
    }
    packed *= double(s.layers);
    packed += 4 * (norms * double(s.layers) + embed + head);
    // header (64 bytes) and a 96-byte table entry per tensor
    packed += 64 + 96.0 * (double(tensorsPerBlock + 2) * double(s.layers) + 5);
    r.packedBytes = packed;
    return r;
}

std::vector<ModelShape> referenceShapes() {
    return {{"100M", 12, 768, 2048, 32000, 2048, 3},
            {"1B", 22, 2048, 5632, 32000, 2048, 3},
            {"7B", 32, 4096, 11008, 32000, 4096, 3},
            {"13B", 40, 5120, 13824, 32000, 4096, 3}};
}

std::string formatBytes(double b) {
    char buf[32];
    if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
    else if (b >= 1e6) std::snprintf(buf, sizeof buf, "%.2f MB", b / 1e6);
    else if (b >= 1e3) std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
    else std::snprintf(buf, sizeof buf, "%.0f B", b);
    return buf;
}

}  // namespace h158
