// The run summary's figures (Trainer::summary): loss reduction, constraint activation, the
// quantization and clustering figures and each component's share.
#include <algorithm>
#include <cmath>

#include "core/train/trainer_impl.h"

namespace h158 {

namespace {

using nlohmann::json;

// The mean of a metrics field over the steps where it has a value (null when it never had).
template <typename F>
json meanOf(const std::vector<StepMetrics>& history, F field) {
    double s = 0;
    size_t c = 0;
    for (const auto& h : history) {
        const double v = field(h);
        if (!std::isnan(v)) s += v, ++c;
    }
    return c ? json(s / double(c)) : json();
}

json finite(double v) { return std::isfinite(v) ? json(v) : json(); }

// Loss figures: the final loss is the mean over the last 5% of steps (at least one), less noisy
// than one batch; the validation figures are the last ones measured.
void addLossFigures(json& f, const std::vector<StepMetrics>& history) {
    const size_t n = history.size(), tail = std::max<size_t>(1, n / 20);
    double fin = 0;
    for (size_t i = n - tail; i < n; ++i) fin += history[i].loss;
    fin /= double(tail);
    const double init = history.front().loss;
    double lastVal = kNoValue, lastValAcc = kNoValue;
    for (const auto& h : history) {
        if (!std::isnan(h.val_loss)) lastVal = h.val_loss;
        if (!std::isnan(h.val_accuracy)) lastValAcc = h.val_accuracy;
    }
    f["initial_loss"] = finite(init);
    f["final_loss"] = finite(fin);
    f["final_loss_window"] = tail;
    f["total_loss_reduction"] = finite(init - fin);
    f["relative_loss_reduction"] = finite(init != 0 ? (init - fin) / init : kNoValue);
    f["final_val_loss"] = finite(lastVal);
    if (!std::isnan(lastValAcc)) f["final_val_accuracy"] = lastValAcc;
}

json auxFigures(bool enabled, const AuxNet* aux, const std::vector<StepMetrics>& history) {
    json a = {{"enabled", enabled},
              {"mean_multiplier", meanOf(history, [](const StepMetrics& h) { return h.lr_multiplier; })}};
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

nlohmann::json Trainer::Impl::figures() const {
    json f;
    if (history.empty()) return f;
    auto mean = [&](auto field) { return meanOf(history, field); };
    addLossFigures(f, history);
    f["constraint_activation_rate"] =
        cfg.trust.enabled ? mean([](const StepMetrics& h) { return double(h.constrained); }) : json();
    f["mean_quant_error"] = mean([](const StepMetrics& h) { return h.quant_error; });
    f["mean_update_quant_error"] = mean([](const StepMetrics& h) { return h.update_quant_error; });
    f["mean_grad_norm"] = mean([](const StepMetrics& h) { return h.grad_norm; });

    json& c = f["components"];
    c["quantization"] = {{"weights", cfg.quant.weights},
                         {"granularity", cfg.quant.granularity},
                         {"activations", cfg.quant.activations},
                         {"bits_per_weight", bitsPerWeight(levels)},
                         {"mean_quant_error", f["mean_quant_error"]},
                         {"final_frac_neg", finite(history.back().frac_neg)},
                         {"final_frac_zero", finite(history.back().frac_zero)},
                         {"final_frac_pos", finite(history.back().frac_pos)},
                         {"update_quantization", cfg.quant.updates},
                         {"mean_update_quant_error", f["mean_update_quant_error"]}};
    c["clustering"] = clusteringFigures();
    c["aux"] = auxFigures(cfg.aux.enabled, aux ? &*aux : nullptr, history);
    c["trust_region"] = {
        {"enabled", cfg.trust.enabled},
        {"mode", cfg.trust.mode},
        {"constraint_activation_rate", f["constraint_activation_rate"]},
        {"mean_constrained_fraction", mean([](const StepMetrics& h) { return h.constrained_fraction; })},
        {"mean_radius", mean([](const StepMetrics& h) { return h.trust_radius; })},
        {"mean_step_norm", mean([](const StepMetrics& h) { return h.step_norm; })}};
    c["optimizer"] = {{"kind", cfg.optim.kind},
                      {"lr", cfg.optim.lr},
                      {"schedule", cfg.optim.schedule},
                      {"mean_lr", mean([](const StepMetrics& h) { return h.lr; })}};
    return f;
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
