// `run`: trains one configuration headless and writes its run directory. Ctrl-C ends the run
// as stopped with everything written; a progress bar goes to stderr when it is a terminal.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/cli.h"
#include "app/cli_args.h"
#include "app/cli_session.h"
#include "core/base/errors.h"
#include "core/exp/events.h"
#include "core/exp/fork.h"

namespace h158::cli {

Config resolveConfig(const Args& args);
void addConfigOptions(Args& args);

namespace {

std::atomic<bool> g_interrupted{false};

void onSignal(int) { g_interrupted.store(true); }

void drawProgress(int64_t done, int64_t total, double seconds, double loss) {
    const int width = 30;
    const int filled = int(double(width) * double(done) / double(std::max<int64_t>(1, total)));
    const double rate = seconds > 0 ? double(done) / seconds : 0.0;
    const double eta = rate > 0 ? double(total - done) / rate : 0.0;
    std::fprintf(stderr, "\r[%.*s%*s] %lld/%lld  %.1f steps/s  ETA %.0fs  loss %.5g   ",
                 filled, "##############################", width - filled, "",
                 (long long)done, (long long)total, rate, eta, loss);
    std::fflush(stderr);
}

}  // namespace

int driveSession(RunSession& session, const char* what, const std::string& out) {
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    // `sweep` starts its runs with these blocked, so a Ctrl-C that comes before the handler is
    // installed still stops the run cleanly here
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &stopSignals, nullptr);
    const bool tty = isatty(STDERR_FILENO);
    const auto t0 = std::chrono::steady_clock::now();
    auto lastDraw = t0;
    Trainer& tr = session.trainer();
    std::fprintf(stderr, "hybrid158-cli %s: %s -> %s\n", what, tr.config().run.name.c_str(), out.c_str());
    if (session.resumedAt() > 0)
        std::fprintf(stderr, "hybrid158-cli %s: continuing from the checkpoint at step %lld\n", what,
                     (long long)session.resumedAt());
    try {
        while (!session.finished()) {
            if (g_interrupted.load()) {
                session.stop();
                break;
            }
            const StepMetrics row = session.step();
            const auto now = std::chrono::steady_clock::now();
            if (tty && (now - lastDraw > std::chrono::milliseconds(100) || session.finished())) {
                drawProgress(tr.stepsDone(), tr.totalSteps(),
                             std::chrono::duration<double>(now - t0).count(), row.loss);
                lastDraw = now;
            }
        }
    } catch (const std::exception& e) {
        if (tty) std::fprintf(stderr, "\n");
        std::fprintf(stderr, "hybrid158-cli %s: %s\n", what, tr.summary().message.c_str());
        return 1;
    }
    if (tty) std::fprintf(stderr, "\n");
    session.finish();
    const Summary s = tr.summary();
    nlohmann::json line = s.toJson();
    line["dir"] = out;
    line.erase("components");
    std::printf("%s\n", line.dump().c_str());
    if (s.status == RunStatus::Completed) return 0;
    std::fprintf(stderr, "hybrid158-cli %s: %s\n", what, s.message.c_str());
    return 1;
}

int runCommand(int argc, char** argv) {
    Config cfg;
    std::string out;
    std::vector<RunEvent> events;
    Args args("run",
              "Trains one configuration headless and writes its run directory (config.json,\n"
              "metrics.csv, snapshots.jsonl, summary.json, weights, checkpoint); prints the\n"
              "summary as one JSON line. Ctrl-C stops the run with everything written.\n"
              "Exit: 0 completed, 1 diverged, failed or stopped, 2 usage or configuration error.");
    addConfigOptions(args);
    args.option("steps", "N", "Training steps (sets run.steps)")
        .option("seed", "S", "Random seed (sets run.seed)")
        .repeatable("at", "STEP:key=value",
                    "Change a live setting after STEP steps, e.g. 300:optim.lr=0.001 (repeatable;\n"
                    "recorded in events.jsonl; `config --live` lists the settings that can change)")
        .option(
            "out", "DIR",
            "The run directory to write; it must not hold a run (default: a new one under runs/)");
    if (const auto rc = args.parse(argc, argv)) return *rc;
    try {
        cfg = resolveConfig(args);
        if (args.has("steps")) applySetting(cfg, "run.steps=" + args.get("steps"));
        if (args.has("seed")) applySetting(cfg, "run.seed=" + args.get("seed"));
        validate(cfg);
        for (const std::string& at : args.all("at")) events.push_back(parseAtOption(at));
        events = scheduleEvents(cfg, std::move(events));
        out = args.has("out") ? args.get("out") : newRunDirectory("runs", cfg.run.name);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli run: %s\n", e.what());
        return 2;
    }

    std::unique_ptr<RunSession> session;
    const bool heldRun = std::filesystem::exists(std::filesystem::path(out) / "metrics.csv");
    try {
        session = std::make_unique<RunSession>(cfg, out, std::move(events));
    } catch (const std::exception& e) {
        // The session reads every input before it writes; once it has opened the run's files
        // (metrics.csv is there, and was not), a failure is a write that failed (a full disk):
        // the run ended as failed, summary.json says so, and that is exit 1, not bad input.
        const bool started =
            !heldRun && std::filesystem::exists(std::filesystem::path(out) / "metrics.csv");
        const int code = started ? 1 : exitCodeFor(e);
        std::fprintf(stderr, "hybrid158-cli run: %s%s\n",
                     code == 1 && !started ? "failed to start: " : "", e.what());
        return code;
    }

    return driveSession(*session, "run", out);
}

int resumeCommand(int argc, char** argv) {
    Args args("resume",
              "Continues a stopped, killed or failed run from its checkpoint, bit for bit.\n"
              "Exit as `run`: 0 completed, 1 not, 2 nothing to continue or a usage error.");
    args.positional("dir", "DIR", "The run directory to continue");
    if (const auto rc = args.parse(argc, argv)) return *rc;
    if (!args.has("dir")) return args.usageError("expected one run directory");
    const std::string dir = args.get("dir");
    std::unique_ptr<RunSession> session;
    try {
        session = RunSession::resume(dir);
    } catch (const std::exception& e) {
        const int code = exitCodeFor(e);
        std::fprintf(stderr, "hybrid158-cli resume: %s%s\n", code == 1 ? "cannot continue: " : "",
                     e.what());
        return code;
    }
    return driveSession(*session, "resume", dir);
}

int forkCommand(int argc, char** argv) {
    Args args("fork",
              "Starts a new run from RUN_DIR's checkpoint at step N, with changes: the new\n"
              "directory records its parent and fork step (fork.json), its rows start after N,\n"
              "and the parent's later edits (events.jsonl) replay in it, so a fork with no change\n"
              "continues exactly as its parent did. Only settings that can change during a run\n"
              "can change at a fork (`config --live` lists them).\n"
              "Exit as `run`: 0 completed, 1 not, 2 no such checkpoint, a refused change or a\n"
              "usage error.");
    args.positional("dir", "RUN_DIR", "The parent run directory")
        .option("step", "N", "The parent's step to start from (a step with a checkpoint)", true)
        .repeatable("set", "key=value", "A change applied at the fork step (repeatable)")
        .option("out", "DIR", "The fork's run directory (default: a new one beside the parent)");
    if (const auto rc = args.parse(argc, argv)) return *rc;
    if (!args.has("dir")) return args.usageError("expected the parent run directory");
    const std::string parent = args.get("dir");
    std::unique_ptr<RunSession> session;
    std::string out;
    try {
        const long long step = args.getInt("step", 0);
        if (args.has("out")) {
            out = args.get("out");
        } else {
            const std::filesystem::path p = std::filesystem::absolute(parent).lexically_normal();
            const std::string name = (p.has_filename() ? p : p.parent_path()).filename().string();
            out = newRunDirectory((p.has_filename() ? p : p.parent_path()).parent_path().string(),
                                  name + "-fork" + std::to_string(step));
        }
        session = forkRun(parent, step, args.all("set"), out);
    } catch (const std::exception& e) {
        const int code = exitCodeFor(e);
        std::fprintf(stderr, "hybrid158-cli fork: %s%s\n", code == 1 ? "cannot fork: " : "",
                     e.what());
        return code;
    }
    return driveSession(*session, "fork", out);
}

std::string selfExecutable() {
    std::error_code ec;
    const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) throw FileError("/proc/self/exe: cannot read: " + ec.message());
    return p.string();
}

}  // namespace h158::cli
