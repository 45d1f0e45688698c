// The only channel between RunController (UI thread) and RunWorker (its training thread): two
// queues under one mutex, commands one way and reports the other. Queued Qt signals carry only
// the wake-up ("there is mail"), never data: Qt orders a queued call's arguments with locks
// inside Qt, which neither a reader of this code nor ThreadSanitizer (Debian's Qt is not
// instrumented) can see; here every hand-over is ordered by this mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config/config.h"
#include "core/train/lesson.h"
#include "ui/run_state.h"

namespace h158::ui {

struct RunCommand {
    enum class Kind {
        Start, Pause, Resume, Step, StepStage, Stop, Reset, Ping, Shutdown, WeightMap, Speed,
        RunUntil, Edit
    };
    Kind kind = Kind::Ping;
    int runId = 0;       // Start
    h158::Config cfg;    // Start
    std::string dir;     // Start
    bool paused = false; // Start
    bool resume = false; // Start: continue the run in dir from its checkpoint
    std::string forkParent;          // Start: a fork of this run (fork.h) at forkStep, with forkSet
    int64_t forkStep = 0;
    std::vector<std::string> forkSet;
    std::string key, value;          // Edit: a live setting's new value (events.h), as --set text
    int token = 0;       // Ping
    int tensor = -1;     // WeightMap: the layout tensor whose map batches carry (-1: none)
    double stepsPerSecond = 0;  // Speed: the most steps a running run takes per second (0: no limit)
    std::optional<h158::LessonCondition> until;  // RunUntil: pause at the first row meeting it
                                                 // (none: forget the one set before)
};

struct RunReport {
    enum class Kind { Started, Batch, State, Pong };
    Kind kind = Kind::Pong;
    int runId = 0;
    std::string dir;           // Started
    int64_t totalSteps = 0;    // Started
    RunBatchPtr batch;         // Batch
    RunState state = RunState::Idle;  // State
    std::string message;       // State
    int64_t stepsDone = 0;     // State
    int token = 0;             // Pong
};

class RunMailbox {
  public:
    // Each post returns true when its queue was empty, that is when the receiver has no wake-up
    // pending and must be sent one; a receiver always takes the whole queue.
    bool post(RunCommand c) {
        std::lock_guard lock(m_mutex);
        m_commands.push_back(std::move(c));
        return m_commands.size() == 1;
    }
    bool post(RunReport r) {
        std::lock_guard lock(m_mutex);
        if (m_closed) return false;
        m_reports.push_back(std::move(r));
        return m_reports.size() == 1;
    }
    std::vector<RunCommand> takeCommands() {
        std::lock_guard lock(m_mutex);
        return std::exchange(m_commands, {});
    }
    std::vector<RunReport> takeReports() {
        std::lock_guard lock(m_mutex);
        return std::exchange(m_reports, {});
    }
    // Called by the worker as its last act: later reports are dropped, and whoever locks the
    // mailbox next sees every write the worker made before (the controller does, before it
    // deletes the worker).
    void close() {
        std::lock_guard lock(m_mutex);
        m_closed = true;
    }
    bool closed() {
        std::lock_guard lock(m_mutex);
        return m_closed;
    }

  private:
    std::mutex m_mutex;
    std::vector<RunCommand> m_commands;
    std::vector<RunReport> m_reports;
    bool m_closed = false;
};

}  // namespace h158::ui
