#include "core/exp/slurm.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "core/base/errors.h"

namespace h158 {

namespace {

// 'text' quoted for a POSIX shell.
std::string shellQuote(const std::string& text) {
    std::string q = "'";
    for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

void requireAbsolute(const std::string& path, const char* what) {
    if (path.empty() || path[0] != '/')
        throw ConfigError(std::string(what) + " must be an absolute path, not '" + path + "'");
}

// Letters, digits and -_.:, only: what partition names and time limits are made of.
void requireToken(const std::string& value, const char* what) {
    for (char c : value)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
              c == ':' || c == ','))
            throw ConfigError(std::string(what) + " '" + value + "': unexpected character '" +
                              std::string(1, c) + "'");
}

int64_t parseIndex(const std::string& s, const std::string& line) {
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw ConfigError("squeue line '" + line + "': '" + s + "' is not a task index");
    return std::stoll(s);
}

}  // namespace

std::string slurmArraySpec(std::vector<int64_t> tasks) {
    std::sort(tasks.begin(), tasks.end());
    tasks.erase(std::unique(tasks.begin(), tasks.end()), tasks.end());
    std::string out;
    for (size_t i = 0; i < tasks.size();) {
        size_t j = i;
        while (j + 1 < tasks.size() && tasks[j + 1] == tasks[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(tasks[i]);
        if (j > i) out += '-' + std::to_string(tasks[j]);
        i = j + 1;
    }
    return out;
}

std::string slurmBatchScript(const SlurmJob& job) {
    if (job.tasks.empty()) throw ConfigError("slurm: no runs to submit");
    requireAbsolute(job.cli, "slurm: the CLI path");
    requireAbsolute(job.sweepDir, "slurm: the sweep folder");
    requireAbsolute(job.workDir, "slurm: the working directory");
    requireToken(job.partition, "--partition");
    requireToken(job.time, "--time");
    if (job.cpusPerTask < 1) throw ConfigError("slurm: cpus per task must be >= 1");
    std::string name = job.name.empty() ? std::string("hybrid158-sweep") : job.name;
    for (char& c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
            c = '_';
    std::ostringstream s;
    s << "#!/bin/bash\n"
      << "# Written by hybrid158-cli sweep --backend slurm: task I runs run I of the sweep.\n"
      << "#SBATCH --job-name=" << name << "\n"
      << "#SBATCH --array=" << slurmArraySpec(job.tasks);
    if (job.maxRunning > 0) s << '%' << job.maxRunning;
    s << "\n"
      << "#SBATCH --output=" << job.sweepDir << "/slurm/%A_%a.out\n"
      << "#SBATCH --error=" << job.sweepDir << "/slurm/%A_%a.out\n"
      << "#SBATCH --cpus-per-task=" << job.cpusPerTask << "\n";
    if (!job.partition.empty()) s << "#SBATCH --partition=" << job.partition << "\n";
    if (!job.time.empty()) s << "#SBATCH --time=" << job.time << "\n";
    s << "set -e\n"
      << "cd " << shellQuote(job.workDir) << "\n"
      << "exec " << shellQuote(job.cli) << " sweep --out " << shellQuote(job.sweepDir)
      << " --task \"$SLURM_ARRAY_TASK_ID\" --threads " << job.cpusPerTask << "\n";
    return s.str();
}

std::map<int64_t, std::string> parseSqueueTasks(const std::string& squeueOutput,
                                                const std::set<std::string>& jobIds) {
    std::map<int64_t, std::string> tasks;
    std::istringstream in(squeueOutput);
    for (std::string line; std::getline(in, line);) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        std::istringstream fields(line);
        std::string id, state;
        if (!(fields >> id >> state)) throw ConfigError("squeue line '" + line + "': expected 'JOBID STATE'");
        const size_t us = id.find('_');
        if (us == std::string::npos || !jobIds.count(id.substr(0, us))) continue;
        std::string rest = id.substr(us + 1);
        if (rest.size() >= 2 && rest.front() == '[' && rest.back() == ']') {
            rest = rest.substr(1, rest.size() - 2);
            if (const size_t pct = rest.find('%'); pct != std::string::npos) rest.resize(pct);
            std::istringstream parts(rest);
            for (std::string part; std::getline(parts, part, ',');) {
                const size_t dash = part.find('-');
                const int64_t a = parseIndex(part.substr(0, dash), line);
                const int64_t b = dash == std::string::npos ? a : parseIndex(part.substr(dash + 1), line);
                if (b < a || b - a > 1000000) throw ConfigError("squeue line '" + line + "': bad range");
                for (int64_t t = a; t <= b; ++t) tasks[t] = state;
            }
        } else {
            tasks[parseIndex(rest, line)] = state;
        }
    }
    return tasks;
}

std::string sweepTaskStatus(const std::string& runStatus, bool runStarted,
                            const std::string& squeueState, bool submitted) {
    if (runStatus == "completed" || runStatus == "stopped" || runStatus == "diverged" ||
        runStatus == "failed" || runStatus == "unreadable")
        return runStatus;
    if (!squeueState.empty())  // R (running), CG (completing), CF (configuring); else waiting
        return squeueState == "R" || squeueState == "CG" || squeueState == "CF" ? "running"
                                                                                : "pending";
    if (runStarted) return "interrupted";
    return submitted ? "lost" : "pending";
}

}  // namespace h158
