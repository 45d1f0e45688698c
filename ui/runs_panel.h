// The runs table: every run of this session and every run in the workspace (and its sweep
// folders), one row each. Columns are the settings that tell the listed runs apart (all settings
// on a toggle) and each run's figures; rows sort by any column and filter by text and by status.
// Ticking a row overlays the run in the scalar plots under a legend that names what differs
// ("lr=0.003, enabled=off"), in one of twelve colours handed to the shown runs; the current row
// is drawn bold. With "Group seeds", runs that differ only in run.seed are one row (figures as
// mean ± std) drawn as the mean with a min–max band; the members are its child rows.
// The workspace is watched: runs that another process (the CLI, a sweep, another machine writing
// to the same folder) starts there appear, and the curves of unfinished runs grow as their
// metrics.csv does, read incrementally (MetricsTail).
#pragma once

#include <QColor>
#include <QWidget>
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "core/config/config.h"
#include "core/train/metrics.h"
#include "core/exp/sweep.h"
#include "ui/panel.h"
#include "ui/run_state.h"

class QCheckBox;
class QComboBox;
class QDialog;
class QFileSystemWatcher;
class QLabel;
class QLineEdit;
class QModelIndex;
class QStandardItem;
class QStandardItemModel;
class QTimer;
class QTreeView;

namespace h158 {
class MetricsTail;
}

namespace h158::ui {

class RunsFilter;

struct RunEntry {
    int id = 0;    // unique within the list
    QString name;  // the run directory's name ("sweep/run" in a sweep folder)
    QString dir;
    RunState state = RunState::Idle;
    int64_t step = 0;
    int64_t total = 0;
    double finalLoss = kNoValue;
    QString problem;  // Unreadable: what is wrong, naming the file
    int64_t checkpointStep = 0;  // of its checkpoint.safetensors (0: none, cannot be resumed)
    QColor colour;               // while shown (ticked) or live
    bool checked = false;        // overlaid in the plots
    bool session = false;        // started in this window (else found in the workspace)
    int order = 0;               // session runs: newest (highest) on top
    qint64 grewAtMs = 0;         // past runs: when their metrics.csv last grew as watched
    std::optional<Config> config;  // its config.json (none while unreadable)
    SweepRunResult result;         // its figures, read when it ended
    // The run's rows, once loaded or (for session runs) collected while it ran.
    std::shared_ptr<std::vector<StepMetrics>> rows;
    std::shared_ptr<MetricsTail> tail;  // past runs: reads metrics.csv as it grows
};

// The final loss a run's summary.json reports, NaN when there is none (run killed).
double readFinalLoss(const QString& dir);

class RunsPanel : public QWidget {
    Q_OBJECT
  public:
    // The fixed columns; the setting columns follow ColStep, then the figure columns.
    enum Column { ColName, ColState, ColStep, ColFirstKey };

    explicit RunsPanel(QWidget* parent = nullptr);
    ~RunsPanel() override;

    // Adds a run of this session (at the top) and returns its entry's id.
    int addSessionRun(const QString& dir, const Config& cfg,
                      std::shared_ptr<std::vector<StepMetrics>> rows);
    void updateRun(int id, RunState state, int64_t step, double finalLoss);
    // The run the window's live views show (0: none): its colour is kept for it.
    void setLiveRun(int id);
    // A run that can be continued: stopped, interrupted or failed, with a checkpoint.
    bool resumable(int id) const;
    // The selected run (0: none, or a group row).
    int currentRun() const;
    void setCurrentRun(int id);
    // The entry becomes this session's live run again (Resume), its rows so far given.
    void reuseForSession(int id, std::shared_ptr<std::vector<StepMetrics>> rows);
    // Lists the run directories under `workspace` (and in its sweep folders, as "sweep/run") that
    // are not listed yet, reads again the listed past runs that had no summary (another process
    // may be running them) and watches the folder from now on; returns how many were added.
    int scanWorkspace(const QString& workspace);
    void clearPastRuns();
    // Reads what the unfinished past runs appended to their metrics.csv and whether they ended
    // (the panel's timer calls it every second); true when something changed.
    bool pollLiveRuns();

    const RunEntry* entry(int id) const;
    int count() const { return int(m_entries.size()); }
    QList<int> checkedRuns() const;
    void setChecked(int id, bool on);
    // Overlays for the ticked runs and groups except `exceptId` (the live run draws itself); past
    // runs' metrics are read from their directory on first use.
    std::vector<RunOverlay> overlays(int exceptId);

    // Table state, for the window's menu and for tests.
    void setGrouped(bool on);
    bool grouped() const;
    void setAllKeys(bool on);
    void setFilterText(const QString& text);
    // "" (all), or a state name as the State column shows it ("completed", "running", ...).
    void setStatusFilter(const QString& state);
    // The setting keys shown as columns (the differing ones, or all).
    const std::vector<std::string>& keyColumns() const { return m_keys; }
    // The figure columns' titles, in order after the keys.
    QStringList columnTitles() const;
    // The rows as shown (filter and sort applied): top-level rows, each with its children (group
    // members) when grouped; each row is its cells' text.
    QList<QStringList> shownRows() const;
    // The ids of the runs on the shown rows (children included), in view order.
    QList<int> shownRunIds() const;
    // Sorts by `column` (a fixed column, or ColFirstKey + i) as a click on its header does.
    void sortBy(int column, Qt::SortOrder order);
    // Ticks every shown top-level row (run or seed group).
    void checkAllShown();
    // Ticks a group row (grouped mode) by its position among the shown top-level rows.
    void setGroupChecked(int shownRow, bool on);
    // The legend label of run `id` (what differs; its name when nothing does).
    QString label(int id) const;
    // The table of the shown runs as CSV (core's runsTableCsv); false and `error` when the file
    // cannot be written. Runs whose config.json does not load are left out.
    bool exportCsv(const QString& path, QString* error = nullptr) const;
    // The text of a side-by-side config diff of two runs (key, a, b per line, differences
    // first), as the compare dialog shows it.
    static std::vector<std::array<QString, 3>> configDiff(const Config& a, const Config& b,
                                                           bool onlyDifferences);

    // Opens the side-by-side config diff of runs a and b (right click on two selected rows does);
    // null when either has no readable configuration.
    QDialog* compareRuns(int a, int b);

  signals:
    void overlaysChanged();
    void changeWorkspaceRequested();
    void resumeRequested(int id);
    void currentRunChanged();

  private:
    struct Group;
    void rebuild();
    QList<QStandardItem*> makeRow(const RunEntry& e);
    void fillRow(const QList<QStandardItem*>& cells, const RunEntry& e);
    void refreshRow(int id);
    QStandardItem* itemOf(int id) const;
    int addEntry(RunEntry e);
    void loadPastRun(RunEntry& e);
    void ensureRows(RunEntry& e);
    QColor freeColour(int exceptId, const QString& exceptGroup = {}) const;
    void onItemChanged(QStandardItem* item);
    void showMenu(const QPoint& pos);
    void compareSelected();
    void exportWithDialog();
    void watch(const QString& workspace);
    QString groupKey(const Config& c) const;
    bool shownInPlots(const RunEntry& e) const;

    QTreeView* m_view;
    QStandardItemModel* m_model;
    RunsFilter* m_filter;
    QLineEdit* m_search;
    QComboBox* m_status;
    QCheckBox* m_group;
    QCheckBox* m_all;
    QLabel* m_workspace;
    QLabel* m_count;
    QFileSystemWatcher* m_watcher;
    QTimer* m_rescan;
    QTimer* m_poll;
    QString m_workspaceDir;
    std::map<int, RunEntry> m_entries;
    std::vector<std::string> m_keys;     // setting columns
    std::vector<std::string> m_diffKeys; // differing keys (labels name these)
    std::map<QString, std::pair<bool, QColor>> m_groups;  // group key -> ticked, colour
    int m_nextId = 1;
    int m_liveId = 0;
    int m_order = 0;  // the last session run's order
    bool m_building = false;
};

}  // namespace h158::ui
