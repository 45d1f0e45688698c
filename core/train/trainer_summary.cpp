// The run summary's figures (Trainer::summary): loss reduction, constraint activation, the
// quantization and clustering figures and each component's share.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/train/trainer_impl.h"

namespace h158 {

nlohmann::json Trainer::Impl::figures() const {
    using nlohmann::json;
    const size_t n = history.size();
    auto mean = [&](auto field) {
        double s = 0;
        size_t c = 0;
        for (const auto& h : history) {
            const double v = field(h);
            if (!std::isnan(v)) s += v, ++c;
        }
        return c ? json(s / double(c)) : json();
    };
    json f;
    if (n == 0) return f;
    // final loss: mean over the last 5% of steps (at least one), less noisy than one batch
    const size_t tail = std::max<size_t>(1, n / 20);
    double fin = 0;
    for (size_t i = n - tail; i < n; ++i) fin += history[i].loss;
    fin /= double(tail);
    const double init = history.front().loss;
    double lastVal = kNoValue, lastValAcc = kNoValue;
    for (const auto& h : history) {
        if (!std::isnan(h.val_loss)) lastVal = h.val_loss;
        if (!std::isnan(h.val_accuracy)) lastValAcc = h.val_accuracy;
    }
    auto num = [](double v) { return std::isfinite(v) ? json(v) : json(); };
    f["initial_loss"] = num(init);
    f["final_loss"] = num(fin);
    f["final_loss_window"] = tail;
    f["total_loss_reduction"] = num(init - fin);
    f["relative_loss_reduction"] = num(init != 0 ? (init - fin) / init : kNoValue);
    f["final_val_loss"] = num(lastVal);
    if (!std::isnan(lastValAcc)) f["final_val_accuracy"] = lastValAcc;
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
                         {"final_frac_neg", num(history.back().frac_neg)},
                         {"final_frac_zero", num(history.back().frac_zero)},
                         {"final_frac_pos", num(history.back().frac_pos)},
                         {"update_quantization", cfg.quant.updates},
                         {"mean_update_quant_error", f["mean_update_quant_error"]}};
    json loss = json::array();
    for (double v : clusters.loss) loss.push_back(num(v));
    std::vector<int64_t> sizes(size_t(clusters.centroids.cols()), 0);
    for (int l : clusters.labels) ++sizes[size_t(l)];
    c["clustering"] = {{"data_k", cfg.cluster.data_k},
                       {"policy", cfg.cluster.policy},
                       {"refreshes", clusters.refreshes},
                       {"sizes", sizes},
                       {"cluster_loss", loss},
                       {"param_k", granularity == QuantGranularity::Cluster ? paramK : 0}};
    json a = {{"enabled", cfg.aux.enabled},
              {"mean_multiplier", mean([](const StepMetrics& h) { return h.lr_multiplier; })}};
    if (aux) {
        const AuxNet::Stats st = aux->stats();
        a["predictions"] = st.predictions;
        a["updates"] = st.updates;
        a["mean_radius"] = num(st.meanRadius);
        a["mean_hypergradient"] = num(st.meanHypergradient);
        a["prediction_success_rate"] = num(st.predictionSuccessRate);
        a["prediction_samples"] = st.predictionSamples;
        a["mean_radius_signal"] = num(st.meanRadiusSignal);
        a["radius_signals"] = st.radiusSamples;
        a["radius_expansions"] = st.radiusExpansions;
        a["radius_shrinks"] = st.radiusShrinks;
    }
    c["aux"] = a;
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

}  // namespace h158
