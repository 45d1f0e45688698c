// A trained model as a .h158 file (see h158_export.h).
#include "core/io/h158_export.h"

#include "core/base/errors.h"
#include "core/config/config.h"
#include "core/model/model.h"
#include "core/model/params.h"
#include "core/quant/weight_quantizer.h"

namespace h158 {

std::vector<H158TensorPlan> planH158(const Config& cfg, const ParamLayout& layout) {
    const QuantLevels levels = parseQuantLevels(cfg.quant.weights);
    const H158Scales scales =
        parseQuantGranularity(cfg.quant.granularity) == QuantGranularity::Tensor
            ? H158Scales::PerTensor
            : H158Scales::PerRow;
    std::vector<H158TensorPlan> plans;
    for (const ParamTensor& t : layout.tensors()) {
        H158TensorPlan p{H158Kind::Fp32, H158Scales::None, t.rows, t.cols};
        if (t.quantized && levels != QuantLevels::None) {
            p.kind = levels == QuantLevels::Ternary ? H158Kind::Ternary : H158Kind::FiveLevel;
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
    const std::vector<H158TensorPlan> plans = planH158(cfg, layout);
    H158Model m;
    m.header = h158Header(cfg, layout.size());
    for (int i = 0; i < layout.count(); ++i) {
        const ParamTensor& t = layout[i];
        const H158TensorPlan& p = plans[size_t(i)];
        if (p.kind == H158Kind::Fp32) {
            m.tensors.push_back(h158Fp32(t.name, effective + t.offset, t.rows, t.cols));
            continue;
        }
        if (!q || int(q->tensors.size()) != layout.count() || q->tensors[size_t(i)].codes.empty())
            throw Error("h158: tensor " + t.name + " is quantized but has no codes to pack");
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
        if (t.kind == H158Kind::Ternary) {
            s.ternaryWeights += n;
            s.ternaryPackedBytes += packed;
            s.ternaryScaleBytes += scaleBytes;
        } else if (t.kind == H158Kind::FiveLevel) {
            s.fiveLevelWeights += n;
            s.fiveLevelPackedBytes += packed;
            s.fiveLevelScaleBytes += scaleBytes;
        } else {
            s.fp32Weights += n;
        }
        plans.push_back({t.kind, t.scales, t.rows, t.cols});
    }
    s.fileBytes = h158FileBytes(int64_t(m.header.dump().size()), plans);
    return s;
}

}  // namespace h158
