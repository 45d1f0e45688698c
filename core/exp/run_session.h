// A training run bound to its run directory (the DESIGN.md contract): config.json, metrics.csv
// (header first, one row per step, flushed as it goes), snapshots.jsonl (one JSON object per
// line) and summary.json (written atomically at the end), and weights.h158, the trained model
// (h158_export.h), just before summary.json when the run completed or was stopped. With
// run.record_batches, batches.csv too: header "step,row,origin", one line per batch row, flushed
// with each step; origin is Batch::origins (the sample's index, or the text window's first byte).
// With run.checkpoint_every N > 0, checkpoint.safetensors (checkpoint.h) every N steps and when
// the run is stopped; it is removed when the run completes or diverges (nothing to continue).
// With weights.h158, latent.safetensors: the latent full-precision weights (param_file.h), which
// sensitivity analysis re-quantizes (sensitivity.h) and model.init_file can start from.
// Used by the CLI and the GUI alike, so both write the same files.
#pragma once

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/train/trainer.h"

namespace h158 {

inline constexpr const char* kLatentFile = "latent.safetensors";

class RunSession {
public:
    // Builds the trainer (throws ConfigError/FileError before anything is written), then
    // creates `dir` (it must not hold a previous run) and writes config.json.
    RunSession(const Config& cfg, const std::string& dir);
    // Continues the stopped, interrupted (killed) or failed run in `dir` from its checkpoint:
    // builds the trainer from DIR/config.json, restores it, keeps the rows of metrics.csv,
    // snapshots.jsonl and batches.csv up to the checkpoint's step (the later ones are written
    // again, the same bits) and removes summary.json until the run ends again. Throws FileError
    // naming the file and the reason (no checkpoint, a completed run, a checkpoint of another
    // configuration, metrics.csv shorter than the checkpoint) before it changes anything.
    static std::unique_ptr<RunSession> resume(const std::string& dir);
    ~RunSession();  // writes summary.json if the run has not been finished

    Trainer& trainer() { return *m_trainer; }
    const std::string& directory() const { return m_dir; }

    // One step: the row goes to metrics.csv, snapshots to snapshots.jsonl. When the step ends
    // the run (last step, divergence) summary.json is written. Exceptions from the trainer end
    // the run as failed (summary written) and are rethrown; so does a write that fails (FileError
    // naming the file; the rows before it are kept).
    StepMetrics step();
    // The next stage of a step taken in stages (Trainer::stepStage); when the step completes its
    // row is written as step() writes it and, when given, copied to *row.
    StageReport stepStage(StepMetrics* row = nullptr);
    // Snapshots written since the last call (for live views).
    std::vector<Snapshot> takeSnapshots();
    bool finished() const;
    void stop();    // ends as stopped and writes summary.json
    void finish();  // writes summary.json now (idempotent)

    int64_t resumedAt() const { return m_resumedAt; }  // the checkpoint's step (0: a new run)

private:
    RunSession(std::unique_ptr<Trainer> trainer, const std::string& dir, int64_t resumedAt);
    void openFiles(bool append);
    void recordStep(const StepMetrics& row);  // the files' part of a completed step
    void completeStagedStep();
    void writeCheckpointNow();
    void writeSnapshots(const std::vector<Snapshot>& s);
    void checkWritten(const std::ofstream& out, const char* file);
    void writeSummary();
    void writeSummaryAfterFailure();  // writeSummary, keeping the exception in flight

    std::unique_ptr<Trainer> m_trainer;
    std::string m_dir;
    std::ofstream m_metrics, m_snapshots, m_batches;
    std::vector<Snapshot> m_pending;
    bool m_summaryWritten = false;
    int64_t m_resumedAt = 0;
    int64_t m_checkpointStep = 0;  // of DIR/checkpoint.safetensors (0: none)
};

// workspace/NAME-YYYYMMDD-HHMMSS (with -2, -3 ... when taken); not created.
std::string newRunDirectory(const std::string& workspace, const std::string& name);

// A past run read back from its directory (for the GUI's runs list and comparisons).
struct RunRecord {
    std::string dir;
    Config config;
    std::vector<StepMetrics> metrics;
    nlohmann::json summary;  // an object (a status, if any, is a string); empty when summary.json
                             // is missing (run killed)
};
RunRecord readRunDirectory(const std::string& dir);  // throws FileError naming file and line

// What a list of runs shows of one run directory, read without throwing: a directory with a
// malformed or mistyped file is "unreadable" with the reason (file and field or line), one
// without summary.json is "interrupted" at the last step in metrics.csv.
struct RunOverview {
    std::string status;  // completed | stopped | diverged | failed | interrupted | unreadable
    int64_t steps = 0;   // steps done
    int64_t total = 0;   // run.steps of config.json (0 when unknown)
    double finalLoss = kNoValue;
    std::string problem;  // unreadable: what is wrong, naming the file
    int64_t checkpointStep = 0;  // the step of DIR/checkpoint.safetensors (0: none): resumable
};
RunOverview overviewRunDirectory(const std::string& dir) noexcept;

}  // namespace h158
