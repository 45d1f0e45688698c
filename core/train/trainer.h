// The hybrid trainer: one call of step() runs the whole data path of DESIGN.md once
// (stratified batch -> quantized forward/backward -> auxiliary NN -> optimizer -> update
// quantization -> trust region -> apply) and returns one metrics row. Deterministic: the same
// config and seed give the same numbers, bit for bit, however the steps are spaced in time.
//
// Snapshot kinds (Snapshot::data fields):
//   clusters:  points [[x, y]...] (2-D inputs or PCA of the clustered features), labels [..],
//              centroids [[x, y]...], sizes [..], cluster_loss [..] (EMA per cluster, null
//              where unseen), refreshes (count)
//   weights:   tensors [{name, rows, cols, quantized, scale (mean row scale), cluster_scales [..],
//              thresholds [..] (rounding boundaries in weight units, at the mean scale),
//              levels [..] (dequantized level values at the mean scale), edges [nb+1],
//              counts [[nb] per parameter cluster (one list when not clustered)]}]
//              — histograms of the latent weights, one per tensor
//   boundary:  2-D classification: x0, x1, y0, y1, nx, ny, p [...] (P(class 1) or the argmax
//              class / (classes-1), row-major ny rows of nx), points [[x, y]..] and labels [..] (class)
//              of up to 2000 training samples
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
#include "core/train/sensitivity.h"

namespace h158 {

class Dataset;

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
    StepMetrics step();
    int64_t stepsDone() const;
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
