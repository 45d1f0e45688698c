// What each stage of a step taken in stages did (Trainer::stepStage), read from the trainer's own
// buffers after the stage ran, and the weight map of one tensor. Nothing here changes the run:
// the descriptions only read, so a step taken in stages gives the same bits as step().
#include <cmath>
#include <cstdio>

#include "core/base/errors.h"
#include "core/base/vector_ops.h"
#include "core/train/trainer_impl.h"

namespace h158 {
namespace {

std::string fmt(double v, int digits = 4) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    return buf;
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

}  // namespace

const char* stageName(StepStage s) {
    switch (s) {
    case StepStage::Forward: return "forward";
    case StepStage::Backward: return "backward";
    case StepStage::Aux: return "aux";
    case StepStage::Propose: return "propose";
    case StepStage::Project: return "project";
    case StepStage::Apply: return "apply";
    case StepStage::Requantize: return "requantize";
    case StepStage::Observe: return "observe";
    }
    return "unknown";
}

std::vector<double> Trainer::Impl::tensorNorms(const FloatBuffer& v) const {
    const ParamLayout& L = model->layout();
    std::vector<double> out(size_t(L.count()));
    for (int i = 0; i < L.count(); ++i)
        out[size_t(i)] = l2Norm(std::span<const float>(v.data() + L[i].offset, size_t(L[i].size())));
    return out;
}

// What a stage's description compares against, taken before the stage runs.
void Trainer::Impl::prepareReport(StepStage s) {
    if (s == StepStage::Project) staged.before = tensorNorms(delta);  // the proposed steps
}

void Trainer::Impl::describeStage(StepStage s, const StepMetrics& m, StageReport& r) {
    const ParamLayout& L = model->layout();
    r.stage = s;
    r.step = m.step;
    nlohmann::json d = nlohmann::json::object();
    nlohmann::json tensors = nlohmann::json::array();
    switch (s) {
    case StepStage::Forward: {
        const int64_t b = cfg.run.batch_size;
        r.title = "Forward with the codes";
        d = {{"loss", number(m.loss)}, {"accuracy", number(m.accuracy)}, {"batch", b},
             {"cluster", m.cluster}, {"quant_error", number(m.quant_error)},
             {"frac_neg", number(m.frac_neg)}, {"frac_zero", number(m.frac_zero)},
             {"frac_pos", number(m.frac_pos)}, {"quantized", quantizing()}};
        r.text = quantizing()
                     ? "A batch of " + std::to_string(b) +
                           " samples goes through the model with every quantized weight replaced by "
                           "its code (-1, 0 or +1) times its scale; the latent weights are not used. "
                           "Loss " + fmt(m.loss) + "."
                     : "A batch of " + std::to_string(b) +
                           " samples goes through the model with its full-precision weights. Loss " +
                           fmt(m.loss) + ".";
        break;
    }
    case StepStage::Backward: {
        const std::vector<double> g = tensorNorms(grad);
        for (int i = 0; i < L.count(); ++i)
            tensors.push_back({{"name", L[i].name}, {"grad_norm", g[size_t(i)]},
                               {"quantized", tensorLevels[size_t(i)] != QuantLevels::None}});
        d = {{"grad_norm", number(m.grad_norm)}, {"tensors", tensors}};
        r.title = "Backward through the straight-through estimator";
        r.text = quantizing()
                     ? "Rounding to a code has zero slope almost everywhere, so the gradient with "
                       "respect to each weight's quantized value is passed straight through to its "
                       "latent weight. |g| = " + fmt(m.grad_norm) + "; no code has changed yet."
                     : "The gradient of the loss with respect to every weight. |g| = " +
                           fmt(m.grad_norm) + ".";
        break;
    }
    case StepStage::Aux:
        d = {{"enabled", aux.has_value()}, {"multiplier", multiplier},
             {"radius", cfg.trust.enabled ? nlohmann::json(radius) : nlohmann::json()},
             {"warmup", cfg.aux.warmup}, {"in_warmup", aux.has_value() && step < auxStart + cfg.aux.warmup}};
        r.title = "The auxiliary network";
        r.text = !aux ? "The auxiliary network is off: the multiplier stays 1 and the trust radius r0."
                 : step < auxStart + cfg.aux.warmup
                     ? "The auxiliary network learns from the last step but its outputs are not used "
                       "until step " + std::to_string(auxStart + cfg.aux.warmup) + " (warm-up)."
                     : "The auxiliary network learned from what the last step did and now sets the "
                       "learning-rate multiplier m = " + fmt(multiplier) +
                           (cfg.trust.enabled ? " and the trust radius r = " + fmt(radius) : "") + ".";
        break;
    case StepStage::Propose: {
        const std::vector<double> n = tensorNorms(delta);
        for (int i = 0; i < L.count(); ++i)
            tensors.push_back({{"name", L[i].name}, {"proposed", n[size_t(i)]}});
        d = {{"lr", number(m.lr)}, {"optimizer", cfg.optim.kind}, {"step_norm", l2Norm(delta)},
             {"terngrad", cfg.quant.updates}, {"tensors", tensors}};
        r.title = "The optimizer proposes a step";
        r.text = (cfg.optim.kind == "adamw" ? "AdamW" : "SGD") +
                 std::string(" turns the gradient into a step for the latent weights at learning "
                             "rate ") + fmt(m.lr) + " (base x schedule x m)" +
                 (cfg.quant.updates ? ", then the step itself is ternarized (TernGrad)" : "") +
                 ". Proposed |step| = " + fmt(l2Norm(delta)) + ".";
        break;
    }
    case StepStage::Project: {
        const std::vector<double> after = tensorNorms(delta), theta = tensorNorms(params);
        const bool perTensor = cfg.trust.enabled && cfg.trust.mode != "global";
        int cut = 0;
        for (int i = 0; i < L.count(); ++i) {
            const double before = staged.before[size_t(i)];
            // the limit of trust_region.h: r |Theta_i| per matrix (tensor mode), none for vectors
            const bool limited = perTensor && L[i].cols > 1 && theta[size_t(i)] > 0;
            const bool shortened = cfg.trust.enabled && after[size_t(i)] != before;
            cut += shortened ? 1 : 0;
            tensors.push_back({{"name", L[i].name}, {"proposed", before}, {"after", after[size_t(i)]},
                               {"limit", limited ? nlohmann::json(radius * theta[size_t(i)])
                                                 : nlohmann::json()},
                               {"cut", shortened},
                               {"factor", before > 0 ? after[size_t(i)] / before : 1.0}});
        }
        d = {{"enabled", cfg.trust.enabled}, {"mode", cfg.trust.mode},
             {"radius", cfg.trust.enabled ? nlohmann::json(radius) : nlohmann::json()},
             {"constrained", m.constrained}, {"step_norm", number(m.step_norm)}, {"cut", cut},
             {"tensors", tensors}};
        r.title = "The trust region";
        r.text = !cfg.trust.enabled
                     ? "The trust region is off: the proposed step is taken as it is."
                 : perTensor
                     ? "Each matrix may move at most r = " + fmt(radius) +
                           " times its own norm. " +
                           (cut > 0 ? std::to_string(cut) + " tensor" + (cut > 1 ? "s were" : " was") +
                                          " cut back onto that limit."
                                    : "No tensor exceeded its limit: nothing was cut.")
                     : "The whole step may be at most r = " + fmt(radius) + " long. " +
                           (m.constrained ? "It was longer, so it was scaled back to r."
                                          : "It was shorter: nothing was cut.");
        break;
    }
    case StepStage::Apply:
        d = {{"step_norm", number(m.step_norm)}, {"param_norm", l2Norm(params)}, {"step", step}};
        r.title = "The update lands on the latent weights";
        r.text = "Theta <- Theta + step, on the full-precision latent weights (|step| = " +
                 fmt(m.step_norm) + ")." +
                 (quantizing() ? " The codes the next forward pass uses are not recomputed yet." : "");
        break;
    case StepStage::Requantize: {
        const int64_t w = flipTotal.weight, sc = flipTotal.scale;
        for (int i = 0; i < L.count(); ++i) {
            const QuantizedTensor& q = quant.tensors[size_t(i)];
            if (q.levels == QuantLevels::None) continue;
            const QuantizedTensor& was = prevQuant[size_t(i)];
            const FlipCounts& f = flips[size_t(i)];
            tensors.push_back(
                {{"name", L[i].name}, {"level_set", quantLevelsName(q.levels)},
                 {"flips_weight", f.weight}, {"flips_scale", f.scale}, {"weights", L[i].size()},
                 {"scale_before", was.rowScale.size() > 0 ? double(was.rowScale.mean()) : 0.0},
                 {"scale_after", double(q.rowScale.mean())}});
        }
        d = {{"quantized", quantizing()}, {"code_flips", number(codeFlips)},
             {"code_flips_scale", number(codeFlipsScale)}, {"flips_weight", w},
             {"flips_scale", sc}, {"quant_error", quantError}, {"tensors", tensors}};
        r.title = "Re-quantization and code flips";
        r.text = !quantizing()
                     ? "Quantization is off: the weights are used as they are."
                     : "New scales (the mean |W| of each group) and new codes for the next forward "
                       "pass. " + std::to_string(w + sc) + " codes flipped: " + std::to_string(w) +
                           " because their weight crossed a threshold, " + std::to_string(sc) +
                           " because the scale moved the thresholds over them.";
        break;
    }
    case StepStage::Observe:
        d = {{"val_loss", number(m.val_loss)}, {"val_accuracy", number(m.val_accuracy)},
             {"status", toString(status)}, {"steps_done", step}};
        r.title = "Bookkeeping";
        r.text = "Step " + std::to_string(m.step) + " is complete" +
                 (std::isfinite(m.val_loss) ? "; validation loss " + fmt(m.val_loss) : "") +
                 (status == RunStatus::Completed ? ". The run has finished." : ".");
        break;
    }
    r.data = std::move(d);
}

WeightMap Trainer::weightMap(int tensor) const {
    const ParamLayout& L = m->model->layout();
    if (tensor < 0 || tensor >= L.count())
        throw Error("weightMap: no tensor " + std::to_string(tensor) + " (the model has " +
                    std::to_string(L.count()) + ")");
    const ParamTensor& t = L[tensor];
    if (t.rows < 2 || t.cols < 2) throw Error("weightMap: " + t.name + " is not a matrix");
    WeightMap w;
    w.tensor = tensor;
    w.name = t.name;
    w.rows = t.rows;
    w.cols = t.cols;
    w.step = m->step;
    const float* p = m->params.data() + t.offset;
    w.latent.assign(p, p + t.size());
    const QuantizedTensor& q = m->quant.tensors[size_t(tensor)];
    w.levels = m->quantizing() ? q.levels : QuantLevels::None;
    if (w.levels == QuantLevels::None) return w;
    w.codes = q.codes;
    w.rowScale.assign(q.rowScale.data(), q.rowScale.data() + q.rowScale.size());
    const auto from = size_t(t.offset), to = size_t(t.offset + t.size());
    w.lastFlip.assign(m->lastFlip.begin() + long(from), m->lastFlip.begin() + long(to));
    w.flipCause.assign(m->flipCause.begin() + long(from), m->flipCause.begin() + long(to));
    return w;
}

}  // namespace h158
