#include "ui/runs_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDesktopServices>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollBar>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableWidget>
#include <QTimer>
#include <QTreeView>
#include <QUrl>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <set>

#include "core/exp/metrics_tail.h"
#include "core/exp/run_compare.h"
#include "core/exp/run_session.h"
#include "ui/history_bounds.h"
#include "ui/theme.h"

namespace h158::ui {

namespace {

// Item roles: the entry id (runs) or 0 (groups) on column 0; the group key on a group's column 0;
// the value a column sorts by (a number, or the text; invalid for "no value").
constexpr int kIdRole = Qt::UserRole + 1;
constexpr int kGroupRole = Qt::UserRole + 2;
constexpr int kSortRole = Qt::UserRole + 3;

// A past run without a summary is "running" while its metrics.csv grew within this time.
constexpr qint64 kLiveMs = 30000;

struct Figure {
    const char* title;
    const char* tip;
    double SweepRunResult::*field;
    int precision;
};
const Figure kFigures[] = {
    {"Final loss", "Training loss at the end (mean over the last 5% of steps)",
     &SweepRunResult::finalLoss, 4},
    {"Val loss", "Validation loss at the last evaluation", &SweepRunResult::finalValLoss, 4},
    {"Val acc", "Validation accuracy at the last evaluation", &SweepRunResult::finalValAccuracy,
     3},
    {"Constraint", "Fraction of steps the trust region clipped (empty: trust region off)",
     &SweepRunResult::constraintActivationRate, 3},
    {"Quant err", "Mean relative weight quantization error", &SweepRunResult::meanQuantError, 3},
    {"Wall s", "Wall time of the run in seconds", &SweepRunResult::wallSeconds, 3},
    {"Tokens/s", "Training tokens per second (GPT runs)", &SweepRunResult::tokensPerSecond, 4},
};
constexpr int kFigureCount = int(std::size(kFigures));

QIcon swatch(const QColor& c) {
    QPixmap pm(12, 12);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    if (c.isValid()) {
        p.setBrush(c);
        p.setPen(c.darker(130));
    } else {  // not shown in the plots: an empty box keeps the names aligned
        p.setBrush(Qt::NoBrush);
        p.setPen(QColor(190, 190, 190));
    }
    p.drawRoundedRect(QRectF(0.5, 0.5, 11, 11), 2, 2);
    return QIcon(pm);
}

RunState stateOf(const std::string& status) {
    if (status == "completed") return RunState::Completed;
    if (status == "stopped") return RunState::Stopped;
    if (status == "diverged") return RunState::Diverged;
    if (status == "failed") return RunState::Failed;
    if (status == "interrupted") return RunState::Interrupted;
    return RunState::Unreadable;
}

// The entry's state, steps, final loss, problem and checkpoint from its directory's overview.
void applyOverview(RunEntry& e, const RunOverview& o) {
    e.state = stateOf(o.status);
    e.step = o.steps;
    e.total = o.total;
    e.finalLoss = o.finalLoss;
    e.problem = QString::fromStdString(o.problem);
    e.checkpointStep = o.checkpointStep;
}

QString number(double v, int precision) {
    return std::isfinite(v) ? QString::number(v, 'g', precision) : QString();
}

QString resumeHint(const RunEntry& e) {
    if (e.state != RunState::Stopped && e.state != RunState::Interrupted &&
        e.state != RunState::Failed)
        return {};
    if (e.checkpointStep <= 0)
        return QObject::tr("\nNo checkpoint: it cannot be resumed (run.checkpoint_every was 0, or it "
                           "ended before its first checkpoint).");
    return QObject::tr("\nResume (right click, or Run ▸ Resume) continues it from its checkpoint at "
                       "step %1.").arg(e.checkpointStep);
}

QString stateText(const RunEntry& e) {
    return e.state == RunState::Unreadable ? QObject::tr("unreadable: %1").arg(e.problem)
                                           : stateName(e.state);
}

// The figure of a run: its result, or for a run still going its loss so far.
double figureOf(const RunEntry& e, int f) {
    const double v = e.result.*kFigures[f].field;
    if (f == 0 && !std::isfinite(v)) return e.finalLoss;
    return v;
}

// A setting's cell: the schema's text of the value, sorting as a number when it is one.
void setKeyCell(QStandardItem* cell, const Config& c, const std::string& key) {
    const FieldSpec* spec = findField(key);
    const QString text = spec ? QString::fromStdString(spec->toString(c)) : QString();
    cell->setText(text);
    bool numeric = false;
    const double d = text.toDouble(&numeric);
    cell->setData(numeric ? QVariant(d) : QVariant(text), kSortRole);
}

QList<QStandardItem*> emptyRow(int columns) {
    QList<QStandardItem*> cells;
    for (int c = 0; c < columns; ++c) {
        auto* it = new QStandardItem;
        it->setEditable(false);
        cells << it;
    }
    return cells;
}

}  // namespace

// Filters rows by text (any column) and by state; sorts numbers as numbers, empty cells last.
class RunsFilter : public QSortFilterProxyModel {
  public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setState(const QString& s) {
        m_state = s;
        invalidateFilter();
    }

  protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override {
        const QModelIndex name = sourceModel()->index(row, 0, parent);
        if (!m_state.isEmpty()) {
            if (name.data(kIdRole).toInt() == 0) return false;  // a group: shown for its members
            const QString state = sourceModel()->index(row, 1, parent).data().toString();
            if (!state.startsWith(m_state)) return false;
        }
        return QSortFilterProxyModel::filterAcceptsRow(row, parent);
    }
    bool lessThan(const QModelIndex& l, const QModelIndex& r) const override {
        const QVariant a = l.data(kSortRole), b = r.data(kSortRole);
        if (!a.isValid() || !b.isValid()) return a.isValid() && !b.isValid();
        if (a.typeId() == QMetaType::Double || a.typeId() == QMetaType::LongLong)
            return a.toDouble() < b.toDouble();
        return QString::compare(a.toString(), b.toString(), Qt::CaseInsensitive) < 0;
    }

  private:
    QString m_state;
};

double readFinalLoss(const QString& dir) {
    return overviewRunDirectory(dir.toStdString()).finalLoss;
}

RunsPanel::RunsPanel(QWidget* parent) : QWidget(parent) {
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(4, 4, 4, 4);
    v->setSpacing(4);

    auto* tools = new QHBoxLayout;
    m_search = new QLineEdit;
    m_search->setPlaceholderText(tr("Filter runs…"));
    m_search->setClearButtonEnabled(true);
    m_search->setToolTip(tr("Shows the runs with this text in any column (name, setting, state)"));
    tools->addWidget(m_search, 1);
    m_status = new QComboBox;
    m_status->addItem(tr("All states"), QString());
    for (RunState s : {RunState::Running, RunState::Paused, RunState::Completed,
                       RunState::Stopped, RunState::Diverged, RunState::Failed,
                       RunState::Interrupted, RunState::Unreadable})
        m_status->addItem(stateName(s), stateName(s));
    m_status->setToolTip(tr("Shows only the runs in this state"));
    tools->addWidget(m_status);
    m_group = new QCheckBox(tr("Group seeds"));
    m_group->setChecked(true);
    m_group->setToolTip(
        tr("Runs that differ only in run.seed are one row (figures as mean ± std), drawn as their "
           "mean with a min–max band. Off: every run on its own."));
    tools->addWidget(m_group);
    m_all = new QCheckBox(tr("All settings"));
    m_all->setToolTip(tr("A column for every setting, not only those that differ among the runs"));
    tools->addWidget(m_all);
    v->addLayout(tools);

    m_model = new QStandardItemModel(this);
    m_filter = new RunsFilter(this);
    m_filter->setSourceModel(m_model);
    m_filter->setFilterKeyColumn(-1);
    m_filter->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_filter->setRecursiveFilteringEnabled(true);
    m_filter->setSortRole(kSortRole);
    m_view = new QTreeView;
    m_view->setModel(m_filter);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(-1, Qt::AscendingOrder);  // the list's order until a header is clicked
    m_view->setAlternatingRowColors(true);
    m_view->setUniformRowHeights(true);
    m_view->setRootIsDecorated(true);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->header()->setStretchLastSection(false);
    m_view->header()->setSectionsMovable(true);
    m_view->setToolTip(
        tr("Tick runs to overlay them in the loss, constraint, quantization and learning-rate "
           "plots; the selected run is drawn bold. Right click two selected runs to compare "
           "their configurations."));
    v->addWidget(m_view, 1);

    auto* row = new QHBoxLayout;
    m_count = new QLabel;
    row->addWidget(m_count);
    m_workspace = new QLabel;
    m_workspace->setStyleSheet(QStringLiteral("color: #666;"));
    m_workspace->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_workspace->setMinimumWidth(40);
    row->addWidget(m_workspace, 1);
    auto* exportButton = new QPushButton(tr("Export CSV…"));
    exportButton->setToolTip(tr("Writes the shown rows (all their settings that differ and "
                                "figures) to a CSV file"));
    row->addWidget(exportButton);
    auto* change = new QPushButton(tr("Workspace…"));
    change->setToolTip(tr("Choose the folder where runs are written and read"));
    row->addWidget(change);
    v->addLayout(row);

    m_watcher = new QFileSystemWatcher(this);
    m_rescan = new QTimer(this);
    m_rescan->setSingleShot(true);
    m_rescan->setInterval(250);
    m_poll = new QTimer(this);
    m_poll->setInterval(1000);
    m_poll->start();
    int pollTicks = 0;
    connect(m_poll, &QTimer::timeout, this, [this, pollTicks]() mutable {
        // Every fifth second a full rescan too: a folder on a network filesystem sends no
        // change notices for what other machines write into it.
        if (++pollTicks % 5 == 0 && !m_workspaceDir.isEmpty()) m_rescan->start();
        pollLiveRuns();
    });
    connect(m_watcher, &QFileSystemWatcher::directoryChanged, m_rescan,
            qOverload<>(&QTimer::start));
    connect(m_rescan, &QTimer::timeout, this, [this] {
        if (!m_workspaceDir.isEmpty()) scanWorkspace(m_workspaceDir);
    });

    connect(change, &QPushButton::clicked, this, &RunsPanel::changeWorkspaceRequested);
    connect(exportButton, &QPushButton::clicked, this, &RunsPanel::exportWithDialog);
    connect(m_search, &QLineEdit::textChanged, this, &RunsPanel::setFilterText);
    connect(m_status, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setState(m_status->currentData().toString()); });
    connect(m_group, &QCheckBox::toggled, this, [this] {
        rebuild();
        emit overlaysChanged();
    });
    connect(m_all, &QCheckBox::toggled, this, &RunsPanel::rebuild);
    connect(m_model, &QStandardItemModel::itemChanged, this, &RunsPanel::onItemChanged);
    connect(m_view, &QWidget::customContextMenuRequested, this, &RunsPanel::showMenu);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& now, const QModelIndex& before) {
                emit currentRunChanged();
                // the bold curve follows the selection when either row is drawn
                const auto drawn = [this](const QModelIndex& i) {
                    const QModelIndex s = m_filter->mapToSource(i.siblingAtColumn(0));
                    const QStandardItem* it = m_model->itemFromIndex(s);
                    return it && it->checkState() == Qt::Checked;
                };
                if ((now.isValid() && drawn(now)) || (before.isValid() && drawn(before)))
                    emit overlaysChanged();
            });
    rebuild();
}

RunsPanel::~RunsPanel() = default;

// ---- building the table ---------------------------------------------------------------------

QStringList RunsPanel::columnTitles() const {
    QStringList t;
    for (int f = 0; f < kFigureCount; ++f) t << tr(kFigures[f].title);
    return t;
}

QString RunsPanel::groupKey(const Config& c) const {
    // Every setting but the seed and those that change no result, as the schema writes them.
    QString key;
    for (const FieldSpec& f : configSchema()) {
        if (f.key == "run.seed" || isResultNeutralKey(f.key)) continue;
        key += QString::fromStdString(f.key + "=" + f.toString(c)) + QChar('\n');
    }
    return key;
}

void RunsPanel::fillRow(const QList<QStandardItem*>& cells, const RunEntry& e) {
    QStandardItem* name = cells[ColName];
    name->setData(e.id, kIdRole);
    name->setText(e.name);
    name->setData(e.name, kSortRole);
    name->setToolTip(e.dir);
    name->setIcon(swatch(e.checked || e.id == m_liveId ? e.colour : QColor()));
    QFont f = name->font();
    f.setBold(e.session);
    name->setFont(f);
    name->setCheckable(true);
    name->setCheckState(e.checked ? Qt::Checked : Qt::Unchecked);

    QStandardItem* state = cells[ColState];
    state->setText(stateText(e));
    state->setData(stateText(e), kSortRole);
    state->setToolTip(e.state == RunState::Unreadable ? e.problem
                      : e.state == RunState::Interrupted
                          ? tr("interrupted at step %1: the run ended without a summary (killed)")
                                    .arg(e.step) +
                                resumeHint(e)
                          : resumeHint(e).trimmed());
    const bool bad = e.state == RunState::Diverged || e.state == RunState::Failed ||
                     e.state == RunState::Unreadable;
    state->setForeground(bad ? QBrush(QColor(198, 40, 40)) : QBrush());

    QStandardItem* step = cells[ColStep];
    step->setText(e.total > 0 ? QStringLiteral("%1/%2").arg(e.step).arg(e.total)
                              : QString::number(e.step));
    step->setData(qlonglong(e.step), kSortRole);

    for (size_t k = 0; k < m_keys.size(); ++k) {
        QStandardItem* c = cells[ColFirstKey + int(k)];
        if (!e.config) {
            c->setText({});
            c->setData({}, kSortRole);
            continue;
        }
        setKeyCell(c, *e.config, m_keys[k]);
    }
    const int first = ColFirstKey + int(m_keys.size());
    for (int fi = 0; fi < kFigureCount; ++fi) {
        const double v = figureOf(e, fi);
        QStandardItem* c = cells[first + fi];
        c->setText(number(v, kFigures[fi].precision));
        c->setData(std::isfinite(v) ? QVariant(v) : QVariant(), kSortRole);
        c->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
}

QList<QStandardItem*> RunsPanel::makeRow(const RunEntry& e) {
    const QList<QStandardItem*> cells = emptyRow(ColFirstKey + int(m_keys.size()) + kFigureCount);
    fillRow(cells, e);
    return cells;
}

void RunsPanel::rebuild() {
    m_building = true;
    const int current = currentRun();
    const int scroll = m_view->verticalScrollBar() ? m_view->verticalScrollBar()->value() : 0;

    // The settings that tell the listed runs apart.
    std::vector<Config> configs;
    for (const auto& [id, e] : m_entries)
        if (e.config) configs.push_back(*e.config);
    m_diffKeys = differingKeys(configs, true);
    m_keys.clear();
    if (m_all->isChecked()) {
        for (const FieldSpec& f : configSchema()) m_keys.push_back(f.key);
    } else {
        m_keys = m_diffKeys;
    }

    m_model->clear();
    QStringList headers{tr("Run"), tr("State"), tr("Step")};
    const std::vector<std::string> labels = keyLabels(m_keys);
    for (const std::string& l : labels) headers << QString::fromStdString(l);
    headers << columnTitles();
    m_model->setHorizontalHeaderLabels(headers);
    for (size_t k = 0; k < m_keys.size(); ++k)
        m_model->horizontalHeaderItem(ColFirstKey + int(k))
            ->setToolTip(QString::fromStdString(m_keys[k]));
    for (int f = 0; f < kFigureCount; ++f)
        m_model->horizontalHeaderItem(ColFirstKey + int(m_keys.size()) + f)
            ->setToolTip(tr(kFigures[f].tip));

    // Entries in list order: this session's runs newest first, then the workspace's.
    std::vector<const RunEntry*> order;
    for (const auto& [id, e] : m_entries) order.push_back(&e);
    std::stable_sort(order.begin(), order.end(), [](const RunEntry* a, const RunEntry* b) {
        if (a->session != b->session) return a->session;
        return a->session ? a->order > b->order : a->id < b->id;
    });

    // Seed groups (grouped mode): runs whose configurations are equal but for the seed.
    std::map<QString, std::vector<const RunEntry*>> groups;
    std::vector<QString> groupOrder;
    if (m_group->isChecked()) {
        for (const RunEntry* e : order) {
            if (!e->config || e->state == RunState::Unreadable) continue;
            const QString key = groupKey(*e->config);
            if (!groups.count(key)) groupOrder.push_back(key);
            groups[key].push_back(e);
        }
    }
    std::set<QString> placed;
    const int columns = ColFirstKey + int(m_keys.size()) + kFigureCount;
    for (const RunEntry* e : order) {
        const QString key = e->config && e->state != RunState::Unreadable && m_group->isChecked()
                                ? groupKey(*e->config)
                                : QString();
        const auto g = key.isEmpty() ? groups.end() : groups.find(key);
        if (g == groups.end() || g->second.size() < 2) {
            m_model->appendRow(makeRow(*e));
            continue;
        }
        if (placed.count(key)) continue;
        placed.insert(key);
        // The group's row: what sets it apart, its members' states, figures as mean ± std.
        const std::vector<const RunEntry*>& members = g->second;
        auto& [ticked, colour] = m_groups[key];
        const QList<QStandardItem*> cells = emptyRow(columns);
        QStandardItem* name = cells[ColName];
        std::vector<std::string> apart = m_diffKeys;
        std::erase(apart, std::string("run.seed"));
        QString label = QString::fromStdString(differenceLabel(*members[0]->config, apart));
        if (label.isEmpty()) label = members[0]->name;
        name->setText(tr("%1 · %2 seeds").arg(label).arg(members.size()));
        name->setData(name->text(), kSortRole);
        name->setData(0, kIdRole);
        name->setData(key, kGroupRole);
        name->setCheckable(true);
        name->setCheckState(ticked ? Qt::Checked : Qt::Unchecked);
        name->setIcon(swatch(ticked ? colour : QColor()));
        name->setToolTip(tr("%1 runs equal but for run.seed: figures are mean ± sample std; tick "
                            "to draw their mean with a min–max band")
                             .arg(members.size()));
        std::map<QString, int> states;
        int64_t steps = 0;
        for (const RunEntry* m : members) {
            ++states[stateName(m->state)];
            steps = std::max(steps, m->step);
        }
        QStringList st;
        for (const auto& [s, n] : states) st << QStringLiteral("%1 %2").arg(n).arg(s);
        cells[ColState]->setText(st.join(", "));
        cells[ColState]->setData(cells[ColState]->text(), kSortRole);
        cells[ColStep]->setText(QString::number(steps));
        cells[ColStep]->setData(qlonglong(steps), kSortRole);
        for (size_t k = 0; k < m_keys.size(); ++k) {
            QStandardItem* c = cells[ColFirstKey + int(k)];
            if (m_keys[k] == "run.seed") {
                c->setText(tr("%1 seeds").arg(members.size()));
                continue;
            }
            setKeyCell(c, *members[0]->config, m_keys[k]);
        }
        for (int fi = 0; fi < kFigureCount; ++fi) {
            std::vector<double> values;
            for (const RunEntry* m : members) values.push_back(figureOf(*m, fi));
            const MeanStd s = meanStd(values);
            QStandardItem* c = cells[ColFirstKey + int(m_keys.size()) + fi];
            if (s.count > 0) {
                c->setText(std::isfinite(s.std)
                               ? QStringLiteral("%1 ± %2")
                                     .arg(number(s.mean, kFigures[fi].precision),
                                          number(s.std, 2))
                               : number(s.mean, kFigures[fi].precision));
                c->setData(s.mean, kSortRole);
                c->setToolTip(tr("mean ± sample std over %1 of %2 runs").arg(s.count).arg(
                    members.size()));
            }
            c->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        }
        for (const RunEntry* m : members) name->appendRow(makeRow(*m));
        m_model->appendRow(cells);
    }
    // Groups start folded (one row each; the tree's arrow shows the runs), unfolded while a
    // filter is on so the runs that match are seen.
    if (!m_search->text().isEmpty() || m_status->currentIndex() > 0) m_view->expandAll();
    QHeaderView* h = m_view->header();
    h->setSectionResizeMode(QHeaderView::Interactive);
    for (int c = 0; c < columns; ++c) m_view->resizeColumnToContents(c);
    m_view->setColumnWidth(ColName, std::min(m_view->columnWidth(ColName), 360));
    // a figure no listed run has (tokens/s of a non-GPT workspace, say) takes no room
    for (int fi = 0; fi < kFigureCount; ++fi) {
        const int c = ColFirstKey + int(m_keys.size()) + fi;
        bool any = false;
        for (const auto& [id, e] : m_entries) any = any || std::isfinite(figureOf(e, fi));
        m_view->setColumnHidden(c, !any);
    }
    m_count->setText(tr("%n run(s)", nullptr, int(m_entries.size())));
    m_building = false;
    if (current) setCurrentRun(current);
    m_view->verticalScrollBar()->setValue(scroll);
}

QStandardItem* RunsPanel::itemOf(int id) const {
    const QModelIndexList hits = m_model->match(m_model->index(0, 0), kIdRole, id, 1,
                                                Qt::MatchExactly | Qt::MatchRecursive);
    return hits.isEmpty() ? nullptr : m_model->itemFromIndex(hits.first());
}

void RunsPanel::refreshRow(int id) {
    QStandardItem* it = itemOf(id);
    const auto e = m_entries.find(id);
    if (!it || e == m_entries.end()) return;
    QStandardItem* parent = it->parent() ? it->parent() : m_model->invisibleRootItem();
    QList<QStandardItem*> cells;
    for (int c = 0; c < m_model->columnCount(); ++c) cells << parent->child(it->row(), c);
    if (cells.contains(nullptr)) return;
    const bool was = m_building;
    m_building = true;
    fillRow(cells, e->second);
    m_building = was;
}

// ---- entries --------------------------------------------------------------------------------

QColor RunsPanel::freeColour(int exceptId, const QString& exceptGroup) const {
    std::set<QRgb> used;
    int shown = 0;
    for (const auto& [id, e] : m_entries)
        if (id != exceptId && (e.checked || id == m_liveId) && e.colour.isValid())
            used.insert(e.colour.rgb()), ++shown;
    for (const auto& [key, g] : m_groups)
        if (key != exceptGroup && g.first && g.second.isValid()) used.insert(g.second.rgb()), ++shown;
    for (int i = 0; i < kRunColours; ++i)
        if (!used.count(runColour(i).rgb())) return runColour(i);
    return runColour(shown);
}

int RunsPanel::addEntry(RunEntry e) {
    e.id = m_nextId++;
    const int id = e.id;
    m_entries[id] = std::move(e);
    return id;
}

int RunsPanel::addSessionRun(const QString& dir, const Config& cfg,
                             std::shared_ptr<std::vector<StepMetrics>> rows) {
    RunEntry e;
    e.name = QFileInfo(dir).fileName();
    e.dir = dir;
    e.state = RunState::Starting;
    e.total = cfg.run.steps;
    e.session = true;
    e.config = cfg;
    e.rows = std::move(rows);
    e.colour = freeColour(0);
    e.order = ++m_order;
    const int id = addEntry(std::move(e));
    rebuild();
    return id;
}

void RunsPanel::updateRun(int id, RunState state, int64_t step, double finalLoss) {
    auto it = m_entries.find(id);
    if (it == m_entries.end()) return;
    RunEntry& e = it->second;
    e.state = state;
    e.step = step;
    if (std::isfinite(finalLoss)) e.finalLoss = finalLoss;
    if (isFinal(state)) {
        // What the directory says now: its checkpoint, and its real state when a resume was
        // refused before it changed anything (the run is then as it was, not failed).
        const RunOverview o = overviewRunDirectory(e.dir.toStdString());
        e.checkpointStep = o.checkpointStep;
        if (o.status != "unreadable") {
            e.state = stateOf(o.status);
            e.step = o.steps;
        }
        e.result = readRunResult(e.dir.toStdString());
        rebuild();  // figures and group statistics change
    } else {
        refreshRow(id);
    }
    emit currentRunChanged();
}

void RunsPanel::setLiveRun(int id) {
    const int was = m_liveId;
    m_liveId = id;
    refreshRow(was);
    refreshRow(id);
}

bool RunsPanel::resumable(int id) const {
    const RunEntry* e = entry(id);
    return e && e->checkpointStep > 0 &&
           (e->state == RunState::Stopped || e->state == RunState::Interrupted ||
            e->state == RunState::Failed);
}

int RunsPanel::currentRun() const {
    const QModelIndex i = m_view->currentIndex();
    return i.isValid() ? i.siblingAtColumn(0).data(kIdRole).toInt() : 0;
}

void RunsPanel::setCurrentRun(int id) {
    QStandardItem* it = itemOf(id);
    if (!it) return;
    const QModelIndex i = m_filter->mapFromSource(it->index());
    if (i.isValid())
        m_view->selectionModel()->setCurrentIndex(
            i, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void RunsPanel::reuseForSession(int id, std::shared_ptr<std::vector<StepMetrics>> rows) {
    auto it = m_entries.find(id);
    if (it == m_entries.end()) return;
    RunEntry& e = it->second;
    e.session = true;
    e.state = RunState::Starting;
    e.rows = std::move(rows);
    e.tail.reset();
    e.checked = false;  // the live run draws itself
    e.order = ++m_order;  // to the top, as a new session run
    if (!e.colour.isValid()) e.colour = freeColour(id);
    rebuild();
    emit overlaysChanged();
}

void RunsPanel::loadPastRun(RunEntry& e) {
    const std::string dir = e.dir.toStdString();
    const RunOverview o = overviewRunDirectory(dir);
    applyOverview(e, o);
    try {
        e.config = loadConfigFile(dir + "/config.json");
    } catch (const std::exception&) {
        e.config.reset();  // the overview says what is wrong, if anything
    }
    e.result = sweepRunResultOf(dir, o, e.config ? *e.config : Config{});
}

int RunsPanel::scanWorkspace(const QString& workspace) {
    m_workspaceDir = workspace;
    m_workspace->setText(QDir::toNativeSeparators(workspace));
    m_workspace->setToolTip(workspace);
    std::map<QString, int> known;  // absolute directory -> entry id
    for (const auto& [id, e] : m_entries) known[QFileInfo(e.dir).absoluteFilePath()] = id;
    // The run directories of the workspace, and of each sweep folder in it (DIR/sweep.json),
    // listed as "sweep/run".
    std::vector<std::pair<QString, QString>> runs;  // name, absolute directory
    const auto subdirs =
        QDir(workspace).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Time);
    for (const QFileInfo& d : subdirs) {
        const QString path = d.absoluteFilePath();
        if (QFileInfo::exists(path + "/config.json")) {
            runs.emplace_back(d.fileName(), path);
        } else if (QFileInfo::exists(path + "/sweep.json")) {
            const auto members =
                QDir(path).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
            for (const QFileInfo& m : members)
                if (QFileInfo::exists(m.absoluteFilePath() + "/config.json"))
                    runs.emplace_back(d.fileName() + "/" + m.fileName(), m.absoluteFilePath());
        }
    }
    int added = 0;
    bool changed = false;
    for (const auto& [name, path] : runs) {
        const auto it = known.find(path);
        if (it != known.end()) {
            // An unreadable past run may have been repaired or finished writing: read it again.
            RunEntry& e = m_entries.at(it->second);
            if (!e.session && e.state == RunState::Unreadable) {
                loadPastRun(e);
                changed = true;
            }
            continue;
        }
        RunEntry e;
        e.name = name;
        e.dir = path;
        loadPastRun(e);
        addEntry(std::move(e));
        ++added;
    }
    watch(workspace);
    const bool grew = pollLiveRuns();
    if ((added || changed) && !grew) rebuild();
    return added;
}

void RunsPanel::watch(const QString& workspace) {
    // The workspace (new runs, new sweeps), each sweep folder (its runs appear one by one) and
    // each folder that has no config.json yet (a run being created).
    QStringList paths{workspace};
    const auto subdirs = QDir(workspace).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QFileInfo& d : subdirs) {
        const QString path = d.absoluteFilePath();
        if (QFileInfo::exists(path + "/config.json")) continue;
        paths << path;
        if (QFileInfo::exists(path + "/sweep.json"))
            for (const QFileInfo& m : QDir(path).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot))
                if (!QFileInfo::exists(m.absoluteFilePath() + "/config.json"))
                    paths << m.absoluteFilePath();
    }
    const QStringList now = m_watcher->directories();
    QStringList drop;
    for (const QString& p : now)
        if (!paths.contains(p)) drop << p;
    if (!drop.isEmpty()) m_watcher->removePaths(drop);
    QStringList add;
    for (const QString& p : paths)
        if (!now.contains(p) && QFileInfo(p).isDir()) add << p;
    if (!add.isEmpty()) m_watcher->addPaths(add);
}

bool RunsPanel::pollLiveRuns() {
    bool structural = false;  // figures or states changed: the table is rebuilt
    bool drawn = false;       // a shown run got rows: the plots are redrawn
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (auto& [id, e] : m_entries) {
        if (e.session) continue;
        const bool unfinished = e.state == RunState::Interrupted || e.state == RunState::Running;
        if (!unfinished) continue;
        const bool ended = QFileInfo::exists(e.dir + "/summary.json");
        // rows first, so a run that just ended has its last rows too
        const size_t before = e.rows ? e.rows->size() : 0;
        const bool hadRows = bool(e.rows);
        ensureRows(e);
        const bool grew = hadRows && e.tail && e.rows && e.rows->size() != before;
        if (grew) e.grewAtMs = now;
        if (ended) {
            loadPastRun(e);
            structural = true;
        } else if (e.rows && !e.rows->empty()) {
            const int64_t last = e.rows->back().step;
            const bool live = grew || (e.state == RunState::Running &&
                                       now - e.grewAtMs < kLiveMs);
            const RunState s = live ? RunState::Running : RunState::Interrupted;
            if (s != e.state) structural = true;
            e.state = s;
            if (last != e.step) {
                e.step = last;
                refreshRow(id);
            }
        }
        if ((grew || ended) && shownInPlots(e)) drawn = true;
    }
    if (structural) rebuild();
    if (drawn) emit overlaysChanged();
    return structural;
}

void RunsPanel::ensureRows(RunEntry& e) {
    if (e.session) return;
    if (!e.rows) {
        e.rows = std::make_shared<std::vector<StepMetrics>>();
        e.tail = std::make_shared<MetricsTail>((e.dir + "/metrics.csv").toStdString());
    }
    if (!e.tail) return;
    try {
        std::vector<StepMetrics> more = e.tail->poll();
        if (e.tail->restarted()) e.rows->clear();
        e.rows->insert(e.rows->end(), more.begin(), more.end());
        while (thinRows(*e.rows)) {
        }
    } catch (const std::exception& ex) {
        e.tail.reset();  // stop following a file that does not parse; say why
        if (QStandardItem* it = itemOf(e.id)) it->setToolTip(QString::fromStdString(ex.what()));
    }
}

bool RunsPanel::shownInPlots(const RunEntry& e) const {
    if (e.checked) return true;
    if (!m_group->isChecked() || !e.config) return false;
    const auto g = m_groups.find(groupKey(*e.config));
    return g != m_groups.end() && g->second.first;
}

void RunsPanel::clearPastRuns() {
    bool wasShown = false;
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        if (it->second.session) {
            ++it;
            continue;
        }
        wasShown = wasShown || it->second.checked;
        it = m_entries.erase(it);
    }
    m_groups.clear();
    rebuild();
    if (wasShown) emit overlaysChanged();
}

const RunEntry* RunsPanel::entry(int id) const {
    const auto it = m_entries.find(id);
    return it == m_entries.end() ? nullptr : &it->second;
}

QList<int> RunsPanel::checkedRuns() const {
    QList<int> ids;
    for (int id : shownRunIds())
        if (m_entries.at(id).checked) ids << id;
    return ids;
}

void RunsPanel::setChecked(int id, bool on) {
    if (QStandardItem* it = itemOf(id)) it->setCheckState(on ? Qt::Checked : Qt::Unchecked);
}

void RunsPanel::checkAllShown() {
    for (int r = 0; r < m_filter->rowCount(); ++r)
        if (QStandardItem* it = m_model->itemFromIndex(m_filter->mapToSource(m_filter->index(r, 0))))
            it->setCheckState(Qt::Checked);
}

void RunsPanel::setGroupChecked(int shownRow, bool on) {
    const QModelIndex i = m_filter->mapToSource(m_filter->index(shownRow, 0));
    QStandardItem* it = m_model->itemFromIndex(i);
    if (it && it->data(kIdRole).toInt() == 0)
        it->setCheckState(on ? Qt::Checked : Qt::Unchecked);
}

void RunsPanel::onItemChanged(QStandardItem* item) {
    if (m_building || item->column() != ColName) return;
    const bool on = item->checkState() == Qt::Checked;
    const int id = item->data(kIdRole).toInt();
    if (id) {
        RunEntry& e = m_entries.at(id);
        if (e.checked == on) return;
        e.checked = on;
        if (on) e.colour = freeColour(id);
        const bool was = m_building;
        m_building = true;
        item->setIcon(swatch(on || id == m_liveId ? e.colour : QColor()));
        m_building = was;
    } else {
        const QString key = item->data(kGroupRole).toString();
        auto& g = m_groups[key];
        if (g.first == on) return;
        g.first = on;
        if (on) g.second = freeColour(0, key);  // its old colour counts as free
        m_building = true;
        item->setIcon(swatch(on ? g.second : QColor()));
        m_building = false;
    }
    emit overlaysChanged();
}

QString RunsPanel::label(int id) const {
    const RunEntry* e = entry(id);
    if (!e) return {};
    if (!e->config || m_diffKeys.empty()) return e->name;
    const QString l = QString::fromStdString(differenceLabel(*e->config, m_diffKeys));
    return l.isEmpty() ? e->name : l;
}

std::vector<RunOverlay> RunsPanel::overlays(int exceptId) {
    std::vector<RunOverlay> out;
    const int current = currentRun();
    QString currentGroup;
    if (const QModelIndex i = m_view->currentIndex(); i.isValid() && current == 0)
        currentGroup = i.siblingAtColumn(0).data(kGroupRole).toString();
    // groups first (bands under lines), in the table's order
    if (m_group->isChecked()) {
        for (int r = 0; r < m_model->rowCount(); ++r) {
            QStandardItem* g = m_model->item(r, 0);
            const QString key = g->data(kGroupRole).toString();
            if (key.isEmpty() || !m_groups[key].first) continue;
            RunOverlay o;
            o.colour = m_groups[key].second;
            o.name = g->text();
            o.highlight = key == currentGroup;
            for (int c = 0; c < g->rowCount(); ++c) {
                RunEntry& e = m_entries.at(g->child(c, 0)->data(kIdRole).toInt());
                ensureRows(e);
                if (e.rows) o.members.push_back(e.rows);
            }
            out.push_back(std::move(o));
        }
    }
    std::vector<RunOverlay> lines;
    for (auto& [id, e] : m_entries) {
        if (!e.checked || id == exceptId) continue;
        ensureRows(e);
        if (!e.rows) continue;
        RunOverlay o{label(id), e.colour, e.rows, {}, id == current};
        (o.highlight ? lines : out).push_back(std::move(o));  // the bold one is drawn last
    }
    out.insert(out.end(), lines.begin(), lines.end());
    return out;
}

// ---- table state ----------------------------------------------------------------------------

void RunsPanel::setGrouped(bool on) {
    m_group->setChecked(on);
}

bool RunsPanel::grouped() const {
    return m_group->isChecked();
}

void RunsPanel::setAllKeys(bool on) {
    m_all->setChecked(on);
}

void RunsPanel::setFilterText(const QString& text) {
    if (m_search->text() != text) m_search->setText(text);
    m_filter->setFilterFixedString(text);
    m_view->expandAll();
}

void RunsPanel::setStatusFilter(const QString& state) {
    const int i = m_status->findData(state);
    m_status->setCurrentIndex(std::max(i, 0));
    m_view->expandAll();
}

void RunsPanel::sortBy(int column, Qt::SortOrder order) {
    m_view->sortByColumn(column, order);
}

QList<QStringList> RunsPanel::shownRows() const {
    QList<QStringList> out;
    const auto rowText = [this](const QModelIndex& parent, int r) {
        QStringList cells;
        for (int c = 0; c < m_filter->columnCount(); ++c)
            cells << m_filter->index(r, c, parent).data().toString();
        return cells;
    };
    for (int r = 0; r < m_filter->rowCount(); ++r) {
        out << rowText({}, r);
        const QModelIndex p = m_filter->index(r, 0);
        for (int c = 0; c < m_filter->rowCount(p); ++c) {
            QStringList child = rowText(p, c);
            child[0] = QStringLiteral("  ") + child[0];  // a group's member
            out << child;
        }
    }
    return out;
}

QList<int> RunsPanel::shownRunIds() const {
    QList<int> ids;
    for (int r = 0; r < m_filter->rowCount(); ++r) {
        const QModelIndex i = m_filter->index(r, 0);
        if (const int id = i.data(kIdRole).toInt()) ids << id;
        for (int c = 0; c < m_filter->rowCount(i); ++c)
            if (const int id = m_filter->index(c, 0, i).data(kIdRole).toInt()) ids << id;
    }
    return ids;
}

bool RunsPanel::exportCsv(const QString& path, QString* error) const {
    std::vector<std::string> dirs;
    std::vector<Config> configs;
    std::vector<SweepRunResult> results;
    for (int id : shownRunIds()) {
        const RunEntry& e = m_entries.at(id);
        if (!e.config) continue;
        dirs.push_back(QDir(m_workspaceDir).relativeFilePath(e.dir).toStdString());
        configs.push_back(*e.config);
        SweepRunResult r = e.result;
        if (r.status == "pending") {  // still going: what is known so far
            r.status = stateName(e.state).toStdString();
            r.steps = e.step;
            r.finalLoss = e.finalLoss;
        }
        results.push_back(r);
    }
    const std::string csv = runsTableCsv(dirs, configs, results);
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(csv.data(), qint64(csv.size())) != qint64(csv.size()) ||
        !f.commit()) {
        if (error) *error = tr("%1: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

void RunsPanel::exportWithDialog() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export runs table"), QDir(m_workspaceDir).filePath("runs.csv"),
        tr("CSV files (*.csv)"));
    if (path.isEmpty()) return;
    QString error;
    if (!exportCsv(path, &error)) QMessageBox::warning(this, tr("Export runs table"), error);
}

std::vector<std::array<QString, 3>> RunsPanel::configDiff(const Config& a, const Config& b,
                                                          bool onlyDifferences) {
    std::vector<std::array<QString, 3>> differ, same;
    for (const FieldSpec& f : configSchema()) {
        const QString va = QString::fromStdString(f.toString(a));
        const QString vb = QString::fromStdString(f.toString(b));
        (va == vb ? same : differ).push_back({QString::fromStdString(f.key), va, vb});
    }
    if (!onlyDifferences) differ.insert(differ.end(), same.begin(), same.end());
    return differ;
}

void RunsPanel::compareSelected() {
    QList<int> ids;
    for (const QModelIndex& i : m_view->selectionModel()->selectedRows(0))
        if (const int id = i.data(kIdRole).toInt()) ids << id;
    if (ids.size() == 2) compareRuns(ids[0], ids[1]);
}

QDialog* RunsPanel::compareRuns(int ia, int ib) {
    const RunEntry* pa = entry(ia);
    const RunEntry* pb = entry(ib);
    if (!pa || !pb || !pa->config || !pb->config) return nullptr;
    const RunEntry& a = *pa;
    const RunEntry& b = *pb;
    auto* dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Compare configurations"));
    auto* v = new QVBoxLayout(dialog);
    auto* only = new QCheckBox(tr("Only the settings that differ"));
    only->setChecked(true);
    v->addWidget(only);
    auto* names = new QLabel(tr("<b>A</b> %1<br><b>B</b> %2").arg(a.name.toHtmlEscaped(),
                                                                   b.name.toHtmlEscaped()));
    names->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->insertWidget(0, names);
    auto* table = new QTableWidget(0, 3);
    table->setHorizontalHeaderLabels(
        {tr("Setting"), tr("A: %1").arg(label(ia)), tr("B: %1").arg(label(ib))});
    table->horizontalHeaderItem(1)->setToolTip(a.dir);
    table->horizontalHeaderItem(2)->setToolTip(b.dir);
    table->setWordWrap(false);
    table->setTextElideMode(Qt::ElideMiddle);
    table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    v->addWidget(table, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    v->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    const Config ca = *a.config, cb = *b.config;
    const auto fill = [table, ca, cb](bool onlyDiff) {
        const auto rows = configDiff(ca, cb, onlyDiff);
        table->setRowCount(int(rows.size()));
        for (int r = 0; r < int(rows.size()); ++r) {
            const bool differs = rows[size_t(r)][1] != rows[size_t(r)][2];
            for (int c = 0; c < 3; ++c) {
                auto* it = new QTableWidgetItem(rows[size_t(r)][size_t(c)]);
                it->setToolTip(it->text());
                if (differs) {
                    QFont f = it->font();
                    f.setBold(true);
                    it->setFont(f);
                    it->setBackground(QColor(255, 243, 205));
                }
                table->setItem(r, c, it);
            }
        }
    };
    fill(true);
    connect(only, &QCheckBox::toggled, dialog, fill);
    dialog->resize(640, 420);
    dialog->show();
    return dialog;
}

void RunsPanel::showMenu(const QPoint& pos) {
    const QModelIndex at = m_view->indexAt(pos);
    QMenu menu(this);
    int selectedRuns = 0;
    for (const QModelIndex& i : m_view->selectionModel()->selectedRows(0))
        if (i.data(kIdRole).toInt()) ++selectedRuns;
    if (selectedRuns == 2)
        menu.addAction(tr("Compare configurations"), this, &RunsPanel::compareSelected);
    const int id = at.isValid() ? at.siblingAtColumn(0).data(kIdRole).toInt() : 0;
    if (id) {
        const RunEntry& e = m_entries.at(id);
        if (resumable(id))
            menu.addAction(tr("Resume from step %1").arg(e.checkpointStep), this,
                           [this, id] { emit resumeRequested(id); });
        const QString dir = e.dir;
        menu.addAction(tr("Open run folder"), this,
                       [dir] { QDesktopServices::openUrl(QUrl::fromLocalFile(dir)); });
    }
    if (menu.isEmpty()) return;
    menu.exec(m_view->viewport()->mapToGlobal(pos));
}

}  // namespace h158::ui
