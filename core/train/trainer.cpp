// The hybrid training step (DESIGN.md, "The data path of one step") and the trainer's set-up.
#include "core/train/trainer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <utility>

#include "core/base/errors.h"
#include "core/model/param_file.h"
#include "core/base/parallel.h"
#include "core/base/profile.h"
#include "core/optim/schedule.h"
#include "core/quant/terngrad.h"
#include "core/train/trainer_impl.h"
#include "core/optim/trust_region.h"
#include "core/base/vector_ops.h"

namespace h158 {

Trainer::Impl::Impl(const Config& c)
    : cfg(c),
      initRng(uint64_t(c.run.seed), 1),
      jitterRng(uint64_t(c.run.seed), 2),
      ternRng(uint64_t(c.run.seed), 3),
      sampleRng(uint64_t(c.run.seed), 4) {
    validate(cfg);
    // run.threads holds for this trainer's work only (other trainers in the process keep theirs)
    const ThreadLimit threads(int(cfg.run.threads));
    data = makeDataset(cfg);
    model = makeModel(cfg, data->shape());
    const ParamLayout& L = model->layout();
    params.assign(size_t(L.size()), 0.0f);
    model->init(params.data(), initRng);
    if (!cfg.model.init_file.empty()) {
        try {
            loadParameters(L, SafeTensors::read(cfg.model.init_file), "", params.data());
        } catch (const FileError& e) {
            throw FileError(std::string("model.init_file: ") + e.what());
        }
    }
    grad.assign(params.size(), 0.0f);
    effective = params;
    delta.assign(params.size(), 0.0f);
    trace.assign(params.size(), 0.0f);
    prev.held.assign(size_t(L.count()), 0);
    optimizer = Optimizer::make(cfg.optim, L);

    adaptive = cfg.quant.weights == "adaptive";
    levels = adaptive ? QuantLevels::None : parseQuantLevels(cfg.quant.weights);
    tensorLevels.assign(size_t(L.count()), QuantLevels::None);
    for (int i = 0; i < L.count(); ++i)
        if (L[i].quantized) tensorLevels[size_t(i)] = levels;
    granularity = parseQuantGranularity(cfg.quant.granularity);
    quant.activationsInt8 = cfg.quant.activations == "int8";
    quant.kernel = cfg.quant.kernel;
    quant.int8Backward = cfg.quant.backward == "int8";
    quant.tensors.resize(size_t(L.count()));
    rowCluster.resize(size_t(L.count()));
    paramK = granularity == QuantGranularity::Cluster ? int(cfg.cluster.param_k) : 1;
    for (int i = 0; i < L.count(); ++i) rowCluster[size_t(i)].assign(size_t(L[i].rows), 0);
    if (quantizing() && granularity == QuantGranularity::Cluster) refreshParamClusters();

    sampler.emplace(data->trainSize(), parseSamplerPolicy(cfg.cluster.policy),
                    uint64_t(cfg.run.seed));
    if (cfg.cluster.data_k > 0) refreshDataClusters();

    radius = cfg.trust.radius;
    if (cfg.aux.enabled) aux.emplace(cfg.aux, cfg.trust.radius, uint64_t(cfg.run.seed));

    prevQuant.resize(size_t(L.count()));
    flips.assign(size_t(L.count()), {});
    flipsSinceSnapshot.assign(size_t(L.count()), {});
    if (quantizing()) {
        lastFlip.assign(params.size(), -1);
        flipCause.assign(params.size(), uint8_t(FlipCause::None));
    }
    if (adaptive) allocate();
    quantizeAll();
    if (cfg.run.snapshot_every > 0) emitSnapshots();
    if (quantizing() && (adaptive || cfg.run.snapshot_every > 0))
        snapshots.push_back(precisionSnapshot());
}

// Latent weights -> quantized codes, row scales and dequantized effective weights; with
// countingFlips, the codes that changed since the previous quantization (code_flips.h).
void Trainer::Impl::quantizeAll(bool countingFlips) {
    const ParamLayout& L = model->layout();
    if (!quantizing()) {
        std::copy(params.begin(), params.end(), effective.begin());
        quantError = 0;
        weightBits = meanWeightBits();
        return;
    }
    if (countingFlips) std::fill(flips.begin(), flips.end(), FlipCounts{});
    // Tensors are independent: one task each, their figures added in tensor order.
    std::vector<QuantErrorParts> err(size_t(L.count()));
    std::vector<LevelFractions> frac(size_t(L.count()));
    parallelFor(L.count(), 1, [&](int64_t i, int64_t) {
        const ParamTensor& t = L[int(i)];
        float* eff = effective.data() + t.offset;
        const float* w = params.data() + t.offset;
        if (!t.quantized) {
            std::copy(w, w + t.size(), eff);
            return;
        }
        auto& q = quant.tensors[size_t(i)];
        auto& before = prevQuant[size_t(i)];
        std::swap(q, before);  // q's storage is reused; `before` keeps the codes being replaced
        quantizeWeights(w, t.rows, t.cols, tensorLevels[size_t(i)], granularity,
                        rowCluster[size_t(i)], q, eff);
        err[size_t(i)] = quantErrorParts(w, eff, t.size());
        frac[size_t(i)] = levelFractions(q.codes);
        // A tensor whose level set changed (an adaptive re-allocation) has no comparable codes.
        if (countingFlips && q.levels != QuantLevels::None && before.levels == q.levels)
            flips[size_t(i)] =
                countFlips(before, q, w, std::span(lastFlip).subspan(size_t(t.offset), size_t(t.size())),
                           std::span(flipCause).subspan(size_t(t.offset), size_t(t.size())),
                           int32_t(step));
    });
    if (countingFlips) {
        int64_t compared = 0;
        flipTotal = {};
        for (int i = 0; i < L.count(); ++i) {
            const QuantizedTensor& q = quant.tensors[size_t(i)];
            if (q.levels == QuantLevels::None || prevQuant[size_t(i)].levels != q.levels) continue;
            flipTotal.weight += flips[size_t(i)].weight;
            flipTotal.scale += flips[size_t(i)].scale;
            compared += L[i].size();
            flipsSinceSnapshot[size_t(i)].weight += flips[size_t(i)].weight;
            flipsSinceSnapshot[size_t(i)].scale += flips[size_t(i)].scale;
        }
        ++flipStepsSinceSnapshot;
        codeFlips = compared > 0 ? double(flipTotal.total()) / double(compared) : kNoValue;
        codeFlipsScale = compared > 0 ? double(flipTotal.scale) / double(compared) : kNoValue;
    }
    double diff2 = 0, norm2 = 0;
    int64_t neg = 0, zero = 0, pos = 0, total = 0;
    for (int i = 0; i < L.count(); ++i) {
        const ParamTensor& t = L[i];
        if (!t.quantized) continue;
        diff2 += err[size_t(i)].diff2;
        norm2 += err[size_t(i)].norm2;
        if (tensorLevels[size_t(i)] == QuantLevels::None) continue;  // kept at fp32: no codes
        const double n = double(t.size());
        neg += std::llround(frac[size_t(i)].neg * n);
        zero += std::llround(frac[size_t(i)].zero * n);
        pos += std::llround(frac[size_t(i)].pos * n);
        total += t.size();
    }
    quantError = norm2 > 0 ? std::sqrt(diff2 / norm2) : 0.0;
    weightBits = meanWeightBits();
    fractions = {kNoValue, kNoValue, kNoValue};
    if (total > 0)
        fractions = {double(neg) / double(total), double(zero) / double(total),
                     double(pos) / double(total)};
}

// Mean validation loss over (at most 64 batches of) the validation split.
LossInfo Trainer::Impl::evaluate() { return evaluateOn(effective.data(), quantArg(), 64); }

LossInfo Trainer::Impl::evaluateOn(const float* weights, const QuantState* q, int64_t maxBatches) {
    const int64_t nVal = data->valSize();
    const int64_t bs = cfg.run.batch_size;
    const int64_t batches = std::min<int64_t>(maxBatches, (nVal + bs - 1) / bs);
    double sum = 0, acc = 0, count = 0;
    for (int64_t i = 0; i < batches; ++i) {
        const Batch b = data->valBatch(i * bs, bs);
        if (b.size == 0) break;
        const LossInfo li = model->forwardBackward(weights, q, b, nullptr, false);
        sum += li.loss * double(b.size);
        acc += li.accuracy * double(b.size);
        count += double(b.size);
    }
    LossInfo out;
    out.loss = count > 0 ? sum / count : kNoValue;
    out.accuracy = count > 0 && acc >= 0 ? acc / count : -1;
    return out;
}

// 1. A batch from the cluster-stratified sampler; the row starts with what the batch meets.
Batch Trainer::Impl::nextBatch(StepMetrics& m, std::vector<int64_t>& idx) {
    int cluster = -1;
    idx = sampler->next(cfg.run.batch_size, &cluster);
    Batch batch = data->trainBatch(idx, jitterRng);
    batch.cluster = cluster;
    lastOrigins = batch.origins;
    m.cluster = cluster;
    m.quant_error = quantError;  // of the weights this forward pass uses
    m.frac_neg = fractions.neg;
    m.frac_zero = fractions.zero;
    m.frac_pos = fractions.pos;
    m.weight_bits = weightBits;
    return batch;
}

// Ends the run as diverged when the loss or the gradient is not finite, or the loss exceeds
// run.diverge_ratio times the first one. Returns whether the run goes on.
bool Trainer::Impl::checkFinite(const StepMetrics& m) {
    const auto stopAt = [&](const std::string& why) {
        endRun(RunStatus::Diverged, "diverged at step " + std::to_string(m.step) + ": " + why);
        return false;
    };
    if (!std::isfinite(m.loss) || !std::isfinite(m.grad_norm))
        return stopAt(std::string(std::isfinite(m.loss) ? "the gradient" : "the loss") +
                      " is not finite");
    if (std::isnan(firstLoss)) firstLoss = m.loss;
    if (cfg.run.diverge_ratio > 0 && m.loss > cfg.run.diverge_ratio * std::max(firstLoss, 1e-12))
        return stopAt("loss " + std::to_string(m.loss) + " exceeds run.diverge_ratio x the first loss " +
                      std::to_string(firstLoss));
    return true;
}

// The EMA of the loss per data cluster, for the cluster view and the summary.
void Trainer::Impl::recordClusterLoss(const Batch& batch, std::span<const int64_t> idx,
                                      const LossInfo& li) {
    auto blend = [&](int c, double v) {
        double& e = clusters.loss[size_t(c)];
        e = std::isnan(e) ? v : 0.9 * e + 0.1 * v;
    };
    if (batch.cluster >= 0) return blend(batch.cluster, li.loss);
    std::vector<double> s(clusters.loss.size(), 0.0), n(clusters.loss.size(), 0.0);
    for (size_t j = 0; j < idx.size(); ++j) {
        const int c = clusters.labels[size_t(idx[j])];
        s[size_t(c)] += li.sampleLoss[j];
        n[size_t(c)] += 1;
    }
    for (size_t c = 0; c < s.size(); ++c)
        if (n[c] > 0) blend(int(c), s[c] / n[c]);
}

// 3. The auxiliary NN learns from what the previous steps did (its signals, aux_net.h, from
// this step's gradient g_{t+1} against the trace D_t, split into the tensors the trust region
// left alone and those it shortened), then predicts m_t and r_t. With a decaying schedule and
// aux.keep_decay, the multiplier applied is max(m_t, 1): the signal's bias is one-sided (towards
// shorter steps, aux_net.h), so where the schedule already anneals, only its requests to go
// faster are followed. The network still learns from every signal, as if nothing were clamped,
// so it rises above 1 only where the signal asks for that beyond its bias.
void Trainer::Impl::consultAux(StepMetrics& m, int cluster) {
    const int64_t t = step;
    const AuxFeatures features =
        state.observe(m.loss, m.grad_norm, cluster, cfg.cluster.data_k > 0 ? int(cfg.cluster.data_k) : 0,
                      t, cfg.run.steps, prev.constrainedFraction);
    multiplier = 1;
    radius = cfg.trust.radius;
    if (aux) {
        if (prev.valid) {
            AuxNet::Feedback fb;
            const ParamLayout& L = model->layout();
            double gg[2] = {0, 0}, dd[2] = {0, 0};
            for (int i = 0; i < L.count(); ++i) {
                const ParamTensor& tensor = L[i];
                const std::span<const float> g(grad.data() + tensor.offset, size_t(tensor.size()));
                const std::span<const float> d(trace.data() + tensor.offset, size_t(tensor.size()));
                const int held = prev.held[size_t(i)] ? 1 : 0;
                (held ? fb.held : fb.free).dot += dot(g, d);
                gg[held] += squaredNorm(g);
                dd[held] += squaredNorm(d);
            }
            fb.free.gradNorm = std::sqrt(gg[0]);
            fb.free.traceNorm = std::sqrt(dd[0]);
            fb.held.gradNorm = std::sqrt(gg[1]);
            fb.held.traceNorm = std::sqrt(dd[1]);
            aux->feedback(prev.features, fb);
        }
        const AuxNet::Output out = aux->predict(features);
        prev.features = features;
        if (t >= auxStart + cfg.aux.warmup) {
            multiplier = out.multiplier;
            if (auxFloorsMultiplier(cfg)) multiplier = std::max(multiplier, 1.0);
            radius = out.radius;
        }
    }
    m.lr_multiplier = multiplier;
}

// 6. The trust region (trust_region.h): which tensors it shortened, into prev.held.
void Trainer::Impl::projectStep(StepMetrics& m) {
    std::fill(prev.held.begin(), prev.held.end(), 0);
    prev.constrainedFraction = 0;
    if (!cfg.trust.enabled) {
        m.step_norm = l2Norm(delta);
        return;
    }
    m.trust_radius = radius;
    if (cfg.trust.mode == "global") {
        const Projection p = projectToBall(delta, radius);
        std::fill(prev.held.begin(), prev.held.end(), p.constrained ? 1 : 0);
        m.constrained = p.constrained ? 1 : 0;
        m.step_norm = p.normAfter;
        prev.constrainedFraction = p.constrained ? 1.0 : 0.0;
    } else {
        const TensorProjection p = projectPerTensor(delta, params, model->layout(), radius);
        prev.held = p.constrained;
        m.constrained = p.any ? 1 : 0;
        m.step_norm = p.normAfter;
        m.step_ratio = p.maxRatio;
        prev.constrainedFraction = p.fraction;
    }
    m.constrained_fraction = prev.constrainedFraction;
}

// Stage s of one step (DESIGN.md's data path; trainer.h lists the stages). step() runs them all
// in order, stepStage() one per call: the same code either way, so a step taken in stages gives
// the same bits. False when the run ended in this stage (a loss, gradient or step not finite).
bool Trainer::Impl::runStage(StepStage s, StepMetrics& m, int& cluster) {
    switch (s) {
    case StepStage::Forward:  // 1-2: batch, forward and backward (one pass of the model)
        return computeGradient(m, cluster);
    case StepStage::Backward:  // the gradient came with the forward pass
        return true;
    case StepStage::Aux: {  // 3: auxiliary NN (unclipped gradient)
        const ProfileRegion region(StepPart::Aux);
        consultAux(m, cluster);
        return true;
    }
    case StepStage::Propose: {  // 4-5: clipping, optimizer, TernGrad
        const ProfileRegion region(StepPart::Optimizer);
        proposeStep(m);
        return true;
    }
    case StepStage::Project:  // 6: trust region
        {
            const ProfileRegion region(StepPart::TrustRegion);
            projectStep(m);
        }
        if (std::isfinite(m.step_norm)) return true;
        endRun(RunStatus::Diverged,
               "diverged at step " + std::to_string(m.step) + ": the step is not finite");
        return false;
    case StepStage::Apply: {  // 7
        const ProfileRegion region(StepPart::Optimizer);
        applyStep();
        ++step;
        return true;
    }
    case StepStage::Requantize:  // 8: re-clustering, quantized weights for the next pass, flips
        prepareNextStep();
        m.code_flips = codeFlips;
        m.code_flips_scale = codeFlipsScale;
        return true;
    case StepStage::Observe:  // validation, snapshots, text samples, the end of the run
        observe(m);
        return true;
    }
    return true;
}

bool Trainer::Impl::advance(StageReport* report) {
    using Clock = std::chrono::steady_clock;
    using Ms = std::chrono::duration<double, std::milli>;
    if (!startedClock) {
        started = pausedAt = Clock::now();
        startedClock = true;
    }
    if (clockPaused) pausedMs += Ms(Clock::now() - pausedAt).count();  // a stage while paused
    if (staged.next == 0) {
        staged.row = StepMetrics{};
        staged.row.step = step + 1;
        staged.cluster = -1;
    }
    const auto s = StepStage(staged.next);
    if (report) prepareReport(s);
    bool goOn = true;
    try {
        goOn = runStage(s, staged.row, staged.cluster);
    } catch (const std::exception& e) {
        staged.next = 0;
        endRun(RunStatus::Failed, "failed at step " + std::to_string(staged.row.step) + ": " + e.what());
        throw;
    }
    if (report) describeStage(s, staged.row, *report);
    const Clock::time_point now = Clock::now();
    if (clockPaused) pausedAt = now;
    staged.next = goOn && staged.next + 1 < kStepStages ? staged.next + 1 : 0;
    if (staged.next != 0) return false;
    staged.row.elapsed_ms = Ms(now - started).count() - pausedMs;
    figuresSoFar.add(staged.row);
    return true;
}

// The batch, then the forward pass with the quantized weights (prepared after the previous
// update) and the backward pass into the flat gradient. False when the run ended (not finite).
bool Trainer::Impl::computeGradient(StepMetrics& m, int& cluster) {
    const QuantState* q = quantArg();
    std::vector<int64_t> idx;
    const Batch batch = [&] {
        const ProfileRegion region(StepPart::Batch);
        return nextBatch(m, idx);
    }();
    cluster = batch.cluster;
    const bool perSample = cfg.cluster.data_k > 0 && batch.cluster < 0;
    const LossInfo li = model->forwardBackward(effective.data(), q, batch, grad.data(), perSample);
    m.loss = li.loss;
    if (li.accuracy >= 0) m.accuracy = li.accuracy;
    {
        const ProfileRegion region(StepPart::Optimizer);
        m.grad_norm = l2Norm(grad);
    }
    if (!checkFinite(m)) return false;
    if (cfg.cluster.data_k > 0) {
        const ProfileRegion region(StepPart::Clustering);
        recordClusterLoss(batch, idx, li);
    }
    return true;
}

// Gradient clipping by norm, the optimizer's proposal at lr = base x schedule x m_t, and the
// optional ternary update quantization (TernGrad), per tensor.
void Trainer::Impl::proposeStep(StepMetrics& m) {
    if (cfg.optim.grad_clip > 0) projectToBall(grad, cfg.optim.grad_clip);
    const ScheduleFactors sf = scheduleAt(cfg.optim, step, cfg.run.steps);
    m.lr = cfg.optim.lr * sf.lr * multiplier;
    optimizer->propose(params.data(), grad.data(), m.lr, sf.wd, delta.data());
    if (!cfg.quant.updates) return;
    double d2 = 0, n2 = 0;
    for (const auto& tensor : model->layout().tensors()) {
        std::span<float> d(delta.data() + tensor.offset, size_t(tensor.size()));
        const auto r = ternGrad(d, d, ternRng);
        d2 += r.diff2;
        n2 += r.norm2;
    }
    m.update_quant_error = n2 > 0 ? std::sqrt(d2 / n2) : 0.0;
}

// Θ += Δ, and the trace D_t = λ D_{t-1} + Δ_t for the auxiliary NN's signals.
void Trainer::Impl::applyStep() {
    const float lambda = float(1.0 - 1.0 / double(cfg.aux.horizon));
    parallelFor(int64_t(params.size()), int64_t(1) << 16, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            params[size_t(i)] += delta[size_t(i)];
            trace[size_t(i)] = lambda * trace[size_t(i)] + delta[size_t(i)];
        }
    });
    prev.valid = true;
}

// After the update: parameter re-clustering when due, the quantized weights for the next forward
// pass and the metrics, then data re-clustering when due.
void Trainer::Impl::prepareNextStep() {
    if (quantizing() && granularity == QuantGranularity::Cluster &&
        cfg.cluster.param_refresh_every > 0 && step % cfg.cluster.param_refresh_every == 0) {
        const ProfileRegion region(StepPart::Clustering);
        refreshParamClusters();
    }
    const bool reallocate =
        adaptive && cfg.quant.adapt_every > 0 && step % cfg.quant.adapt_every == 0 &&
        step < cfg.run.steps;  // the last step's weights are the trained model: no new levels
    if (reallocate) allocate();
    {
        const ProfileRegion region(StepPart::WeightQuant);
        quantizeAll(true);
    }
    if (reallocate) snapshots.push_back(precisionSnapshot());
    if (cfg.cluster.data_k > 0 && cfg.cluster.refresh_every > 0 &&
        step % cfg.cluster.refresh_every == 0) {
        const ProfileRegion region(StepPart::Clustering);
        refreshDataClusters();
    }
}

// Validation loss, snapshots and text samples when due; the last step ends the run.
void Trainer::Impl::observe(StepMetrics& m) {
    const bool last = step == cfg.run.steps;
    if ((cfg.run.eval_every > 0 && step % cfg.run.eval_every == 0) || last) {
        const LossInfo v = evaluate();
        m.val_loss = v.loss;
        if (v.accuracy >= 0) m.val_accuracy = v.accuracy;
    }
    if (cfg.run.snapshot_every > 0 && (step % cfg.run.snapshot_every == 0 || last))
        emitSnapshots();
    if (cfg.model.kind == "gpt" && cfg.sample.every > 0 && (step % cfg.sample.every == 0 || last))
        snapshots.push_back(samplesSnapshot());
    if (last) endRun(RunStatus::Completed, "completed " + std::to_string(step) + " steps");
}

Trainer::Trainer(const Config& cfg) : m(std::make_unique<Impl>(cfg)) {}
Trainer::~Trainer() = default;

const Config& Trainer::config() const { return m->cfg; }
const Dataset& Trainer::dataset() const { return *m->data; }
Model& Trainer::model() { return *m->model; }

StepMetrics Trainer::step() {
    if (finished()) throw Error("Trainer::step: the run has ended (" + toString(m->status) + ")");
    const ThreadLimit threads(int(m->cfg.run.threads));
    while (!m->advance(nullptr)) {
    }
    return m->staged.row;
}

StageReport Trainer::stepStage(StepMetrics* row) {
    if (finished()) throw Error("Trainer::stepStage: the run has ended (" + toString(m->status) + ")");
    const ThreadLimit threads(int(m->cfg.run.threads));
    StageReport r;
    r.last = m->advance(&r);
    if (r.last && row) *row = m->staged.row;
    return r;
}

bool Trainer::midStep() const { return m->staged.next != 0; }

const std::vector<FlipCounts>& Trainer::lastFlips() const { return m->flips; }

void Trainer::pauseClock() {
    if (m->clockPaused) return;
    m->clockPaused = true;
    m->pausedAt = std::chrono::steady_clock::now();
}

void Trainer::resumeClock() {
    if (!m->clockPaused) return;
    m->clockPaused = false;
    if (m->startedClock)
        m->pausedMs += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                                 m->pausedAt).count();
}

int64_t Trainer::stepsDone() const { return m->step; }
int64_t Trainer::totalSteps() const { return m->cfg.run.steps; }

void Trainer::applyEdit(const std::string& key, const std::string& value) {
    Config next = liveEdit(m->cfg, key, value, m->step);
    if (midStep()) throw Error("Trainer::applyEdit: a step taken in stages is under way");
    if (m->status != RunStatus::Running && m->status != RunStatus::Stopped)
        throw Error("Trainer::applyEdit: the run has ended (" + toString(m->status) + ")");
    // Everything that can throw runs before the trainer changes.
    std::optional<AuxNet> freshAux;
    if (next.aux.enabled && !m->aux) freshAux.emplace(next.aux, next.trust.radius, uint64_t(next.run.seed));
    if (next.aux.enabled && m->aux) {
        AuxNet probe = *m->aux;
        probe.reconfigure(next.aux, next.trust.radius);
    }

    m->optimizer->setWeightDecay(next.optim.weight_decay);
    if (!next.aux.enabled) {
        m->aux.reset();
    } else if (freshAux) {
        m->aux = std::move(freshAux);
        m->auxStart = m->step;
    } else {
        m->aux->reconfigure(next.aux, next.trust.radius);
    }
    m->cfg = std::move(next);
}
bool Trainer::finished() const { return m->status != RunStatus::Running; }
RunStatus Trainer::status() const { return m->status; }

void Trainer::stop() {
    if (finished()) return;
    // A step under way in stages is completed first: a stopped run holds whole steps only.
    const ThreadLimit threads(int(m->cfg.run.threads));
    while (midStep() && !m->advance(nullptr)) {
    }
    if (!finished()) m->endRun(RunStatus::Stopped, "stopped at step " + std::to_string(m->step));
}

void Trainer::fail(const std::string& message) {
    if (!finished()) m->endRun(RunStatus::Failed, message);
}

std::vector<Snapshot> Trainer::takeSnapshots() { return std::exchange(m->snapshots, {}); }

std::vector<Snapshot> Trainer::stateSnapshots() {
    const ThreadLimit threads(int(m->cfg.run.threads));
    const std::vector<Snapshot> before = std::exchange(m->snapshots, {});
    const std::vector<FlipCounts> flips = m->flipsSinceSnapshot;
    const int64_t flipSteps = m->flipStepsSinceSnapshot;
    m->emitSnapshots();
    m->flipsSinceSnapshot = flips;  // the next weights snapshot still counts from the last one
    m->flipStepsSinceSnapshot = flipSteps;
    return std::exchange(m->snapshots, before);
}

Snapshot Trainer::snapshotNow(const std::string& kind) {
    const ThreadLimit threads(int(m->cfg.run.threads));
    if (kind == "clusters") return m->clustersSnapshot();
    if (kind == "weights") return m->weightsSnapshot();
    if (kind == "boundary") return m->boundarySnapshot();
    if (kind == "samples") return m->samplesSnapshot();
    if (kind == "network") return m->networkSnapshot();
    throw Error("unknown snapshot kind '" + kind + "'");
}

const FloatBuffer& Trainer::parameters() const { return m->params; }
const std::vector<int64_t>& Trainer::lastBatchOrigins() const { return m->lastOrigins; }
const FloatBuffer& Trainer::effectiveParameters() const { return m->effective; }
const QuantState& Trainer::quantState() const { return m->quant; }

Summary Trainer::summary() const {
    Summary s;
    s.status = m->status;
    s.message = m->message;
    s.steps = m->step;
    s.wall_seconds = m->figuresSoFar.elapsedMs / 1000.0;
    s.figures = m->figures();
    return s;
}

}  // namespace h158
