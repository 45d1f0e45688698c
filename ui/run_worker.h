// The worker that owns a RunSession on the controller's thread. It takes commands from the
// mailbox it shares with the controller (woken by a queued signal that carries no data), runs
// steps in short chunks so commands are handled between them, and posts rows and snapshots back
// in batches (at most ~30 per second). The UI's atomic flags end a chunk early, between two
// steps, so Pause and Stop take effect within one step.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "core/config/config.h"
#include "core/exp/run_session.h"
#include "ui/run_mailbox.h"
#include "ui/run_state.h"

namespace h158::ui {

class RunWorker : public QObject {
    Q_OBJECT
  public:
    RunWorker(RunMailbox& mailbox, std::atomic<bool>& pauseFlag, std::atomic<bool>& stopFlag,
              std::atomic<int64_t>& stepsDone);
    ~RunWorker() override;

    // Handles every command in the mailbox, in order (the slot of the controller's wake-up).
    void takeCommands();

  signals:
    // Wakes the controller (queued into its thread): it takes every report in the mailbox.
    void reportsPosted();

  private:
    // Commands; each is ignored when it does not apply to the current state.
    // Starts a new run in `dir`, or (resume) continues the run in `dir` from its checkpoint
    // (RunSession::resume; cfg is then the run's own, for the caller's views only).
    void start(const RunCommand& c);
    // A live setting changed at the next step boundary (RunSession::edit); a refusal goes back
    // in the batch with its reason.
    void edit(const std::string& key, const std::string& value);
    void pause();
    void resume();
    void stepOnce();
    void stepStage();  // the next stage of a step taken in stages; only while paused
    void setWeightMapTensor(int tensor);
    void setSpeed(double stepsPerSecond);
    void runUntil(const std::optional<h158::LessonCondition>& cond);
    void stop();
    void reset();  // ends an active run as stopped and forgets it
    // Stops an active run (summary.json), forgets it, closes the mailbox and ends the thread's
    // event loop: the last command the controller sends.
    void shutdown();
    void report(RunReport r);

    void runChunk();
    void scheduleChunk();
    // One step, or the next stage of one (`stage`); false when the run ended (finished,
    // diverged, failed).
    bool doStep(bool stage = false);
    void stepWhilePaused(bool stage);
    // Sends the batch (and, when one is asked for and due or `freshMap`, a weight map).
    void flush(bool freshMap = false);
    void setState(RunState s, std::string message = {});
    void endFromTrainer();
    void stopRun();

    RunMailbox& m_mailbox;
    std::atomic<bool>& m_pauseFlag;
    std::atomic<bool>& m_stopFlag;
    std::atomic<int64_t>& m_stepsDone;
    std::unique_ptr<RunSession> m_session;
    RunState m_state = RunState::Idle;
    int m_runId = 0;
    bool m_chunkQueued = false;
    RunBatch m_batch;
    QElapsedTimer m_sinceFlush;
    int m_mapTensor = -1;      // the weight map batches carry (-1: none)
    QElapsedTimer m_sinceMap;  // since the last map sent
    double m_stepsPerSecond = 0;  // 0: no limit
    QElapsedTimer m_clock;        // the throttle's clock (started with the worker)
    double m_nextStepMs = 0;      // m_clock time before which a throttled run takes no step
    std::optional<h158::LessonCondition> m_until;  // pause after the first row that meets it
};

}  // namespace h158::ui
