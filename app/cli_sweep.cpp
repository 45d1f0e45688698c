// `sweep`: a grid of configurations × seeds (core/exp/sweep.h) in one folder, each run a child
// process of this executable (`sweep --out DIR --task I`), at most --jobs at once, so that a run
// that crashes ends alone. Ctrl-C (SIGINT, SIGTERM) is passed on to the runs, which stop as
// `stopped` with a checkpoint; a second Ctrl-C kills them. The same command again continues.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/cli.h"
#include "app/cli_args.h"
#include "app/cli_session.h"
#include "app/cli_slurm.h"
#include "core/base/file_io.h"
#include "core/exp/fork.h"
#include "core/exp/sweep.h"

extern char** environ;

namespace h158::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char* const kDescription =
    "A grid of configurations x seeds in one folder, each run a child process of this\n"
    "program, at most --jobs at once; the same command again continues it.";

const char* const kForms = R"(
Forms:
  hybrid158-cli sweep [--preset NAME | --config FILE | --file SWEEP.json] [--set key=value]...
                      [--grid key=v1,v2,...]... [--seeds N] [--steps N] [--jobs J]
                      [--threads T] [--dry-run] --out DIR
  hybrid158-cli sweep --from RUN_DIR --step N [--set key=value]... [--grid key=v1,v2,...]...
                      [--jobs J] --out DIR          every run a fork of RUN_DIR at step N
  hybrid158-cli sweep --out DIR [--jobs J]          continue the sweep in DIR
  hybrid158-cli sweep --out DIR --task I [--threads T]   run (or resume) run I of DIR alone
  hybrid158-cli sweep ... --backend slurm [--partition P] [--time T] [--jobs J] [--threads T]
                                                    submit the runs to Slurm as one job array
  hybrid158-cli sweep status DIR                    each run's state (with Slurm's queue)

Runs every combination of the --grid values (the first --grid varies slowest) and, innermost,
--seeds seeds (run.seed = s, s+1, ..., s the configuration's own). Every key and value is checked
as --set checks it, and every run's configuration is validated, before anything starts.
With --from, every run starts from RUN_DIR's checkpoint at step N (as `fork` does: rows after N,
fork.json naming the parent); the grid and --set then hold settings that can change during a run.
--file reads {"preset" | "config", "set": {...}, "grid": {"key": [values], ...}, "seeds": N,
"from": {"run": DIR, "step": N}};
options given beside it add to it (--grid of the same key replaces that axis).

DIR/sweep.json    the base, the grid, the seeds and every run: index, dir, overrides
DIR/NNN-name/     run I's run directory (as `run` writes it) and log.txt, its output
DIR/summary.csv   one row per run, rewritten as each run ends

Given again (the same sweep, or --out DIR alone), runs with a result (completed, diverged) are
kept, runs that stopped, were killed or failed are resumed from their checkpoint, and runs with
no usable checkpoint start over; a different base, grid or seeds is refused. Checkpoints are
written as the configuration says (run.checkpoint_every, default 100 steps; 0 = none, and a
stopped run then starts over). With run.threads 0 each run gets max(1, cores / J) threads
(--threads T sets it); the metrics do not depend on it. --dry-run writes sweep.json and lists
the runs without starting any.

With --backend slurm the runs that have no result yet (and are not queued by an earlier
submission) are written as one job array, DIR/slurm/sweep-N.sbatch, whose task I runs
`sweep --out DIR --task I` in the current directory, and submitted with sbatch (the job id goes
to DIR/slurm/jobs.txt, each task's output to DIR/slurm/JOB_I.out). DIR must be on a filesystem the
nodes share. --jobs J caps the tasks running at once, --threads T is each task's CPU count (default
1), --partition and --time go to sbatch. `sweep status DIR` lists pending, running, completed, ...
per run from the run folders and squeue, and rewrites DIR/summary.csv.

Exit: 0 when every run completed, 1 when any did not (diverged, failed, stopped), 2 on a usage or
configuration error. --task exits as `run` does. With --backend slurm: 0 when submitted (or
nothing to submit), 1 when sbatch failed.
)";

constexpr int kMaxJobs = 256;

// Filled in by the pool, read by the signal handler (lock-free, so async-signal-safe).
std::atomic<int> g_signals{0};
std::atomic<pid_t> g_children[kMaxJobs];

// The first SIGINT/SIGTERM is passed on to every run (they stop cleanly); a second kills them.
void onSignal(int sig) {
    const int n = g_signals.fetch_add(1) + 1;
    for (auto& c : g_children)
        if (const pid_t p = c.load(); p > 0) ::kill(p, n == 1 ? sig : SIGKILL);
}

void setSignalHandlers(bool forward) {
    struct sigaction sa {};
    sa.sa_handler = forward ? onSignal : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: waitpid returns, so the pool stops starting runs
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

// The sweep as the options give it (on top of --file); *given says whether they give one at all.
SweepSpec specFromArgs(const Args& a, bool* given) {
    SweepSpec s;
    if (a.has("file")) s = readSweepSpecFile(a.get("file"));
    if (a.has("preset") && a.has("config"))
        throw UsageError("give either --preset or --config, not both");
    if (a.has("preset")) s = {a.get("preset"), "", s.set, s.grid, s.seeds};
    if (a.has("config")) s = {"", a.get("config"), s.set, s.grid, s.seeds};
    for (const auto& x : a.all("set")) s.set.push_back(x);
    if (a.has("steps")) s.set.push_back("run.steps=" + a.get("steps"));
    std::vector<std::string> ours;
    for (const auto& g : a.all("grid")) {
        SweepAxis axis = parseGridOption(g);
        if (std::find(ours.begin(), ours.end(), axis.key) != ours.end())
            throw UsageError("--grid " + axis.key + " is given twice");
        ours.push_back(axis.key);
        auto it = std::find_if(s.grid.begin(), s.grid.end(),
                               [&](const SweepAxis& x) { return x.key == axis.key; });
        if (it != s.grid.end())
            *it = axis;
        else
            s.grid.push_back(axis);
    }
    if (a.has("seeds")) s.seeds = a.getInt("seeds", 1);
    if (a.has("from") != a.has("step")) throw UsageError("--from and --step go together");
    if (a.has("from")) {
        s.fromRun = a.get("from");
        s.fromStep = a.getInt("step", 0);
    }
    *given = false;
    for (const char* o : {"file", "preset", "config", "steps", "seeds", "from"})
        *given = *given || a.has(o);
    *given = *given || !a.all("set").empty() || !a.all("grid").empty();
    return s;
}

// The sweep in `out`: the stored one (refused when the options give another), or a new one,
// expanded and validated before the folder is made.
Sweep prepareSweep(const std::string& out, const SweepSpec& spec, bool given) {
    const std::string file = (fs::path(out) / "sweep.json").string();
    if (fs::exists(file)) {
        Sweep stored = readSweepFile(file);
        if (given) {
            const std::string d = sweepDifference(stored, expandSweep(spec));
            if (!d.empty())
                throw UsageError(file + ": " + d + "; give the same sweep, or --out " + out +
                                 " alone to continue it, or another --out");
        }
        for (const auto& r : stored.runs) checkSweepRun(stored, r);
        return stored;
    }
    if (!given)
        throw UsageError(file + ": no sweep to continue; give one (--preset, --grid, --file ...)");
    Sweep s = expandSweep(spec);
    std::error_code ec;
    if (fs::exists(out) && !(fs::is_directory(out) && fs::is_empty(out)))
        throw UsageError(out + ": exists and holds no sweep.json; choose another --out");
    fs::create_directories(out, ec);
    if (ec) throw FileError(out + ": cannot create the sweep folder: " + ec.message());
    writeSweepFile(s, file);
    return s;
}

// Holds an exclusive lock on the folder `dir` until this process ends, so that two sweeps (or two
// tasks of one run) never write the same files; UsageError `busy` when another process holds it.
void lockFolder(const std::string& dir, const std::string& busy) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw FileError(dir + ": cannot open: " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        throw UsageError(dir + ": " + busy);
    }
}

// Removes what a run left in its directory, but its log.
void clearRunDirectory(const fs::path& dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().filename() != "log.txt") fs::remove_all(e.path(), ec);
    if (ec) throw FileError(dir.string() + ": cannot clear: " + ec.message());
}

// Refuses to continue a run directory whose configuration is not the sweep's (run.threads aside).
void checkSameConfig(const fs::path& dir, const Config& expected) {
    const std::string file = (dir / "config.json").string();
    const std::string d = configDifference(loadConfigFile(file), expected, "it", "sweep.json");
    if (!d.empty())
        throw FileError(file + ": not this sweep's run (" + d +
                        "); move the folder away to run it again");
}

// Refuses to continue a fork sweep's run directory that is not the fork the sweep would start.
void checkSameFork(const fs::path& dir, const Sweep& s, const SweepRun& run) {
    const std::optional<ForkInfo> f = readForkInfo(dir.string());
    if (!f || f->parent != s.spec.fromRun || f->step != s.spec.fromStep || f->set != forkChanges(s, run))
        throw FileError((dir / kForkFile).string() + ": not this sweep's fork of " + s.spec.fromRun +
                        " at step " + std::to_string(s.spec.fromStep) +
                        "; move the folder away to run it again");
}

// sweep --out DIR --task I: starts, resumes or starts over run I of the sweep, in this process.
int runTask(const std::string& out, int64_t index, int64_t threads) {
    Config cfg;
    fs::path dir;
    Sweep s;
    SweepRun run;
    try {
        s = readSweepFile((fs::path(out) / "sweep.json").string());
        if (index < 1 || index > int64_t(s.runs.size()))
            throw UsageError("--task " + std::to_string(index) + ": the sweep has runs 1 to " +
                             std::to_string(s.runs.size()));
        if (threads < 0 || threads > 256) throw UsageError("--threads must be >= 0 and <= 256");
        run = s.runs[size_t(index - 1)];
        checkSweepRun(s, run);
        cfg = s.runConfig(run);
        if (cfg.run.threads == 0) cfg.run.threads = threads;
        dir = fs::path(out) / run.dir;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli sweep: %s\n", e.what());
        return exitCodeFor(e);
    }

    std::unique_ptr<RunSession> session;
    try {
        fs::create_directories(dir);
        lockFolder(dir.string(), "another process is running this run");
        RunOverview o;
        const SweepAction action = sweepAction(dir.string(), &o);
        if (action == SweepAction::Skip) {
            std::fprintf(stderr, "hybrid158-cli sweep: %s %s already; nothing to do\n", dir.c_str(),
                         o.status.c_str());
            return o.status == "completed" ? 0 : 1;
        }
        if (action == SweepAction::Resume && !s.spec.fromRun.empty()) {
            checkSameFork(dir, s, run);
            try {
                session = RunSession::resume(dir.string());
            } catch (const FileError& e) {
                std::fprintf(stderr, "hybrid158-cli sweep: cannot continue (%s); starting over\n",
                             e.what());
            }
        } else if (action == SweepAction::Resume) {
            checkSameConfig(dir, cfg);
            try {
                session = RunSession::resume(dir.string());
            } catch (const FileError& e) {
                std::fprintf(stderr, "hybrid158-cli sweep: cannot continue (%s); starting over\n",
                             e.what());
            }
        } else if (action == SweepAction::Restart) {
            const std::string why =
                o.status == "unreadable"
                    ? "unreadable (" + o.problem + ")"
                    : o.status + " at step " + std::to_string(o.steps) + " with no checkpoint";
            std::fprintf(stderr, "hybrid158-cli sweep: %s %s; starting over\n", dir.c_str(),
                         why.c_str());
        }
        if (!session) {
            clearRunDirectory(dir);
            if (s.spec.fromRun.empty())
                session = std::make_unique<RunSession>(cfg, dir.string());
            else
                session = forkRun(s.spec.fromRun, s.spec.fromStep, forkChanges(s, run), dir.string());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli sweep: %s\n", e.what());
        return exitCodeFor(e);
    }
    return driveSession(*session, "sweep", dir.string());
}

// Starts `exe sweep --out DIR --task I [--threads T]` with its output appended to `log`, and
// SIGINT/SIGTERM blocked until the run has its handler (cli_session.h).
pid_t spawnTask(const std::string& exe, const std::string& out, int64_t index, int64_t threads,
                const std::string& log) {
    std::vector<std::string> args = {exe, "sweep", "--out", out, "--task", std::to_string(index)};
    if (threads > 0) args.insert(args.end(), {"--threads", std::to_string(threads)});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    posix_spawnattr_setsigmask(&attr, &stop);
    posix_spawnattr_setsigdefault(&attr, &stop);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, exe.c_str(), &fa, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw FileError(exe + ": cannot start a run: " + std::strerror(rc));
    return pid;
}

std::string lastLine(const fs::path& file) {
    std::ifstream in(file);
    std::string line, last;
    while (std::getline(in, line))
        if (!line.empty()) last = line;
    return last;
}

// "completed  loss 0.6412", "stopped at step 120/300", "failed: <why>" ...
std::string describe(const SweepRunResult& r, const RunOverview& o) {
    std::string s = r.status;
    if (r.status != "completed" && o.total > 0)
        s += " at step " + std::to_string(r.steps) + "/" + std::to_string(o.total);
    if (std::isfinite(r.finalLoss))
        s += "  loss " + formatNumber(std::round(r.finalLoss * 1e4) / 1e4);
    if (std::isfinite(r.finalValLoss))
        s += "  val " + formatNumber(std::round(r.finalValLoss * 1e4) / 1e4);
    if (r.resumedAt > 0) s += "  (resumed at step " + std::to_string(r.resumedAt) + ")";
    return s;
}

// The runs of a sweep that have no result yet, each a child process, at most `jobs` at once.
class Pool {
  public:
    Pool(const Sweep& s, const std::string& out, int jobs, int64_t threads)
        : m_sweep(s),
          m_out(out),
          m_exe(selfExecutable()),
          m_jobs(jobs),
          m_threads(threads),
          m_results(readSweepResults(s, out)),
          m_csv((fs::path(out) / "summary.csv").string()) {
        for (size_t i = 0; i < s.runs.size(); ++i)
            if (sweepAction(runDir(i).string()) != SweepAction::Skip) m_queue.push_back(i);
        m_done = s.runs.size() - m_queue.size();
    }

    // 0 when every run completed, else 1.
    int run() {
        writeCsv();
        std::fprintf(
            stderr,
            "hybrid158-cli sweep: %zu runs in %s: %zu with a result, %zu to run, %d at once\n",
            m_results.size(), m_out.c_str(), m_done, m_queue.size(), m_jobs);
        setSignalHandlers(true);
        while ((!m_queue.empty() && g_signals.load() == 0) || !m_running.empty()) {
            while (!m_queue.empty() && g_signals.load() == 0 && int(m_running.size()) < m_jobs) {
                start(m_queue.front());
                m_queue.pop_front();
            }
            int status = 0;
            const pid_t pid = ::waitpid(-1, &status, 0);
            if (pid < 0 && errno == EINTR) continue;
            if (pid < 0) break;  // ECHILD: none left
            const auto it = std::find_if(m_running.begin(), m_running.end(),
                                         [&](const Child& c) { return c.pid == pid; });
            if (it == m_running.end()) continue;
            const Child c = *it;
            m_running.erase(it);
            g_children[c.slot].store(0);
            finished(c, status);
        }
        setSignalHandlers(false);
        return report();
    }

  private:
    struct Child {
        pid_t pid;
        int slot;  // in g_children
        size_t run;
        Clock::time_point start;
    };

    fs::path runDir(size_t i) const { return fs::path(m_out) / m_sweep.runs[i].dir; }

    void start(size_t i) {
        int slot = 0;
        while (g_children[slot].load() != 0) ++slot;
        try {
            fs::create_directories(runDir(i));
            const pid_t pid = spawnTask(m_exe, m_out, m_sweep.runs[i].index, m_threads,
                                        (runDir(i) / "log.txt").string());
            g_children[slot].store(pid);
            if (g_signals.load() > 0) ::kill(pid, SIGINT);  // a signal that came during the spawn
            m_running.push_back({pid, slot, i, Clock::now()});
        } catch (const std::exception& e) {
            m_results[i].status = "failed";
            std::fprintf(stderr, "[%zu/%zu] %s not started: %s\n", ++m_done, m_results.size(),
                         m_sweep.runs[i].dir.c_str(), e.what());
        }
    }

    // One progress line: "[3/12] 003-lr=0.003,seed=2 completed  loss 1.234  (12.3 s)", with the
    // last line of the run's log when it failed or did not end by itself.
    void finished(const Child& c, int status) {
        const fs::path dir = runDir(c.run);
        RunOverview o;
        sweepAction(dir.string(), &o);
        SweepRunResult& r = m_results[c.run];
        r = readSweepRunResult(dir.string(), m_sweep.runConfig(m_sweep.runs[c.run]));
        const bool exited = WIFEXITED(status), usage = exited && WEXITSTATUS(status) == 2;
        if (!(exited && WEXITSTATUS(status) == 0) && r.status == "pending") r.status = "failed";
        std::string what = describe(r, o);
        if (!exited) what += "  (ended by signal " + std::to_string(WTERMSIG(status)) + ")";
        if (!exited || usage || r.status == "failed" || r.status == "unreadable")
            what += "; " + (dir / "log.txt").string() + ": " + lastLine(dir / "log.txt");
        const double seconds = std::chrono::duration<double>(Clock::now() - c.start).count();
        std::fprintf(stderr, "[%zu/%zu] %s %s  (%.1f s)\n", ++m_done, m_results.size(),
                     m_sweep.runs[c.run].dir.c_str(), what.c_str(), seconds);
        writeCsv();
    }

    void writeCsv() {
        try {
            writeSweepSummary(m_sweep, m_out, m_results);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "hybrid158-cli sweep: %s\n", e.what());
        }
    }

    // The tally on stderr and as one JSON line on stdout; the exit code.
    int report() {
        std::map<std::string, int> count;
        for (const auto& r : m_results) ++count[r.status];
        std::string tally;
        for (const auto& [status, k] : count)
            tally += (tally.empty() ? "" : ", ") + std::to_string(k) + " " + status;
        std::fprintf(stderr, "hybrid158-cli sweep: %zu runs: %s -> %s\n", m_results.size(),
                     tally.c_str(), m_csv.c_str());
        if (g_signals.load() > 0)
            std::fprintf(
                stderr,
                "hybrid158-cli sweep: interrupted; `hybrid158-cli sweep --out %s` continues it\n",
                m_out.c_str());
        nlohmann::json line = {{"dir", m_out}, {"runs", m_results.size()}, {"summary", m_csv}};
        for (const char* status :
             {"completed", "diverged", "stopped", "failed", "interrupted", "unreadable", "pending"})
            line[status] = count[status];
        std::printf("%s\n", line.dump().c_str());
        return count["completed"] == int(m_results.size()) ? 0 : 1;
    }

    const Sweep& m_sweep;
    const std::string m_out, m_exe;
    const int m_jobs;
    const int64_t m_threads;
    std::vector<SweepRunResult> m_results;
    const std::string m_csv;
    std::deque<size_t> m_queue;
    std::vector<Child> m_running;
    size_t m_done = 0;
};

}  // namespace

void addConfigOptions(Args& args);

// sweep status DIR
int sweepStatusCommand(int argc, char** argv) {
    Args args("sweep status",
              "Each run of a sweep folder: pending, running, completed, stopped, diverged, failed,\n"
              "interrupted or lost, from the run folders and (for a Slurm sweep) squeue; then a\n"
              "JSON line of counts. Rewrites DIR/summary.csv.");
    args.positional("dir", "DIR", "The sweep folder");
    if (const auto rc = args.parse(argc, argv)) return *rc;
    if (!args.has("dir")) return args.usageError("give the sweep folder");
    return sweepStatus(args.get("dir"));
}

int sweepCommand(int argc, char** argv) {
    if (argc >= 2 && std::string(argv[1]) == "status") return sweepStatusCommand(argc - 1, argv + 1);
    Args args("sweep", kDescription);
    addConfigOptions(args);
    args.option("file", "SWEEP.json",
                "Read the sweep (base, set, grid, seeds) from a file; options add to it")
        .repeatable("grid", "key=v1,v2,...",
                    "One axis of the grid: a setting and its values (the first varies slowest)")
        .option("seeds", "N", "Seeds per combination: run.seed = s, s+1, ... (default 1)")
        .option("from", "RUN_DIR",
                "Start every run from this run's checkpoint at --step (a sweep of forks; the grid\n"
                "then holds settings that can change during a run)")
        .option("step", "N", "The step of --from to start from")
        .option("steps", "N", "Training steps of every run (sets run.steps)")
        .option("jobs", "J", "Runs at once, 1 to 256 (default 1)")
        .option("threads", "T", "Threads per run when run.threads is 0 (default max(1, cores / J))")
        .flag("dry-run", "Write sweep.json and list the runs without starting any")
        .option("out", "DIR", "The sweep folder (given alone, continues the sweep in it)", true)
        .option("task", "I", "Run (or resume) run I of the sweep in --out alone, in this process")
        .option("backend", "local|slurm",
                "Where the runs go: child processes here (default) or a Slurm job array")
        .option("partition", "P", "Slurm partition (--backend slurm; default: the cluster's)")
        .option("time", "T", "Slurm time limit per run, e.g. 30:00 (--backend slurm)")
        .footer(kForms);
    if (const auto rc = args.parse(argc, argv)) return *rc;
    Sweep sweep;
    std::string out;
    int jobs = 1;
    int64_t threads = 0;
    bool dryRun = false;
    try {
        out = args.require("out");
        bool given = false;
        const SweepSpec spec = specFromArgs(args, &given);
        threads = args.getInt("threads", 0);
        if (threads < 0 || threads > 256) throw UsageError("--threads must be >= 0 and <= 256");
        if (args.has("task")) {
            if (given || args.has("jobs") || args.has("dry-run"))
                throw UsageError(
                    "--task runs one run of the sweep in --out: give only --threads beside it");
            const int64_t task = args.getInt("task", 0);
            return runTask(out, task, threads);
        }
        const std::string backend = args.get("backend", "local");
        if (backend != "local" && backend != "slurm")
            throw UsageError("--backend must be local or slurm, not '" + backend + "'");
        if (backend == "local" && (args.has("partition") || args.has("time")))
            throw UsageError("--partition and --time are for --backend slurm");
        const int64_t j = args.getInt("jobs", backend == "slurm" ? 0 : 1);
        if (j < (backend == "slurm" ? 0 : 1) || j > kMaxJobs)
            throw UsageError("--jobs must be >= 1 and <= 256, got " + std::to_string(j));
        jobs = int(j);
        if (backend == "slurm" && !args.has("dry-run")) {
            SlurmSubmit opts;
            opts.partition = args.get("partition");
            opts.time = args.get("time");
            opts.threads = int(std::max<int64_t>(1, threads));
            opts.maxRunning = jobs;
            sweep = prepareSweep(out, spec, given);
            lockFolder(out, "another sweep is running or being submitted in this folder");
            return submitSweepToSlurm(out, sweep, opts);
        }
        jobs = std::max(jobs, 1);
        if (threads == 0) threads = std::max(1, int(std::thread::hardware_concurrency()) / jobs);
        dryRun = args.has("dry-run");
        sweep = prepareSweep(out, spec, given);
        if (!dryRun) lockFolder(out, "another sweep is running in this folder");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli sweep: %s\n", e.what());
        return exitCodeFor(e);
    }
    if (dryRun) {
        for (const auto& r : sweep.runs) {
            std::string o;
            for (const auto& x : r.overrides) o += (o.empty() ? "" : " ") + x;
            std::printf("%s  %s\n", r.dir.c_str(), o.c_str());
        }
        return 0;
    }
    try {
        return Pool(sweep, out, jobs, threads).run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli sweep: %s\n", e.what());
        return 1;
    }
}

}  // namespace h158::cli
