#include "ui/run_controller.h"

#include <algorithm>

#include "ui/run_worker.h"

namespace h158::ui {

namespace {
RunCommand command(RunCommand::Kind kind) {
    RunCommand c;
    c.kind = kind;
    return c;
}
}  // namespace

RunController::RunController(QObject* parent) : QObject(parent) {
    qRegisterMetaType<h158::ui::RunBatchPtr>();
    qRegisterMetaType<h158::ui::RunState>();
    m_thread.setObjectName(QStringLiteral("hybrid158-trainer"));
    m_worker = new RunWorker(m_mailbox, m_pauseFlag, m_stopFlag, m_stepsDone);
    m_worker->moveToThread(&m_thread);
    // Wake-ups only; the data is in m_mailbox (run_mailbox.h says why).
    connect(this, &RunController::commandsPosted, m_worker, &RunWorker::takeCommands);
    connect(m_worker, &RunWorker::reportsPosted, this, &RunController::takeReports);
    m_thread.start();
}

RunController::~RunController() {
    m_stopFlag.store(true);  // ends a running chunk after its current step
    RunCommand c;
    c.kind = RunCommand::Kind::Shutdown;
    post(std::move(c));
    m_thread.wait();
    // The worker closed the mailbox as its last act; checking it under the mailbox's lock orders
    // everything the worker wrote before the deletion below (QThread::wait orders it too, but
    // invisibly to ThreadSanitizer). If the thread ended some other way, quit() it.
    if (!m_mailbox.closed()) {
        m_thread.quit();
        m_thread.wait();
    }
    delete m_worker;
}

void RunController::post(RunCommand c) {
    if (m_mailbox.post(std::move(c))) emit commandsPosted();
}

void RunController::takeReports() {
    for (RunReport& r : m_mailbox.takeReports()) {
        switch (r.kind) {
            case RunReport::Kind::Started:
                if (r.runId == m_runId) m_totalSteps = r.totalSteps;
                emit runStarted(r.runId, QString::fromStdString(r.dir), r.totalSteps);
                break;
            case RunReport::Kind::Batch:
                emit batchReady(r.batch);
                break;
            case RunReport::Kind::State:
                onState(r.runId, r.state, QString::fromStdString(r.message), r.stepsDone);
                break;
            case RunReport::Kind::Pong:
                emit synced(r.token);
                break;
        }
    }
}

int RunController::start(const h158::Config& cfg, const QString& dir, bool paused) {
    return begin(cfg, dir, 0, paused, false);
}

int RunController::resumeRun(const h158::Config& cfg, const QString& dir, int64_t from) {
    return begin(cfg, dir, from, false, true);
}

int RunController::startFork(const h158::Config& cfg, const QString& parentDir, int64_t step,
                             const QStringList& set, const QString& dir) {
    RunCommand fork;
    fork.forkParent = parentDir.toStdString();
    fork.forkStep = step;
    for (const QString& s : set) fork.forkSet.push_back(s.toStdString());
    return begin(cfg, dir, step, false, false, std::move(fork));
}

void RunController::edit(const QString& key, const QString& value) {
    if (!isActive(m_state)) return;
    RunCommand c;
    c.kind = RunCommand::Kind::Edit;
    c.key = key.toStdString();
    c.value = value.toStdString();
    post(std::move(c));
}

int RunController::begin(const h158::Config& cfg, const QString& dir, int64_t from, bool paused,
                         bool resume, RunCommand fork) {
    if (isActive(m_state) || m_startPending) return 0;
    m_startPending = true;
    m_runId = m_nextRunId++;
    m_dir = dir;
    m_totalSteps = cfg.run.steps;
    m_stepsDone.store(from);
    m_pauseFlag.store(paused);
    m_stopFlag.store(false);
    RunCommand c = std::move(fork);
    c.kind = RunCommand::Kind::Start;
    c.runId = m_runId;
    c.cfg = cfg;
    c.dir = dir.toStdString();
    c.paused = paused;
    c.resume = resume;
    post(std::move(c));
    return m_runId;
}

void RunController::pause() {
    m_pauseFlag.store(true);
    post(command(RunCommand::Kind::Pause));
}

void RunController::resume() {
    m_pauseFlag.store(false);
    post(command(RunCommand::Kind::Resume));
}

void RunController::togglePause() {
    if (m_state == RunState::Paused)
        resume();
    else if (m_state == RunState::Running || m_state == RunState::Starting)
        pause();
}

void RunController::step() {
    post(command(RunCommand::Kind::Step));
}

void RunController::stepStage() {
    if (m_state == RunState::Running || m_state == RunState::Starting) pause();
    post(command(RunCommand::Kind::StepStage));
}

void RunController::setWeightMapTensor(int tensor) {
    RunCommand c = command(RunCommand::Kind::WeightMap);
    c.tensor = tensor;
    post(std::move(c));
}

void RunController::setSpeed(double stepsPerSecond) {
    m_speed = std::max(0.0, stepsPerSecond);
    RunCommand c = command(RunCommand::Kind::Speed);
    c.stepsPerSecond = m_speed;
    post(std::move(c));
}

void RunController::runUntil(const std::optional<h158::LessonCondition>& cond) {
    if (cond) m_pauseFlag.store(false);
    RunCommand c = command(RunCommand::Kind::RunUntil);
    c.until = cond;
    post(std::move(c));
}

void RunController::stop() {
    m_stopFlag.store(true);
    post(command(RunCommand::Kind::Stop));
}

void RunController::reset() {
    m_stopFlag.store(true);
    post(command(RunCommand::Kind::Reset));
}

int RunController::sync() {
    const int token = m_nextToken++;
    RunCommand c = command(RunCommand::Kind::Ping);
    c.token = token;
    post(std::move(c));
    return token;
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
