// The UI thread's handle on training: owns the worker thread and its RunWorker, turns button
// presses into commands posted to their mailbox (plus atomic flags that end a running chunk
// between two steps), and relays the worker's batches and state reports as signals on the UI
// thread. Nothing here waits on a step.
#pragma once

#include <QObject>
#include <QThread>
#include <atomic>

#include "core/config/config.h"
#include "ui/run_mailbox.h"
#include "ui/run_state.h"

namespace h158::ui {

class RunWorker;

class RunController : public QObject {
    Q_OBJECT
  public:
    explicit RunController(QObject* parent = nullptr);
    // Stops the run between two steps (its worker writes summary.json on its own thread), then
    // waits for the thread to end.
    ~RunController() override;

    // Starts a new run writing to `dir`; returns its id. Ignored (returns 0) while one is active.
    int start(const h158::Config& cfg, const QString& dir, bool paused = false);
    // Continues the run in `dir` (cfg: its config.json) from its checkpoint at step `from`;
    // returns its id, 0 while a run is active. A refusal ends it as failed with the reason.
    int resumeRun(const h158::Config& cfg, const QString& dir, int64_t from);
    // Starts a fork of the run in `parentDir` at its checkpoint of step `step`, with `set`
    // ("key=value" of live settings), writing to `dir` (fork.h); cfg is the fork's configuration
    // for the caller's views. 0 while a run is active; a refusal ends it as failed with the reason.
    int startFork(const h158::Config& cfg, const QString& parentDir, int64_t step,
                  const QStringList& set, const QString& dir);
    // Changes a live setting of the active run at its next step boundary (RunSession::edit): the
    // batch carries the event, or the refusal with its reason.
    void edit(const QString& key, const QString& value);
    void pause();
    void resume();
    void togglePause();
    void step();  // exactly one step; only while paused
    // The next stage of a step taken in stages (a running run is paused first); the batch carries
    // its StageReport, and the row when the step completes.
    void stepStage();
    // While tensor >= 0 every batch carries a fresh map of that layout tensor (at most ~10 per
    // second while running, and after every step or stage); -1 stops them.
    void setWeightMapTensor(int tensor);
    // The most steps per second a running run takes, so a class can watch it (0: as fast as it
    // can). The steps and their results are the same either way.
    void setSpeed(double stepsPerSecond);
    double speed() const { return m_speed; }
    // Runs (resuming a paused run) until a row meets `cond`, and pauses right after that step:
    // the worker checks every row, so the run stops exactly there. nullopt forgets a condition
    // not yet met (the run goes on as it was). Pause also forgets it.
    void runUntil(const std::optional<h158::LessonCondition>& cond);
    void stop();
    void reset();
    // Answered by synced(token) after the worker has handled every earlier command.
    int sync();

    // The state the worker last reported (of the current run), and its step count right now.
    RunState state() const { return m_state; }
    int currentRunId() const { return m_runId; }
    int64_t stepsDone() const { return m_stepsDone.load(); }
    const QString& runDirectory() const { return m_dir; }
    int64_t totalSteps() const { return m_totalSteps; }

  signals:
    void runStarted(int runId, const QString& dir, qint64 totalSteps);
    void batchReady(const h158::ui::RunBatchPtr& batch);
    void stateChanged(int runId, h158::ui::RunState state, const QString& message,
                      qint64 stepsDone);
    void synced(int token);

    // Wakes the worker (queued into its thread): it takes every command in the mailbox.
    void commandsPosted();

  private:
    // start() and resumeRun(): a run `dir` from step `from` (0: a new run).
    int begin(const h158::Config& cfg, const QString& dir, int64_t from, bool paused, bool resume,
              RunCommand fork = {});
    void post(RunCommand c);
    void takeReports();  // the worker's wake-up: relays every report in the mailbox
    void onState(int runId, RunState s, const QString& message, qint64 steps);

    RunMailbox m_mailbox;
    QThread m_thread;
    RunWorker* m_worker = nullptr;
    std::atomic<bool> m_pauseFlag{false};
    std::atomic<bool> m_stopFlag{false};
    std::atomic<int64_t> m_stepsDone{0};
    RunState m_state = RunState::Idle;
    bool m_startPending = false;
    int m_runId = 0;
    int m_nextRunId = 1;
    int m_nextToken = 1;
    QString m_dir;
    int64_t m_totalSteps = 0;
    double m_speed = 0;
};

}  // namespace h158::ui

