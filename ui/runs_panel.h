// The runs list: every run of this session and the past runs found in the workspace, with name,
// state, step, final loss and colour. Ticking runs overlays their curves in the scalar plots.
#pragma once

#include <QColor>
#include <QWidget>
#include <map>
#include <memory>
#include <vector>

#include "core/train/metrics.h"
#include "ui/panel.h"
#include "ui/run_state.h"

class QLabel;
class QTreeWidget;
class QTreeWidgetItem;

namespace h158::ui {

struct RunEntry {
    int id = 0;    // unique within the list
    QString name;  // the run directory's name
    QString dir;
    RunState state = RunState::Idle;
    int64_t step = 0;
    int64_t total = 0;
    double finalLoss = kNoValue;
    QString problem;  // Unreadable: what is wrong, naming the file
    int64_t checkpointStep = 0;  // of its checkpoint.safetensors (0: none, cannot be resumed)
    QColor colour;
    bool session = false;  // started in this window (else found in the workspace)
    // The run's rows, once loaded or (for session runs) collected while it ran.
    std::shared_ptr<std::vector<StepMetrics>> rows;
};

// The final loss a run's summary.json reports, NaN when there is none (run killed).
double readFinalLoss(const QString& dir);

class RunsPanel : public QWidget {
    Q_OBJECT
  public:
    explicit RunsPanel(QWidget* parent = nullptr);

    // Adds a run of this session (at the top) and returns its entry's id.
    int addSessionRun(const QString& dir, int64_t total,
                      std::shared_ptr<std::vector<StepMetrics>> rows);
    void updateRun(int id, RunState state, int64_t step, double finalLoss);
    // A run that can be continued: stopped, interrupted or failed, with a checkpoint.
    bool resumable(int id) const;
    // The selected run (0: none).
    int currentRun() const;
    // The entry becomes this session's live run again (Resume), its rows so far given.
    void reuseForSession(int id, std::shared_ptr<std::vector<StepMetrics>> rows);
    // Lists the run directories under `workspace` (and in its sweep folders, as "sweep/run") that
    // are not listed yet, and reads again the listed past runs that had no summary (a CLI or a
    // sweep may be running them); returns how many were added.
    int scanWorkspace(const QString& workspace);
    void clearPastRuns();

    const RunEntry* entry(int id) const;
    int count() const { return int(m_entries.size()); }
    QList<int> checkedRuns() const;
    void setChecked(int id, bool on);
    // Overlays for the ticked runs except `exceptId` (the live run draws itself); past runs'
    // metrics are read from their directory on first use.
    std::vector<RunOverlay> overlays(int exceptId);

  signals:
    void overlaysChanged();
    void changeWorkspaceRequested();
    void resumeRequested(int id);
    void currentRunChanged();

  private:
    QTreeWidgetItem* itemOf(int id) const;
    void refreshItem(const RunEntry& e);
    int addEntry(RunEntry e, bool top);
    void showMenu(const QPoint& pos);

    QTreeWidget* m_tree;
    QLabel* m_workspace;
    std::map<int, RunEntry> m_entries;
    int m_nextId = 1;
    int m_colours = 0;
};

}  // namespace h158::ui
