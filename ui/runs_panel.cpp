#include "ui/runs_panel.h"

#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPainter>
#include <QPushButton>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>
#include <nlohmann/json.hpp>

#include "core/train/run_session.h"
#include "ui/history_bounds.h"
#include "ui/theme.h"

namespace h158::ui {

namespace {
enum Column { ColName, ColState, ColStep, ColLoss, ColCount };

QIcon swatch(const QColor& c) {
    QPixmap pm(12, 12);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setBrush(c);
    p.setPen(c.darker(130));
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

// The entry's state, steps, final loss, problem and checkpoint as its directory says now.
void readOverview(RunEntry& e) {
    const RunOverview o = overviewRunDirectory(e.dir.toStdString());
    e.state = stateOf(o.status);
    e.step = o.steps;
    e.total = o.total;
    e.finalLoss = o.finalLoss;
    e.problem = QString::fromStdString(o.problem);
    e.checkpointStep = o.checkpointStep;
}
}  // namespace

double readFinalLoss(const QString& dir) {
    return overviewRunDirectory(dir.toStdString()).finalLoss;
}

RunsPanel::RunsPanel(QWidget* parent) : QWidget(parent) {
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(4, 4, 4, 4);
    v->setSpacing(4);
    m_tree = new QTreeWidget;
    m_tree->setColumnCount(ColCount);
    m_tree->setHeaderLabels({tr("Run"), tr("State"), tr("Step"), tr("Final loss")});
    m_tree->setRootIsDecorated(false);
    m_tree->setAlternatingRowColors(true);
    m_tree->setUniformRowHeights(true);
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tree->setContextMenuPolicy(Qt::CustomContextMenu);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(ColName, QHeaderView::Stretch);
    for (int c = ColState; c < ColCount; ++c)
        m_tree->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    m_tree->setToolTip(
        tr("Tick runs to overlay their curves in the loss, constraint, "
           "quantization and learning-rate plots"));
    v->addWidget(m_tree, 1);
    auto* row = new QHBoxLayout;
    m_workspace = new QLabel;
    m_workspace->setStyleSheet(QStringLiteral("color: #666;"));
    m_workspace->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_workspace->setMinimumWidth(40);
    row->addWidget(m_workspace, 1);
    auto* change = new QPushButton(tr("Workspace…"));
    change->setToolTip(tr("Choose the folder where runs are written and read"));
    row->addWidget(change);
    v->addLayout(row);
    connect(change, &QPushButton::clicked, this, &RunsPanel::changeWorkspaceRequested);
    connect(m_tree, &QTreeWidget::itemChanged, this, [this](QTreeWidgetItem*, int column) {
        if (column == ColName) emit overlaysChanged();
    });
    connect(m_tree, &QWidget::customContextMenuRequested, this, &RunsPanel::showMenu);
    connect(m_tree, &QTreeWidget::currentItemChanged, this, &RunsPanel::currentRunChanged);
}

QTreeWidgetItem* RunsPanel::itemOf(int id) const {
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        QTreeWidgetItem* it = m_tree->topLevelItem(i);
        if (it->data(ColName, Qt::UserRole).toInt() == id) return it;
    }
    return nullptr;
}

int RunsPanel::addEntry(RunEntry e, bool top) {
    e.id = m_nextId++;
    e.colour = runColour(m_colours++);
    auto* it = new QTreeWidgetItem;
    it->setData(ColName, Qt::UserRole, e.id);
    it->setFlags(it->flags() | Qt::ItemIsUserCheckable);
    {
        const QSignalBlocker block(m_tree);
        it->setCheckState(ColName, Qt::Unchecked);
        if (top)
            m_tree->insertTopLevelItem(0, it);
        else
            m_tree->addTopLevelItem(it);
    }
    const int id = e.id;
    m_entries[id] = std::move(e);
    refreshItem(m_entries[id]);
    return id;
}

int RunsPanel::addSessionRun(const QString& dir, int64_t total,
                             std::shared_ptr<std::vector<StepMetrics>> rows) {
    RunEntry e;
    e.name = QFileInfo(dir).fileName();
    e.dir = dir;
    e.state = RunState::Starting;
    e.total = total;
    e.session = true;
    e.rows = std::move(rows);
    return addEntry(std::move(e), true);
}

namespace {

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

}  // namespace

void RunsPanel::refreshItem(const RunEntry& e) {
    QTreeWidgetItem* it = itemOf(e.id);
    if (!it) return;
    const QSignalBlocker block(m_tree);
    it->setIcon(ColName, swatch(e.colour));
    it->setText(ColName, e.name);
    it->setToolTip(ColName, e.dir);
    QFont f = it->font(ColName);
    f.setBold(e.session);
    it->setFont(ColName, f);
    it->setText(ColState, e.state == RunState::Unreadable ? tr("unreadable: %1").arg(e.problem)
                                                          : stateName(e.state));
    it->setToolTip(ColState, e.state == RunState::Unreadable    ? e.problem
                             : e.state == RunState::Interrupted ? tr("interrupted at step %1: the run ended without a summary (killed)").arg(e.step) + resumeHint(e)
                                                                : resumeHint(e).trimmed());
    const bool bad = e.state == RunState::Diverged || e.state == RunState::Failed ||
                     e.state == RunState::Unreadable;
    it->setForeground(ColState, bad ? QBrush(QColor(198, 40, 40)) : QBrush());
    it->setText(ColStep, e.total > 0 ? QStringLiteral("%1/%2").arg(e.step).arg(e.total)
                                     : QString::number(e.step));
    it->setText(ColLoss, std::isfinite(e.finalLoss) ? QString::number(e.finalLoss, 'g', 4)
                                                    : QStringLiteral("–"));
}

void RunsPanel::updateRun(int id, RunState state, int64_t step, double finalLoss) {
    auto it = m_entries.find(id);
    if (it == m_entries.end()) return;
    it->second.state = state;
    it->second.step = step;
    if (std::isfinite(finalLoss)) it->second.finalLoss = finalLoss;
    if (isFinal(state)) {
        // What the directory says now: its checkpoint, and its real state when a resume was
        // refused before it changed anything (the run is then as it was, not failed).
        const RunOverview o = overviewRunDirectory(it->second.dir.toStdString());
        it->second.checkpointStep = o.checkpointStep;
        if (o.status != "unreadable") {
            it->second.state = stateOf(o.status);
            it->second.step = o.steps;
        }
    }
    refreshItem(it->second);
    emit currentRunChanged();
}

bool RunsPanel::resumable(int id) const {
    const RunEntry* e = entry(id);
    return e && e->checkpointStep > 0 &&
           (e->state == RunState::Stopped || e->state == RunState::Interrupted ||
            e->state == RunState::Failed);
}

int RunsPanel::currentRun() const {
    const QTreeWidgetItem* it = m_tree->currentItem();
    return it ? it->data(ColName, Qt::UserRole).toInt() : 0;
}

void RunsPanel::reuseForSession(int id, std::shared_ptr<std::vector<StepMetrics>> rows) {
    auto it = m_entries.find(id);
    if (it == m_entries.end()) return;
    it->second.session = true;
    it->second.state = RunState::Starting;
    it->second.rows = std::move(rows);
    setChecked(id, false);  // the live run draws itself
    if (QTreeWidgetItem* item = itemOf(id)) {
        const QSignalBlocker block(m_tree);
        const int index = m_tree->indexOfTopLevelItem(item);
        m_tree->insertTopLevelItem(0, m_tree->takeTopLevelItem(index));
    }
    refreshItem(it->second);
}

int RunsPanel::scanWorkspace(const QString& workspace) {
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
    bool overlaid = false;  // a refreshed run is drawn: its curves are read again
    for (const auto& [name, path] : runs) {
        const auto it = known.find(path);
        if (it != known.end()) {
            // A past run that had no summary yet (another process may be running it, as a sweep
            // does) is read again; session runs are kept up to date by the window.
            RunEntry& e = m_entries.at(it->second);
            if (e.session || (e.state != RunState::Interrupted && e.state != RunState::Unreadable))
                continue;
            readOverview(e);
            e.rows.reset();  // read again when overlaid
            refreshItem(e);
            const QTreeWidgetItem* item = itemOf(e.id);
            overlaid = overlaid || (item && item->checkState(ColName) == Qt::Checked);
            continue;
        }
        RunEntry e;
        e.name = name;
        e.dir = path;
        readOverview(e);
        addEntry(std::move(e), false);
        ++added;
    }
    if (overlaid) emit overlaysChanged();
    return added;
}

void RunsPanel::clearPastRuns() {
    bool wasChecked = false;
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        if (it->second.session) {
            ++it;
            continue;
        }
        QTreeWidgetItem* item = itemOf(it->first);
        wasChecked = wasChecked || (item && item->checkState(ColName) == Qt::Checked);
        delete item;
        it = m_entries.erase(it);
    }
    if (wasChecked) emit overlaysChanged();
}

const RunEntry* RunsPanel::entry(int id) const {
    const auto it = m_entries.find(id);
    return it == m_entries.end() ? nullptr : &it->second;
}

QList<int> RunsPanel::checkedRuns() const {
    QList<int> ids;
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        QTreeWidgetItem* it = m_tree->topLevelItem(i);
        if (it->checkState(ColName) == Qt::Checked) ids << it->data(ColName, Qt::UserRole).toInt();
    }
    return ids;
}

void RunsPanel::setChecked(int id, bool on) {
    if (QTreeWidgetItem* it = itemOf(id))
        it->setCheckState(ColName, on ? Qt::Checked : Qt::Unchecked);
}

std::vector<RunOverlay> RunsPanel::overlays(int exceptId) {
    std::vector<RunOverlay> out;
    for (int id : checkedRuns()) {
        if (id == exceptId) continue;
        RunEntry& e = m_entries[id];
        if (!e.rows) {
            e.rows = std::make_shared<std::vector<StepMetrics>>();
            try {
                *e.rows = readRunDirectory(e.dir.toStdString()).metrics;
                while (thinRows(*e.rows)) {
                }
            } catch (const std::exception& ex) {
                if (QTreeWidgetItem* it = itemOf(id))
                    it->setToolTip(ColName, QString::fromStdString(ex.what()));
            }
        }
        out.push_back(RunOverlay{e.name, e.colour, e.rows});
    }
    return out;
}

void RunsPanel::showMenu(const QPoint& pos) {
    QTreeWidgetItem* it = m_tree->itemAt(pos);
    if (!it) return;
    const int id = it->data(ColName, Qt::UserRole).toInt();
    const QString dir = m_entries[id].dir;
    QMenu menu(this);
    if (resumable(id)) {
        menu.addAction(tr("Resume from step %1").arg(m_entries[id].checkpointStep), this,
                       [this, id] { emit resumeRequested(id); });
        menu.addSeparator();
    }
    menu.addAction(tr("Open run folder"), this,
                   [dir] { QDesktopServices::openUrl(QUrl::fromLocalFile(dir)); });
    menu.exec(m_tree->viewport()->mapToGlobal(pos));
}

}  // namespace h158::ui
