// The life of a run as the window shows it, and the batches the worker sends to the UI thread.
#pragma once

#include <QMetaType>
#include <QString>
#include <memory>
#include <vector>

#include "core/train/metrics.h"
#include "core/exp/events.h"
#include "core/train/trainer.h"

namespace h158::ui {

// Interrupted: a past run without a summary (killed); Unreadable: a past run whose files are not
// what hybrid158 writes (RunEntry::problem says why).
enum class RunState {
    Idle, Starting, Running, Paused, Completed, Stopped, Diverged, Failed, Interrupted, Unreadable
};

QString stateName(RunState s);

// Appends `s`, dropping the snapshots it makes obsolete: the live views need only the latest
// of each kind (per tensor for weights); every text sample is kept.
void addLatest(std::vector<Snapshot>& list, Snapshot s);
// Starting, running or paused: a run exists and may take more steps.
inline bool isActive(RunState s) {
    return s == RunState::Starting || s == RunState::Running || s == RunState::Paused;
}
// Completed, stopped, diverged or failed.
inline bool isFinal(RunState s) {
    return !isActive(s) && s != RunState::Idle;
}

// Rows and snapshots produced since the previous batch of the same run, the stages taken one by
// one (Step into) and the weight map the window asked for (RunController::setWeightMapTensor).
struct RunBatch {
    int runId = 0;
    std::vector<StepMetrics> rows;
    std::vector<Snapshot> snapshots;
    std::vector<StageReport> stages;
    std::shared_ptr<const WeightMap> weightMap;  // null: none asked for, or nothing new
    // Edits (events.h) that became known: at a start every event of the run (scheduled ones
    // too), then each edit the workbench made; and the edits the session refused, with why.
    std::vector<RunEvent> events;
    std::vector<std::string> refusedEdits;
};
// Batches travel between the threads by pointer: a queued signal copies its arguments, and a
// snapshot's JSON (thousands of points) is too costly to copy 30 times a second.
using RunBatchPtr = std::shared_ptr<const RunBatch>;

}  // namespace h158::ui

Q_DECLARE_METATYPE(h158::ui::RunBatchPtr)
Q_DECLARE_METATYPE(h158::ui::RunState)
