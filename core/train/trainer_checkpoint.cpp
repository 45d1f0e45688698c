// The trainer's state for checkpoints (Trainer::saveState / restoreState): what the next steps
// depend on and cannot recompute. The quantized weights, their codes and scales, and the PCA of
// the cluster view are recomputed from what is restored (they are functions of it).
#include <algorithm>

#include "core/base/errors.h"
#include "core/base/parallel.h"
#include "core/train/trainer_impl.h"

namespace h158 {

namespace {

void putMatrix(StateArchive& a, const std::string& name, const MatF& m) {
    a.put(name, std::span<const float>(m.data(), size_t(m.size())));
    a.put(name + ".shape", std::vector<int64_t>{m.rows(), m.cols()});
}

MatF getMatrix(const StateArchive& a, const std::string& name) {
    const auto& shape = a.integers(name + ".shape", 2);
    if (shape[0] < 0 || shape[1] < 0)
        throw Error("checkpoint entry '" + name + ".shape' is negative");
    const auto& v = a.floats(name, shape[0] * shape[1]);
    MatF m(shape[0], shape[1]);
    std::copy(v.begin(), v.end(), m.data());
    return m;
}

void putMean(std::vector<double>& sums, std::vector<int64_t>& counts, const RunFigures::Mean& m) {
    sums.push_back(m.sum);
    counts.push_back(m.count);
}

}  // namespace

void RunFigures::save(StateArchive& a) const {
    std::vector<double> sums{initialLoss, lastValLoss, lastValAccuracy, elapsedMs,
                             lastFractions.neg, lastFractions.zero, lastFractions.pos};
    std::vector<int64_t> counts{rows};
    for (const Mean* m : {&constrained, &quantError, &updateQuantError, &gradNorm, &multiplier,
                          &constrainedFraction, &radius, &stepNorm, &lr})
        putMean(sums, counts, *m);
    a.put("figures.values", sums);
    a.put("figures.counts", counts);
    a.put("figures.tail", std::vector<double>(tail.begin(), tail.end()));
}

void RunFigures::load(const StateArchive& a) {
    const auto& sums = a.doubles("figures.values", 16);
    const auto& counts = a.integers("figures.counts", 10);
    rows = counts[0];
    const auto& t = a.doubles("figures.tail", std::max<int64_t>(1, rows / 20));
    initialLoss = sums[0];
    lastValLoss = sums[1];
    lastValAccuracy = sums[2];
    elapsedMs = sums[3];
    lastFractions = {sums[4], sums[5], sums[6]};
    size_t i = 7, j = 1;
    for (Mean* m : {&constrained, &quantError, &updateQuantError, &gradNorm, &multiplier,
                    &constrainedFraction, &radius, &stepNorm, &lr}) {
        m->sum = sums[i++];
        m->count = counts[j++];
    }
    tail.assign(t.begin(), t.end());
}

void Trainer::Impl::saveState(StateArchive& a) const {
    a.putInteger("trainer.step", step);
    a.putScalar("trainer.first_loss", firstLoss);
    a.put("params", std::span<const float>(params));
    a.put("trace", std::span<const float>(trace));
    const std::vector<float> moments = optimizer->state();
    a.put("optimizer.moments", moments);
    a.putInteger("optimizer.steps", optimizer->steps());
    a.putLists("quant.row_clusters", rowCluster);
    if (adaptive) {  // the allocation in force (fixed or uniform runs recompute theirs)
        std::vector<int64_t> lv;
        for (QuantLevels l : tensorLevels) lv.push_back(int64_t(l));
        a.put("quant.levels", lv);
    }
    putMatrix(a, "clusters.features", clusters.features);
    putMatrix(a, "clusters.centroids", clusters.centroids);
    a.put("clusters.labels", std::vector<int64_t>(clusters.labels.begin(), clusters.labels.end()));
    a.put("clusters.loss", clusters.loss);
    a.putInteger("clusters.refreshes", clusters.refreshes);
    saveRng(a, "rng.init", initRng);
    saveRng(a, "rng.jitter", jitterRng);
    saveRng(a, "rng.terngrad", ternRng);
    saveRng(a, "rng.sample", sampleRng);
    sampler->save(a, "sampler");
    state.save(a, "aux_inputs");
    if (aux) aux->save(a, "aux");
    if (auxStart > 0) a.putInteger("trainer.aux_start", auxStart);  // switched on by an edit
    a.putInteger("prev.valid", prev.valid ? 1 : 0);
    a.put("prev.features", std::span<const double>(prev.features));
    a.put("prev.held", std::vector<int64_t>(prev.held.begin(), prev.held.end()));
    a.putScalar("prev.constrained_fraction", prev.constrainedFraction);
    figuresSoFar.save(a);
    // what the next weights snapshot's flip figures add up (code flips of the steps since the last)
    std::vector<int64_t> since{flipStepsSinceSnapshot};
    for (const FlipCounts& f : flipsSinceSnapshot) since.insert(since.end(), {f.weight, f.scale});
    a.put("flips.since_snapshot", since);
}

void Trainer::Impl::loadState(const StateArchive& a) {
    const ParamLayout& L = model->layout();
    const int64_t P = int64_t(params.size());
    const int64_t s = a.integer("trainer.step");
    if (s < 0 || s >= cfg.run.steps)
        throw Error("checkpoint is at step " + std::to_string(s) + ", outside [0, run.steps = " +
                    std::to_string(cfg.run.steps) + ")");
    const auto& p = a.floats("params", P);
    const auto& tr = a.floats("trace", P);
    const auto& moments = a.floats("optimizer.moments", int64_t(optimizer->state().size()));
    auto rows = a.intLists("quant.row_clusters", std::max(1, paramK));
    if (int64_t(rows.size()) != L.count())
        throw Error("checkpoint entry 'quant.row_clusters' has " + std::to_string(rows.size()) +
                    " tensors, this model " + std::to_string(L.count()));
    for (int i = 0; i < L.count(); ++i)
        if (int64_t(rows[size_t(i)].size()) != L[i].rows)
            throw Error("checkpoint entry 'quant.row_clusters' does not fit tensor " + L[i].name);
    const int64_t n = data->trainSize();
    const auto& labels = a.integers("clusters.labels");
    const int k = cfg.cluster.data_k > 0 ? int(std::min<int64_t>(cfg.cluster.data_k, n)) : 0;
    if (!labels.empty() && int64_t(labels.size()) != n)
        throw Error("checkpoint entry 'clusters.labels' has " + std::to_string(labels.size()) +
                    " samples, this data " + std::to_string(n));
    for (int64_t l : labels)
        if (l < 0 || l >= std::max(k, 1)) throw Error("checkpoint entry 'clusters.labels' is out of range");
    const auto& held = a.integers("prev.held", L.count());
    std::vector<QuantLevels> lv = tensorLevels;
    if (adaptive) {
        const auto& saved = a.integers("quant.levels", L.count());
        for (int i = 0; i < L.count(); ++i) {
            const int64_t v = saved[size_t(i)];
            if (v < int64_t(QuantLevels::None) || v > int64_t(QuantLevels::Int8) ||
                (!L[i].quantized && v != int64_t(QuantLevels::None)))
                throw Error("checkpoint entry 'quant.levels' holds " + std::to_string(v) +
                            " for tensor " + L[i].name);
            lv[size_t(i)] = QuantLevels(v);
        }
    }

    step = s;
    firstLoss = a.scalar("trainer.first_loss");
    std::copy(p.begin(), p.end(), params.begin());
    std::copy(tr.begin(), tr.end(), trace.begin());
    optimizer->setState(moments, a.integer("optimizer.steps"));
    rowCluster = std::move(rows);
    tensorLevels = std::move(lv);
    lastSensitivity.reset();
    clusters.features = getMatrix(a, "clusters.features");
    clusters.centroids = getMatrix(a, "clusters.centroids");
    clusters.labels.assign(labels.begin(), labels.end());
    clusters.loss = a.doubles("clusters.loss", labels.empty() ? 0 : k);
    clusters.refreshes = int(a.integer("clusters.refreshes"));
    loadRng(a, "rng.init", initRng);
    loadRng(a, "rng.jitter", jitterRng);
    loadRng(a, "rng.terngrad", ternRng);
    loadRng(a, "rng.sample", sampleRng);
    sampler->load(a, "sampler");
    state.load(a, "aux_inputs");
    if (aux) aux->load(a, "aux");
    auxStart = a.contains("trainer.aux_start") ? a.integer("trainer.aux_start") : 0;
    prev.valid = a.integer("prev.valid") != 0;
    const auto& pf = a.doubles("prev.features", kAuxInputs);
    std::copy(pf.begin(), pf.end(), prev.features.begin());
    prev.held.assign(held.begin(), held.end());
    prev.constrainedFraction = a.scalar("prev.constrained_fraction");
    figuresSoFar.load(a);
    // absent from checkpoints written before code flips were counted: counting starts afresh
    std::fill(flipsSinceSnapshot.begin(), flipsSinceSnapshot.end(), FlipCounts{});
    flipStepsSinceSnapshot = 0;
    if (a.contains("flips.since_snapshot")) {
        const auto& since = a.integers("flips.since_snapshot", 1 + 2 * int64_t(L.count()));
        flipStepsSinceSnapshot = since[0];
        for (size_t i = 0; i < flipsSinceSnapshot.size(); ++i)
            flipsSinceSnapshot[i] = {since[1 + 2 * i], since[2 + 2 * i]};
    }
    std::fill(lastFlip.begin(), lastFlip.end(), -1);  // display only: not kept in checkpoints
    std::fill(flipCause.begin(), flipCause.end(), uint8_t(FlipCause::None));

    // recomputed from what was restored
    if (clusters.features.size() > 0) pca = fitPca2d(clusters.features);
    quantizeAll();
    status = RunStatus::Running;
    message.clear();
    snapshots.clear();  // the constructor's step-0 snapshots belong to the run's start
    // elapsed_ms goes on from the saved value: the clock restarts at the next step
    startedClock = clockPaused = false;
    pausedMs = -figuresSoFar.elapsedMs;
}

StateArchive Trainer::saveState() const {
    if (m->status != RunStatus::Running && m->status != RunStatus::Stopped)
        throw Error("Trainer::saveState: a " + toString(m->status) + " run cannot be continued");
    if (midStep()) throw Error("Trainer::saveState: a step taken in stages is under way");
    StateArchive a;
    m->saveState(a);
    return a;
}

void Trainer::restoreState(const StateArchive& a) {
    const ThreadLimit threads(int(m->cfg.run.threads));
    m->loadState(a);
}

}  // namespace h158
