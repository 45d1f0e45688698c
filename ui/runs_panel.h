// The runs table: every run of this session and every run in the workspace (and its sweep
// folders), one row each. Columns are the settings that tell the listed runs apart (all settings
// on a toggle) and each run's figures; rows sort by any column and filter by text and by status.
// Ticking a row overlays the run in the scalar plots under a legend that names what differs
// ("lr=0.003, enabled=off"), in one of twelve colours handed to the shown runs; the current row
// is drawn bold. With "Group seeds", runs that differ only in run.seed are one row (figures as
// mean ± std) drawn as the mean with a min–max band; the members are its child rows. A fork
// (fork.h) is listed under the run it forks from, with its fork step; the edits of a run's
// settings (events.jsonl) are counted in a column that lists them on hover.
// The workspace is watched: runs that another process (the CLI, a sweep, another machine writing
// to the same folder) starts there appear, and the curves of unfinished runs grow as their
// metrics.csv does, read incrementally (MetricsTail).
// The rows are built by RunsModel (runs_model.h), the seed groups' rows by seed_groups.h and the
// curves by run_overlays.h; the panel keeps the entries and the table's state.
#pragma once

#include <QColor>
#include <QWidget>
#include <array>
#include <map>
#include <memory>
#include <vector>

#include "core/config/config.h"
#include "core/train/metrics.h"
#include "ui/panel.h"
#include "ui/run_state.h"
#include "ui/runs_model.h"
#include "ui/seed_groups.h"

class QCheckBox;
class QComboBox;
class QDialog;
class QFileSystemWatcher;
class QLabel;
class QLineEdit;
class QModelIndex;
class QStandardItem;
class QTimer;
class QTreeView;

namespace h158::ui {

class RunsPanel : public QWidget {
    Q_OBJECT
  public:
    // The fixed columns (RunsModel::Column); the setting columns follow ColEdits, then the
    // figure columns.
    using Column = RunsModel::Column;
    using enum RunsModel::Column;

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
    const std::vector<std::string>& keyColumns() const;
    // The figure columns' titles, in order after the keys.
    QStringList columnTitles() const;
    // The rows as shown (filter and sort applied): top-level rows, each followed by its children
    // (group members, forks; two spaces before the name per level); each row is its cells' text.
    QList<QStringList> shownRows() const;
    // The ids of the runs on the shown rows (children at every level included), in view order.
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
    void rebuild();
    void fitColumns();
    void refreshRow(int id);
    int addEntry(RunEntry e);
    void ensureRows(RunEntry& e);
    QColor freeColour(int exceptId, const QString& exceptGroup = {}) const;
    void onItemChanged(QStandardItem* item);
    void showMenu(const QPoint& pos);
    void compareSelected();
    void exportWithDialog();
    void watch(const QString& workspace);
    bool shownInPlots(const RunEntry& e) const;

    QTreeView* m_view;
    RunsModel* m_model;
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
    std::vector<std::string> m_diffKeys; // differing keys (labels name these)
    std::map<QString, SeedGroupMark> m_groups;  // by group key
    int m_nextId = 1;
    int m_liveId = 0;
    int m_order = 0;  // the last session run's order
    bool m_building = false;
};

}  // namespace h158::ui
