// The original prototype's remaining claims, measured on a preset's real run: the auxiliary NN's
// prediction success against trivial predictors, and the iterations and cluster balance of every
// k-means the trainer runs (data clustering, its re-clusterings, the parameter clusters).
//
// Usage: bench_claims PRESET SEED [key=value ...]   (settings as `hybrid158-cli run --set`)
// Prints JSON lines: one {"event":"kmeans",...} per clustering, one {"event":"aux",...} at the end.
//
// Nothing here changes the run. The trainer's clusterings are recomputed beside it from the same
// inputs (its public state right after the step that refreshed them), which gives the same
// labels: the data clusters' sizes are checked against the trainer's own after every refresh
// ("sizes_match"). The auxiliary NN's per-step signals are read from its checkpoint state
// (saveState: "aux.sums" and "aux.counts", aux_net.cpp) by differencing after every step.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/errors.h"
#include "core/cluster/kmeans.h"
#include "core/config/config.h"
#include "core/data/dataset.h"
#include "core/train/trainer.h"

using namespace h158;
using nlohmann::json;

namespace {

constexpr int kUncappedIter = 10000;  // a re-run without the preset's cap, to see the natural count

json balance(const std::vector<int64_t>& sizes) {
    const double k = double(sizes.size());
    const double n = double(std::accumulate(sizes.begin(), sizes.end(), int64_t(0)));
    const double mean = n / k;
    double var = 0;
    for (int64_t s : sizes) var += (double(s) - mean) * (double(s) - mean);
    const auto [lo, hi] = std::minmax_element(sizes.begin(), sizes.end());
    return {{"sizes", sizes},
            {"min_over_max", double(*lo) / double(*hi)},
            {"min_over_mean", double(*lo) / mean},
            {"cv", std::sqrt(var / k) / mean}};
}

void report(const std::string& what, int64_t step, const MatF& x, const KMeansResult& r,
            const KMeansResult* uncapped, const json& extra) {
    json j = {{"event", "kmeans"}, {"what", what}, {"step", step}, {"n", x.cols()},
              {"features", x.rows()}, {"k", r.centroids.cols()}, {"iterations", r.iterations},
              {"total_iterations", r.totalIterations}, {"converged", r.converged}};
    j["balance"] = balance(r.sizes);
    if (uncapped) {
        j["uncapped_iterations"] = uncapped->iterations;
        j["uncapped_converged"] = uncapped->converged;
    }
    j.update(extra);
    std::printf("%s\n", j.dump().c_str());
}

// The trainer's data clustering (trainer_clustering.cpp refreshDataClusters), recomputed.
struct DataClusters {
    MatF features, centroids;
    std::vector<int> labels;

    std::vector<int64_t> refresh(Trainer& tr, int64_t step) {
        const Config& cfg = tr.config();
        const Dataset& data = tr.dataset();
        const int64_t n = data.trainSize();
        const int k = int(std::min<int64_t>(cfg.cluster.data_k, n));
        MatF x;
        if (!labels.empty()) {
            std::vector<int64_t> all(static_cast<size_t>(n));
            std::iota(all.begin(), all.end(), 0);
            const QuantState* q = cfg.quant.weights == "none" ? nullptr : &tr.quantState();
            x = tr.model().representation(tr.effectiveParameters().data(), q, data, all);
        }
        const bool represented = x.size() > 0;
        if (!represented) x = labels.empty() ? data.clusterFeatures() : features;
        KMeansOptions opt;
        opt.k = k;
        opt.maxIter = int(cfg.cluster.max_iter);
        opt.tol = cfg.cluster.tol;
        opt.seed = uint64_t(cfg.run.seed);
        opt.nInit = labels.empty() ? 3 : 1;
        MatF warm;
        if (!labels.empty()) {
            warm = clusterMeans(x, labels, k, &centroids);
            opt.init = &warm;
        }
        const bool mini = cfg.cluster.algorithm == "minibatch" ||
                          (cfg.cluster.algorithm == "auto" && x.cols() > 20000);
        if (mini) throw Error("bench_claims: mini-batch k-means is not replicated here");
        const KMeansResult r = kmeans(x, opt);
        std::optional<KMeansResult> un;
        if (!r.converged) {
            KMeansOptions o2 = opt;
            o2.maxIter = kUncappedIter;
            un = kmeans(x, o2);
        }
        const std::string what = labels.empty() ? "data" : represented ? "data_refresh" : "data_rerun";
        report(what, step, x, r, un ? &*un : nullptr, {{"tol", opt.tol}, {"max_iter", opt.maxIter},
                                                        {"n_init", opt.nInit}});
        features = std::move(x);
        centroids = r.centroids;
        labels = r.labels;
        return r.sizes;
    }
};

// The trainer's parameter clusters (refreshParamClusters): 1-D k-means of each quantized
// tensor's rows on their mean |w|, warm-started from the previous labels after step 0.
struct ParamClusters {
    std::vector<std::vector<int>> labels;  // per tensor, rank-ordered as the trainer keeps them

    void refresh(Trainer& tr, int64_t step) {
        const Config& cfg = tr.config();
        const ParamLayout& L = tr.model().layout();
        labels.resize(size_t(L.count()));
        for (int i = 0; i < L.count(); ++i) {
            const ParamTensor& t = L[i];
            if (!t.quantized) continue;
            const int k = int(std::min<int64_t>(cfg.cluster.param_k, t.rows));
            if (k <= 1) continue;
            const auto W = L.view(tr.parameters().data(), i);
            MatF f(1, t.rows);
            f.row(0) = W.cwiseAbs().rowwise().mean().transpose();
            KMeansOptions opt;
            opt.k = k;
            opt.maxIter = int(cfg.cluster.max_iter);
            opt.tol = cfg.cluster.tol;
            opt.seed = uint64_t(cfg.run.seed) + uint64_t(i);
            MatF warm;
            if (step > 0) {
                warm = clusterMeans(f, labels[size_t(i)], k, nullptr);
                opt.init = &warm;
            }
            const KMeansResult r = kmeans(f, opt);
            std::optional<KMeansResult> un;
            if (!r.converged) {
                KMeansOptions o2 = opt;
                o2.maxIter = kUncappedIter;
                un = kmeans(f, o2);
            }
            report("param", step, f, r, un ? &*un : nullptr,
                   {{"tensor", t.name}, {"tol", opt.tol}, {"max_iter", opt.maxIter}});
            std::vector<int> order(static_cast<size_t>(k));
            std::iota(order.begin(), order.end(), 0);
            std::sort(order.begin(), order.end(),
                      [&](int a, int b) { return r.centroids(0, a) < r.centroids(0, b); });
            std::vector<int> rank(static_cast<size_t>(k));
            for (int j = 0; j < k; ++j) rank[size_t(order[size_t(j)])] = j;
            auto& lab = labels[size_t(i)];
            lab.resize(size_t(t.rows));
            for (int64_t row = 0; row < t.rows; ++row) lab[size_t(row)] = rank[size_t(r.labels[size_t(row)])];
        }
    }
};

// One output's record of the auxiliary NN: per feedback, the signal γ (0: none) and the change
// of the output since the prediction before (what the built-in success rate judges).
struct AuxTrack {
    std::vector<double> gamma, change;
};

struct AuxState {
    std::vector<double> sums;
    std::vector<int64_t> counts;
};

// After the last step saveState refuses (a completed run cannot be continued): then the sums
// come from the summary's means × samples. The summary has no count of multiplier signals; one
// arrived when the mean moved.
AuxState auxState(const Trainer& tr, const AuxState& before) {
    if (!tr.finished()) {
        const StateArchive a = tr.saveState();
        return {a.doubles("aux.sums", 8), a.integers("aux.counts", 9)};
    }
    const json aux = tr.summary().figures["components"]["aux"];
    auto mean = [&](const char* key) { return aux[key].is_null() ? 0.0 : aux[key].get<double>(); };
    AuxState s = before;
    const int64_t nBefore = before.counts[3];
    const double meanBefore = nBefore > 0 ? before.sums[6] / double(nBefore) : 0.0;
    const double meanAfter = mean("mean_hypergradient");
    s.counts[3] = nBefore + (meanAfter != meanBefore ? 1 : 0);
    s.sums[6] = meanAfter * double(s.counts[3]);
    s.counts[4] = aux["radius_signals"].get<int64_t>();
    s.sums[7] = mean("mean_radius_signal") * double(s.counts[4]);
    return s;
}

// Success of a predictor that moves the output by `change` when the signal is γ: the move has
// the sign −γ asks for. Returns {successes, samples} over the judged feedbacks.
json rates(const AuxTrack& t) {
    int64_t n = 0, aux = 0, up = 0, down = 0, follow = 0, followN = 0;
    double prevGamma = 0;
    for (size_t i = 0; i < t.gamma.size(); ++i) {
        const double g = t.gamma[i];
        if (g == 0) continue;
        const bool judged = t.change[i] != 0;
        if (judged) {
            ++n;
            if (t.change[i] * g < 0) ++aux;
            if (g < 0) ++up;
            if (g > 0) ++down;
            if (prevGamma != 0) {
                ++followN;
                if ((prevGamma < 0) == (g < 0)) ++follow;
            }
        }
        prevGamma = g;
    }
    auto frac = [](int64_t a, int64_t b) { return b > 0 ? json(double(a) / double(b)) : json(); };
    return {{"samples", n}, {"aux_success", aux}, {"aux_rate", frac(aux, n)},
            {"always_up_rate", frac(up, n)}, {"always_down_rate", frac(down, n)},
            {"follow_last_signal_rate", frac(follow, followN)}, {"follow_samples", followN}};
}

int run(const std::string& preset, int64_t seed, const std::vector<std::string>& sets) {
    Config cfg = presetConfig(preset);
    applySetting(cfg, "run.seed=" + std::to_string(seed));
    for (const auto& s : sets) applySetting(cfg, s);
    Trainer tr(cfg);

    const bool paramClustered = cfg.quant.weights != "none" && cfg.quant.granularity == "cluster";
    ParamClusters pc;
    DataClusters dc;
    if (paramClustered) pc.refresh(tr, 0);
    bool sizesMatch = true;
    auto checkSizes = [&](const std::vector<int64_t>& mine) {
        const json s = tr.summary().figures["components"]["clustering"]["sizes"];
        if (s != json(mine)) sizesMatch = false;
    };
    if (cfg.cluster.data_k > 0) dc.refresh(tr, 0);  // the summary has no figures before step 1

    AuxTrack m, r;
    AuxState before = cfg.aux.enabled ? auxState(tr, AuxState{}) : AuxState{};
    while (!tr.finished()) {
        const StepMetrics row = tr.step();
        tr.takeSnapshots();
        const int64_t step = row.step;
        if (paramClustered && cfg.cluster.param_refresh_every > 0 &&
            step % cfg.cluster.param_refresh_every == 0)
            pc.refresh(tr, step);
        if (cfg.cluster.data_k > 0 && cfg.cluster.refresh_every > 0 &&
            step % cfg.cluster.refresh_every == 0)
            checkSizes(dc.refresh(tr, step));
        if (!cfg.aux.enabled) continue;
        const AuxState after = auxState(tr, before);
        const bool predictedTwice = before.counts[1] >= 2;
        m.gamma.push_back(after.counts[3] > before.counts[3] ? after.sums[6] - before.sums[6] : 0.0);
        r.gamma.push_back(after.counts[4] > before.counts[4] ? after.sums[7] - before.sums[7] : 0.0);
        // The change judged in this step's feedback: the last two predictions before it.
        m.change.push_back(predictedTwice ? before.sums[2] - before.sums[3] : 0.0);
        r.change.push_back(predictedTwice ? before.sums[4] - before.sums[5] : 0.0);
        before = after;
    }
    if (tr.status() != RunStatus::Completed) throw Error("bench_claims: run " + toString(tr.status()));

    json out = {{"event", "aux"}, {"preset", preset}, {"seed", seed}, {"steps", tr.stepsDone()},
                {"data_sizes_match_trainer", sizesMatch}};
    if (cfg.aux.enabled) {
        const json aux = tr.summary().figures["components"]["aux"];
        out["builtin"] = {{"prediction_success_rate", aux["prediction_success_rate"]},
                          {"prediction_samples", aux["prediction_samples"]}};
        out["multiplier"] = rates(m);
        out["radius"] = rates(r);
        const int64_t n = out["multiplier"]["samples"].get<int64_t>() + out["radius"]["samples"].get<int64_t>();
        const int64_t ok = out["multiplier"]["aux_success"].get<int64_t>() +
                           out["radius"]["aux_success"].get<int64_t>();
        out["recount_matches_builtin"] = n == aux["prediction_samples"].get<int64_t>() &&
                                         std::abs(double(ok) / double(n) -
                                                  aux["prediction_success_rate"].get<double>()) < 1e-12;
        out["final_val_loss"] = tr.summary().figures["final_val_loss"];
    }
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_claims PRESET SEED [key=value ...]\n");
        return 2;
    }
    try {
        std::vector<std::string> sets(argv + 3, argv + argc);
        return run(argv[1], std::stoll(argv[2]), sets);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_claims: %s\n", e.what());
        return 1;
    }
}
