#include "ui/run_worker.h"

#include <QMetaObject>
#include <QThread>
#include <algorithm>

namespace h158::ui {

namespace {
// A chunk runs steps for about this long before it returns to the event loop, so that queued
// commands are handled promptly; rows are sent to the UI at most once per flush interval.
constexpr qint64 kChunkMs = 15;
constexpr qint64 kFlushMs = 30;
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
    : m_mailbox(mailbox), m_pauseFlag(pauseFlag), m_stopFlag(stopFlag), m_stepsDone(stepsDone) {}

RunWorker::~RunWorker() {
    // Normally shutdown() has already stopped the run on the worker's own thread.
    if (m_session && !m_session->finished()) m_session->stop();
}

void RunWorker::takeCommands() {
    for (RunCommand& c : m_mailbox.takeCommands()) {
        switch (c.kind) {
            case RunCommand::Kind::Start:
                start(c.runId, c.cfg, c.dir, c.paused, c.resume);
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

void RunWorker::start(int runId, const h158::Config& cfg, const std::string& dir, bool paused,
                      bool resume) {
    if (isActive(m_state)) return;
    m_session.reset();
    m_batch = RunBatch{};
    m_runId = runId;
    m_batch.runId = runId;
    m_stepsDone.store(0);
    setState(RunState::Starting);
    try {
        m_session = resume ? RunSession::resume(dir) : std::make_unique<RunSession>(cfg, dir);
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
    flush();
    if (paused) {
        m_session->trainer().pauseClock();
        setState(RunState::Paused);
    } else {
        setState(RunState::Running);
        scheduleChunk();
    }
}

void RunWorker::pause() {
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

void RunWorker::stepOnce() {
    if (m_state != RunState::Paused) return;
    if (doStep()) {
        flush();
        setState(RunState::Paused);
    } else {
        endFromTrainer();
    }
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
    while (!m_pauseFlag.load() && !m_stopFlag.load() && chunk.elapsed() < kChunkMs) {
        more = doStep();
        if (!more) break;
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

bool RunWorker::doStep() {
    try {
        m_batch.rows.push_back(m_session->step());
    } catch (const std::exception& e) {
        m_session->trainer().fail(e.what());
    }
    m_stepsDone.store(m_session->trainer().stepsDone());
    for (auto& s : m_session->takeSnapshots()) addLatest(m_batch.snapshots, std::move(s));
    return !m_session->finished();
}

void RunWorker::flush() {
    m_sinceFlush.start();
    if (m_batch.rows.empty() && m_batch.snapshots.empty()) return;
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
