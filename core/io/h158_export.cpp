// A trained model as a .h158 file (see h158_export.h).
#include "core/io/h158_export.h"

#include <cmath>
#include <limits>

#include "core/base/errors.h"
#include "core/config/config.h"
#include "core/model/model.h"
#include "core/model/params.h"
#include "core/quant/weight_quantizer.h"

namespace h158 {

std::vector<H158TensorPlan> planH158(const Config& cfg, const ParamLayout& layout) {
    if (cfg.quant.weights == "adaptive")
        throw Error(
            "quant.weights=adaptive: the levels are chosen during training, so the .h158 kinds "
            "are not known from the configuration (plan with each tensor's levels, or read the "
            "run's weights.h158)");
    const QuantLevels levels = parseQuantLevels(cfg.quant.weights);
    std::vector<QuantLevels> each;
    for (const ParamTensor& t : layout.tensors())
        each.push_back(t.quantized ? levels : QuantLevels::None);
    return planH158(cfg, layout, each);
}

std::vector<H158TensorPlan> planH158(const Config& cfg, const ParamLayout& layout,
                                     std::span<const QuantLevels> levels) {
    if (int64_t(levels.size()) != layout.count())
        throw Error("h158: " + std::to_string(levels.size()) + " tensor levels for a layout of " +
                    std::to_string(layout.count()) + " tensors");
    const H158Scales scales =
        parseQuantGranularity(cfg.quant.granularity) == QuantGranularity::Tensor
            ? H158Scales::PerTensor
            : H158Scales::PerRow;
    std::vector<H158TensorPlan> plans;
    for (int i = 0; i < layout.count(); ++i) {
        const ParamTensor& t = layout[i];
        const QuantLevels l = levels[size_t(i)];
        H158TensorPlan p{H158Kind::Fp32, H158Scales::None, t.rows, t.cols};
        if (l != QuantLevels::None) {
            if (!t.quantized || cfg.quant.weights == "none")
                throw Error("h158: tensor " + t.name + " cannot be stored " + quantLevelsName(l) +
                            (t.quantized ? " in a model with quant.weights=none"
                                         : ": the model never quantizes it"));
            p.kind = h158KindOf(l);
            p.scales = scales;
        }
        plans.push_back(p);
    }
    return plans;
}

nlohmann::json h158Header(const Config& cfg, int64_t parameters) {
    return {{"format", kH158FormatName},
            {"version", kH158Version},
            {"model", cfg.model.kind},
            {"parameters", parameters},
            {"config", toJson(cfg)}};
}

H158Model packModel(const Config& cfg, const ParamLayout& layout, const float* effective,
                    const QuantState* q) {
    if (q && int(q->tensors.size()) != layout.count())
        throw Error("h158: the quantization state has " + std::to_string(q->tensors.size()) +
                    " tensors, the model " + std::to_string(layout.count()));
    std::vector<QuantLevels> levels(size_t(layout.count()), QuantLevels::None);
    if (q)
        for (size_t i = 0; i < levels.size(); ++i)
            if (!q->tensors[i].codes.empty()) levels[i] = q->tensors[i].levels;
    const std::vector<H158TensorPlan> plans = planH158(cfg, layout, levels);
    if (cfg.quant.weights != "adaptive") {
        // A uniform model's file must hold the kinds its header's configuration implies.
        const std::vector<H158TensorPlan> want = planH158(cfg, layout);
        for (int i = 0; i < layout.count(); ++i) {
            const H158Kind got = plans[size_t(i)].kind, need = want[size_t(i)].kind;
            if (got == need) continue;
            throw Error("h158: tensor " + layout[i].name +
                        (got == H158Kind::Fp32
                             ? std::string(" is quantized but has no codes to pack")
                             : std::string(" holds ") + h158KindName(got) + " codes") +
                        " (quant.weights=" + cfg.quant.weights + ")");
        }
    }
    H158Model m;
    m.header = h158Header(cfg, layout.size());
    for (int i = 0; i < layout.count(); ++i) {
        const ParamTensor& t = layout[i];
        const H158TensorPlan& p = plans[size_t(i)];
        if (p.kind == H158Kind::Fp32)
            m.tensors.push_back(h158Fp32(t.name, effective + t.offset, t.rows, t.cols));
        else
            m.tensors.push_back(h158Quantized(t.name, q->tensors[size_t(i)], p.scales));
    }
    return m;
}

H158Stats h158Stats(const H158Model& m) {
    H158Stats s;
    std::vector<H158TensorPlan> plans;
    for (const auto& t : m.tensors) {
        const int64_t n = t.rows * t.cols;
        s.parameters += n;
        const int64_t packed = t.rows * t.rowStride();
        const int64_t scaleBytes = 4 * int64_t(t.scale.size());
        switch (t.kind) {
            case H158Kind::Ternary:
                s.ternaryWeights += n;
                s.ternaryPackedBytes += packed;
                s.ternaryScaleBytes += scaleBytes;
                break;
            case H158Kind::FiveLevel:
                s.fiveLevelWeights += n;
                s.fiveLevelPackedBytes += packed;
                s.fiveLevelScaleBytes += scaleBytes;
                break;
            case H158Kind::Int8:
                s.int8Weights += n;
                s.int8PackedBytes += packed;
                s.int8ScaleBytes += scaleBytes;
                break;
            case H158Kind::Fp32:
                s.fp32Weights += n;
                break;
        }
        plans.push_back({t.kind, t.scales, t.rows, t.cols});
    }
    s.fileBytes = h158FileBytes(int64_t(m.header.dump().size()), plans);
    return s;
}

double meanBitsPerWeight(const H158Model& m, const ParamLayout& layout) {
    std::vector<int64_t> weights;
    std::vector<QuantLevels> levels;
    for (const ParamTensor& lt : layout.tensors()) {
        if (!lt.quantized) continue;
        const H158Tensor* t = m.find(lt.name);
        if (!t) throw Error("h158: the model file has no tensor " + lt.name);
        weights.push_back(t->rows * t->cols);
        levels.push_back(quantLevelsOf(t->kind));
    }
    // A model without quantizable tensors has no figure (null in export's line).
    return weights.empty() ? std::numeric_limits<double>::quiet_NaN() : meanBits(weights, levels);
}

}  // namespace h158
