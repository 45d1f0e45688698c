#include "ui/runs_panel.h"

#include "core/exp/fork.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDesktopServices>
#include <QDialog>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollBar>
#include <QStandardItemModel>
#include <QTimer>
#include <QTreeView>
#include <QUrl>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <set>

#include "core/exp/run_compare.h"
#include "core/exp/run_session.h"
#include "ui/config_diff_dialog.h"
#include "ui/run_overlays.h"
#include "ui/run_workspace.h"
#include "ui/theme.h"

namespace h158::ui {

namespace {

// A past run without a summary is "running" while its metrics.csv grew within this time.
constexpr qint64 kLiveMs = 30000;

}  // namespace

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

    m_model = new RunsModel(this);
    m_filter = new RunsFilter(this);
    m_filter->setSourceModel(m_model);
    m_filter->setFilterKeyColumn(-1);
    m_filter->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_filter->setRecursiveFilteringEnabled(true);
    m_filter->setSortRole(kRunSortRole);
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
    return RunsModel::figureTitles();
}

const std::vector<std::string>& RunsPanel::keyColumns() const {
    return m_model->keys();
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
    std::vector<std::string> keys;
    if (m_all->isChecked()) {
        for (const FieldSpec& f : configSchema()) keys.push_back(f.key);
    } else {
        keys = m_diffKeys;
    }
    m_model->reset(keys);

    // Top-level rows in list order: runs, seed groups (grouped mode) with their members; a fork
    // goes under its parent's row when its parent is listed.
    linkForks(m_entries);
    const std::vector<const RunEntry*> order = listOrder(m_entries);
    const ForkChildren forks = forkChildren(order);
    const SeedGroups groups = m_group->isChecked() ? findSeedGroups(order) : SeedGroups{};
    std::set<QString> placed;
    QStandardItem* root = m_model->invisibleRootItem();
    for (const RunEntry* e : order) {
        if (e->parentId) continue;
        const QString key = seedGroupOf(groups, *e);
        if (key.isEmpty()) {
            m_model->appendRunTree(root, *e, forks, m_liveId);
            continue;
        }
        if (placed.count(key)) continue;
        placed.insert(key);
        const std::vector<const RunEntry*>& members = groups.at(key);
        const QList<QStandardItem*> cells = m_model->emptyRow();
        fillSeedGroupRow(cells, key, members, keys, m_diffKeys, m_groups[key]);
        for (const RunEntry* m : members)
            m_model->appendRunTree(cells[ColName], *m, forks, m_liveId);
        root->appendRow(cells);
    }
    // Groups start folded (one row each; the tree's arrow shows the runs), unfolded while a
    // filter is on so the runs that match are seen.
    if (!m_search->text().isEmpty() || m_status->currentIndex() > 0) m_view->expandAll();
    // A run's forks are shown: the rows holding runs that have children start unfolded.
    const auto unfoldForks = [this](const auto& self, const QModelIndex& parent) -> void {
        for (int r = 0; r < m_filter->rowCount(parent); ++r) {
            const QModelIndex i = m_filter->index(r, 0, parent);
            if (m_filter->rowCount(i) > 0 && i.data(kRunIdRole).toInt() != 0) m_view->expand(i);
            self(self, i);
        }
    };
    unfoldForks(unfoldForks, QModelIndex());
    fitColumns();
    m_count->setText(tr("%n run(s)", nullptr, int(m_entries.size())));
    m_building = false;
    if (current) setCurrentRun(current);
    m_view->verticalScrollBar()->setValue(scroll);
}

void RunsPanel::fitColumns() {
    QHeaderView* h = m_view->header();
    h->setSectionResizeMode(QHeaderView::Interactive);
    for (int c = 0; c < m_model->columns(); ++c) m_view->resizeColumnToContents(c);
    m_view->setColumnWidth(ColName, std::min(m_view->columnWidth(ColName), 360));
    // a column no listed run has a value in (tokens/s of a non-GPT workspace, forks and edits
    // where there are none) takes no room
    const auto none = [this](const auto& has) {
        return std::none_of(m_entries.begin(), m_entries.end(),
                            [&has](const auto& idEntry) { return has(idEntry.second); });
    };
    m_view->setColumnHidden(ColFork, none([](const RunEntry& e) { return !e.parent.isEmpty(); }));
    m_view->setColumnHidden(ColEdits, none([](const RunEntry& e) { return e.edits > 0; }));
    for (int fi = 0; fi < kRunFigureCount; ++fi)
        m_view->setColumnHidden(m_model->firstFigureColumn() + fi, none([fi](const RunEntry& e) {
                                    return std::isfinite(runFigure(e, fi));
                                }));
}

void RunsPanel::refreshRow(int id) {
    QStandardItem* it = m_model->itemOf(id);
    const auto e = m_entries.find(id);
    if (!it || e == m_entries.end()) return;
    const QList<QStandardItem*> cells = m_model->rowCells(it);
    if (cells.contains(nullptr)) return;
    const bool was = m_building;
    m_building = true;
    m_model->fillRow(cells, e->second, m_liveId);
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
        if (key != exceptGroup && g.ticked && g.colour.isValid())
            used.insert(g.colour.rgb()), ++shown;
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
    // a fork started here is listed under its parent; the events scheduled with it are counted
    readForkAndEdits(e, overviewRunDirectory(dir.toStdString()));
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
            e.state = runStateOf(o.status);
            e.step = o.steps;
        }
        e.result = readRunResult(e.dir.toStdString());
        readForkAndEdits(e, o);  // the edits made while it ran
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
    return i.isValid() ? i.siblingAtColumn(0).data(kRunIdRole).toInt() : 0;
}

void RunsPanel::setCurrentRun(int id) {
    QStandardItem* it = m_model->itemOf(id);
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

int RunsPanel::scanWorkspace(const QString& workspace) {
    m_workspaceDir = workspace;
    m_workspace->setText(QDir::toNativeSeparators(workspace));
    m_workspace->setToolTip(workspace);
    std::map<QString, int> known;  // absolute directory -> entry id
    for (const auto& [id, e] : m_entries) known[QFileInfo(e.dir).absoluteFilePath()] = id;
    int added = 0;
    bool changed = false;
    for (const auto& [name, path] : workspaceRuns(workspace)) {
        const auto it = known.find(path);
        if (it != known.end()) {
            // An unreadable past run may have been repaired or finished writing: read it again.
            RunEntry& e = m_entries.at(it->second);
            if (!e.session && e.state == RunState::Unreadable) {
                loadRunEntry(e);
                changed = true;
            }
            continue;
        }
        RunEntry e;
        e.name = name;
        e.dir = path;
        loadRunEntry(e);
        addEntry(std::move(e));
        ++added;
    }
    watch(workspace);
    const bool grew = pollLiveRuns();
    if ((added || changed) && !grew) rebuild();
    return added;
}

void RunsPanel::watch(const QString& workspace) {
    const QStringList paths = workspaceWatchPaths(workspace);
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
            loadRunEntry(e);
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
    const QString problem = followRunRows(e);
    if (problem.isEmpty()) return;
    if (QStandardItem* it = m_model->itemOf(e.id)) it->setToolTip(problem);  // say why it stopped
}

bool RunsPanel::shownInPlots(const RunEntry& e) const {
    if (e.checked) return true;
    if (!m_group->isChecked() || !joinsSeedGroups(e)) return false;
    const auto g = m_groups.find(seedGroupKey(*e.config));
    return g != m_groups.end() && g->second.ticked;
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
    if (QStandardItem* it = m_model->itemOf(id))
        it->setCheckState(on ? Qt::Checked : Qt::Unchecked);
}

void RunsPanel::checkAllShown() {
    // every row, forks under their parent included
    const auto check = [this](const auto& self, const QModelIndex& parent) -> void {
        for (int r = 0; r < m_filter->rowCount(parent); ++r) {
            const QModelIndex i = m_filter->index(r, 0, parent);
            if (QStandardItem* it = m_model->itemFromIndex(m_filter->mapToSource(i)))
                if (it->isCheckable()) it->setCheckState(Qt::Checked);
            if (i.data(kRunIdRole).toInt() != 0) self(self, i);  // not a seed group's members
        }
    };
    check(check, QModelIndex());
}

void RunsPanel::setGroupChecked(int shownRow, bool on) {
    const QModelIndex i = m_filter->mapToSource(m_filter->index(shownRow, 0));
    QStandardItem* it = m_model->itemFromIndex(i);
    if (it && it->data(kRunIdRole).toInt() == 0)
        it->setCheckState(on ? Qt::Checked : Qt::Unchecked);
}

void RunsPanel::onItemChanged(QStandardItem* item) {
    if (m_building || item->column() != ColName) return;
    const bool on = item->checkState() == Qt::Checked;
    const int id = item->data(kRunIdRole).toInt();
    if (id) {
        RunEntry& e = m_entries.at(id);
        if (e.checked == on) return;
        e.checked = on;
        if (on) e.colour = freeColour(id);
        const bool was = m_building;
        m_building = true;
        item->setIcon(runSwatch(on || id == m_liveId ? e.colour : QColor()));
        m_building = was;
    } else {
        const QString key = item->data(kRunGroupRole).toString();
        SeedGroupMark& g = m_groups[key];
        if (g.ticked == on) return;
        g.ticked = on;
        if (on) g.colour = freeColour(0, key);  // its old colour counts as free
        m_building = true;
        item->setIcon(runSwatch(on ? g.colour : QColor()));
        m_building = false;
    }
    emit overlaysChanged();
}

QString RunsPanel::label(int id) const {
    const RunEntry* e = entry(id);
    if (!e) return {};
    if (!e->parent.isEmpty()) {
        // a fork: its step and its changes (its configuration is its parent's at the step)
        QString changes;
        try {
            if (const auto f = readForkInfo(e->dir.toStdString()))
                for (const std::string& c : f->set)
                    changes += (changes.isEmpty() ? ": " : ", ") + QString::fromStdString(c).section('.', 1);
        } catch (const std::exception&) {
        }
        return tr("fork @%1%2").arg(e->forkStep).arg(changes.isEmpty() ? tr(" (no change)") : changes);
    }
    if (!e->config || m_diffKeys.empty()) return e->name;
    const QString l = QString::fromStdString(differenceLabel(*e->config, m_diffKeys));
    return l.isEmpty() ? e->name : l;
}

std::vector<RunOverlay> RunsPanel::overlays(int exceptId) {
    const int current = currentRun();
    QString currentGroup;
    if (const QModelIndex i = m_view->currentIndex(); i.isValid() && current == 0)
        currentGroup = i.siblingAtColumn(0).data(kRunGroupRole).toString();
    // the ticked groups, in the table's order
    std::vector<RunOverlay> bands;
    if (m_group->isChecked()) {
        for (int r = 0; r < m_model->rowCount(); ++r) {
            QStandardItem* g = m_model->item(r, 0);
            const QString key = g->data(kRunGroupRole).toString();
            if (key.isEmpty() || !m_groups[key].ticked) continue;
            std::vector<const RunEntry*> members;
            for (int c = 0; c < g->rowCount(); ++c) {
                RunEntry& e = m_entries.at(g->child(c, 0)->data(kRunIdRole).toInt());
                ensureRows(e);
                members.push_back(&e);
            }
            bands.push_back(
                seedGroupBand(g->text(), m_groups[key].colour, members, key == currentGroup));
        }
    }
    // the ticked runs; a fork's line starts on its parent's curve
    std::vector<RunOverlay> lines;
    for (auto& [id, e] : m_entries) {
        if (!e.checked || id == exceptId) continue;
        ensureRows(e);
        if (!e.rows) continue;
        RunEntry* parent = e.parentId ? &m_entries.at(e.parentId) : nullptr;
        if (parent) ensureRows(*parent);
        lines.push_back(runLine(e, label(id), id == current, parent));
    }
    return drawingOrder(std::move(bands), std::move(lines));
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
    // each row, then its children (a group's members, a run's forks) indented a level deeper
    const auto add = [this, &out](const auto& self, const QModelIndex& parent,
                                  const QString& indent) -> void {
        for (int r = 0; r < m_filter->rowCount(parent); ++r) {
            QStringList cells;
            for (int c = 0; c < m_filter->columnCount(); ++c)
                cells << m_filter->index(r, c, parent).data().toString();
            cells[0] = indent + cells[0];
            out << cells;
            self(self, m_filter->index(r, 0, parent), indent + QStringLiteral("  "));
        }
    };
    add(add, QModelIndex(), QString());
    return out;
}

QList<int> RunsPanel::shownRunIds() const {
    QList<int> ids;
    const auto add = [this, &ids](const auto& self, const QModelIndex& parent) -> void {
        for (int r = 0; r < m_filter->rowCount(parent); ++r) {
            const QModelIndex i = m_filter->index(r, 0, parent);
            if (const int id = i.data(kRunIdRole).toInt()) ids << id;
            self(self, i);
        }
    };
    add(add, QModelIndex());
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
    return configDiffRows(a, b, onlyDifferences);
}

void RunsPanel::compareSelected() {
    QList<int> ids;
    for (const QModelIndex& i : m_view->selectionModel()->selectedRows(0))
        if (const int id = i.data(kRunIdRole).toInt()) ids << id;
    if (ids.size() == 2) compareRuns(ids[0], ids[1]);
}

QDialog* RunsPanel::compareRuns(int ia, int ib) {
    const RunEntry* a = entry(ia);
    const RunEntry* b = entry(ib);
    if (!a || !b || !a->config || !b->config) return nullptr;
    return showConfigDiff(this, {a->name, a->dir, label(ia), *a->config},
                          {b->name, b->dir, label(ib), *b->config});
}

void RunsPanel::showMenu(const QPoint& pos) {
    const QModelIndex at = m_view->indexAt(pos);
    QMenu menu(this);
    int selectedRuns = 0;
    for (const QModelIndex& i : m_view->selectionModel()->selectedRows(0))
        if (i.data(kRunIdRole).toInt()) ++selectedRuns;
    if (selectedRuns == 2)
        menu.addAction(tr("Compare configurations"), this, &RunsPanel::compareSelected);
    const int id = at.isValid() ? at.siblingAtColumn(0).data(kRunIdRole).toInt() : 0;
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
