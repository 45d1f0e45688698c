// Intervening in a run from the workbench: live edits of the running configuration, the events
// they make drawn on the step plots, and Fork here… (README, Exploring by intervening).
#include <QDir>
#include <QFileInfo>
#include <QLabel>

#include "core/exp/fork.h"
#include "core/train/checkpoint.h"
#include "ui/config_panel.h"
#include "ui/main_window.h"
#include "ui/panel.h"
#include "ui/run_controller.h"
#include "ui/runs_panel.h"

namespace h158::ui {

void MainWindow::setupIntervening() {
    connect(m_config, &ConfigPanel::liveEdited, this, [this](const QString& key, const QString& text) {
        if (forkPending() || !isActive(m_controller->state())) return;  // a fork's form, or ended
        m_controller->edit(key, text);
    });
    for (Panel* p : m_panels)
        connect(p, &Panel::forkRequested, this,
                [this](const QString& dir, double step) { prepareFork(dir, step); });
}

void MainWindow::onRunEvents(const RunBatch& batch) {
    if (batch.events.empty() && batch.refusedEdits.empty()) return;
    // A start sends the run's whole list (attachLiveRun emptied ours), an edit itself.
    m_liveEvents.insert(m_liveEvents.end(), batch.events.begin(), batch.events.end());
    sortByStep(m_liveEvents);
    // The form shows the run's configuration with its edits (a refused one goes back).
    Config cfg = m_liveConfig;
    for (const RunEvent& e : m_liveEvents)
        if (e.by != "parent" || e.step <= m_controller->stepsDone()) {
            try {
                applyEvent(cfg, e);
            } catch (const std::exception&) {
            }
        }
    if (!batch.refusedEdits.empty()) {
        showBanner(tr("Not changed: %1").arg(QString::fromStdString(batch.refusedEdits.back())), true);
        if (m_config->liveMode()) m_config->setConfig(cfg);
    } else if (!batch.events.empty() && !batch.events.back().by.empty() &&
               batch.events.back().by == "workbench") {
        const RunEvent& e = batch.events.back();
        showBanner(tr("%1 changes to %2 before step %3 (events.jsonl).")
                       .arg(QString::fromStdString(e.key), QString::fromStdString(e.valueText()))
                       .arg(e.step + 1),
                   false);
    }
    for (Panel* p : m_panels) p->setEvents(m_liveEvents);
}

void MainWindow::showEventsOfViewedRun() {
    std::vector<RunEvent> events;
    if (m_liveRunId) {
        events = m_liveEvents;
    } else if (const RunEntry* e = m_runs->entry(m_runs->currentRun())) {
        try {
            events = readEvents(e->dir.toStdString());
        } catch (const std::exception&) {
            // the runs table names what is wrong with the file
        }
    }
    for (Panel* p : m_panels) p->setEvents(events);
}

bool MainWindow::prepareFork(const QString& dirIn, double step) {
    const QString dir = dirIn.isEmpty() ? m_controller->runDirectory() : dirIn;
    if (dir.isEmpty()) return false;
    const std::vector<int64_t> steps = checkpointSteps(dir.toStdString());
    int64_t at = 0;
    for (int64_t s : steps)
        if (double(s) <= step + 0.5) at = s;
    if (at == 0) {
        QString list;
        for (int64_t s : steps) list += (list.isEmpty() ? "" : ", ") + QString::number(s);
        showBanner(tr("%1 has no checkpoint at or before step %2 to fork from (checkpoints: %3; "
                      "run.checkpoint_every, run.keep_checkpoints).")
                       .arg(QFileInfo(dir).fileName())
                       .arg(qint64(std::llround(step)))
                       .arg(list.isEmpty() ? tr("none") : list),
                   true);
        return false;
    }
    CheckpointInfo info;
    try {
        info = readCheckpointInfo(forkCheckpointPath(dir.toStdString(), at));
    } catch (const std::exception& e) {
        showBanner(tr("Cannot fork: %1").arg(QString::fromStdString(e.what())), true);
        return false;
    }
    if (isActive(m_controller->state())) m_controller->pause();
    m_forkParent = QFileInfo(dir).absoluteFilePath();
    m_forkStep = at;
    m_forkBase = info.config;
    m_config->setConfig(info.config);
    m_config->setLiveMode(true);
    showBanner(tr("Fork of %1 at step %2: change what can change in the form, then Run (F5) "
                  "starts the fork. Reset cancels.")
                   .arg(QFileInfo(dir).fileName())
                   .arg(at),
               false);
    updateActions();
    return true;
}

void MainWindow::cancelFork() {
    if (!forkPending()) return;
    m_forkParent.clear();
    m_forkStep = 0;
    m_config->setLiveMode(isActive(m_controller->state()));
    m_config->setConfig(isActive(m_controller->state()) ? m_liveConfig : m_forkBase);
    m_banner->hide();
    updateActions();
}

QStringList MainWindow::forkChanges() const {
    QStringList out;
    if (!forkPending()) return out;
    const Config& now = m_config->config();
    for (const FieldSpec& f : configSchema())
        if (f.live && f.toString(now) != f.toString(m_forkBase))
            out << QString::fromStdString(f.key + "=" + f.toString(now));
    return out;
}

bool MainWindow::beginFork(bool paused) {
    if (!m_config->isValid()) return false;
    if (isActive(m_controller->state())) {
        // The run the fork leaves is stopped first (its checkpoint stays); the fork starts
        // once it has ended.
        connect(this, &MainWindow::runFinished, this, [this, paused] { beginFork(paused); },
                Qt::SingleShotConnection);
        m_controller->stop();
        return false;
    }
    const QString parent = m_forkParent;
    const int64_t step = m_forkStep;
    const QStringList changes = forkChanges();
    Config cfg = m_forkBase;
    for (const QString& c : changes) applySetting(cfg, c.toStdString());
    const QString name = QFileInfo(parent).fileName() + QStringLiteral("-fork") + QString::number(step);
    QDir().mkpath(m_workspace);
    const QString dir =
        QString::fromStdString(newRunDirectory(m_workspace.toStdString(), name.toStdString()));
    const int runId = m_controller->startFork(cfg, parent, step, changes, dir);
    if (runId == 0) return false;
    // The curve starts at the parent's: its rows up to the fork step.
    auto rows = std::make_shared<std::vector<StepMetrics>>();
    try {
        for (const StepMetrics& m : readRunDirectory(parent.toStdString()).metrics)
            if (m.step <= step) rows->push_back(m);
    } catch (const std::exception&) {
    }
    m_forkParent.clear();
    m_forkStep = 0;
    attachLiveRun(runId, m_runs->addSessionRun(dir, cfg, rows), cfg, rows);
    m_pendingRows = *rows;
    if (paused) m_controller->pause();
    return true;
}

}  // namespace h158::ui
