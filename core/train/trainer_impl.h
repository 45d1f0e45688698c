// Internal state of the Trainer, shared by trainer.cpp (the step), trainer_clustering.cpp,
// trainer_snapshots.cpp and trainer_summary.cpp. Not part of the library's API.
#pragma once

#include <chrono>
#include <cmath>
#include <deque>
#include <optional>

#include "core/optim/aux_net.h"
#include "core/data/dataset.h"
#include "core/model/model.h"
#include "core/optim/optimizer.h"
#include "core/cluster/pca.h"
#include "core/data/sampler.h"
#include "core/train/sensitivity.h"
#include "core/train/trainer.h"

namespace h158 {

// The 2-D input plane the boundary and network snapshots sample (trainer_network.cpp): the
// training inputs' box padded by 8% each side, nx x ny cells sampled at their centres,
// row-major (ny rows of nx, y outer).
struct InputPlane {
    float x0 = 0, x1 = 0, y0 = 0, y1 = 0;
    int nx = 0, ny = 0;
    MatF grid;  // (2, nx*ny)
};
InputPlane inputPlane(const MatF& pts, int nx, int ny);

// What the summary's figures need of the rows (trainer_summary.cpp), kept as running sums
// instead of every row, so memory does not grow with the steps. The sums add the rows in
// order, so they equal sums over the stored rows bit for bit.
struct RunFigures {
    struct Mean {
        double sum = 0;
        int64_t count = 0;
        void add(double v) {
            if (!std::isnan(v)) sum += v, ++count;
        }
    };
    int64_t rows = 0;
    double initialLoss = kNoValue, lastValLoss = kNoValue, lastValAccuracy = kNoValue;
    double elapsedMs = 0;
    LevelFractions lastFractions{kNoValue, kNoValue, kNoValue};
    std::deque<double> tail;  // the last max(1, rows / 20) training losses
    Mean constrained, quantError, updateQuantError, gradNorm, multiplier, constrainedFraction,
        radius, stepNorm, lr;

    void add(const StepMetrics& m);
    void save(StateArchive& a) const;
    void load(const StateArchive& a);
};

struct Trainer::Impl {
    Config cfg;
    std::unique_ptr<Dataset> data;
    std::unique_ptr<Model> model;
    std::unique_ptr<Optimizer> optimizer;
    std::optional<ClusterSampler> sampler;
    std::optional<AuxNet> aux;
    TrainingState state;

    QuantLevels levels = QuantLevels::None;  // quant.weights when uniform; None when adaptive
    bool adaptive = false;                   // quant.weights=adaptive
    QuantGranularity granularity = QuantGranularity::Tensor;
    // The level set of each layout tensor now: quant.weights for the quantized tensors of a
    // uniform run, the allocation's choice for an adaptive one, None for the others.
    std::vector<QuantLevels> tensorLevels;
    // The sensitivity the last allocation used (adaptive runs; for the precision snapshot).
    std::optional<SensitivityTable> lastSensitivity;
    bool quantizing() const { return adaptive || levels != QuantLevels::None; }
    // What the model's passes get: null when quantization is off.
    const QuantState* quantArg() const { return quantizing() ? &quant : nullptr; }

    FloatBuffer params, grad, effective, delta;  // (P) each
    FloatBuffer trace;  // (P) D_t = λ D_{t-1} + Δ_t, the auxiliary NN's signal (aux_net.h)
    std::vector<int64_t> lastOrigins;                              // (B) of the last batch
    QuantState quant;
    double quantError = 0;                   // of the weights the next forward pass uses
    double weightBits = 32;                  // their mean bits per quantizable weight
    LevelFractions fractions{kNoValue, kNoValue, kNoValue};
    std::vector<std::vector<int>> rowCluster;  // per tensor: parameter cluster of each row
    int paramK = 1;

    // data clustering
    struct DataClusters {
        MatF features;            // (F, N) what the current clusters were computed on
        MatF centroids;           // (F, k)
        std::vector<int> labels;  // (N)
        std::vector<double> loss; // (k) EMA of the loss per cluster (NaN = unseen)
        int refreshes = 0;
    } clusters;
    Pca2d pca;                       // scatter projection, refitted when the features change

    Rng initRng, jitterRng, ternRng, sampleRng;

    int64_t step = 0;
    RunStatus status = RunStatus::Running;
    std::string message;
    double firstLoss = kNoValue;
    RunFigures figuresSoFar;
    std::vector<Snapshot> snapshots;
    // elapsed_ms: time since the first step, less the time the clock was paused
    std::chrono::steady_clock::time_point started, pausedAt;
    bool startedClock = false, clockPaused = false;
    double pausedMs = 0;

    // auxiliary NN bookkeeping between steps
    struct PreviousStep {
        bool valid = false;
        AuxFeatures features{};
        std::vector<uint8_t> held;       // per tensor: the trust region shortened its step
        double constrainedFraction = 0;  // TrainingState's input
    } prev;
    double multiplier = 1, radius = 0;
    int64_t auxStart = 0;  // the step the auxiliary NN was switched on at (its warm-up counts from it)

    // Code flips (code_flips.h), counted at each step's re-quantization.
    std::vector<QuantizedTensor> prevQuant;  // per tensor: the quantization before the last one
    std::vector<FlipCounts> flips;           // per tensor: the flips of the last step
    FlipCounts flipTotal;                    // their sum over the compared tensors
    std::vector<FlipCounts> flipsSinceSnapshot;  // per tensor: since the last weights snapshot
    int64_t flipStepsSinceSnapshot = 0;          // the steps those cover
    std::vector<int32_t> lastFlip;   // (P) step whose update last flipped each code, -1 never
    std::vector<uint8_t> flipCause;  // (P) the FlipCause of that flip
    double codeFlips = kNoValue, codeFlipsScale = kNoValue;  // fractions at the last step

    // A step taken in stages (Trainer::stepStage): the next stage and the row so far.
    struct StagedStep {
        int next = 0;  // 0: no step under way
        StepMetrics row;
        int cluster = -1;
        std::vector<double> before;  // per tensor, what describeStage compares against
    } staged;

    explicit Impl(const Config& c);
    // With countingFlips, the codes are compared with the previous ones (the step's flips).
    void quantizeAll(bool countingFlips = false);
    LossInfo evaluate();
    // Mean loss over the first maxBatches validation batches under these weights.
    LossInfo evaluateOn(const float* weights, const QuantState* q, int64_t maxBatches);
    // sensitivity.cpp: the table on the latent weights (alone and fp32 figures only when !full;
    // the other tensors at fp32, or at tensorLevels when fromCurrent), and the allocation of
    // quant.weights=adaptive, which sets tensorLevels.
    SensitivityTable measureSensitivity(int64_t batches, bool full, bool fromCurrent);
    void allocate();
    double meanWeightBits() const;  // over the layout's quantized tensors, at tensorLevels
    Snapshot precisionSnapshot();
    void refreshDataClusters();
    void refreshParamClusters();
    void emitSnapshots();
    Snapshot clustersSnapshot();
    Snapshot weightsSnapshot();
    Snapshot boundarySnapshot();
    Snapshot networkSnapshot();  // trainer_network.cpp
    Snapshot samplesSnapshot();
    nlohmann::json figures() const;
    void saveState(StateArchive& a) const;  // trainer_checkpoint.cpp
    void loadState(const StateArchive& a);
    nlohmann::json clusteringFigures() const;
    nlohmann::json tensorLevelsFigure() const;
    // Runs the next stage of the current step (staged.next), starting one when none is under
    // way; with `report`, describes it. True when the step is complete (staged.row is its row).
    bool advance(StageReport* report);
    // Stage s of the step whose row is m; false when the run ended in it (not finite).
    bool runStage(StepStage s, StepMetrics& m, int& cluster);
    void prepareReport(StepStage s);                        // trainer_stages.cpp
    void describeStage(StepStage s, const StepMetrics& m, StageReport& r);
    std::vector<double> tensorNorms(const FloatBuffer& v) const;  // per tensor ‖v_i‖₂
    // the stages of one step (trainer.cpp)
    bool computeGradient(StepMetrics& m, int& cluster);
    void proposeStep(StepMetrics& m);
    void applyStep();
    void prepareNextStep();
    void observe(StepMetrics& m);
    Batch nextBatch(StepMetrics& m, std::vector<int64_t>& idx);
    bool checkFinite(const StepMetrics& m);
    void recordClusterLoss(const Batch& batch, std::span<const int64_t> idx, const LossInfo& li);
    void consultAux(StepMetrics& m, int cluster);
    void projectStep(StepMetrics& m);
    void endRun(RunStatus s, std::string why) {
        status = s;
        message = std::move(why);
    }
};

}  // namespace h158
