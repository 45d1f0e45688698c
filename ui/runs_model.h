// The runs table's rows: what the table knows of one run directory (RunEntry), the item model
// holding a row per run (a seed group's row holds its members, seed_groups.h; a fork's row sits
// under its parent's) and the proxy that filters and sorts them.
#pragma once

#include <QColor>
#include <QIcon>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QStringList>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "core/config/config.h"
#include "core/exp/sweep.h"
#include "core/train/metrics.h"
#include "ui/run_state.h"

namespace h158 {
class MetricsTail;
struct RunOverview;
}  // namespace h158

namespace h158::ui {

struct RunEntry {
    int id = 0;    // unique within the list
    QString name;  // the run directory's name ("sweep/run" in a sweep folder)
    QString dir;
    RunState state = RunState::Idle;
    int64_t step = 0;
    int64_t total = 0;
    double finalLoss = kNoValue;
    QString problem;               // Unreadable: what is wrong, naming the file
    int64_t checkpointStep = 0;    // of its checkpoint.safetensors (0: none, cannot be resumed)
    QColor colour;                 // while shown (ticked) or live
    bool checked = false;          // overlaid in the plots
    bool session = false;          // started in this window (else found in the workspace)
    int order = 0;                 // session runs: newest (highest) on top
    qint64 grewAtMs = 0;           // past runs: when their metrics.csv last grew as watched
    std::optional<Config> config;  // its config.json (none while unreadable)
    SweepRunResult result;         // its figures, read when it ended
    // The run's rows, once loaded or (for session runs) collected while it ran.
    std::shared_ptr<std::vector<StepMetrics>> rows;
    std::shared_ptr<MetricsTail> tail;  // past runs: reads metrics.csv as it grows
    // A fork (fork.h): its parent's directory as fork.json names it (empty: not a fork), the
    // parent's step it starts from, and the listed run that directory is (0: none is listed).
    QString parent;
    int64_t forkStep = 0;
    int parentId = 0;
    // The edits of its settings (events.jsonl, events.h): how many, and each one's describe()
    // (or what is wrong with the file).
    int64_t edits = 0;
    QStringList editLines;
};

// The final loss a run's summary.json reports, NaN when there is none (run killed).
double readFinalLoss(const QString& dir);
// The state an overview's status names (run_session.h).
RunState runStateOf(const std::string& status);
// A past run as its directory has it: state, steps, configuration, figures, fork and edits.
void loadRunEntry(RunEntry& e);
// The fork and edits an overview reports; the edits' texts are read from events.jsonl.
void readForkAndEdits(RunEntry& e, const RunOverview& o);

// Item roles: the entry id (runs) or 0 (groups) on column 0; the group key on a group's column 0;
// the value a column sorts by (a number, or the text; invalid for "no value").
inline constexpr int kRunIdRole = Qt::UserRole + 1;
inline constexpr int kRunGroupRole = Qt::UserRole + 2;
inline constexpr int kRunSortRole = Qt::UserRole + 3;

// A figure column: a field of the run's results.
struct RunFigure {
    const char* title;
    const char* tip;
    double SweepRunResult::*field;
    int precision;
};
inline constexpr RunFigure kRunFigures[] = {
    {"Final loss", "Training loss at the end (mean over the last 5% of steps)",
     &SweepRunResult::finalLoss, 4},
    {"Val loss", "Validation loss at the last evaluation", &SweepRunResult::finalValLoss, 4},
    {"Val acc", "Validation accuracy at the last evaluation", &SweepRunResult::finalValAccuracy, 3},
    {"Constraint", "Fraction of steps the trust region clipped (empty: trust region off)",
     &SweepRunResult::constraintActivationRate, 3},
    {"Quant err", "Mean relative weight quantization error", &SweepRunResult::meanQuantError, 3},
    {"Wall s", "Wall time of the run in seconds", &SweepRunResult::wallSeconds, 3},
    {"Tokens/s", "Training tokens per second (GPT runs)", &SweepRunResult::tokensPerSecond, 4},
};
inline constexpr int kRunFigureCount = int(std::size(kRunFigures));

// Figure f of a run: its result, or for a run still going its loss so far.
double runFigure(const RunEntry& e, int f);
// A figure's text ("" for NaN).
QString figureText(double v, int precision);
// The name cell's colour box; an invalid colour (not drawn) gives an empty box.
QIcon runSwatch(const QColor& c);
// A setting's cell: the schema's text of the value, sorting as a number when it is one.
void setSettingCell(QStandardItem* cell, const Config& c, const std::string& key);

// The entries in list order: this session's runs newest first, then the workspace's.
std::vector<const RunEntry*> listOrder(const std::map<int, RunEntry>& entries);
// Sets each entry's parentId: the listed run whose directory is the one its fork.json names
// (compared as canonical paths), 0 when none is (or when parents would go round in a circle).
void linkForks(std::map<int, RunEntry>& entries);
// The forks listed under each run (parentId -> forks in `order`).
using ForkChildren = std::map<int, std::vector<const RunEntry*>>;
ForkChildren forkChildren(const std::vector<const RunEntry*>& order);

// One row per run: the fixed columns, a column per setting key, the figures.
class RunsModel : public QStandardItemModel {
    Q_OBJECT
  public:
    enum Column { ColName, ColState, ColStep, ColFork, ColEdits, ColFirstKey };

    using QStandardItemModel::QStandardItemModel;

    // Empties the model and sets the headers for these setting columns.
    void reset(const std::vector<std::string>& keys);
    const std::vector<std::string>& keys() const { return m_keys; }
    int firstFigureColumn() const { return ColFirstKey + int(m_keys.size()); }
    int columns() const { return firstFigureColumn() + kRunFigureCount; }
    static QStringList figureTitles();

    QList<QStandardItem*> emptyRow() const;
    // A run's cells; its colour box is filled while it is drawn (ticked, or the live run).
    void fillRow(const QList<QStandardItem*>& cells, const RunEntry& e, int liveId) const;
    // Appends the row of `e` under `parent` and, under that row, its forks' rows (recursively).
    void appendRunTree(QStandardItem* parent, const RunEntry& e, const ForkChildren& forks,
                       int liveId);
    QStandardItem* itemOf(int id) const;  // column 0 of run `id`'s row
    QList<QStandardItem*> rowCells(const QStandardItem* first) const;

  private:
    std::vector<std::string> m_keys;
};

// Filters rows by text (any column) and by state; sorts numbers as numbers, empty cells last.
class RunsFilter : public QSortFilterProxyModel {
    Q_OBJECT
  public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setState(const QString& s);

  protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override;
    bool lessThan(const QModelIndex& l, const QModelIndex& r) const override;

  private:
    QString m_state;
};

}  // namespace h158::ui
