#include "app/cli_slurm.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <vector>

#include "app/cli_args.h"
#include "app/cli_session.h"
#include "core/base/file_io.h"
#include "core/exp/run_session.h"
#include "core/exp/slurm.h"

extern char** environ;

namespace h158::cli {
namespace {

namespace fs = std::filesystem;

// Runs argv[0] (found on PATH) with its stdout captured; stderr goes to ours. Returns its exit
// status, or -1 when it could not be started (not installed).
int capture(const std::vector<std::string>& argv, std::string& out) {
    int pipefd[2];
    if (::pipe(pipefd) != 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipefd[0]);
    posix_spawn_file_actions_addclose(&actions, pipefd[1]);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipefd[1]);
    if (rc != 0) {
        ::close(pipefd[0]);
        return -1;
    }
    char buf[4096];
    for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) != 0;) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        out.append(buf, size_t(n));
    }
    ::close(pipefd[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The job ids recorded by earlier submissions (DIR/slurm/jobs.txt, one per line).
std::set<std::string> recordedJobs(const fs::path& slurmDir) {
    std::set<std::string> ids;
    std::ifstream in(slurmDir / "jobs.txt");
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) ids.insert(line);
    return ids;
}

// squeue's state of each queued task of `jobs`; `ok` false (and a note on stderr) when squeue
// cannot say (not installed, no controller).
std::map<int64_t, std::string> queuedTasks(const std::set<std::string>& jobs, bool& ok) {
    ok = false;
    if (jobs.empty()) return {};
    std::string out;
    const int rc = capture({"squeue", "-h", "-r", "--me", "-o", "%i %t"}, out);
    if (rc != 0) {
        std::fprintf(stderr,
                     "hybrid158-cli sweep: squeue %s; the states come from the run folders only\n",
                     rc < 0 ? "is not installed" : "failed");
        return {};
    }
    ok = true;
    return parseSqueueTasks(out, jobs);
}

}  // namespace

int submitSweepToSlurm(const std::string& out, const Sweep& s, const SlurmSubmit& opts) {
    try {
        const fs::path dir = fs::absolute(out).lexically_normal();
        const fs::path slurmDir = dir / "slurm";
        fs::create_directories(slurmDir);
        const std::set<std::string> jobs = recordedJobs(slurmDir);
        bool queueKnown = false;
        const std::map<int64_t, std::string> queued = queuedTasks(jobs, queueKnown);
        std::vector<int64_t> tasks;
        int done = 0, waiting = 0;
        for (const SweepRun& run : s.runs) {
            checkSweepRun(s, run);
            if (sweepAction((dir / run.dir).string()) == SweepAction::Skip) {
                ++done;
            } else if (queued.count(run.index)) {
                ++waiting;  // an earlier job still has it
            } else {
                tasks.push_back(run.index);
            }
        }
        if (tasks.empty()) {
            std::fprintf(stderr,
                         "hybrid158-cli sweep: nothing to submit: %d of %zu runs have a result, "
                         "%d queued\n",
                         done, s.runs.size(), waiting);
            std::printf("%s\n", nlohmann::json{{"dir", out}, {"submitted", 0}, {"done", done},
                                               {"queued", waiting}}.dump().c_str());
            return 0;
        }
        SlurmJob job;
        job.name = "h158-" + dir.filename().string();
        job.cli = selfExecutable();
        job.sweepDir = dir.string();
        job.workDir = fs::current_path().string();
        job.tasks = tasks;
        job.partition = opts.partition;
        job.time = opts.time;
        job.cpusPerTask = std::max(1, opts.threads);
        job.maxRunning = opts.maxRunning;
        const std::string script = slurmBatchScript(job);
        int n = 1;
        while (fs::exists(slurmDir / ("sweep-" + std::to_string(n) + ".sbatch"))) ++n;
        const fs::path file = slurmDir / ("sweep-" + std::to_string(n) + ".sbatch");
        writeFileAtomically(file.string(), script);
        std::string reply;
        const int rc = capture({"sbatch", "--parsable", file.string()}, reply);
        if (rc != 0) {
            std::fprintf(stderr, "hybrid158-cli sweep: sbatch %s (script: %s)\n",
                         rc < 0 ? "is not installed: is this a Slurm cluster's login node?"
                                : "refused the job",
                         file.c_str());
            return 1;
        }
        // --parsable prints "jobid" or "jobid;cluster"
        std::string id = reply.substr(0, reply.find_first_of(";\n"));
        {
            std::ofstream rec(slurmDir / "jobs.txt", std::ios::app);
            rec << id << "\n";
            if (!rec) throw FileError((slurmDir / "jobs.txt").string() + ": cannot write");
        }
        const std::string array = slurmArraySpec(tasks);
        std::fprintf(stderr,
                     "hybrid158-cli sweep: submitted Slurm job %s: runs %s (%zu of %zu; %d done, "
                     "%d queued) -> %s\n",
                     id.c_str(), array.c_str(), tasks.size(), s.runs.size(), done, waiting,
                     file.c_str());
        std::printf("%s\n", nlohmann::json{{"dir", out}, {"job", id}, {"array", array},
                                           {"submitted", tasks.size()}, {"done", done},
                                           {"queued", waiting}}
                                .dump()
                                .c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli sweep: %s\n", e.what());
        return exitCodeFor(e);
    }
}

int sweepStatus(const std::string& out) {
    try {
        const fs::path dir(out);
        const Sweep s = readSweepFile((dir / "sweep.json").string());
        const std::set<std::string> jobs = recordedJobs(dir / "slurm");
        bool queueKnown = false;
        const std::map<int64_t, std::string> queued = queuedTasks(jobs, queueKnown);
        std::map<std::string, int> counts;
        for (const char* k : {"pending", "running", "completed", "stopped", "diverged", "failed",
                              "interrupted", "lost", "unreadable"})
            counts[k] = 0;
        for (const SweepRun& run : s.runs) {
            const fs::path runDir = dir / run.dir;
            const bool started = fs::exists(runDir / "metrics.csv");
            RunOverview o;
            o.status = "pending";
            if (started || fs::exists(runDir / "summary.json"))
                o = overviewRunDirectory(runDir.string());
            const auto q = queued.find(run.index);
            const std::string state =
                sweepTaskStatus(o.status, started, q == queued.end() ? "" : q->second,
                                queueKnown && !jobs.empty());
            ++counts[state];
            std::string steps = std::to_string(o.steps);
            if (o.total > 0) steps += "/" + std::to_string(o.total);
            std::printf("%-48s %-12s %s\n", run.dir.c_str(), state.c_str(),
                        started ? steps.c_str() : "");
        }
        writeSweepSummary(s, dir.string(), readSweepResults(s, dir.string()));
        nlohmann::json j = {{"dir", out}, {"runs", s.runs.size()}};
        for (const auto& [k, v] : counts) j[k] = v;
        std::printf("%s\n", j.dump().c_str());
        std::fflush(stdout);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli sweep status: %s\n", e.what());
        return exitCodeFor(e);
    }
}

}  // namespace h158::cli
