#include "ui/run_controller.h"

#include "ui/run_worker.h"

namespace h158::ui {

RunController::RunController(QObject* parent) : QObject(parent) {
    qRegisterMetaType<h158::Config>();
    qRegisterMetaType<h158::ui::RunBatchPtr>();
    qRegisterMetaType<h158::ui::RunState>();
    m_thread.setObjectName(QStringLiteral("hybrid158-trainer"));
    m_worker = new RunWorker(m_pauseFlag, m_stopFlag, m_stepsDone);
    m_worker->moveToThread(&m_thread);

    connect(this, &RunController::workerStart, m_worker, &RunWorker::start);
    connect(this, &RunController::workerPause, m_worker, &RunWorker::pause);
    connect(this, &RunController::workerResume, m_worker, &RunWorker::resume);
    connect(this, &RunController::workerStep, m_worker, &RunWorker::stepOnce);
    connect(this, &RunController::workerStop, m_worker, &RunWorker::stop);
    connect(this, &RunController::workerReset, m_worker, &RunWorker::reset);
    connect(this, &RunController::workerPing, m_worker, &RunWorker::ping);

    connect(m_worker, &RunWorker::started, this, &RunController::onStarted);
    connect(m_worker, &RunWorker::batchReady, this, &RunController::batchReady);
    connect(m_worker, &RunWorker::stateChanged, this, &RunController::onState);
    connect(m_worker, &RunWorker::pong, this, &RunController::synced);
    m_thread.start();
}

RunController::~RunController() {
    m_stopFlag.store(true);
    m_thread.quit();
    m_thread.wait();
    delete m_worker;  // the thread has ended: safe here; stops an unfinished run (summary.json)
}

int RunController::start(const h158::Config& cfg, const QString& dir, bool paused) {
    if (isActive(m_state) || m_startPending) return 0;
    m_startPending = true;
    m_runId = m_nextRunId++;
    m_dir = dir;
    m_totalSteps = cfg.run.steps;
    m_stepsDone.store(0);
    m_pauseFlag.store(paused);
    m_stopFlag.store(false);
    emit workerStart(m_runId, cfg, dir, paused, false);
    return m_runId;
}

int RunController::resumeRun(const h158::Config& cfg, const QString& dir, int64_t from) {
    if (isActive(m_state) || m_startPending) return 0;
    m_startPending = true;
    m_runId = m_nextRunId++;
    m_dir = dir;
    m_totalSteps = cfg.run.steps;
    m_stepsDone.store(from);
    m_pauseFlag.store(false);
    m_stopFlag.store(false);
    emit workerStart(m_runId, cfg, dir, false, true);
    return m_runId;
}

void RunController::pause() {
    m_pauseFlag.store(true);
    emit workerPause();
}

void RunController::resume() {
    m_pauseFlag.store(false);
    emit workerResume();
}

void RunController::togglePause() {
    if (m_state == RunState::Paused)
        resume();
    else if (m_state == RunState::Running || m_state == RunState::Starting)
        pause();
}

void RunController::step() {
    emit workerStep();
}

void RunController::stop() {
    m_stopFlag.store(true);
    emit workerStop();
}

void RunController::reset() {
    m_stopFlag.store(true);
    emit workerReset();
}

int RunController::sync() {
    const int token = m_nextToken++;
    emit workerPing(token);
    return token;
}

void RunController::onStarted(int runId, const QString& dir, qint64 totalSteps) {
    if (runId == m_runId) m_totalSteps = totalSteps;
    emit runStarted(runId, dir, totalSteps);
}

void RunController::onState(int runId, RunState s, const QString& message, qint64 steps) {
    // Reports arrive in the order the worker made them; a report from an older run can still be
    // in flight after a newer start was requested, so only the current run sets the state.
    if (runId == m_runId) {
        m_state = s;
        m_startPending = false;
    }
    emit stateChanged(runId, s, message, steps);
}

}  // namespace h158::ui
