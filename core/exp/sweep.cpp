// Sweeps (sweep.h): expanding a grid × seeds into named runs, DIR/sweep.json, what to do with
// each run directory, and DIR/summary.csv.
#include "core/exp/sweep.h"

#include "core/exp/fork.h"
#include "core/train/checkpoint.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <set>

#include "core/base/errors.h"
#include "core/base/file_io.h"
#include "core/exp/run_compare.h"

namespace h158 {
namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

constexpr int64_t kMaxRuns = 100000;
constexpr int64_t kMaxSeeds = 10000;
constexpr size_t kMaxNameLength = 80;

// Characters a run directory's name keeps; any other becomes '_'.
bool safeChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("._-=,+").find(c) != std::string_view::npos;
}

std::string safeName(const std::string& s) {
    std::string out;
    for (char c : s) out += safeChar(c) ? c : '_';
    if (out.size() > kMaxNameLength) out.resize(kMaxNameLength);
    return out;
}

// What names each axis in a run's name: keyLabels (run_compare.h) over the axes' keys and, when
// the seed is named too, run.seed (so an axis ending in "seed" is named in full).
std::vector<std::string> axisLabels(const std::vector<SweepAxis>& grid, bool seedLabel) {
    std::vector<std::string> keys;
    for (const auto& a : grid) keys.push_back(a.key);
    if (seedLabel) keys.push_back("run.seed");
    std::vector<std::string> labels = keyLabels(keys);
    labels.resize(grid.size());
    return labels;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
    return out;
}

std::string describeGrid(const std::vector<SweepAxis>& grid) {
    if (grid.empty()) return "no grid";
    std::vector<std::string> axes;
    for (const auto& a : grid) axes.push_back(a.key + "=" + join(a.values, ","));
    return join(axes, " × ");
}

// The text of a JSON scalar as --set would take it; throws FileError naming `what` otherwise.
std::string scalarText(const ordered_json& v, const std::string& what) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number()) return v.dump();
    throw FileError(what + " must be a string, a number or true/false");
}

std::vector<std::string> stringList(const ordered_json& v, const std::string& what) {
    if (!v.is_array()) throw FileError(what + " must be a list of strings");
    std::vector<std::string> out;
    for (const auto& x : v) {
        if (!x.is_string()) throw FileError(what + " must be a list of strings");
        out.push_back(x.get<std::string>());
    }
    return out;
}

SweepAxis axisFromJson(const std::string& key, const ordered_json& values,
                       const std::string& what) {
    if (!values.is_array()) throw FileError(what + " must be a list of values");
    SweepAxis a{key, {}};
    for (const auto& v : values) a.values.push_back(scalarText(v, what));
    return a;
}

// Checks an axis against the base and rewrites its values as the field's own text, so that
// "1e-3" and "0.001" name the same run. ConfigError naming the key.
void canonicalize(SweepAxis& a, const Config& base) {
    if (a.values.empty()) throw ConfigError("--grid " + a.key + ": no values");
    if (a.key == "run.name") throw ConfigError("--grid run.name: the sweep names each run itself");
    for (auto& v : a.values) {
        Config c = base;
        applySetting(c, a.key + "=" + v, "--grid");
        v = findField(a.key)->toString(c);
    }
    for (size_t i = 0; i < a.values.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (a.values[i] == a.values[j])
                throw ConfigError("--grid " + a.key + ": the value " + a.values[i] +
                                  " is given twice");
}

// Checks every axis (canonicalize) and that no key comes twice; the number of grid points.
int64_t checkGrid(std::vector<SweepAxis>& grid, const Config& base, int64_t seeds) {
    int64_t points = 1;
    for (size_t i = 0; i < grid.size(); ++i) {
        SweepAxis& a = grid[i];
        if (!findField(a.key)) {
            Config c = base;
            applySetting(c, a.key + "=", "--grid");  // throws, naming the closest key
        }
        for (size_t j = 0; j < i; ++j)
            if (grid[j].key == a.key) throw ConfigError("--grid " + a.key + " is given twice");
        canonicalize(a, base);
        points *= int64_t(a.values.size());
        if (points * seeds > kMaxRuns)
            throw ConfigError("the sweep has more than " + std::to_string(kMaxRuns) + " runs");
    }
    return points;
}

int64_t digits(int64_t n) {
    return n < 10 ? 1 : 1 + digits(n / 10);
}

std::string padded(int64_t index, int64_t width) {
    std::string s = std::to_string(index);
    return std::string(size_t(std::max<int64_t>(0, width - int64_t(s.size()))), '0') + s;
}

}  // namespace

Config Sweep::runConfig(const SweepRun& run) const {
    Config c = base;
    for (const auto& o : run.overrides) applySetting(c, o);
    return c;
}

SweepAxis parseGridOption(const std::string& text) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
        throw ConfigError("--grid expects key=v1,v2,..., got '" + text + "'");
    SweepAxis a{text.substr(0, eq), {}};
    std::string rest = text.substr(eq + 1);
    for (size_t start = 0;;) {
        const size_t comma = rest.find(',', start);
        a.values.push_back(rest.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    for (const auto& v : a.values)
        if (v.empty()) throw ConfigError("--grid " + a.key + ": an empty value in '" + rest + "'");
    return a;
}

SweepSpec sweepSpecFromJson(const ordered_json& j, const std::string& where) {
    if (!j.is_object()) throw FileError(where + ": a sweep must be a JSON object");
    SweepSpec s;
    for (const auto& [k, v] : j.items()) {
        const std::string what = where + ": " + k;
        if (k == "preset" || k == "config") {
            if (!v.is_string()) throw FileError(what + " must be a string");
            std::string text = v.get<std::string>();
            if (k == "config" && fs::path(text).is_relative())
                text = (fs::path(where).parent_path() / text).lexically_normal().string();
            (k == "preset" ? s.preset : s.configFile) = text;
        } else if (k == "set") {
            if (v.is_object()) {
                for (const auto& [key, x] : v.items())
                    s.set.push_back(key + "=" + scalarText(x, what + "." + key));
            } else {
                s.set = stringList(v, what);
            }
        } else if (k == "grid") {
            if (v.is_object()) {
                for (const auto& [key, values] : v.items())
                    s.grid.push_back(axisFromJson(key, values, what + "." + key));
            } else if (v.is_array()) {
                for (const auto& a : v) {
                    if (!a.is_object() || !a.contains("key") || !a["key"].is_string() ||
                        !a.contains("values"))
                        throw FileError(what +
                                        ": each entry must be {\"key\": ..., \"values\": [...]}");
                    const std::string key = a["key"].get<std::string>();
                    s.grid.push_back(axisFromJson(key, a["values"], what + "." + key));
                }
            } else {
                throw FileError(what + " must be an object {\"key\": [values], ...}");
            }
        } else if (k == "seeds") {
            if (!v.is_number_integer()) throw FileError(what + " must be an integer");
            s.seeds = v.get<int64_t>();
        } else if (k == "from") {
            if (!v.is_object() || !v.contains("run") || !v["run"].is_string() ||
                !v.contains("step") || !v["step"].is_number_integer())
                throw FileError(what + " must be {\"run\": DIR, \"step\": N}");
            std::string text = v["run"].get<std::string>();
            if (fs::path(text).is_relative())
                text = (fs::path(where).parent_path() / text).lexically_normal().string();
            s.fromRun = text;
            s.fromStep = v["step"].get<int64_t>();
        } else {
            throw FileError(where + ": unknown member '" + k +
                            "' (a sweep has preset or config, from, set, grid and seeds)");
        }
    }
    if (!s.preset.empty() && !s.configFile.empty())
        throw FileError(where + ": give either preset or config, not both");
    return s;
}

namespace {
// A sweep file's JSON, members in the order written; FileError naming the file when malformed.
ordered_json readJsonFile(const std::string& path) {
    const std::string text = readFile(path);
    try {
        return ordered_json::parse(text);
    } catch (const std::exception& e) {
        throw FileError(path + ": malformed JSON: " + e.what());
    }
}
}  // namespace

SweepSpec readSweepSpecFile(const std::string& path) {
    return sweepSpecFromJson(readJsonFile(path), path);
}

Sweep expandSweep(SweepSpec spec) {
    if (spec.seeds < 1 || spec.seeds > kMaxSeeds)
        throw ConfigError("--seeds must be >= 1 and <= " + std::to_string(kMaxSeeds) + ", got " +
                          std::to_string(spec.seeds));
    if (!spec.preset.empty() && !spec.configFile.empty())
        throw ConfigError("give either --preset or --config, not both");
    const bool fork = !spec.fromRun.empty();
    if (fork && (!spec.preset.empty() || !spec.configFile.empty()))
        throw ConfigError("--from starts every run from a checkpoint, whose configuration is the "
                          "base: give neither --preset nor --config with it");
    if (fork && spec.seeds != 1)
        throw ConfigError("--seeds " + std::to_string(spec.seeds) + ": the runs of --from start "
                          "from one state, random streams included; run.seed does not change them");
    if (!fork && spec.preset.empty() && spec.configFile.empty()) spec.preset = "seed-linear";
    Sweep s;
    if (fork) {
        spec.fromRun = fs::absolute(spec.fromRun).lexically_normal().string();
        s.base = readCheckpointInfo(forkCheckpointPath(spec.fromRun, spec.fromStep)).config;
        for (const auto& a : spec.set) {
            const auto eq = a.find('=');
            checkLiveEdit(s.base, a.substr(0, eq), eq == std::string::npos ? "" : a.substr(eq + 1),
                          spec.fromStep);
        }
        for (const auto& axis : spec.grid) {
            const FieldSpec* f = findField(axis.key);
            if (f && !f->live)
                throw ConfigError("--grid " + axis.key + ": cannot change during a run, so not at "
                                  "a fork either (`config --live` lists what can)");
        }
    } else {
        s.base = spec.configFile.empty() ? presetConfig(spec.preset) : loadConfigFile(spec.configFile);
    }
    for (const auto& a : spec.set) applySetting(s.base, a);

    const int64_t points = checkGrid(spec.grid, s.base, spec.seeds);
    const bool seedInGrid = std::any_of(spec.grid.begin(), spec.grid.end(),
                                        [](const SweepAxis& a) { return a.key == "run.seed"; });
    if (seedInGrid && spec.seeds > 1)
        throw ConfigError(
            "--seeds " + std::to_string(spec.seeds) +
            ": run.seed is in the grid; give the seeds there or with --seeds, not both");

    const std::vector<std::string> labels = axisLabels(spec.grid, !seedInGrid);
    const int64_t width = std::max<int64_t>(3, digits(points * spec.seeds));
    s.spec = spec;
    for (int64_t p = 0; p < points; ++p) {
        // p in mixed radix, the last axis fastest
        std::vector<size_t> at(spec.grid.size());
        for (int64_t rest = p, a = int64_t(spec.grid.size()) - 1; a >= 0; --a) {
            const auto n = int64_t(spec.grid[size_t(a)].values.size());
            at[size_t(a)] = size_t(rest % n);
            rest /= n;
        }
        std::vector<std::string> values, gridOverrides, named;
        for (size_t a = 0; a < spec.grid.size(); ++a) {
            values.push_back(spec.grid[a].values[at[a]]);
            gridOverrides.push_back(spec.grid[a].key + "=" + values.back());
            named.push_back(labels[a] + "=" + values.back());
        }
        Config point = s.base;
        for (const auto& o : gridOverrides) applySetting(point, o);
        for (int64_t k = 0; k < spec.seeds; ++k) {
            SweepRun r;
            r.index = int64_t(s.runs.size()) + 1;
            r.values = values;
            r.seed = point.run.seed + k;
            std::vector<std::string> label = named;
            r.overrides = gridOverrides;
            if (!seedInGrid) {
                label.push_back("seed=" + std::to_string(r.seed));
                r.overrides.push_back("run.seed=" + std::to_string(r.seed));
            }
            r.overrides.push_back("run.name=" + s.base.run.name + " " + join(label, ","));
            r.dir = padded(r.index, width) + "-" + safeName(join(label, ","));
            checkSweepRun(s, r);
            s.runs.push_back(std::move(r));
        }
    }
    return s;
}

void checkSweepRun(const Sweep& s, const SweepRun& run) {
    Config c;
    try {
        c = s.runConfig(run);
        validate(c);
    } catch (const ConfigError& e) {
        throw ConfigError("run " + run.dir + ": " + e.what());
    }
    for (const auto& f : configSchema()) {
        if (f.type != FieldType::Path) continue;
        const std::string path = f.toString(c);
        std::error_code ec;
        if (!path.empty() && !fs::is_regular_file(path, ec))
            throw FileError("run " + run.dir + ": " + f.key + ": no file '" + path + "'");
    }
}

ordered_json sweepToJson(const Sweep& s) {
    ordered_json j;
    j["format"] = "hybrid158-sweep";
    j["version"] = 1;
    ordered_json base = ordered_json::object();
    if (!s.spec.preset.empty()) base["preset"] = s.spec.preset;
    if (!s.spec.configFile.empty()) base["config"] = s.spec.configFile;
    base["set"] = s.spec.set;
    j["base"] = base;
    j["base_config"] = ordered_json::parse(toJson(s.base).dump());
    j["grid"] = ordered_json::array();
    for (const auto& a : s.spec.grid) j["grid"].push_back({{"key", a.key}, {"values", a.values}});
    j["seeds"] = s.spec.seeds;
    if (!s.spec.fromRun.empty()) j["from"] = {{"run", s.spec.fromRun}, {"step", s.spec.fromStep}};
    j["runs"] = ordered_json::array();
    for (const auto& r : s.runs)
        j["runs"].push_back({{"index", r.index}, {"dir", r.dir}, {"overrides", r.overrides}});
    return j;
}

void writeSweepFile(const Sweep& s, const std::string& path) {
    writeFileAtomically(path, sweepToJson(s).dump(2) + "\n");
}

Sweep readSweepFile(const std::string& path) {
    const ordered_json j = readJsonFile(path);
    auto member = [&](const ordered_json& o, const char* name, const std::string& where) {
        if (!o.is_object() || !o.contains(name))
            throw FileError(path + ": " + where + (where.empty() ? "" : ".") + name +
                            " is missing");
        return o[name];
    };
    if (!j.is_object() || j.value("format", "") != "hybrid158-sweep")
        throw FileError(path + ": not a hybrid158 sweep (format \"hybrid158-sweep\")");
    if (member(j, "version", "") != 1)
        throw FileError(path + ": sweep version " + j["version"].dump() +
                        " is not supported (this program reads version 1)");
    Sweep s;
    try {
        const ordered_json base = member(j, "base", "");
        if (base.contains("preset")) s.spec.preset = base["preset"].get<std::string>();
        if (base.contains("config")) s.spec.configFile = base["config"].get<std::string>();
        s.spec.set = stringList(member(base, "set", "base"), path + ": base.set");
        s.base = fromJson(json::parse(member(j, "base_config", "").dump()), Config{},
                          path + ": base_config");
        const ordered_json grid = member(j, "grid", "");
        if (!grid.is_array()) throw FileError(path + ": grid must be a list");
        for (const auto& a : grid)
            s.spec.grid.push_back(
                {member(a, "key", "grid").get<std::string>(),
                 stringList(member(a, "values", "grid"), path + ": grid.values")});
        const ordered_json seeds = member(j, "seeds", "");
        if (!seeds.is_number_integer() || seeds.get<int64_t>() < 1)
            throw FileError(path + ": seeds must be an integer >= 1");
        s.spec.seeds = seeds.get<int64_t>();
        if (j.contains("from")) {
            const ordered_json from = j["from"];
            s.spec.fromRun = member(from, "run", "from").get<std::string>();
            s.spec.fromStep = member(from, "step", "from").get<int64_t>();
        }
        const ordered_json runs = member(j, "runs", "");
        if (!runs.is_array() || runs.empty())
            throw FileError(path + ": runs must be a non-empty list");
        std::set<std::string> dirs;
        for (const auto& x : runs) {
            SweepRun r;
            r.index = member(x, "index", "runs").get<int64_t>();
            r.dir = member(x, "dir", "runs").get<std::string>();
            r.overrides = stringList(member(x, "overrides", "runs"), path + ": runs.overrides");
            const std::string where = path + ": run " + std::to_string(r.index);
            if (r.index != int64_t(s.runs.size()) + 1)
                throw FileError(where + ": runs must be numbered 1, 2, ... in order");
            // the directory is removed and rewritten by the sweep: it must stay inside the folder
            if (r.dir.empty() || r.dir[0] == '.' ||
                !std::all_of(r.dir.begin(), r.dir.end(), safeChar) || !dirs.insert(r.dir).second)
                throw FileError(where + ": dir '" + r.dir + "' is not a new plain folder name");
            const Config c = s.runConfig(r);
            r.seed = c.run.seed;
            for (const auto& a : s.spec.grid) r.values.push_back(findField(a.key)->toString(c));
            s.runs.push_back(std::move(r));
        }
    } catch (const FileError&) {
        throw;
    } catch (const std::exception& e) {
        throw FileError(path + ": " + e.what());
    }
    return s;
}

std::string configDifference(const Config& a, const Config& b, const std::string& aName,
                             const std::string& bName) {
    for (const auto& f : configSchema())
        if (f.key != "run.threads" && f.toString(a) != f.toString(b))
            return f.key + " is '" + f.toString(a) + "' in " + aName + ", '" + f.toString(b) +
                   "' in " + bName;
    return "";
}

std::vector<std::string> forkChanges(const Sweep& s, const SweepRun& run) {
    std::vector<std::string> out = s.spec.set;
    for (const auto& o : run.overrides)
        if (o.rfind("run.seed=", 0) != 0 && o.rfind("run.name=", 0) != 0) out.push_back(o);
    return out;
}

std::string sweepDifference(const Sweep& stored, const Sweep& given) {
    if (stored.spec.fromRun != given.spec.fromRun || stored.spec.fromStep != given.spec.fromStep)
        return "the starting point differs: " +
               (stored.spec.fromRun.empty() ? std::string("step 0")
                                            : stored.spec.fromRun + " at step " + std::to_string(stored.spec.fromStep)) +
               " in the sweep, " +
               (given.spec.fromRun.empty() ? std::string("step 0")
                                           : given.spec.fromRun + " at step " + std::to_string(given.spec.fromStep)) +
               " in this one";
    if (const std::string d = configDifference(stored.base, given.base, "the sweep", "this one");
        !d.empty())
        return "the base configuration differs: " + d;
    bool sameGrid = stored.spec.grid.size() == given.spec.grid.size();
    for (size_t i = 0; sameGrid && i < given.spec.grid.size(); ++i)
        sameGrid = stored.spec.grid[i].key == given.spec.grid[i].key &&
                   stored.spec.grid[i].values == given.spec.grid[i].values;
    if (!sameGrid)
        return "the grid differs: " + describeGrid(stored.spec.grid) + " in the sweep, " +
               describeGrid(given.spec.grid) + " in this one";
    if (stored.spec.seeds != given.spec.seeds)
        return "the seeds differ: " + std::to_string(stored.spec.seeds) + " in the sweep, " +
               std::to_string(given.spec.seeds) + " in this one";
    return "";
}

SweepAction sweepAction(const std::string& runDir, RunOverview* overview) {
    const fs::path d(runDir);
    RunOverview o;
    if (fs::exists(d / "config.json") || fs::exists(d / "metrics.csv"))
        o = overviewRunDirectory(runDir);
    if (overview) *overview = o;
    if (o.status.empty()) return SweepAction::Start;
    if (o.status == "completed" || o.status == "diverged") return SweepAction::Skip;
    if ((o.status == "stopped" || o.status == "interrupted" || o.status == "failed") &&
        o.checkpointStep > 0)
        return SweepAction::Resume;
    return SweepAction::Restart;
}

SweepRunResult readSweepRunResult(const std::string& runDir, const Config& cfg) noexcept {
    RunOverview o;
    try {
        if (sweepAction(runDir, &o) == SweepAction::Start) return {};
    } catch (const std::exception& e) {
        SweepRunResult r;
        r.status = "unreadable";
        r.problem = e.what();
        return r;
    }
    return sweepRunResultOf(runDir, o, cfg);
}

SweepRunResult sweepRunResultOf(const std::string& runDir, const RunOverview& o,
                                const Config& cfg) noexcept {
    SweepRunResult r;
    try {
        if (o.status.empty()) return r;
        r.status = o.status;
        r.steps = o.steps;
        r.finalLoss = o.finalLoss;
        r.problem = o.problem;
        const fs::path summary = fs::path(runDir) / "summary.json";
        if (o.status == "unreadable" || !fs::exists(summary)) return r;
        const json s = json::parse(readFile(summary.string()));
        auto number = [&](const char* name) {
            const auto it = s.find(name);
            return it != s.end() && it->is_number() ? it->get<double>() : kNoValue;
        };
        r.finalValLoss = number("final_val_loss");
        r.finalValAccuracy = number("final_val_accuracy");
        r.constraintActivationRate = number("constraint_activation_rate");
        r.meanQuantError = number("mean_quant_error");
        r.wallSeconds = number("wall_seconds");
        if (const double at = number("resumed_at_step"); !std::isnan(at)) r.resumedAt = int64_t(at);
        if (cfg.model.kind == "gpt" && r.wallSeconds > 0)
            r.tokensPerSecond =
                double(r.steps * cfg.run.batch_size * cfg.model.context) / r.wallSeconds;
    } catch (const std::exception& e) {
        r.status = "unreadable";
        r.problem = e.what();
    }
    return r;
}

std::string sweepSummaryCsv(const Sweep& s, const std::vector<SweepRunResult>& results) {
    std::vector<std::string> lead = {"index", "dir"};
    for (const auto& a : s.spec.grid) lead.push_back(a.key);
    lead.push_back("seed");
    std::vector<std::vector<std::string>> rows;
    for (const SweepRun& run : s.runs) {
        std::vector<std::string> row = {std::to_string(run.index), run.dir};
        row.insert(row.end(), run.values.begin(), run.values.end());
        row.push_back(std::to_string(run.seed));
        rows.push_back(std::move(row));
    }
    return resultsCsv(lead, rows, results);
}

std::vector<SweepRunResult> readSweepResults(const Sweep& s, const std::string& dir) {
    std::vector<SweepRunResult> results;
    results.reserve(s.runs.size());
    for (const SweepRun& run : s.runs)
        results.push_back(
            readSweepRunResult((std::filesystem::path(dir) / run.dir).string(), s.runConfig(run)));
    return results;
}

void writeSweepSummary(const Sweep& s, const std::string& dir,
                       const std::vector<SweepRunResult>& results) {
    writeFileAtomically((std::filesystem::path(dir) / "summary.csv").string(),
                        sweepSummaryCsv(s, results));
}

}  // namespace h158
