#include "ui/run_worker.h"

#include "core/exp/fork.h"

#include <QMetaObject>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <cmath>

namespace h158::ui {

namespace {
// A chunk runs steps for about this long before it returns to the event loop, so that queued
// commands are handled promptly; rows are sent to the UI at most once per flush interval.
constexpr qint64 kChunkMs = 15;
constexpr qint64 kFlushMs = 30;
// A weight map copies a whole tensor: a running run sends one at most this often.
constexpr qint64 kMapMs = 100;
}  // namespace

QString stateName(RunState s) {
    switch (s) {
        case RunState::Idle:
            return QStringLiteral("idle");
        case RunState::Starting:
            return QStringLiteral("starting");
        case RunState::Running:
            return QStringLiteral("running");
        case RunState::Paused:
            return QStringLiteral("paused");
        case RunState::Completed:
            return QStringLiteral("completed");
        case RunState::Stopped:
            return QStringLiteral("stopped");
        case RunState::Diverged:
            return QStringLiteral("diverged");
        case RunState::Failed:
            return QStringLiteral("failed");
        case RunState::Interrupted:
            return QStringLiteral("interrupted");
        case RunState::Unreadable:
            return QStringLiteral("unreadable");
    }
    return {};
}

void addLatest(std::vector<Snapshot>& list, Snapshot s) {
    auto obsolete = [&](const Snapshot& old) {
        if (old.kind != s.kind || s.kind == "samples") return false;
        if (s.kind == "weights")
            return old.data.value("tensor", std::string()) == s.data.value("tensor", std::string());
        return true;
    };
    list.erase(std::remove_if(list.begin(), list.end(), obsolete), list.end());
    list.push_back(std::move(s));
}

RunWorker::RunWorker(RunMailbox& mailbox, std::atomic<bool>& pauseFlag,
                     std::atomic<bool>& stopFlag, std::atomic<int64_t>& stepsDone)
    : m_mailbox(mailbox), m_pauseFlag(pauseFlag), m_stopFlag(stopFlag), m_stepsDone(stepsDone) {
    m_clock.start();
    m_sinceMap.start();
}

RunWorker::~RunWorker() {
    // Normally shutdown() has already stopped the run on the worker's own thread.
    if (m_session && !m_session->finished()) m_session->stop();
}

void RunWorker::takeCommands() {
    for (RunCommand& c : m_mailbox.takeCommands()) {
        switch (c.kind) {
            case RunCommand::Kind::Start:
                start(c);
                break;
            case RunCommand::Kind::Edit:
                edit(c.key, c.value);
                break;
            case RunCommand::Kind::Pause:
                pause();
                break;
            case RunCommand::Kind::Resume:
                resume();
                break;
            case RunCommand::Kind::Step:
                stepOnce();
                break;
            case RunCommand::Kind::StepStage:
                stepStage();
                break;
            case RunCommand::Kind::WeightMap:
                setWeightMapTensor(c.tensor);
                break;
            case RunCommand::Kind::Speed:
                setSpeed(c.stepsPerSecond);
                break;
            case RunCommand::Kind::RunUntil:
                runUntil(c.until);
                break;
            case RunCommand::Kind::Stop:
                stop();
                break;
            case RunCommand::Kind::Reset:
                reset();
                break;
            case RunCommand::Kind::Ping: {
                RunReport r;
                r.kind = RunReport::Kind::Pong;
                r.token = c.token;
                report(std::move(r));
                break;
            }
            case RunCommand::Kind::Shutdown:
                shutdown();
                return;  // nothing after the last command
        }
    }
}

void RunWorker::report(RunReport r) {
    if (m_mailbox.post(std::move(r))) emit reportsPosted();
}

void RunWorker::start(const RunCommand& c) {
    const int runId = c.runId;
    const std::string& dir = c.dir;
    const bool paused = c.paused;
    if (isActive(m_state)) return;
    m_session.reset();
    m_batch = RunBatch{};
    m_runId = runId;
    m_batch.runId = runId;
    m_stepsDone.store(0);
    setState(RunState::Starting);
    try {
        if (!c.forkParent.empty())
            m_session = forkRun(c.forkParent, c.forkStep, c.forkSet, dir);
        else if (c.resume)
            m_session = RunSession::resume(dir);
        else
            m_session = std::make_unique<RunSession>(c.cfg, dir);
        m_stepsDone.store(m_session->trainer().stepsDone());
    } catch (const std::exception& e) {
        setState(RunState::Failed, e.what());
        return;
    }
    RunReport started;
    started.kind = RunReport::Kind::Started;
    started.runId = runId;
    started.dir = dir;
    started.totalSteps = m_session->trainer().totalSteps();
    report(std::move(started));
    for (auto& s : m_session->takeSnapshots()) m_batch.snapshots.push_back(std::move(s));
    m_batch.events = m_session->events();
    flush();
    if (paused) {
        m_session->trainer().pauseClock();
        setState(RunState::Paused);
    } else {
        setState(RunState::Running);
        scheduleChunk();
    }
}

void RunWorker::edit(const std::string& key, const std::string& value) {
    if (!m_session || !isActive(m_state) || m_session->finished()) {
        m_batch.refusedEdits.push_back(key + ": the run has ended");
        flush();
        return;
    }
    try {
        m_batch.events.push_back(m_session->edit(key, value, "workbench"));
    } catch (const std::exception& e) {
        m_batch.refusedEdits.push_back(e.what());
    }
    flush();
}

void RunWorker::pause() {
    m_until.reset();  // a pause, asked for or reached, ends a run-until
    if (m_state != RunState::Running) return;
    flush();
    m_session->trainer().pauseClock();
    setState(RunState::Paused);
}

void RunWorker::resume() {
    if (m_state != RunState::Paused) return;
    m_session->trainer().resumeClock();
    setState(RunState::Running);
    scheduleChunk();
}

void RunWorker::stepOnce() { stepWhilePaused(false); }

void RunWorker::stepStage() { stepWhilePaused(true); }

// One step of a paused run, or one stage of one (`stage`), shown at once.
void RunWorker::stepWhilePaused(bool stage) {
    if (m_state != RunState::Paused) return;
    if (doStep(stage)) {
        flush(true);
        setState(RunState::Paused);
    } else {
        endFromTrainer();
    }
}

void RunWorker::setWeightMapTensor(int tensor) {
    m_mapTensor = tensor;
    if (m_session && tensor >= 0) flush(true);
}

void RunWorker::runUntil(const std::optional<h158::LessonCondition>& cond) {
    m_until = cond;
    if (cond && m_state == RunState::Paused) resume();
}

void RunWorker::setSpeed(double stepsPerSecond) {
    m_stepsPerSecond = stepsPerSecond;
    m_nextStepMs = 0;
}

void RunWorker::stop() {
    if (!isActive(m_state)) return;
    stopRun();
}

void RunWorker::reset() {
    if (isActive(m_state)) stopRun();
    m_session.reset();
    m_stepsDone.store(0);
    setState(RunState::Idle);
}

void RunWorker::shutdown() {
    if (m_session && !m_session->finished()) m_session->stop();
    m_session.reset();
    m_state = RunState::Idle;
    m_mailbox.close();
    QThread::currentThread()->quit();
}

void RunWorker::stopRun() {
    // a step under way in stages is completed first, and its row shown like any other
    while (m_session->trainer().midStep() && doStep(true)) {
    }
    m_session->stop();
    flush();
    setState(RunState::Stopped, m_session->trainer().summary().message);
}

void RunWorker::scheduleChunk() {
    if (m_chunkQueued) return;
    m_chunkQueued = true;
    QMetaObject::invokeMethod(this, &RunWorker::runChunk, Qt::QueuedConnection);
}

void RunWorker::runChunk() {
    m_chunkQueued = false;
    if (m_state != RunState::Running) return;
    QElapsedTimer chunk;
    chunk.start();
    bool more = true;
    double waitMs = 0;  // a throttled run's time to its next step
    while (!m_pauseFlag.load() && !m_stopFlag.load() && chunk.elapsed() < kChunkMs) {
        if (m_stepsPerSecond > 0) {
            const double now = double(m_clock.nsecsElapsed()) / 1e6;
            if (now < m_nextStepMs) {
                waitMs = m_nextStepMs - now;
                break;
            }
            // a run that fell behind (a slow step) does not catch up in a burst
            m_nextStepMs = std::max(m_nextStepMs, now - 1000.0 / m_stepsPerSecond) +
                           1000.0 / m_stepsPerSecond;
        }
        more = doStep();
        if (!more) break;
        if (m_until && m_until->holds(m_batch.rows.back())) {
            pause();  // right after the first row that meets the condition
            return;
        }
    }
    if (more && waitMs > 0 && !m_pauseFlag.load() && !m_stopFlag.load()) {
        flush();  // a slow run shows every step as it comes
        m_chunkQueued = true;
        QTimer::singleShot(int(std::ceil(waitMs)), this, &RunWorker::runChunk);
        return;
    }
    if (!more) {
        endFromTrainer();
    } else if (m_stopFlag.load()) {
        stopRun();
    } else if (m_pauseFlag.load()) {
        pause();
    } else {
        if (m_sinceFlush.elapsed() >= kFlushMs) flush();
        scheduleChunk();
    }
}

bool RunWorker::doStep(bool stage) {
    try {
        if (stage) {
            StepMetrics row;
            StageReport r = m_session->stepStage(&row);
            if (r.last) m_batch.rows.push_back(row);
            m_batch.stages.push_back(std::move(r));
        } else {
            m_batch.rows.push_back(m_session->step());
        }
    } catch (const std::exception& e) {
        m_session->trainer().fail(e.what());
    }
    m_stepsDone.store(m_session->trainer().stepsDone());
    for (auto& s : m_session->takeSnapshots()) addLatest(m_batch.snapshots, std::move(s));
    return !m_session->finished();
}

void RunWorker::flush(bool freshMap) {
    m_sinceFlush.start();
    if (m_session && m_mapTensor >= 0 && (freshMap || (!m_batch.rows.empty() && m_sinceMap.elapsed() >= kMapMs))) {
        try {
            m_batch.weightMap = std::make_shared<const WeightMap>(m_session->trainer().weightMap(m_mapTensor));
        } catch (const std::exception&) {
            m_mapTensor = -1;  // not a matrix of this model (a map asked for before the run changed)
        }
        m_sinceMap.start();
    }
    if (m_batch.rows.empty() && m_batch.snapshots.empty() && m_batch.stages.empty() &&
        !m_batch.weightMap && m_batch.events.empty() && m_batch.refusedEdits.empty())
        return;
    auto out = std::make_shared<RunBatch>(std::move(m_batch));
    m_batch = RunBatch{};
    m_batch.runId = m_runId;
    RunReport r;
    r.kind = RunReport::Kind::Batch;
    r.runId = m_runId;
    r.batch = std::move(out);
    report(std::move(r));
}

void RunWorker::endFromTrainer() {
    m_session->finish();
    flush();
    const Summary s = m_session->trainer().summary();
    RunState st = RunState::Completed;
    switch (s.status) {
        case RunStatus::Running:
        case RunStatus::Completed:
            st = RunState::Completed;
            break;
        case RunStatus::Stopped:
            st = RunState::Stopped;
            break;
        case RunStatus::Diverged:
            st = RunState::Diverged;
            break;
        case RunStatus::Failed:
            st = RunState::Failed;
            break;
    }
    setState(st, s.message);
}

void RunWorker::setState(RunState s, std::string message) {
    m_state = s;
    RunReport r;
    r.kind = RunReport::Kind::State;
    r.runId = m_runId;
    r.state = s;
    r.message = std::move(message);
    r.stepsDone = m_stepsDone.load();
    report(std::move(r));
}

}  // namespace h158::ui
