// The trainer's clustering (data and parameters), its snapshots for the live views, and the
// run summary's figures.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/cluster/kmeans.h"
#include "core/infer/gpt_inference.h"
#include "core/io/h158_export.h"
#include "core/cluster/pca.h"
#include "core/train/trainer_impl.h"

namespace h158 {
namespace {

constexpr int64_t kMaxPoints = 2000;  // points per scatter snapshot (evenly strided)

std::vector<int64_t> strided(int64_t n, int64_t most) {
    std::vector<int64_t> out;
    const int64_t step = std::max<int64_t>(1, (n + most - 1) / most);
    for (int64_t i = 0; i < n; i += step) out.push_back(i);
    return out;
}

// Centroids (F, k) as the means of the given assignment; an empty cluster keeps `fallback`.
MatF meansOf(const MatF& x, const std::vector<int>& labels, int k, const MatF* fallback) {
    MatF c = MatF::Zero(x.rows(), k);
    std::vector<int64_t> n(static_cast<size_t>(k), 0);
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
        c.col(labels[size_t(j)]) += x.col(j);
        ++n[size_t(labels[size_t(j)])];
    }
    for (int i = 0; i < k; ++i) {
        if (n[size_t(i)] > 0) c.col(i) /= float(n[size_t(i)]);
        else if (fallback && fallback->rows() == x.rows()) c.col(i) = fallback->col(i);
        else c.col(i) = x.col(Eigen::Index((int64_t(i) * x.cols()) / k));
    }
    return c;
}

nlohmann::json pointsJson(const MatF& p, const std::vector<int64_t>& cols) {
    nlohmann::json a = nlohmann::json::array();
    for (int64_t j : cols) a.push_back({p(0, j), p(1, j)});
    return a;
}

}  // namespace

void Trainer::Impl::refreshDataClusters() {
    const int64_t n = data->trainSize();
    const int k = int(std::min<int64_t>(cfg.cluster.data_k, n));
    MatF features;
    if (!clusterLabels.empty()) {
        std::vector<int64_t> all(static_cast<size_t>(n));
        std::iota(all.begin(), all.end(), 0);
        const QuantState* q = levels == QuantLevels::None ? nullptr : &quant;
        features = model->representation(effective.data(), q, *data, all);
    }
    const bool refresh = features.size() > 0;
    if (!refresh) features = clusterLabels.empty() ? data->clusterFeatures() : clusterFeatures;

    KMeansOptions opt;
    opt.k = k;
    opt.maxIter = int(cfg.cluster.max_iter);
    opt.tol = cfg.cluster.tol;
    opt.seed = uint64_t(cfg.run.seed);
    opt.nInit = clusterLabels.empty() ? 3 : 1;
    MatF warm;
    if (!clusterLabels.empty()) {
        // Warm start from the current assignment, expressed in the (possibly new) feature
        // space, so cluster identities (and their colours) carry over.
        warm = meansOf(features, clusterLabels, k, &clusterCentroids);
        opt.init = &warm;
    }
    const bool mini = cfg.cluster.algorithm == "minibatch" ||
                      (cfg.cluster.algorithm == "auto" && features.cols() > 20000);
    KMeansResult r;
    if (mini) {
        MiniBatchOptions mb;
        mb.k = k;
        mb.batchSize = 1024;
        mb.maxIter = int(cfg.cluster.max_iter);
        mb.tol = cfg.cluster.tol;
        mb.seed = uint64_t(cfg.run.seed);
        mb.init = opt.init;
        r = miniBatchKmeans(features, mb);
    } else {
        r = kmeans(features, opt);
    }
    clusterFeatures = std::move(features);
    clusterCentroids = r.centroids;
    clusterLabels = r.labels;
    if (refresh) ++clusterRefreshes;
    clusterLoss.resize(size_t(k), kNoValue);
    sampler->setClusters(clusterLabels, k);

    pca = fitPca2d(clusterFeatures);
}

void Trainer::Impl::refreshParamClusters() {
    // Rows of each quantized tensor grouped by 1-D K-Means on their mean |w| (the quantity a
    // scale stands for): rows of similar magnitude share one absmean scale.
    const ParamLayout& L = model->layout();
    for (int i = 0; i < L.count(); ++i) {
        const ParamTensor& t = L[i];
        if (!t.quantized) continue;
        const int k = int(std::min<int64_t>(paramK, t.rows));
        const auto W = L.view(params.data(), i);
        MatF f(1, t.rows);
        f.row(0) = W.cwiseAbs().rowwise().mean().transpose();
        auto& labels = rowCluster[size_t(i)];
        KMeansOptions opt;
        opt.k = k;
        opt.maxIter = int(cfg.cluster.max_iter);
        opt.tol = cfg.cluster.tol;
        opt.seed = uint64_t(cfg.run.seed) + uint64_t(i);
        MatF warm;
        if (step > 0) {
            warm = meansOf(f, labels, k, nullptr);
            opt.init = &warm;
        }
        if (k <= 1) {
            std::fill(labels.begin(), labels.end(), 0);
            continue;
        }
        // Order clusters by magnitude so cluster 0 is always the smallest-scale group.
        const KMeansResult r = kmeans(f, opt);
        std::vector<int> order(static_cast<size_t>(k));
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(),
                  [&](int a, int b) { return r.centroids(0, a) < r.centroids(0, b); });
        std::vector<int> rank(static_cast<size_t>(k));
        for (int j = 0; j < k; ++j) rank[size_t(order[size_t(j)])] = j;
        for (int64_t row = 0; row < t.rows; ++row) labels[size_t(row)] = rank[size_t(r.labels[size_t(row)])];
    }
}

void Trainer::Impl::emitSnapshots() {
    if (cfg.cluster.data_k > 0) snapshots.push_back(clustersSnapshot());
    snapshots.push_back(weightsSnapshot());
    if (data->task() == Task::Classification && data->inputDim() == 2)
        snapshots.push_back(boundarySnapshot());
}

Snapshot Trainer::Impl::clustersSnapshot() {
    Snapshot s{step, "clusters", nlohmann::json::object()};
    if (clusterLabels.empty()) return s;
    const int k = int(clusterCentroids.cols());
    MatF pts = data->trainInputs2d();
    const bool inputs = pts.size() > 0;
    if (!inputs) pts = pca.coords;
    const auto cols = strided(pts.cols(), kMaxPoints);
    nlohmann::json labels = nlohmann::json::array();
    for (int64_t j : cols) labels.push_back(clusterLabels[size_t(j)]);
    const MatF c2 = meansOf(pts, clusterLabels, k, nullptr);
    std::vector<int64_t> sizes(static_cast<size_t>(k), 0);
    for (int l : clusterLabels) ++sizes[size_t(l)];
    nlohmann::json loss = nlohmann::json::array();
    for (double v : clusterLoss) loss.push_back(std::isnan(v) ? nlohmann::json() : nlohmann::json(v));
    std::vector<int64_t> all(static_cast<size_t>(k));
    std::iota(all.begin(), all.end(), 0);
    s.data = {{"points", pointsJson(pts, cols)},
              {"labels", labels},
              {"centroids", pointsJson(c2, all)},
              {"sizes", sizes},
              {"cluster_loss", loss},
              {"refreshes", clusterRefreshes},
              {"space", inputs ? "inputs" : "pca"}};
    return s;
}

Snapshot Trainer::Impl::weightsSnapshot() {
    const ParamLayout& L = model->layout();
    nlohmann::json tensors = nlohmann::json::array();
    constexpr int nb = 60;
    for (int i = 0; i < L.count(); ++i) {
        const ParamTensor& t = L[i];
        if (t.rows < 2 || t.cols < 2) continue;  // weight matrices only
        const auto W = L.view(params.data(), i);
        const double rms = std::sqrt(double(W.squaredNorm()) / double(t.size()));
        const double lim = std::max(1e-8, std::min(double(W.cwiseAbs().maxCoeff()), 4 * rms));
        const auto& q = quant.tensors[size_t(i)];
        const bool quantized = t.quantized && levels != QuantLevels::None;
        const int k = quantized ? int(std::min<int64_t>(paramK, t.rows)) : 1;
        std::vector<std::vector<int64_t>> counts(static_cast<size_t>(k), std::vector<int64_t>(nb, 0));
        const auto& rc = rowCluster[size_t(i)];
        for (int64_t c = 0; c < t.cols; ++c)
            for (int64_t r = 0; r < t.rows; ++r) {
                const double v = std::clamp(double(W(r, c)), -lim, lim);
                const int b = std::min(nb - 1, int((v + lim) / (2 * lim) * nb));
                ++counts[size_t(k > 1 ? rc[size_t(r)] : 0)][size_t(b)];
            }
        std::vector<double> edges(nb + 1);
        for (int b = 0; b <= nb; ++b) edges[size_t(b)] = -lim + 2 * lim * b / nb;
        nlohmann::json j = {{"name", t.name}, {"rows", t.rows}, {"cols", t.cols},
                            {"quantized", quantized}, {"edges", edges}, {"counts", counts}};
        if (quantized) {
            // rowScale = gamma (ternary) or gamma/2 (five-level): the step between levels
            const double step = double(q.rowScale.mean());
            const int top = levels == QuantLevels::Ternary ? 1 : 2;
            std::vector<double> lv, th, cs(size_t(k), 0.0), cn(size_t(k), 0.0);
            for (int c = -top; c <= top; ++c) lv.push_back(c * step);
            for (int c = -top; c < top; ++c) th.push_back((c + 0.5) * step);
            for (int64_t r = 0; r < t.rows; ++r) {
                const int c = k > 1 ? rc[size_t(r)] : 0;
                cs[size_t(c)] += q.rowScale(r);
                cn[size_t(c)] += 1;
            }
            for (int c = 0; c < k; ++c) cs[size_t(c)] = cn[size_t(c)] > 0 ? cs[size_t(c)] / cn[size_t(c)] : 0.0;
            j["scale"] = step;
            j["levels"] = lv;
            j["thresholds"] = th;
            j["cluster_scales"] = cs;
        }
        tensors.push_back(std::move(j));
    }
    return Snapshot{step, "weights", {{"tensors", tensors}}};
}

Snapshot Trainer::Impl::boundarySnapshot() {
    const MatF pts = data->trainInputs2d();
    Snapshot s{step, "boundary", nlohmann::json::object()};
    if (pts.size() == 0) return s;
    constexpr int nx = 64, ny = 64;
    const VecF lo = pts.rowwise().minCoeff(), hi = pts.rowwise().maxCoeff();
    const VecF pad = (hi - lo) * 0.08f;
    const float x0 = lo(0) - pad(0), x1 = hi(0) + pad(0), y0 = lo(1) - pad(1), y1 = hi(1) + pad(1);
    MatF grid(2, nx * ny);
    for (int iy = 0; iy < ny; ++iy)
        for (int ix = 0; ix < nx; ++ix) {
            grid(0, iy * nx + ix) = x0 + (x1 - x0) * (ix + 0.5f) / nx;
            grid(1, iy * nx + ix) = y0 + (y1 - y0) * (iy + 0.5f) / ny;
        }
    const QuantState* q = levels == QuantLevels::None ? nullptr : &quant;
    const MatF prob = model->predictProba(effective.data(), q, grid);
    std::vector<double> p(static_cast<size_t>(nx * ny));
    const int classes = int(prob.rows());
    for (int j = 0; j < nx * ny; ++j) {
        if (classes == 2) {
            p[size_t(j)] = prob(1, j);
        } else {
            Eigen::Index a;
            prob.col(j).maxCoeff(&a);
            p[size_t(j)] = double(a) / double(classes - 1);
        }
    }
    const auto cols = strided(pts.cols(), kMaxPoints);
    std::vector<int64_t> idx(cols.begin(), cols.end());
    Rng unused;
    const Batch b = data->trainBatch(idx, unused);
    s.data = {{"x0", x0}, {"x1", x1}, {"y0", y0}, {"y1", y1}, {"nx", nx}, {"ny", ny},
              {"classes", classes}, {"p", p}, {"points", pointsJson(pts, cols)},
              {"labels", b.labels}};
    return s;
}

Snapshot Trainer::Impl::samplesSnapshot() {
    std::string prompt = cfg.sample.prompt;
    if (prompt.empty() && data->valSize() > 0) {
        // the start of a line of validation text
        const Batch b = data->valBatch(0, 1);
        std::string text(b.tokens.begin(), b.tokens.end());
        const auto nl = text.find('\n');
        const size_t from = nl == std::string::npos ? 0 : nl + 1;
        prompt = text.substr(from, std::min<size_t>(12, text.size() - from));
    }
    // Sampled from the model as it would be exported (DIR/weights.h158) and run by `generate`.
    const QuantState* q = levels == QuantLevels::None ? nullptr : &quant;
    GptInference engine(packModel(cfg, model->layout(), effective.data(), q), "samples");
    const std::string text = engine.generate(prompt, cfg.sample.tokens, cfg.sample.temperature,
                                             cfg.sample.top_k, sampleRng);
    // Text is bytes; JSON needs valid UTF-8, so bytes >= 0x80 are shown as '?'.
    auto clean = [](std::string s) {
        for (auto& ch : s)
            if (static_cast<unsigned char>(ch) >= 0x80 || (ch < 0x20 && ch != '\n' && ch != '\t')) ch = '?';
        return s;
    };
    return Snapshot{step, "samples", {{"prompt", clean(prompt)}, {"text", clean(text)},
                                      {"temperature", cfg.sample.temperature},
                                      {"top_k", cfg.sample.top_k}}};
}

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
    for (double v : clusterLoss) loss.push_back(num(v));
    std::vector<int64_t> sizes(size_t(clusterCentroids.cols()), 0);
    for (int l : clusterLabels) ++sizes[size_t(l)];
    c["clustering"] = {{"data_k", cfg.cluster.data_k},
                       {"policy", cfg.cluster.policy},
                       {"refreshes", clusterRefreshes},
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
