#include "ui/runs_model.h"

#include <QDir>
#include <QFileInfo>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "core/exp/events.h"
#include "core/exp/run_compare.h"
#include "core/exp/run_session.h"

namespace h158::ui {

namespace {

// The entry's state, steps, final loss, problem and checkpoint from its directory's overview.
void applyOverview(RunEntry& e, const RunOverview& o) {
    e.state = runStateOf(o.status);
    e.step = o.steps;
    e.total = o.total;
    e.finalLoss = o.finalLoss;
    e.problem = QString::fromStdString(o.problem);
    e.checkpointStep = o.checkpointStep;
}

QString resumeHint(const RunEntry& e) {
    if (e.state != RunState::Stopped && e.state != RunState::Interrupted &&
        e.state != RunState::Failed)
        return {};
    if (e.checkpointStep <= 0)
        return QObject::tr(
            "\nNo checkpoint: it cannot be resumed (run.checkpoint_every was 0, or it "
            "ended before its first checkpoint).");
    return QObject::tr(
               "\nResume (right click, or Run ▸ Resume) continues it from its checkpoint at "
               "step %1.")
        .arg(e.checkpointStep);
}

QString stateText(const RunEntry& e) {
    return e.state == RunState::Unreadable ? QObject::tr("unreadable: %1").arg(e.problem)
                                           : stateName(e.state);
}

// A directory as one spelling: its canonical path (links resolved), or the cleaned absolute
// path of one that does not exist.
QString canonicalRunDir(const QString& dir) {
    const QFileInfo f(dir);
    const QString c = f.canonicalFilePath();
    return c.isEmpty() ? QDir::cleanPath(f.absoluteFilePath()) : c;
}

}  // namespace

double readFinalLoss(const QString& dir) {
    return overviewRunDirectory(dir.toStdString()).finalLoss;
}

RunState runStateOf(const std::string& status) {
    if (status == "completed") return RunState::Completed;
    if (status == "stopped") return RunState::Stopped;
    if (status == "diverged") return RunState::Diverged;
    if (status == "failed") return RunState::Failed;
    if (status == "interrupted") return RunState::Interrupted;
    return RunState::Unreadable;
}

void loadRunEntry(RunEntry& e) {
    const std::string dir = e.dir.toStdString();
    const RunOverview o = overviewRunDirectory(dir);
    applyOverview(e, o);
    try {
        e.config = loadConfigFile(dir + "/config.json");
    } catch (const std::exception&) {
        e.config.reset();  // the overview says what is wrong, if anything
    }
    e.result = sweepRunResultOf(dir, o, e.config ? *e.config : Config{});
    readForkAndEdits(e, o);
}

void readForkAndEdits(RunEntry& e, const RunOverview& o) {
    e.parent = QString::fromStdString(o.parent);
    e.forkStep = o.forkStep;
    e.edits = o.events;
    e.editLines.clear();
    if (o.events <= 0) return;
    try {
        for (const RunEvent& ev : readEvents(e.dir.toStdString()))
            e.editLines << QString::fromStdString(ev.describe());
    } catch (const std::exception& ex) {
        e.editLines << QString::fromStdString(ex.what());
    }
}

double runFigure(const RunEntry& e, int f) {
    const double v = e.result.*kRunFigures[f].field;
    if (f == 0 && !std::isfinite(v)) return e.finalLoss;
    return v;
}

QString figureText(double v, int precision) {
    return std::isfinite(v) ? QString::number(v, 'g', precision) : QString();
}

QIcon runSwatch(const QColor& c) {
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

void setSettingCell(QStandardItem* cell, const Config& c, const std::string& key) {
    const FieldSpec* spec = findField(key);
    const QString text = spec ? QString::fromStdString(spec->toString(c)) : QString();
    cell->setText(text);
    bool numeric = false;
    const double d = text.toDouble(&numeric);
    cell->setData(numeric ? QVariant(d) : QVariant(text), kRunSortRole);
}

std::vector<const RunEntry*> listOrder(const std::map<int, RunEntry>& entries) {
    std::vector<const RunEntry*> order;
    for (const auto& [id, e] : entries) order.push_back(&e);
    std::stable_sort(order.begin(), order.end(), [](const RunEntry* a, const RunEntry* b) {
        if (a->session != b->session) return a->session;
        return a->session ? a->order > b->order : a->id < b->id;
    });
    return order;
}

void linkForks(std::map<int, RunEntry>& entries) {
    std::map<QString, int> byDir;
    for (const auto& [id, e] : entries) byDir.emplace(canonicalRunDir(e.dir), id);
    for (auto& [id, e] : entries) {
        e.parentId = 0;
        if (e.parent.isEmpty()) continue;
        const auto p = byDir.find(canonicalRunDir(e.parent));
        if (p != byDir.end() && p->second != id) e.parentId = p->second;
    }
    // Directories that name each other as parents would hang under no row: the first one met
    // of such a circle goes to the top level.
    for (auto& [id, e] : entries) {
        int at = e.parentId;
        for (size_t hops = 0; at != 0 && at != id && hops < entries.size(); ++hops)
            at = entries.at(at).parentId;
        if (at == id) e.parentId = 0;
    }
}

ForkChildren forkChildren(const std::vector<const RunEntry*>& order) {
    ForkChildren children;
    for (const RunEntry* e : order)
        if (e->parentId) children[e->parentId].push_back(e);
    return children;
}

// ---- the model --------------------------------------------------------------------------------

QStringList RunsModel::figureTitles() {
    QStringList t;
    for (int f = 0; f < kRunFigureCount; ++f) t << tr(kRunFigures[f].title);
    return t;
}

void RunsModel::reset(const std::vector<std::string>& keys) {
    m_keys = keys;
    clear();
    QStringList headers{tr("Run"), tr("State"), tr("Step"), tr("Fork"), tr("Edits")};
    for (const std::string& l : keyLabels(m_keys)) headers << QString::fromStdString(l);
    headers << figureTitles();
    setHorizontalHeaderLabels(headers);
    horizontalHeaderItem(ColFork)->setToolTip(
        tr("A fork starts from its parent's state at this step, with some settings changed; its "
           "row sits under its parent's and its curves continue the parent's"));
    horizontalHeaderItem(ColEdits)->setToolTip(
        tr("How many settings were edited during the run (events.jsonl); point at a cell for the "
           "list"));
    for (size_t k = 0; k < m_keys.size(); ++k)
        horizontalHeaderItem(ColFirstKey + int(k))->setToolTip(QString::fromStdString(m_keys[k]));
    for (int f = 0; f < kRunFigureCount; ++f)
        horizontalHeaderItem(firstFigureColumn() + f)->setToolTip(tr(kRunFigures[f].tip));
}

QList<QStandardItem*> RunsModel::emptyRow() const {
    QList<QStandardItem*> cells;
    for (int c = 0; c < columns(); ++c) {
        auto* it = new QStandardItem;
        it->setEditable(false);
        cells << it;
    }
    return cells;
}

void RunsModel::fillRow(const QList<QStandardItem*>& cells, const RunEntry& e, int liveId) const {
    QStandardItem* name = cells[ColName];
    name->setData(e.id, kRunIdRole);
    name->setText(e.name);
    name->setData(e.name, kRunSortRole);
    name->setToolTip(e.dir);
    name->setIcon(runSwatch(e.checked || e.id == liveId ? e.colour : QColor()));
    QFont f = name->font();
    f.setBold(e.session);
    name->setFont(f);
    name->setCheckable(true);
    name->setCheckState(e.checked ? Qt::Checked : Qt::Unchecked);

    QStandardItem* state = cells[ColState];
    state->setText(stateText(e));
    state->setData(stateText(e), kRunSortRole);
    state->setToolTip(
        e.state == RunState::Unreadable ? e.problem
        : e.state == RunState::Interrupted
            ? tr("interrupted at step %1: the run ended without a summary (killed)").arg(e.step) +
                  resumeHint(e)
            : resumeHint(e).trimmed());
    const bool bad = e.state == RunState::Diverged || e.state == RunState::Failed ||
                     e.state == RunState::Unreadable;
    state->setForeground(bad ? QBrush(QColor(198, 40, 40)) : QBrush());

    QStandardItem* step = cells[ColStep];
    step->setText(e.total > 0 ? QStringLiteral("%1/%2").arg(e.step).arg(e.total)
                              : QString::number(e.step));
    step->setData(qlonglong(e.step), kRunSortRole);

    QStandardItem* fork = cells[ColFork];
    if (e.parent.isEmpty()) {
        fork->setText({});
        fork->setData({}, kRunSortRole);
        fork->setToolTip({});
    } else {
        fork->setText(e.parentId ? tr("fork @%1").arg(e.forkStep)
                                 : tr("fork @%1 (parent not listed)").arg(e.forkStep));
        fork->setData(qlonglong(e.forkStep), kRunSortRole);
        QString tip = tr("Forked from %1 at its step %2")
                          .arg(QDir::toNativeSeparators(e.parent))
                          .arg(e.forkStep);
        if (!e.parentId)
            tip += tr("\nThe parent is not listed (another workspace, or moved or deleted): this "
                      "run's curves start at step %1 on their own.")
                       .arg(e.forkStep + 1);
        fork->setToolTip(tip);
    }

    QStandardItem* edits = cells[ColEdits];
    edits->setText(e.edits > 0 ? QString::number(e.edits) : QString());
    edits->setData(e.edits > 0 ? QVariant(qlonglong(e.edits)) : QVariant(), kRunSortRole);
    edits->setToolTip(e.editLines.join(QChar('\n')));
    edits->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);

    for (size_t k = 0; k < m_keys.size(); ++k) {
        QStandardItem* c = cells[ColFirstKey + int(k)];
        if (!e.config) {
            c->setText({});
            c->setData({}, kRunSortRole);
            continue;
        }
        setSettingCell(c, *e.config, m_keys[k]);
    }
    for (int fi = 0; fi < kRunFigureCount; ++fi) {
        const double v = runFigure(e, fi);
        QStandardItem* c = cells[firstFigureColumn() + fi];
        c->setText(figureText(v, kRunFigures[fi].precision));
        c->setData(std::isfinite(v) ? QVariant(v) : QVariant(), kRunSortRole);
        c->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
}

void RunsModel::appendRunTree(QStandardItem* parent, const RunEntry& e, const ForkChildren& forks,
                              int liveId) {
    const QList<QStandardItem*> cells = emptyRow();
    fillRow(cells, e, liveId);
    if (const auto f = forks.find(e.id); f != forks.end())
        for (const RunEntry* fork : f->second) appendRunTree(cells[ColName], *fork, forks, liveId);
    parent->appendRow(cells);
}

QStandardItem* RunsModel::itemOf(int id) const {
    const QModelIndexList hits =
        match(index(0, 0), kRunIdRole, id, 1, Qt::MatchExactly | Qt::MatchRecursive);
    return hits.isEmpty() ? nullptr : itemFromIndex(hits.first());
}

QList<QStandardItem*> RunsModel::rowCells(const QStandardItem* first) const {
    const QStandardItem* parent = first->parent() ? first->parent() : invisibleRootItem();
    QList<QStandardItem*> cells;
    for (int c = 0; c < columnCount(); ++c) cells << parent->child(first->row(), c);
    return cells;
}

// ---- filtering and sorting --------------------------------------------------------------------

void RunsFilter::setState(const QString& s) {
    m_state = s;
    invalidateFilter();
}

bool RunsFilter::filterAcceptsRow(int row, const QModelIndex& parent) const {
    const QModelIndex name = sourceModel()->index(row, 0, parent);
    if (!m_state.isEmpty()) {
        if (name.data(kRunIdRole).toInt() == 0) return false;  // a group: shown for its members
        const QString state =
            sourceModel()->index(row, RunsModel::ColState, parent).data().toString();
        if (!state.startsWith(m_state)) return false;
    }
    return QSortFilterProxyModel::filterAcceptsRow(row, parent);
}

bool RunsFilter::lessThan(const QModelIndex& l, const QModelIndex& r) const {
    const QVariant a = l.data(kRunSortRole), b = r.data(kRunSortRole);
    if (!a.isValid() || !b.isValid()) return a.isValid() && !b.isValid();
    if (a.typeId() == QMetaType::Double || a.typeId() == QMetaType::LongLong)
        return a.toDouble() < b.toDouble();
    return QString::compare(a.toString(), b.toString(), Qt::CaseInsensitive) < 0;
}

}  // namespace h158::ui
