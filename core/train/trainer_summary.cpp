// The run summary's figures (Trainer::summary): loss reduction, constraint activation, the
// quantization and clustering figures and each component's share.
#include <algorithm>
#include <cmath>

#include "core/train/trainer_impl.h"

namespace h158 {

namespace {

using nlohmann::json;

json finite(double v) { return std::isfinite(v) ? json(v) : json(); }

json meanOf(const RunFigures::Mean& m) { return m.count ? json(m.sum / double(m.count)) : json(); }

// Loss figures: the final loss is the mean over the last 5% of steps (at least one), less noisy
// than one batch; the validation figures are the last ones measured.
void addLossFigures(json& f, const RunFigures& r) {
    double fin = 0;
    for (double v : r.tail) fin += v;
    fin /= double(r.tail.size());
    const double init = r.initialLoss;
    f["initial_loss"] = finite(init);
    f["final_loss"] = finite(fin);
    f["final_loss_window"] = r.tail.size();
    f["total_loss_reduction"] = finite(init - fin);
    f["relative_loss_reduction"] = finite(init != 0 ? (init - fin) / init : kNoValue);
    f["final_val_loss"] = finite(r.lastValLoss);
    if (!std::isnan(r.lastValAccuracy)) f["final_val_accuracy"] = r.lastValAccuracy;
}

json auxFigures(bool enabled, const AuxNet* aux, const RunFigures& r) {
    json a = {{"enabled", enabled}, {"mean_multiplier", meanOf(r.multiplier)}};
    if (!aux) return a;
    const AuxNet::Stats st = aux->stats();
    a["predictions"] = st.predictions;
    a["updates"] = st.updates;
    a["mean_radius"] = finite(st.meanRadius);
    a["mean_hypergradient"] = finite(st.meanHypergradient);
    a["prediction_success_rate"] = finite(st.predictionSuccessRate);
    a["prediction_samples"] = st.predictionSamples;
    a["mean_radius_signal"] = finite(st.meanRadiusSignal);
    a["radius_signals"] = st.radiusSamples;
    a["radius_expansions"] = st.radiusExpansions;
    a["radius_shrinks"] = st.radiusShrinks;
    return a;
}

}  // namespace

void RunFigures::add(const StepMetrics& m) {
    if (rows++ == 0) initialLoss = m.loss;
    tail.push_back(m.loss);
    while (int64_t(tail.size()) > std::max<int64_t>(1, rows / 20)) tail.pop_front();
    if (!std::isnan(m.val_loss)) lastValLoss = m.val_loss;
    if (!std::isnan(m.val_accuracy)) lastValAccuracy = m.val_accuracy;
    elapsedMs = m.elapsed_ms;
    lastFractions = {m.frac_neg, m.frac_zero, m.frac_pos};
    constrained.add(double(m.constrained));
    quantError.add(m.quant_error);
    updateQuantError.add(m.update_quant_error);
    gradNorm.add(m.grad_norm);
    multiplier.add(m.lr_multiplier);
    constrainedFraction.add(m.constrained_fraction);
    radius.add(m.trust_radius);
    stepNorm.add(m.step_norm);
    lr.add(m.lr);
}

nlohmann::json Trainer::Impl::figures() const {
    json f;
    const RunFigures& r = figuresSoFar;
    if (r.rows == 0) return f;
    addLossFigures(f, r);
    f["constraint_activation_rate"] = cfg.trust.enabled ? meanOf(r.constrained) : json();
    f["mean_quant_error"] = meanOf(r.quantError);
    f["mean_update_quant_error"] = meanOf(r.updateQuantError);
    f["mean_grad_norm"] = meanOf(r.gradNorm);

    json& c = f["components"];
    c["quantization"] = {{"weights", cfg.quant.weights},
                         {"granularity", cfg.quant.granularity},
                         {"activations", cfg.quant.activations},
                         {"bits_per_weight", meanWeightBits()},
                         {"tensor_levels", tensorLevelsFigure()},
                         {"mean_quant_error", f["mean_quant_error"]},
                         {"final_frac_neg", finite(r.lastFractions.neg)},
                         {"final_frac_zero", finite(r.lastFractions.zero)},
                         {"final_frac_pos", finite(r.lastFractions.pos)},
                         {"update_quantization", cfg.quant.updates},
                         {"mean_update_quant_error", f["mean_update_quant_error"]}};
    c["clustering"] = clusteringFigures();
    c["aux"] = auxFigures(cfg.aux.enabled, aux ? &*aux : nullptr, r);
    c["trust_region"] = {
        {"enabled", cfg.trust.enabled},
        {"mode", cfg.trust.mode},
        {"constraint_activation_rate", f["constraint_activation_rate"]},
        {"mean_constrained_fraction", meanOf(r.constrainedFraction)},
        {"mean_radius", meanOf(r.radius)},
        {"mean_step_norm", meanOf(r.stepNorm)}};
    c["optimizer"] = {{"kind", cfg.optim.kind},
                      {"lr", cfg.optim.lr},
                      {"schedule", cfg.optim.schedule},
                      {"mean_lr", meanOf(r.lr)}};
    return f;
}

// An adaptive run's final level per quantizable tensor, {name: level}; null for uniform runs.
nlohmann::json Trainer::Impl::tensorLevelsFigure() const {
    if (!adaptive) return json();
    json j = json::object();
    const ParamLayout& L = model->layout();
    for (int i = 0; i < L.count(); ++i)
        if (L[i].quantized) j[L[i].name] = quantLevelsName(tensorLevels[size_t(i)]);
    return j;
}

nlohmann::json Trainer::Impl::clusteringFigures() const {
    json loss = json::array();
    for (double v : clusters.loss) loss.push_back(finite(v));
    std::vector<int64_t> sizes(size_t(clusters.centroids.cols()), 0);
    for (int l : clusters.labels) ++sizes[size_t(l)];
    return {{"data_k", cfg.cluster.data_k},
            {"policy", cfg.cluster.policy},
            {"refreshes", clusters.refreshes},
            {"sizes", sizes},
            {"cluster_loss", loss},
            {"param_k", granularity == QuantGranularity::Cluster ? paramK : 0}};
}

}  // namespace h158
