// The hybrid trainer: one call of step() runs the whole data path of DESIGN.md once
// (stratified batch -> quantized forward/backward -> auxiliary NN -> optimizer -> update
// quantization -> trust region -> apply) and returns one metrics row. Deterministic: the same
// config and seed give the same numbers, bit for bit, however the steps are spaced in time.
//
// Snapshot kinds (Snapshot::data fields):
//   clusters:  points [[x, y]...] (2-D inputs or PCA of the clustered features), labels [..],
//              centroids [[x, y]...], sizes [..], cluster_loss [..] (EMA per cluster, null
//              where unseen), refreshes (count)
//   weights:   tensors [{name, index (in the layout), rows, cols, quantized, scale (mean row
//              scale), cluster_scales [..], thresholds [..] (rounding boundaries in weight
//              units, at the mean scale), levels [..] (dequantized level values at the mean
//              scale), edges [nb+1],
//              counts [[nb] per parameter cluster (one list when not clustered)],
//              flips [weight, scale] (code flips summed over the steps since the previous weights
//              snapshot, by cause: code_flips.h), flip_steps (those steps), flip_rate (flips per
//              weight per step)} (scale to flip_rate only for quantized tensors)]
//              — histograms of the latent weights, one per tensor
//   boundary:  2-D classification: x0, x1, y0, y1, nx, ny, p [...] (P(class 1) or the argmax
//              class / (classes-1), row-major ny rows of nx), points [[x, y]..] and labels [..] (class)
//              of up to 2000 training samples; when quantizing also p_latent [...], the same grid
//              through the latent (full-precision) weights: the ghost of what quantization costs
//   network:   2-D classification MLP, for the network diagram (trainer_network.cpp): layers
//              [widths: input, hidden..., output], activation, classes, x0, x1, y0, y1, nx, ny
//              (24 x 24 cells over the boundary's plane); weights [{name, rows (out), cols (in),
//              level_set, latent [rows*cols], codes [rows*cols] and scale (mean row scale) when
//              quantized}] per dense layer, column-major: edge in i -> out o at o + i*rows;
//              maps [per layer after the input: [per unit {scale, q_hex}]], the unit's output v
//              (hidden: after the activation; last: the class probability) through the forward
//              pass with the quantized weights, row-major like p: q_hex holds one byte b per cell
//              as two hex digits, b = round((v/scale + 1)/2 * 255), so b/255 is the position on
//              the boundary's colour scale and v ≈ (2b/255 - 1) * scale (hidden scale = max |v|
//              over the grid, classes 1)
//   samples:   text, prompt, temperature, top_k (gpt)
//   precision: tensors [{name, weights, level (none | int8 | five_level | ternary), bits}] (the
//              quantizable tensors), mean_bits, budget (null unless adaptive), adaptive; for
//              quant.weights=adaptive also loss (validation loss at the levels before this
//              allocation, over quant.adapt_batches batches) and rises [{ternary, five_level,
//              int8}] per tensor: the loss with that tensor alone at that level, the others as
//              they were, minus the loss with it at fp32 (what the allocation used, sensitivity.h). At step 0
//              (with snapshots on, or adaptive) and at every re-allocation.
//   Every snapshot also has step and kind. Snapshots at step 0 describe the start.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "core/base/state_archive.h"
#include "core/config/config.h"
#include "core/train/metrics.h"
#include "core/model/model.h"
#include "core/quant/code_flips.h"
#include "core/train/sensitivity.h"

namespace h158 {

class Dataset;

// One quantized tensor cell by cell, as the weight map draws it: the model's own latent weights,
// codes and row scales for the next forward pass, and where each code last flipped (code_flips.h).
// Column-major like the layout: element (r, c) at r + c * rows.
struct WeightMap {
    int tensor = -1;  // index in the layout
    std::string name;
    int64_t rows = 0, cols = 0;
    int64_t step = 0;  // steps done when it was taken
    QuantLevels levels = QuantLevels::None;  // None: kept at fp32 (codes and scales empty)
    std::vector<float> latent;       // (rows, cols) latent weights W
    std::vector<int8_t> codes;       // (rows, cols) code of each weight: value = code * rowScale
    std::vector<float> rowScale;     // (rows) the value of code 1 (gamma for ternary)
    std::vector<int32_t> lastFlip;   // (rows, cols) step whose update last flipped it, -1 never
    std::vector<uint8_t> flipCause;  // (rows, cols) FlipCause of that flip
};

// One stage of a training step taken in stages (Trainer::stepStage), for the step-into view.
// The stages, in the order the trainer runs them (trainer.cpp):
//   forward     the batch through the model with the codes (dequantized), the loss
//   backward    the gradient, through the straight-through estimator onto the latent weights
//   aux         the auxiliary NN learns from the last step and predicts m_t and r_t
//   propose     the optimizer's step at lr = base x schedule x m_t (TernGrad when on)
//   project     the trust region: per tensor the proposed norm against its limit, the cuts
//   apply       Theta <- Theta + Delta on the latent weights
//   requantize  new scales and codes, the flips they caused (weight or scale)
//   observe     validation, snapshots, the end of the run
// data holds the stage's figures (trainer.cpp, describeStage); tensors[] entries are per matrix.
enum class StepStage { Forward, Backward, Aux, Propose, Project, Apply, Requantize, Observe };
inline constexpr int kStepStages = 8;
const char* stageName(StepStage s);
struct StageReport {
    StepStage stage = StepStage::Forward;
    int64_t step = 0;     // 1-based index of the step this stage belongs to
    std::string title;    // "Forward with the codes"
    std::string text;     // one or two sentences a student reads
    nlohmann::json data;  // the stage's own figures
    bool last = false;    // the step is complete (its row is ready)
};

class Trainer {
public:
    // Validates cfg, builds the data, model and every component. Throws ConfigError/FileError.
    explicit Trainer(const Config& cfg);
    ~Trainer();
    Trainer(const Trainer&) = delete;
    Trainer& operator=(const Trainer&) = delete;

    const Config& config() const;
    const Dataset& dataset() const;
    Model& model();

    // Runs one step and returns its row. Only while status() == Running and steps remain.
    // A step begun in stages is finished (its remaining stages run).
    StepMetrics step();
    // Runs the next stage of the current step (starting a step when none is under way) and
    // describes it; when report.last the step is complete and *row (when given) is its row, the
    // same bits step() would have given: the stages are step()'s own code, cut apart.
    StageReport stepStage(StepMetrics* row = nullptr);
    bool midStep() const;  // a step begun in stages is not complete
    // The weight map of layout tensor `tensor` now (a matrix; throws Error otherwise).
    WeightMap weightMap(int tensor) const;
    // Code flips of each layout tensor at the last step (zero for unquantized ones).
    const std::vector<FlipCounts>& lastFlips() const;
    int64_t stepsDone() const;
    // Changes a live setting (FieldSpec::live, config.h liveEdit) between steps and carries it
    // into what was built from it (the optimizer's weight decay, the auxiliary NN: switched on it
    // starts afresh, as at a run's start, and counts its warm-up from this step). Throws
    // ConfigError naming the key (not live, a value that does not fit, run.steps not above the
    // steps done) and Error while a step is under way in stages or the run has ended; nothing
    // changes then. The same edits at the same steps give the same rows, bit for bit.
    void applyEdit(const std::string& key, const std::string& value);
    // elapsed_ms leaves out the time between pauseClock() and resumeClock() (a paused run in the
    // workbench); a step taken while paused counts its own time only.
    void pauseClock();
    void resumeClock();
    int64_t totalSteps() const;
    bool finished() const;  // all steps done, or stopped / diverged / failed
    RunStatus status() const;
    void stop();                              // ends the run as stopped
    void fail(const std::string& message);    // ends the run as failed

    // Snapshots produced since the last call (at the start, then every run.snapshot_every).
    std::vector<Snapshot> takeSnapshots();
    // All snapshots of the current kind, right now (e.g. to redraw a view on demand).
    Snapshot snapshotNow(const std::string& kind);
    // The state snapshots a run writes at its start and every run.snapshot_every (clusters,
    // weights, boundary and network, those that apply), right now, changing nothing: a fork's
    // first snapshots, at its fork step.
    std::vector<Snapshot> stateSnapshots();

    // Everything the next steps depend on and cannot recompute (parameters, optimizer moments,
    // the auxiliary NN and its inputs, clusters, sampler and random streams, the summary's
    // running figures), for checkpoints (checkpoint.h). A trainer built from the same config
    // that restores it continues with the same rows, bit for bit; elapsed_ms goes on from the
    // saved value. saveState throws Error unless the run is running or stopped (a step that failed
    // may have left it half done); restoreState throws Error naming the entry that does not fit
    // this config, and the trainer is then not to be used.
    StateArchive saveState() const;
    void restoreState(const StateArchive& a);

    Summary summary() const;

    // Flat parameter vector (latent, full precision) for export and inspection.
    const FloatBuffer& parameters() const;
    // Batch::origins of the last step's batch (which samples or text windows it trained on).
    const std::vector<int64_t>& lastBatchOrigins() const;
    // The weights the next forward pass uses (quantized tensors dequantized) and their codes.
    const FloatBuffer& effectiveParameters() const;
    const QuantState& quantState() const;

    // Per-tensor precision (sensitivity.h). The full sensitivity table of the latent weights now,
    // over the first `batches` validation batches; the run itself is left as it was.
    SensitivityTable sensitivity(int64_t batches);
    // The level set of every layout tensor (None: fp32), and the mean bits per quantizable weight.
    std::vector<QuantLevels> tensorLevels() const;
    double meanWeightBits() const;
    // Sets the levels (e.g. those a trained model was stored at) and re-quantizes. Throws Error
    // when quantization is off, the count is not the layout's or a never-quantized tensor is given
    // levels. An adaptive run's next re-allocation replaces them.
    void setTensorLevels(std::span<const QuantLevels> levels);

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

}  // namespace h158
