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

#include "core/exp/events.h"
#include "core/train/trainer.h"

namespace h158 {

inline constexpr const char* kLatentFile = "latent.safetensors";

class RunSession {
public:
    // Builds the trainer (throws ConfigError/FileError before anything is written), then
    // creates `dir` (it must not hold a previous run) and writes config.json. `scheduled` are
    // events to apply at their steps (run --at): checked first (scheduleEvents), written to
    // events.jsonl when the run starts.
    RunSession(const Config& cfg, const std::string& dir, std::vector<RunEvent> scheduled = {});
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

    // Changes a live setting (events.h) at the next step boundary: now when no step is under way
    // (before step stepsDone() + 1), else when the step in stages completes. The event goes to
    // events.jsonl at once. Throws ConfigError naming the key (not live, a value that does not
    // fit) and changes nothing then.
    RunEvent edit(const std::string& key, const std::string& value,
                  const std::string& by = "workbench");
    // Every event of the run: those applied, then those scheduled, sorted by step.
    const std::vector<RunEvent>& events() const { return m_events; }
    int64_t eventsApplied() const { return m_eventsApplied; }

private:
    RunSession(std::unique_ptr<Trainer> trainer, const std::string& dir, int64_t resumedAt);
    friend std::unique_ptr<RunSession> forkRun(const std::string&, int64_t,
                                               const std::vector<std::string>&, const std::string&);
    void applyDueEvents();  // the events due before the next step
    void keepCheckpoint();  // DIR/checkpoints/ (fork.h)
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
    std::vector<RunEvent> m_events;  // sorted by step; the first m_eventsApplied are applied
    int64_t m_eventsApplied = 0;
    int64_t m_forkStep = 0;          // a fork's first step - 1 (0: not a fork)
};

// workspace/NAME-YYYYMMDD-HHMMSS (with -2, -3 ... when taken); not created.
std::string newRunDirectory(const std::string& workspace, const std::string& name);

// A past run read back from its directory (for the GUI's runs list and comparisons).
struct RunRecord {
    std::string dir;
    Config config;                  // config.json: the configuration at the run's first step
    std::vector<RunEvent> events;   // events.jsonl, sorted by step
    std::string parent;             // a fork's parent directory (fork.json; empty: not a fork)
    int64_t forkStep = 0;           // the parent's step it starts from
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
    std::string parent;          // a fork's parent directory, absolute (fork.json; empty: none)
    int64_t forkStep = 0;        // the parent's step the fork starts from
    int64_t events = 0;          // lines of events.jsonl (0 when it is missing or unreadable)
};
RunOverview overviewRunDirectory(const std::string& dir) noexcept;

}  // namespace h158
