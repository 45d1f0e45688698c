// Forks and the checkpoints kept for them (fork.h).
#include "core/exp/fork.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/base/errors.h"
#include "core/base/file_io.h"
#include "core/train/checkpoint.h"

namespace h158 {
namespace fs = std::filesystem;

std::string keptCheckpointPath(const std::string& dir, int64_t step) {
    char name[40];
    std::snprintf(name, sizeof name, "step-%08lld.safetensors", static_cast<long long>(step));
    return (fs::path(dir) / kCheckpointsDir / name).string();
}

std::vector<int64_t> keptCheckpointSteps(const std::string& dir) {
    std::vector<int64_t> steps;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::path(dir) / kCheckpointsDir, ec)) {
        const std::string name = entry.path().filename().string();
        int64_t s = 0;
        const char* end = name.data() + name.size();
        const auto [p, e] = std::from_chars(name.data() + std::min<size_t>(5, name.size()), end, s);
        if (name.rfind("step-", 0) == 0 && e == std::errc() &&
            std::string_view(p, size_t(end - p)) == ".safetensors" && s > 0)
            steps.push_back(s);
    }
    std::sort(steps.begin(), steps.end());
    return steps;
}

std::vector<int64_t> checkpointSteps(const std::string& dir) {
    std::vector<int64_t> steps = keptCheckpointSteps(dir);
    if (const int64_t latest = checkpointStep((fs::path(dir) / kCheckpointFile).string()); latest > 0)
        steps.push_back(latest);
    std::sort(steps.begin(), steps.end());
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
    return steps;
}

std::optional<ForkInfo> readForkInfo(const std::string& dir) {
    const fs::path path = fs::path(dir) / kForkFile;
    if (!fs::exists(path)) return std::nullopt;
    const std::string where = path.string();
    nlohmann::json j = nlohmann::json::parse(readFile(where), nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw FileError(where + ": not a JSON object");
    ForkInfo f;
    if (!j.contains("parent") || !j["parent"].is_string() || j["parent"].get<std::string>().empty())
        throw FileError(where + ": parent must be a directory name");
    f.parent = j["parent"].get<std::string>();
    if (!j.contains("step") || !j["step"].is_number_integer() || j["step"].get<int64_t>() <= 0)
        throw FileError(where + ": step must be an integer > 0");
    f.step = j["step"].get<int64_t>();
    if (j.contains("set")) {
        if (!j["set"].is_array()) throw FileError(where + ": set must be a list of \"key=value\"");
        for (const auto& v : j["set"]) {
            if (!v.is_string()) throw FileError(where + ": set must be a list of \"key=value\"");
            f.set.push_back(v.get<std::string>());
        }
    }
    return f;
}

namespace {

std::string stepList(const std::vector<int64_t>& steps) {
    if (steps.empty()) return "none";
    std::string out;
    for (int64_t s : steps) out += (out.empty() ? "" : ", ") + std::to_string(s);
    return out;
}

}  // namespace

std::string forkCheckpointPath(const std::string& dir, int64_t step) {
    const fs::path d(dir);
    if (step > 0 && checkpointStep((d / kCheckpointFile).string()) == step)
        return (d / kCheckpointFile).string();
    const std::string kept = keptCheckpointPath(dir, step);
    if (step > 0 && checkpointStep(kept) == step) return kept;
    throw FileError(dir + ": no checkpoint at step " + std::to_string(step) +
                    "; steps with one: " + stepList(checkpointSteps(dir)) +
                    " (run.checkpoint_every, run.keep_checkpoints)");
}

std::unique_ptr<RunSession> forkRun(const std::string& parentDir, int64_t step,
                                    const std::vector<std::string>& set, const std::string& out) {
    const fs::path parent = fs::absolute(parentDir).lexically_normal();
    if (!fs::is_directory(parent)) throw FileError(parentDir + ": not a run directory");
    if (!fs::exists(parent / "config.json"))
        throw FileError(parentDir + ": not a run directory (no config.json)");
    const std::string ckpt = forkCheckpointPath(parent.string(), step);
    const CheckpointInfo info = readCheckpointInfo(ckpt);
    const std::vector<RunEvent> parentEvents = readEvents(parent.string());
    if (info.eventsApplied > int64_t(parentEvents.size()))
        throw FileError((parent / kEventsFile).string() + ": holds fewer events than the checkpoint " +
                        ckpt + " had applied");

    // The parent's later events, then the changes at the fork step: at one step the change wins.
    std::vector<RunEvent> events(parentEvents.begin() + info.eventsApplied, parentEvents.end());
    for (RunEvent& e : events) e.by = "parent";
    for (const std::string& assignment : set) {
        const auto eq = assignment.find('=');
        if (eq == std::string::npos || eq == 0)
            throw ConfigError("--set " + assignment + ": expected key=value");
        RunEvent e = parseAtOption(std::to_string(step) + ":" + assignment, "--set");
        e.by = "fork";
        events.push_back(std::move(e));
    }
    events = scheduleEvents(info.config, std::move(events));  // ConfigError naming the key

    auto trainer = std::make_unique<Trainer>(info.config);
    if (restoreCheckpoint(ckpt, *trainer) != step)
        throw FileError(ckpt + ": not the checkpoint of step " + std::to_string(step));

    // Everything is checked: the fork's directory is written from here on.
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) throw FileError(out + ": cannot create the run directory: " + ec.message());
    if (fs::exists(fs::path(out) / "metrics.csv"))
        throw FileError(out + ": already holds a run (metrics.csv exists); choose another --out");
    writeFileAtomically((fs::path(out) / "config.json").string(), toJson(info.config).dump(2) + "\n");
    nlohmann::json fj = nlohmann::json::object();
    fj["parent"] = parent.string();
    fj["step"] = step;
    fj["set"] = set;
    writeFileAtomically((fs::path(out) / kForkFile).string(), fj.dump(2) + "\n");
    fs::remove(fs::path(out) / kEventsFile, ec);
    for (const RunEvent& e : events) appendEvent(out, e);

    std::unique_ptr<RunSession> s(new RunSession(std::move(trainer), out, step));
    s->openFiles(false);
    s->m_events = std::move(events);
    s->m_forkStep = step;
    s->applyDueEvents();  // the changes, before step + 1
    s->writeSnapshots(s->trainer().stateSnapshots());  // the state it starts from, for Rewind
    s->writeCheckpointNow();
    return s;
}

}  // namespace h158
