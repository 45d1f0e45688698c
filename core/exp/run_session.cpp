// Run directory writing and reading (the contract in DESIGN.md).
#include "core/exp/run_session.h"

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <sstream>

#include "core/base/errors.h"
#include "core/base/file_io.h"
#include "core/io/h158_export.h"
#include "core/model/param_file.h"
#include "core/exp/fork.h"
#include "core/train/checkpoint.h"

namespace h158 {
namespace fs = std::filesystem;

namespace {

// packModel of the trainer's current weights, written to `path`.
void writeTrainedModel(Trainer& trainer, const std::string& path) {
    const Config& cfg = trainer.config();
    const bool quantized = cfg.quant.weights != "none";
    writeH158(packModel(cfg, trainer.model().layout(), trainer.effectiveParameters().data(),
                        quantized ? &trainer.quantState() : nullptr),
              path);
}

std::string header() {
    std::string h;
    for (const auto& c : metricsColumns()) h += (h.empty() ? "" : ",") + c;
    return h;
}

}  // namespace

RunSession::RunSession(const Config& cfg, const std::string& dir, std::vector<RunEvent> scheduled)
    : m_trainer(std::make_unique<Trainer>(cfg)), m_dir(dir) {
    m_events = scheduleEvents(cfg, std::move(scheduled));  // ConfigError before any file
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw FileError(dir + ": cannot create the run directory: " + ec.message());
    if (fs::exists(fs::path(dir) / "metrics.csv"))
        throw FileError(dir + ": already holds a run (metrics.csv exists); choose another --out");
    writeFileAtomically((fs::path(dir) / "config.json").string(), toJson(cfg).dump(2) + "\n");
    fs::remove(fs::path(dir) / kEventsFile, ec);
    for (const RunEvent& e : m_events) appendEvent(dir, e);
    openFiles(false);
    writeSnapshots(m_trainer->takeSnapshots());
}

RunSession::RunSession(std::unique_ptr<Trainer> trainer, const std::string& dir, int64_t resumedAt)
    : m_trainer(std::move(trainer)), m_dir(dir), m_resumedAt(resumedAt), m_checkpointStep(resumedAt) {
    openFiles(true);
}

void RunSession::openFiles(bool append) {
    const auto mode = std::ios::binary | (append ? std::ios::app : std::ios::trunc);
    const fs::path d(m_dir);
    for (std::ofstream* f : {&m_metrics, &m_snapshots, &m_batches})
        if (f->is_open()) f->close();
    m_metrics.open(d / "metrics.csv", mode);
    m_snapshots.open(d / "snapshots.jsonl", mode);
    if (!m_metrics || !m_snapshots) throw FileError(m_dir + ": cannot open the run files");
    if (!append) m_metrics << header() << "\n" << std::flush;
    if (m_trainer->config().run.record_batches) {
        m_batches.open(d / "batches.csv", mode);
        if (!m_batches) throw FileError(m_dir + ": cannot open batches.csv");
        if (!append) m_batches << "step,row,origin\n" << std::flush;
    }
}

namespace {

// The lines of `path` up to the first whose step (by `stepOf`, nullopt for a line to drop, e.g.
// a partial last line) exceeds `step`, with the header line kept when `header` is set. Throws
// FileError naming the file and line when a complete line's step cannot be read.
template <typename StepOf>
std::string linesUpTo(const fs::path& path, int64_t step, bool header, StepOf stepOf,
                      int64_t* lastStep) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(path.string() + ": cannot open");
    std::string out, line;
    int64_t lineNo = 0;
    *lastStep = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        const bool complete = !in.eof();  // a killed run may leave a last line without '\n'
        if (header && lineNo == 1) {
            out += line + "\n";
            continue;
        }
        if (line.empty() || !complete) continue;
        const std::optional<int64_t> s = stepOf(line);
        if (!s) throw FileError(path.string() + ":" + std::to_string(lineNo) + ": no step");
        if (*s > step) break;
        *lastStep = *s;
        out += line + "\n";
    }
    return out;
}

std::optional<int64_t> csvStep(const std::string& line) {
    int64_t s = 0;
    const auto comma = line.find(',');
    const auto [p, ec] = std::from_chars(line.data(), line.data() + std::min(comma, line.size()), s);
    if (ec != std::errc() || comma == std::string::npos || p != line.data() + comma) return std::nullopt;
    return s;
}

std::optional<int64_t> jsonStep(const std::string& line) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("step") || !j["step"].is_number_integer())
        return std::nullopt;
    return j["step"].get<int64_t>();
}

}  // namespace

std::unique_ptr<RunSession> RunSession::resume(const std::string& dir) {
    const fs::path d(dir);
    if (fs::exists(d / "summary.json")) {
        const RunOverview o = overviewRunDirectory(dir);
        if (o.status == "completed" || o.status == "diverged")
            throw FileError(dir + ": the run " + o.status + "; there is nothing to continue");
    }
    // The configuration the checkpoint was taken under: config.json with the events it had
    // applied (events.h), which must be the one its header holds.
    Config cfg = loadConfigFile((d / "config.json").string());
    const std::string ckpt = (d / kCheckpointFile).string();
    std::vector<RunEvent> events = readEvents(dir);
    int64_t applied = 0;
    if (fs::exists(ckpt)) {
        const CheckpointInfo info = readCheckpointInfo(ckpt);
        applied = info.eventsApplied;
        if (applied > int64_t(events.size()))
            throw FileError((d / kEventsFile).string() + ": holds " + std::to_string(events.size()) +
                            " events, the checkpoint had applied " + std::to_string(applied));
        for (int64_t i = 0; i < applied; ++i) {
            try {
                applyEvent(cfg, events[size_t(i)]);
            } catch (const std::exception& e) {
                throw FileError((d / kEventsFile).string() + ": " + events[size_t(i)].describe() +
                                ": " + e.what());
            }
        }
    }
    auto trainer = std::make_unique<Trainer>(cfg);
    const int64_t step = restoreCheckpoint(ckpt, *trainer);
    const std::optional<ForkInfo> fork = readForkInfo(dir);

    // Everything is read and checked before the first file changes.
    int64_t last = 0;
    const std::string metrics = linesUpTo(d / "metrics.csv", step, true, csvStep, &last);
    if (last != step && !(fork && last == 0 && step == fork->step))
        throw FileError((d / "metrics.csv").string() + ": ends at step " + std::to_string(last) +
                        ", before the checkpoint's step " + std::to_string(step));
    const std::string snaps = fs::exists(d / "snapshots.jsonl")
                                  ? linesUpTo(d / "snapshots.jsonl", step, false, jsonStep, &last)
                                  : std::string();
    std::string batches;
    if (cfg.run.record_batches) {
        batches = fs::exists(d / "batches.csv")
                      ? linesUpTo(d / "batches.csv", step, true, csvStep, &last)
                      : std::string("step,row,origin\n");
        if (batches.rfind("step,row,origin\n", 0) != 0)
            throw FileError((d / "batches.csv").string() + ":1: not a batches header");
    }
    if (metrics.rfind(header() + "\n", 0) != 0)
        throw FileError((d / "metrics.csv").string() + ":1: not this version's metrics header");

    fs::remove(d / "summary.json");
    fs::remove(d / "weights.h158");
    writeFileAtomically((d / "metrics.csv").string(), metrics);
    writeFileAtomically((d / "snapshots.jsonl").string(), snaps);
    if (cfg.run.record_batches) writeFileAtomically((d / "batches.csv").string(), batches);
    std::unique_ptr<RunSession> s(new RunSession(std::move(trainer), dir, step));
    s->m_events = std::move(events);
    s->m_eventsApplied = applied;
    s->m_forkStep = fork ? fork->step : 0;
    return s;
}

RunSession::~RunSession() {
    try {
        finish();
    } catch (...) {
        // a destructor must not throw; finish() is called explicitly on the normal paths
    }
}

void RunSession::writeSnapshots(const std::vector<Snapshot>& s) {
    for (const auto& snap : s) m_snapshots << snap.toJson().dump() << "\n";
    m_snapshots.flush();
    checkWritten(m_snapshots, "snapshots.jsonl");
    m_pending.insert(m_pending.end(), s.begin(), s.end());
}

// A write that failed (a full disk, a file size limit, an I/O error) ends the run as failed with
// the reason; what was written before stays, and summary.json says why.
void RunSession::checkWritten(const std::ofstream& out, const char* file) {
    if (out.good()) return;
    const std::string why = (fs::path(m_dir) / file).string() + ": write failed (" +
                            std::strerror(errno) + "); the rows before it are kept";
    m_trainer->fail(why);
    writeSummaryAfterFailure();
    throw FileError(why);
}

StepMetrics RunSession::step() {
    StepMetrics row;
    try {
        if (!m_trainer->midStep()) applyDueEvents();
        row = m_trainer->step();
    } catch (...) {
        writeSummaryAfterFailure();
        throw;
    }
    recordStep(row);
    return row;
}

StageReport RunSession::stepStage(StepMetrics* row) {
    StageReport r;
    StepMetrics done;
    try {
        if (!m_trainer->midStep()) applyDueEvents();
        r = m_trainer->stepStage(&done);
    } catch (...) {
        writeSummaryAfterFailure();
        throw;
    }
    if (r.last) {
        recordStep(done);
        if (row) *row = done;
    }
    return r;
}

void RunSession::recordStep(const StepMetrics& row) {
    m_metrics << metricsCsvRow(row) << "\n" << std::flush;
    checkWritten(m_metrics, "metrics.csv");
    if (m_batches.is_open()) {
        const auto& o = m_trainer->lastBatchOrigins();
        for (size_t r = 0; r < o.size(); ++r)
            m_batches << row.step << ',' << r << ',' << o[r] << '\n';
        m_batches.flush();
        checkWritten(m_batches, "batches.csv");
    }
    writeSnapshots(m_trainer->takeSnapshots());
    const int64_t every = m_trainer->config().run.checkpoint_every;
    if (!m_trainer->finished() && every > 0 && m_trainer->stepsDone() % every == 0)
        writeCheckpointNow();
    if (m_trainer->finished()) writeSummary();
}

void RunSession::applyDueEvents() {
    while (m_eventsApplied < int64_t(m_events.size()) &&
           m_events[size_t(m_eventsApplied)].step <= m_trainer->stepsDone()) {
        const RunEvent& e = m_events[size_t(m_eventsApplied)];
        m_trainer->applyEdit(e.key, e.valueText());
        ++m_eventsApplied;
    }
}

RunEvent RunSession::edit(const std::string& key, const std::string& value, const std::string& by) {
    if (m_trainer->finished()) throw Error("the run has ended; fork it to change " + key);
    const bool now = !m_trainer->midStep();
    if (now) applyDueEvents();
    RunEvent e;
    e.step = m_trainer->stepsDone() + (now ? 0 : 1);
    e.key = key;
    e.by = by;
    const FieldSpec* f = findField(key);
    Config after = liveEdit(m_trainer->config(), key, value, e.step);  // ConfigError by name
    e.before = fieldJson(*f, m_trainer->config());
    e.after = fieldJson(*f, after);
    appendEvent(m_dir, e);  // FileError before anything changes
    if (now) {
        m_trainer->applyEdit(key, e.valueText());
        m_events.insert(m_events.begin() + m_eventsApplied, e);
        ++m_eventsApplied;
    } else {
        const auto at = std::upper_bound(
            m_events.begin() + m_eventsApplied, m_events.end(), e.step,
            [](int64_t s, const RunEvent& x) { return s < x.step; });
        m_events.insert(at, e);
    }
    return e;
}

// DIR/checkpoints/step-N: a hard link to the checkpoint just written (a copy where links are not
// supported), thinned to run.keep_checkpoints (fork.h).
void RunSession::keepCheckpoint() {
    const int64_t keep = m_trainer->config().run.keep_checkpoints;
    if (keep <= 0) return;
    const fs::path kept = keptCheckpointPath(m_dir, m_checkpointStep);
    std::error_code ec;
    fs::create_directories(kept.parent_path(), ec);
    fs::remove(kept, ec);
    fs::create_hard_link(fs::path(m_dir) / kCheckpointFile, kept, ec);
    if (ec) fs::copy_file(fs::path(m_dir) / kCheckpointFile, kept, ec);
    if (ec) return;  // forks lose one point; the run goes on
    std::vector<int64_t> steps = keptCheckpointSteps(m_dir);
    // Past keep, every other one goes from the oldest on (the first stays): the spacing doubles
    // and those kept still span the run. The newest always stays.
    while (int64_t(steps.size()) > keep) {
        std::vector<int64_t> left;
        for (size_t i = 0; i < steps.size(); ++i)
            if (i % 2 == 0 || i + 1 == steps.size()) left.push_back(steps[i]);
            else fs::remove(keptCheckpointPath(m_dir, steps[i]), ec);
        if (left.size() == steps.size()) {  // two left and keep is 1: the newest stays
            fs::remove(keptCheckpointPath(m_dir, steps.front()), ec);
            left.erase(left.begin());
        }
        steps = std::move(left);
    }
}

// A checkpoint that cannot be written (a full disk) ends the run as failed, like any write.
void RunSession::writeCheckpointNow() {
    try {
        writeCheckpoint((fs::path(m_dir) / kCheckpointFile).string(), *m_trainer, m_eventsApplied);
        m_checkpointStep = m_trainer->stepsDone();
        keepCheckpoint();
    } catch (const std::exception& e) {
        m_trainer->fail(std::string("checkpoint: ") + e.what());
        writeSummaryAfterFailure();
        throw FileError(std::string("checkpoint: ") + e.what());
    }
}

std::vector<Snapshot> RunSession::takeSnapshots() { return std::exchange(m_pending, {}); }

bool RunSession::finished() const { return m_trainer->finished(); }

void RunSession::stop() {
    completeStagedStep();
    m_trainer->stop();
    writeSummary();
}

void RunSession::finish() {
    completeStagedStep();
    if (!m_trainer->finished()) m_trainer->stop();
    writeSummary();
}

// A step under way in stages is finished and written before the run stops: the files hold whole
// steps only, and a checkpoint can be taken.
void RunSession::completeStagedStep() {
    while (m_trainer->midStep() && !m_trainer->finished()) stepStage();
}

void RunSession::writeSummary() {
    if (m_summaryWritten) return;
    nlohmann::json j = m_trainer->summary().toJson();
    j["config_name"] = m_trainer->config().run.name;
    if (m_resumedAt > 0 && m_resumedAt != m_forkStep) j["resumed_at_step"] = m_resumedAt;
    if (m_forkStep > 0) j["fork_step"] = m_forkStep;
    // A stopped run keeps a checkpoint at its last step, to be resumed; a completed or
    // diverged one has nothing to continue.
    const fs::path ckpt = fs::path(m_dir) / kCheckpointFile;
    if (m_trainer->status() == RunStatus::Stopped && m_trainer->config().run.checkpoint_every > 0) {
        try {
            writeCheckpoint(ckpt.string(), *m_trainer, m_eventsApplied);
            m_checkpointStep = m_trainer->stepsDone();
            keepCheckpoint();
        } catch (const std::exception& e) {
            j["checkpoint_error"] = e.what();
        }
    } else if (m_trainer->status() == RunStatus::Completed ||
               m_trainer->status() == RunStatus::Diverged) {
        std::error_code ec;
        fs::remove(ckpt, ec);
        m_checkpointStep = 0;
    }
    if (m_checkpointStep > 0) j["checkpoint_step"] = m_checkpointStep;
    // DIR/weights.h158, the trained model (h158_format.h), unless the run failed or diverged.
    const RunStatus status = m_trainer->status();
    if (status == RunStatus::Completed || status == RunStatus::Stopped) {
        try {
            writeTrainedModel(*m_trainer, (fs::path(m_dir) / "weights.h158").string());
            j["weights"] = "weights.h158";
            // The latent (full-precision) weights too: what sensitivity analysis re-quantizes
            // at other levels (sensitivity.h), and a model.init_file to continue from.
            saveParameters(m_trainer->model().layout(), m_trainer->parameters().data(),
                           (fs::path(m_dir) / kLatentFile).string());
            j["latent_weights"] = kLatentFile;
        } catch (const std::exception& e) {
            j["weights_error"] = e.what();
        }
    }
    // When this write fails (a full disk), it is tried again by the next stop/finish and by the
    // destructor; until then the run lists as interrupted, resumable from its checkpoint.
    writeFileAtomically((fs::path(m_dir) / "summary.json").string(), j.dump(2) + "\n");
    m_summaryWritten = true;
}

void RunSession::writeSummaryAfterFailure() {
    try {
        writeSummary();
    } catch (const std::exception&) {
        // the failure that ended the run is the one to report; the summary is tried again
    }
}

std::string newRunDirectory(const std::string& workspace, const std::string& name) {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    localtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    std::string safe;
    for (char c : name) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
    if (safe.empty()) safe = "run";
    const fs::path base = fs::path(workspace) / (safe + "-" + stamp);
    fs::path p = base;
    for (int i = 2; fs::exists(p); ++i) p = base.string() + "-" + std::to_string(i);
    return p.string();
}

namespace {

// A JSON file of a run directory that must hold an object; errors start with `name` (the path
// for readRunDirectory, the file's name for the Runs panel's overview). A summary's status, when
// present, is a string (the readers compare it).
nlohmann::json readJsonObject(const fs::path& path, const std::string& name) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(name + ": cannot open");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        throw FileError(name + ": malformed JSON: " + e.what());
    }
    if (!j.is_object()) throw FileError(name + ": not a JSON object");
    if (path.filename() == "summary.json" && j.contains("status") && !j["status"].is_string())
        throw FileError(name + ": status must be a string");
    return j;
}

}  // namespace

RunRecord readRunDirectory(const std::string& dir) {
    RunRecord r;
    r.dir = dir;
    const fs::path d(dir);
    r.config = loadConfigFile((d / "config.json").string());
    const std::string mpath = (d / "metrics.csv").string();
    std::ifstream in(mpath, std::ios::binary);
    if (!in) throw FileError(mpath + ": cannot open");
    std::string line;
    int64_t lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (lineNo == 1) {
            if (line.rfind("step,loss", 0) != 0) throw FileError(mpath + ":1: not a metrics header");
            continue;
        }
        if (line.empty()) continue;
        try {
            r.metrics.push_back(parseMetricsCsvRow(line));
        } catch (const std::exception& e) {
            if (in.peek() == EOF) break;  // a run killed mid-write leaves a partial last line
            throw FileError(mpath + ":" + std::to_string(lineNo) + ": " + e.what());
        }
    }
    r.events = readEvents(dir);
    if (const std::optional<ForkInfo> fork = readForkInfo(dir)) {
        r.parent = fork->parent;
        r.forkStep = fork->step;
    }
    r.summary = nlohmann::json::object();
    const fs::path spath = d / "summary.json";
    if (fs::exists(spath)) r.summary = readJsonObject(spath, spath.string());
    return r;
}

namespace {

// The last data row's step in metrics.csv (0 when there is none), reading only the file's end.
int64_t lastMetricsStep(const fs::path& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw FileError(path.string() + ": cannot open");
    const std::streamoff size = in.tellg(), from = std::max<std::streamoff>(0, size - 65536);
    std::string tail(size_t(size - from), '\0');
    in.seekg(from);
    in.read(tail.data(), std::streamsize(tail.size()));
    std::istringstream lines(tail);
    int64_t last = 0;
    for (std::string line; std::getline(lines, line);)
        if (const std::optional<int64_t> step = csvStep(line); step && *step > last) last = *step;
    return last;
}


}  // namespace

RunOverview overviewRunDirectory(const std::string& dir) noexcept {
    RunOverview o;
    try {
        const fs::path d(dir);
        const nlohmann::json cfg = readJsonObject(d / "config.json", "config.json");
        const auto run = cfg.find("run");
        if (run != cfg.end() && run->is_object() && run->contains("steps")) {
            if (!(*run)["steps"].is_number_integer())
                throw FileError("config.json: run.steps must be an integer");
            o.total = (*run)["steps"].get<int64_t>();
        }
        o.checkpointStep = checkpointStep((d / kCheckpointFile).string());
        if (const std::optional<ForkInfo> fork = readForkInfo(dir)) {
            o.parent = fork->parent;
            o.forkStep = fork->step;
        }
        if (std::ifstream ev(d / kEventsFile, std::ios::binary); ev) {
            std::string line;
            while (std::getline(ev, line))
                if (!line.empty()) ++o.events;
        }
        if (!fs::exists(d / "summary.json")) {
            o.status = "interrupted";
            o.steps = fs::exists(d / "metrics.csv") ? lastMetricsStep(d / "metrics.csv") : 0;
            return o;
        }
        const nlohmann::json s = readJsonObject(d / "summary.json", "summary.json");
        const auto status = s.find("status");
        if (status == s.end() || !status->is_string())
            throw FileError("summary.json: status must be a string");
        o.status = status->get<std::string>();
        if (o.status != "completed" && o.status != "stopped" && o.status != "diverged" &&
            o.status != "failed")
            throw FileError("summary.json: status '" + o.status + "' is not a run status");
        if (s.contains("steps")) {
            if (!s["steps"].is_number_integer() || s["steps"].get<int64_t>() < 0)
                throw FileError("summary.json: steps must be an integer >= 0");
            o.steps = s["steps"].get<int64_t>();
        }
        // figures sit at the top level (older files: under "figures")
        const nlohmann::json& f = s.contains("final_loss") ? s : s.value("figures", s);
        if (const auto it = f.find("final_loss"); it != f.end() && it->is_number())
            o.finalLoss = it->get<double>();
    } catch (const std::exception& e) {
        o = RunOverview{};
        o.status = "unreadable";
        o.problem = e.what();
    }
    return o;
}

}  // namespace h158
