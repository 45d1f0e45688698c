// The main window's run control: start, pause, step, stop and reset a run on the worker thread,
// and the tick that hands its rows and snapshots to the panels.
#include "ui/main_window.h"
#include "ui/lessons_dock.h"

#include <QDir>
#include <QElapsedTimer>
#include <QLabel>
#include <QStyle>
#include <algorithm>

#include "core/exp/run_session.h"
#include "ui/config_panel.h"
#include "ui/history_bounds.h"
#include "ui/memory_panel.h"
#include "ui/run_controller.h"
#include "ui/runs_panel.h"
#include "ui/snapshot_store.h"
#include "ui/state_view.h"
#include "ui/status_view.h"

namespace h158::ui {

namespace {
// addLatest (run_state.h) for snapshots shared with the rewind store: the live views need only
// the latest of each kind (per tensor for weights); every text sample is kept.
void keepLatestSnapshot(std::vector<std::shared_ptr<const Snapshot>>& list,
                        std::shared_ptr<const Snapshot> s) {
    auto obsolete = [&](const std::shared_ptr<const Snapshot>& old) {
        if (old->kind != s->kind || s->kind == "samples") return false;
        if (s->kind == "weights")
            return old->data.value("tensor", std::string()) == s->data.value("tensor", std::string());
        return true;
    };
    list.erase(std::remove_if(list.begin(), list.end(), obsolete), list.end());
    list.push_back(std::move(s));
}

// A panel the window draws again from snapshots when another step is shown (rewind): it waits
// for the live run's rows and snapshots while that step is shown.
bool redrawnFromSnapshots(Panel* p) {
    const auto* v = dynamic_cast<const StateView*>(p);
    return v && v->fromSnapshots();
}
}  // namespace

RunState MainWindow::state() const {
    return m_controller->state();
}

int64_t MainWindow::receivedSteps() const {
    return m_liveRows && !m_liveRows->empty() ? m_liveRows->back().step : 0;
}

QString MainWindow::liveRunDirectory() const {
    const RunEntry* e = m_runs->entry(m_liveEntry);
    return e ? e->dir : QString();
}

QString MainWindow::bannerText() const {
    return m_banner->isVisible() ? m_banner->text() : QString();
}

QString MainWindow::statusText() const {
    return m_status->text();
}

void MainWindow::startRun() {
    if (forkPending()) {
        beginFork(false);
        return;
    }
    if (m_controller->state() == RunState::Paused) {
        m_controller->resume();
        return;
    }
    beginRun(false);
}

bool MainWindow::beginRun(bool paused) {
    if (forkPending()) return beginFork(paused);
    if (isActive(m_controller->state()) || !m_config->isValid()) return false;
    const Config cfg = m_config->config();
    QDir().mkpath(m_workspace);
    const QString dir =
        QString::fromStdString(newRunDirectory(m_workspace.toStdString(), cfg.run.name));
    const int runId = m_controller->start(cfg, dir, paused);
    if (runId == 0) return false;
    auto rows = std::make_shared<std::vector<StepMetrics>>();
    attachLiveRun(runId, m_runs->addSessionRun(dir, cfg, rows), cfg, rows);
    return true;
}

bool MainWindow::resumeRun(int id) {
    if (id == 0) id = m_runs->currentRun();
    if (isActive(m_controller->state()) || !m_runs->resumable(id)) return false;
    const RunEntry* e = m_runs->entry(id);
    RunRecord record;
    try {
        record = readRunDirectory(e->dir.toStdString());
    } catch (const std::exception& ex) {
        showBanner(tr("Cannot resume: %1").arg(QString::fromStdString(ex.what())), true);
        return false;
    }
    // The curves so far: the rows up to the checkpoint (the later ones are computed again).
    auto rows = std::make_shared<std::vector<StepMetrics>>();
    for (const StepMetrics& m : record.metrics)
        if (m.step <= e->checkpointStep) rows->push_back(m);
    while (thinRows(*rows)) {
    }
    const int runId = m_controller->resumeRun(record.config, e->dir, e->checkpointStep);
    if (runId == 0) return false;
    m_runs->reuseForSession(id, rows);
    attachLiveRun(runId, id, record.config, rows);
    m_config->setConfig(record.config);
    m_pendingRows = *rows;
    return true;
}

void MainWindow::attachLiveRun(int runId, int entryId, const Config& cfg,
                               std::shared_ptr<std::vector<StepMetrics>> rows) {
    m_liveEntry = entryId;
    m_runs->setLiveRun(entryId);
    m_entryOfRun[runId] = m_liveEntry;
    m_rowsOfRun[runId] = rows;
    m_liveRunId = runId;
    m_liveRows = rows;
    m_liveConfig = cfg;
    m_liveState = RunState::Starting;
    m_liveEvents.clear();
    for (Panel* p : m_panels) p->setEvents({});
    m_pendingRows.clear();
    m_pendingSnapshots.clear();
    m_pendingStages.clear();
    m_pendingMap.reset();
    m_status->restartRate();
    m_banner->hide();
    viewLiveRun();
    if (m_maximized && !m_maximized->appliesTo(cfg)) toggleMaximized(m_maximized);
    const QColor colour = m_runs->entry(m_liveEntry)->colour;
    for (Panel* p : m_panels) p->beginRun(cfg, colour);
    layoutPanels(cfg);
    updateOverlays();
    m_memory->setConfig(cfg);
    setWindowTitle(QStringLiteral("hybrid158 — %1").arg(QString::fromStdString(cfg.run.name)));
    updateActions();
}

void MainWindow::togglePause() {
    m_controller->togglePause();
}

void MainWindow::stepRun() {
    if (m_controller->state() == RunState::Paused) {
        m_controller->step();
    } else if (!isActive(m_controller->state())) {
        // Like the Playground: Step on a fresh configuration starts a paused run and steps once.
        if (beginRun(true)) m_controller->step();
    }
}

void MainWindow::stepIntoRun() {
    if (isActive(m_controller->state()))
        m_controller->stepStage();
    else if (beginRun(true))
        m_controller->stepStage();
}

void MainWindow::flashPanels(const QStringList& ids) {
    for (const QPointer<QWidget>& f : std::as_const(m_stageFrames)) delete f.data();
    m_stageFrames.clear();
    for (const QString& id : ids)
        if (Panel* p = findChild<Panel*>(id); p && p->isVisible()) {
            auto* frame = new HighlightFrame(p);
            frame->setObjectName(QStringLiteral("stageHighlight"));
            m_stageFrames << frame;
        }
    if (!m_stageFrames.isEmpty()) m_stageFlash.start();
}

QList<QWidget*> MainWindow::flashedPanels() const {
    QList<QWidget*> out;
    for (const QPointer<QWidget>& f : m_stageFrames)
        if (f) out << f->parentWidget();
    return out;
}

void MainWindow::stopRun() {
    m_controller->stop();
}

void MainWindow::resetRun() {
    cancelFork();
    m_controller->reset();
    m_liveEvents.clear();
    for (Panel* p : m_panels) p->setEvents({});
    m_liveRunId = 0;
    m_liveEntry = 0;
    m_runs->setLiveRun(0);
    m_liveRows.reset();
    m_pendingRows.clear();
    m_pendingSnapshots.clear();
    m_pendingStages.clear();
    m_pendingMap.reset();
    m_status->restartRate();
    m_banner->hide();
    clearView();
    for (Panel* p : m_panels) p->beginRun(m_config->config(), QColor(120, 120, 120));
    layoutPanels(m_config->config());
    updateOverlays();
    setWindowTitle(QStringLiteral("hybrid158"));
    updateActions();
    updateStatus();
}

void MainWindow::onBatch(const RunBatchPtr& ptr) {
    const RunBatch& batch = *ptr;
    const auto rows = m_rowsOfRun.find(batch.runId);
    if (rows != m_rowsOfRun.end()) {
        rows->second->insert(rows->second->end(), batch.rows.begin(), batch.rows.end());
        thinRows(*rows->second);
    }
    if (batch.runId != m_liveRunId) return;
    onRunEvents(batch);
    m_pendingRows.insert(m_pendingRows.end(), batch.rows.begin(), batch.rows.end());
    for (const Snapshot& s : batch.snapshots) {
        auto kept = std::make_shared<const Snapshot>(s);  // one copy, for the panels and rewind
        if (m_liveSnapshots) m_liveSnapshots->add(kept);
        keepLatestSnapshot(m_pendingSnapshots, std::move(kept));
    }
    m_pendingStages.insert(m_pendingStages.end(), batch.stages.begin(), batch.stages.end());
    if (batch.weightMap) m_pendingMap = batch.weightMap;
}

void MainWindow::onState(int runId, RunState s, const QString& message, qint64 steps) {
    const auto entry = m_entryOfRun.find(runId);
    if (entry != m_entryOfRun.end() && s != RunState::Idle) {
        const RunEntry* e = m_runs->entry(entry->second);
        const double fin = isFinal(s) && e ? readFinalLoss(e->dir) : kNoValue;
        m_runs->updateRun(entry->second, s, steps, fin);
    }
    if (runId == m_liveRunId && s != RunState::Idle) {
        m_liveState = s;
        if (s == RunState::Diverged)
            showBanner(tr("The run diverged and was stopped. %1").arg(message), true);
        else if (s == RunState::Failed)
            showBanner(tr("The run failed: %1").arg(message), true);
    }
    const bool running = m_controller->state() == RunState::Running;
    for (Panel* p : m_panels) p->setLiveQuality(running);
    if (runId == m_liveRunId && !forkPending()) m_config->setLiveMode(isActive(s));
    updateActions();
    updateStatus();
    if (runId == m_liveRunId && isFinal(s)) {
        drainPending();
        updateRewindBar();
        emit runFinished(s);
    }
}

void MainWindow::drainPending() {
    // While another step is shown the state panels keep it (applyView draws them again).
    const bool follow = followsLive();
    const auto feeds = [&](Panel* p) {
        return p->appliesTo(m_liveConfig) && (follow || !redrawnFromSnapshots(p));
    };
    if (!m_pendingRows.empty()) {
        for (Panel* p : m_panels)
            if (feeds(p)) {
                p->appendRows(m_pendingRows);
                p->boundCurves();
            }
        m_pendingRows.clear();
    }
    if (!m_pendingSnapshots.empty()) {
        for (const auto& s : m_pendingSnapshots)
            for (Panel* p : m_panels)
                if (feeds(p)) p->applySnapshot(*s);
        m_pendingSnapshots.clear();
    }
    for (const StageReport& r : m_pendingStages)
        for (Panel* p : m_panels)
            if (p->appliesTo(m_liveConfig)) p->applyStage(r);
    m_pendingStages.clear();
    if (m_pendingMap) {
        for (Panel* p : m_panels)
            if (p->appliesTo(m_liveConfig)) p->applyWeightMap(*m_pendingMap);
        m_pendingMap.reset();
    }
}

// One tick: hand the queued rows to the panels (addData only), then replot the panels that
// changed, round robin, until the tick's budget is spent. A replot costs 2–15 ms, so all panels
// at 30 Hz would keep the UI thread busy and hold the event loop for one long stretch; with the
// budget the loop stays responsive and training keeps its CPU, and a panel skipped now is drawn
// first on the next tick.
void MainWindow::onTick() {
    QElapsedTimer spent;
    spent.start();
    drainPending();
    if (m_viewDirty) applyView();
    const int n = int(m_panels.size());
    const int minInterval = m_liveState == RunState::Running ? kLivePanelIntervalMs : 0;
    for (int i = 0; i < n && spent.elapsed() < kRedrawBudgetMs; ++i) {
        Panel* p = m_panels[(m_nextPanel + i) % n];
        if (p->refresh(minInterval)) m_nextPanel = (m_nextPanel + i + 1) % n;
    }
    updateStatus();
    if (m_liveRunId) updateRewindBar();
    m_longestTickMs = std::max(m_longestTickMs, double(spent.nsecsElapsed()) * 1e-6);
}

void MainWindow::updateActions() {
    if (!m_runAct) return;  // the actions do not exist yet
    const RunState s = m_controller->state();
    const bool active = isActive(s);
    const bool valid = m_config->isValid();
    m_runAct->setEnabled((!active || forkPending()) && valid);
    m_pauseAct->setEnabled(s == RunState::Running || s == RunState::Paused);
    const bool paused = s == RunState::Paused;
    m_pauseAct->setText(paused ? tr("Resume") : tr("&Pause"));
    m_pauseAct->setIcon(
        style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
    m_stepAct->setEnabled(paused || (!active && valid));
    m_stepIntoAct->setEnabled(s == RunState::Running || paused || (!active && valid));
    m_stopAct->setEnabled(active);
    m_resetAct->setEnabled(s != RunState::Idle || m_liveRunId != 0);
    m_resumeAct->setEnabled(!active && m_runs->resumable(m_runs->currentRun()));
    m_runAct->setToolTip(valid ? tr("Start a new run with this configuration (F5)")
                               : tr("Fix the marked fields of the configuration first"));
}

void MainWindow::updateStatus() {
    const RunState s = m_liveRunId ? m_liveState : m_controller->state();
    const int64_t total = m_liveRunId ? m_liveConfig.run.steps : m_config->config().run.steps;
    m_status->update(s, receivedSteps(), total, m_liveRows.get());
}

void MainWindow::updateOverlays() {
    const std::vector<RunOverlay> o = m_runs->overlays(m_liveEntry);
    for (Panel* p : m_panels) p->setOverlays(o);
}

}  // namespace h158::ui
