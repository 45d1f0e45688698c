// The trainer's snapshots for the live views: data clusters, weights, decision boundary and
// text samples (kinds in trainer.h).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/cluster/kmeans.h"
#include "core/cluster/pca.h"
#include "core/infer/gpt_inference.h"
#include "core/io/h158_export.h"
#include "core/model/mlp_model.h"
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

nlohmann::json pointsJson(const MatF& p, const std::vector<int64_t>& cols) {
    nlohmann::json a = nlohmann::json::array();
    for (int64_t j : cols) a.push_back({p(0, j), p(1, j)});
    return a;
}

}  // namespace

void Trainer::Impl::emitSnapshots() {
    if (cfg.cluster.data_k > 0) snapshots.push_back(clustersSnapshot());
    snapshots.push_back(weightsSnapshot());
    // the next one's flip figures start here (snapshotNow leaves them)
    std::fill(flipsSinceSnapshot.begin(), flipsSinceSnapshot.end(), FlipCounts{});
    flipStepsSinceSnapshot = 0;
    if (data->task() == Task::Classification && data->inputDim() == 2) {
        snapshots.push_back(boundarySnapshot());
        if (dynamic_cast<const MlpModel*>(model.get())) snapshots.push_back(networkSnapshot());
    }
}

Snapshot Trainer::Impl::clustersSnapshot() {
    Snapshot s{step, "clusters", nlohmann::json::object()};
    if (clusters.labels.empty()) return s;
    const int k = int(clusters.centroids.cols());
    MatF pts = data->trainInputs2d();
    const bool inputs = pts.size() > 0;
    if (!inputs) pts = pca.coords;
    const auto cols = strided(pts.cols(), kMaxPoints);
    nlohmann::json labels = nlohmann::json::array();
    for (int64_t j : cols) labels.push_back(clusters.labels[size_t(j)]);
    const MatF c2 = clusterMeans(pts, clusters.labels, k, nullptr);
    std::vector<int64_t> sizes(static_cast<size_t>(k), 0);
    for (int l : clusters.labels) ++sizes[size_t(l)];
    nlohmann::json loss = nlohmann::json::array();
    for (double v : clusters.loss) loss.push_back(std::isnan(v) ? nlohmann::json() : nlohmann::json(v));
    std::vector<int64_t> all(static_cast<size_t>(k));
    std::iota(all.begin(), all.end(), 0);
    s.data = {{"points", pointsJson(pts, cols)},
              {"labels", labels},
              {"centroids", pointsJson(c2, all)},
              {"sizes", sizes},
              {"cluster_loss", loss},
              {"refreshes", clusters.refreshes},
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
        const QuantLevels lv = tensorLevels[size_t(i)];
        const bool quantized = lv != QuantLevels::None;
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
        nlohmann::json j = {{"name", t.name}, {"index", i}, {"rows", t.rows}, {"cols", t.cols},
                            {"quantized", quantized}, {"edges", edges}, {"counts", counts}};
        if (quantized) {
            // rowScale = the value of code 1, the step between levels: gamma (ternary), gamma/2
            // (five-level), absmax/127 (int8, whose 255 levels are not listed: too dense to draw)
            const double step = double(q.rowScale.mean());
            const int top = lv == QuantLevels::Int8 ? 0 : codeLimit(lv);
            std::vector<double> values, th, cs(size_t(k), 0.0), cn(size_t(k), 0.0);
            for (int c = -top; c <= top && top > 0; ++c) values.push_back(c * step);
            for (int c = -top; c < top; ++c) th.push_back((c + 0.5) * step);
            for (int64_t r = 0; r < t.rows; ++r) {
                const int c = k > 1 ? rc[size_t(r)] : 0;
                cs[size_t(c)] += q.rowScale(r);
                cn[size_t(c)] += 1;
            }
            for (int c = 0; c < k; ++c) cs[size_t(c)] = cn[size_t(c)] > 0 ? cs[size_t(c)] / cn[size_t(c)] : 0.0;
            j["scale"] = step;
            j["levels"] = values;
            j["level_set"] = quantLevelsName(lv);
            j["thresholds"] = th;
            j["cluster_scales"] = cs;
            // code flips of the steps since the previous weights snapshot (code_flips.h)
            const FlipCounts& f = flipsSinceSnapshot[size_t(i)];
            j["flips"] = {f.weight, f.scale};
            j["flip_steps"] = flipStepsSinceSnapshot;
            j["flip_rate"] = flipStepsSinceSnapshot > 0
                                 ? double(f.total()) / (double(t.size()) * double(flipStepsSinceSnapshot))
                                 : 0.0;
        }
        tensors.push_back(std::move(j));
    }
    return Snapshot{step, "weights", {{"tensors", tensors}}};
}

Snapshot Trainer::Impl::boundarySnapshot() {
    const MatF pts = data->trainInputs2d();
    Snapshot s{step, "boundary", nlohmann::json::object()};
    if (pts.size() == 0) return s;
    const InputPlane plane = inputPlane(pts, 64, 64);
    const int n = plane.nx * plane.ny;
    // P(class 1) with two classes, else the argmax class / (classes - 1), in [0, 1]
    auto boundary = [n](const MatF& prob) {
        std::vector<double> p(static_cast<size_t>(n));
        const int classes = int(prob.rows());
        for (int j = 0; j < n; ++j) {
            if (classes == 2) {
                p[size_t(j)] = prob(1, j);
            } else {
                Eigen::Index a;
                prob.col(j).maxCoeff(&a);
                p[size_t(j)] = double(a) / double(classes - 1);
            }
        }
        return p;
    };
    // In blocks of columns: each sample's prediction is its own, and the passes' buffers stay
    // small (a whole 64 x 64 grid allocates, faults in and frees megabytes per layer).
    auto predict = [&](const float* w, const QuantState* q) {
        constexpr Eigen::Index block = 256;
        MatF prob;
        for (Eigen::Index j = 0; j < plane.grid.cols(); j += block) {
            const Eigen::Index n = std::min(block, plane.grid.cols() - j);
            const MatF part = model->predictProba(w, q, plane.grid.middleCols(j, n));
            if (prob.size() == 0) prob.resize(part.rows(), plane.grid.cols());
            prob.middleCols(j, n) = part;
        }
        return prob;
    };
    const MatF prob = predict(effective.data(), quantArg());
    const auto cols = strided(pts.cols(), kMaxPoints);
    std::vector<int64_t> idx(cols.begin(), cols.end());
    Rng unused;
    const Batch b = data->trainBatch(idx, unused);
    s.data = {{"x0", plane.x0}, {"x1", plane.x1}, {"y0", plane.y0}, {"y1", plane.y1},
              {"nx", plane.nx}, {"ny", plane.ny}, {"classes", int(prob.rows())},
              {"p", boundary(prob)}, {"points", pointsJson(pts, cols)}, {"labels", b.labels}};
    // The full-precision ghost: the same network with its latent weights, unquantized, so the
    // view can show what quantization costs.
    if (quantizing())
        s.data["p_latent"] = boundary(predict(params.data(), nullptr));
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
    const QuantState* q = quantArg();
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

}  // namespace h158
