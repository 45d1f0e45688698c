// Memory-table arithmetic (see memory_table.h).
#include "core/io/memory_table.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "core/config/config.h"
#include "core/data/dataset.h"
#include "core/model/model.h"

namespace h158 {

std::vector<H158TensorPlan> shapeTensors(const ModelShape& s, bool perRowScales) {
    const int64_t d = s.dModel, f = s.ffn;
    const H158Scales scales = perRowScales ? H158Scales::PerRow : H158Scales::PerTensor;
    auto fp32 = [](int64_t rows, int64_t cols) {
        return H158TensorPlan{H158Kind::Fp32, H158Scales::None, rows, cols};
    };
    auto ternary = [&](int64_t rows, int64_t cols) {
        return H158TensorPlan{H158Kind::Ternary, scales, rows, cols};
    };
    std::vector<H158TensorPlan> t = {fp32(d, s.vocab), fp32(d, s.context)};
    for (int64_t l = 0; l < s.layers; ++l) {
        t.push_back(fp32(d, 1));  // ln1 weight, bias
        t.push_back(fp32(d, 1));
        if (s.ffnMatrices == 3) {
            for (int i = 0; i < 4; ++i) t.push_back(ternary(d, d));  // q, k, v, o
        } else {
            t.push_back(ternary(3 * d, d));  // qkv
            t.push_back(ternary(d, d));      // proj
        }
        t.push_back(fp32(d, 1));  // ln2 weight, bias
        t.push_back(fp32(d, 1));
        for (int i = 0; i + 1 < s.ffnMatrices; ++i) t.push_back(ternary(f, d));  // fc | gate, up
        t.push_back(ternary(d, f));                                              // out | down
    }
    t.push_back(fp32(d, 1));  // final LayerNorm
    t.push_back(fp32(d, 1));
    t.push_back(fp32(s.vocab, d));  // head
    return t;
}

namespace {

// The storage baselines of a row whose params are counted.
void fillBaselines(MemoryRow& r) {
    r.fp32Bytes = 4 * r.params;
    r.fp16Bytes = 2 * r.params;
    r.ideal158Bytes = r.params * std::log2(3.0) / 8;
}

}  // namespace

MemoryRow memoryRow(const std::string& name, std::span<const H158TensorPlan> tensors,
                    int64_t headerBytes) {
    MemoryRow r;
    r.name = name;
    r.packedLevels = "none";
    for (const auto& t : tensors) {
        const double n = double(t.rows) * double(t.cols);
        r.params += n;
        if (t.kind == H158Kind::Fp32) continue;
        r.quantizedParams += n;
        (t.kind == H158Kind::Ternary     ? r.ternaryParams
         : t.kind == H158Kind::FiveLevel ? r.fiveLevelParams
                                         : r.int8Params) += n;
        const std::string kind = h158KindName(t.kind);
        r.packedLevels = r.packedLevels == "none" || r.packedLevels == kind ? kind : "mixed";
    }
    fillBaselines(r);
    r.packedBytes = double(h158FileBytes(headerBytes, tensors));
    return r;
}

MemoryRow memoryRow(const H158Model& file, const std::string& name) {
    std::vector<H158TensorPlan> t;
    for (const H158Tensor& x : file.tensors) t.push_back({x.kind, x.scales, x.rows, x.cols});
    return memoryRow(name, t, int64_t(file.header.dump().size()));
}

MemoryRow memoryRow(const ModelShape& s, bool perRowScales, const Config& base) {
    const std::vector<H158TensorPlan> t = shapeTensors(s, perRowScales);
    Config c = base;
    c.model.layers = s.layers;
    c.model.d_model = s.dModel;
    c.model.context = s.context;
    int64_t params = 0;
    for (const auto& p : t) params += p.rows * p.cols;
    return memoryRow(s.name, t, int64_t(h158Header(c, params).dump().size()));
}

MemoryRow memoryRow(const Config& cfg, const std::string& name) {
    // The layout needs the data's widths only (dataShape generates nothing; a CSV file is read).
    const std::unique_ptr<Model> model = makeModel(cfg, dataShape(cfg));
    const ParamLayout& layout = model->layout();
    if (cfg.quant.weights == "adaptive") {
        MemoryRow r;
        r.name = name;
        r.params = double(layout.size());
        r.quantizedParams = double(layout.quantizedSize());
        r.packedLevels = "adaptive";
        fillBaselines(r);
        r.packedBytes = std::numeric_limits<double>::quiet_NaN();
        return r;
    }
    const std::vector<H158TensorPlan> t = planH158(cfg, layout);
    return memoryRow(name, t, int64_t(h158Header(cfg, layout.size()).dump().size()));
}

std::vector<ModelShape> referenceShapes() {
    return {{"100M", 12, 768, 2048, 32000, 2048, 3},
            {"1B", 22, 2048, 5632, 32000, 2048, 3},
            {"7B", 32, 4096, 11008, 32000, 4096, 3},
            {"13B", 40, 5120, 13824, 32000, 4096, 3}};
}

namespace {

// v with a thousands prefix: "%.2f G", "%.2f M", "%.1f k" or "%.0f" followed by `unit`.
std::string formatScaled(double v, const char* unit, const char* space) {
    char buf[32];
    if (v >= 1e9)
        std::snprintf(buf, sizeof buf, "%.2f%sG%s", v / 1e9, space, unit);
    else if (v >= 1e6)
        std::snprintf(buf, sizeof buf, "%.2f%sM%s", v / 1e6, space, unit);
    else if (v >= 1e3)
        std::snprintf(buf, sizeof buf, "%.1f%sk%s", v / 1e3, space, unit);
    else
        std::snprintf(buf, sizeof buf, "%.0f%s%s", v, space, unit);
    return buf;
}

}  // namespace

std::string formatBytes(double b) {
    return std::isnan(b) ? "after training" : formatScaled(b, "B", " ");
}

namespace {

std::string formatCount(double n) {
    std::string s = formatScaled(n, "", "");
    if (!s.empty() && s.back() == 'G') s.back() = 'B';  // billions
    return s;
}

}  // namespace

std::string memoryTableMarkdown(const std::vector<MemoryRow>& rows) {
    std::string s =
        "| model | parameters | quantized (block linears) | fp32 | fp16 | ideal 1.58-bit | "
        ".h158 file | fp32 / .h158 |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    char ratio[32];
    for (const auto& r : rows) {
        if (std::isnan(r.packedBytes))
            std::snprintf(ratio, sizeof ratio, "after training");
        else
            std::snprintf(ratio, sizeof ratio, "%.1fx", r.fp32Bytes / r.packedBytes);
        std::string q =
            formatCount(r.quantizedParams) + (r.packedLevels == "none" ? "" : " " + r.packedLevels);
        if (r.packedLevels == "mixed") {
            std::string parts;
            for (const auto& [n, label] : {std::pair{r.ternaryParams, "ternary"},
                                           {r.fiveLevelParams, "five_level"},
                                           {r.int8Params, "int8"}})
                if (n > 0) parts += (parts.empty() ? "" : ", ") + formatCount(n) + " " + label;
            q += " (" + parts + ")";
        }
        s += "| " + r.name + " | " + formatCount(r.params) + " | " + q + " | " +
             formatBytes(r.fp32Bytes) + " | " + formatBytes(r.fp16Bytes) + " | " +
             formatBytes(r.ideal158Bytes) + " | " + formatBytes(r.packedBytes) + " | " + ratio +
             " |\n";
    }
    return s;
}

}  // namespace h158
