// A sweep: one base configuration, a grid of settings and a number of seeds, expanded into
// numbered runs that share one folder. DIR/sweep.json (format "hybrid158-sweep", version 1) holds
// the base, the grid, the seeds and every run's directory and overrides, so that any one run can
// be started or resumed alone; DIR/<NNN-name>/ are run directories (run_session.h); DIR/summary.csv
// has one row per run. The process management lives in the CLI (app/cli_sweep.cpp).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/exp/run_session.h"

namespace h158 {

struct SweepAxis {
    std::string key;                  // "optim.lr"
    std::vector<std::string> values;  // the field's own text after expandSweep ("1e-3" -> "0.001")
};

struct SweepSpec {
    std::string preset;            // the base: a built-in preset, or
    std::string configFile;        // a configuration file (neither: the seed-linear preset)
    std::vector<std::string> set;  // "key=value", applied to the base in order
    std::vector<SweepAxis> grid;   // the cartesian product, first axis slowest
    int64_t seeds = 1;             // run.seed = s, s+1, ..., s+seeds-1 (innermost), s the base's
    // A sweep of forks (fork.h): every run starts from fromRun's checkpoint at fromStep, the base
    // being the configuration it was taken under; the grid and set then hold only settings that
    // can change during a run, applied at that step, and seeds is 1 (the state holds the random
    // streams). Empty: runs start at step 0.
    std::string fromRun;
    int64_t fromStep = 0;
};

struct SweepRun {
    int64_t index = 0;                   // 1-based: DIR/<index, 3 digits or more>-<name>
    std::string dir;                     // relative to the sweep folder
    std::vector<std::string> overrides;  // "key=value" on the base: the grid's, run.seed, run.name
    std::vector<std::string> values;     // the grid value of each axis
    int64_t seed = 0;
};

struct Sweep {
    SweepSpec spec;
    Config base;  // the preset or file with the set lines applied
    std::vector<SweepRun> runs;

    Config runConfig(const SweepRun& run) const;  // base + overrides
};

// A fork sweep's changes for one run: the set lines and the grid's values (not run.seed or
// run.name), as fork --set takes them.
std::vector<std::string> forkChanges(const Sweep& s, const SweepRun& run);

// "key=v1,v2,..." as given to --grid. Throws ConfigError when it is not of that form.
SweepAxis parseGridOption(const std::string& text);

// A sweep file: {"preset" | "config", "set": {"key": value, ...} | ["key=value", ...],
// "grid": {"key": [values], ...} (in the order written) | [{"key": k, "values": [...]}, ...],
// "seeds": N}. A relative "config" is relative to the file's folder. Throws FileError naming
// `where` and the member that is wrong.
SweepSpec sweepSpecFromJson(const nlohmann::ordered_json& j, const std::string& where);
SweepSpec readSweepSpecFile(const std::string& path);

// Resolves the base, checks every key and value of the grid (ConfigError naming the key), expands
// the runs and checks each (checkSweepRun), all before anything is written. FileError for a
// configuration file that cannot be read.
Sweep expandSweep(SweepSpec spec);

// Checks one run before it starts: its configuration validates (ConfigError) and each file it
// names (data.csv_file, data.text_file, model.init_file, when set) exists (FileError); the
// message starts with "run <dir>: ".
void checkSweepRun(const Sweep& s, const SweepRun& run);

// DIR/sweep.json: written atomically; read back with every member checked (FileError naming the
// file and the member).
nlohmann::ordered_json sweepToJson(const Sweep& s);
void writeSweepFile(const Sweep& s, const std::string& path);
Sweep readSweepFile(const std::string& path);

// The first setting (in schema order) in which two configurations differ, run.threads aside (the
// results do not depend on it): "optim.lr is 0.01 in <aName>, 0.003 in <bName>"; empty when none.
std::string configDifference(const Config& a, const Config& b, const std::string& aName,
                             const std::string& bName);

// What differs between the sweep stored in a folder and one given again: the base configuration
// (run.threads aside: it does not change results), the grid or the seeds, said in one sentence;
// empty when they describe the same runs.
std::string sweepDifference(const Sweep& stored, const Sweep& given);

// What a sweep does with one run directory (overviewRunDirectory): start it (no run there yet),
// skip it (completed or diverged: a result), resume it from its checkpoint (stopped, interrupted
// or failed with a checkpoint), or start it over (anything else: no usable checkpoint).
enum class SweepAction { Start, Skip, Resume, Restart };
SweepAction sweepAction(const std::string& runDir, RunOverview* overview = nullptr);

// One row of DIR/summary.csv, read from a run directory without throwing.
struct SweepRunResult {
    std::string status = "pending";  // an overview status, or pending (not started)
    int64_t steps = 0;
    double finalLoss = kNoValue;
    double finalValLoss = kNoValue;
    double finalValAccuracy = kNoValue;
    double constraintActivationRate = kNoValue;  // empty when the trust region is off
    double meanQuantError = kNoValue;
    double wallSeconds = kNoValue;
    double tokensPerSecond = kNoValue;  // gpt: steps × batch × context / wall time
    int64_t resumedAt = 0;
    std::string problem;  // unreadable: what is wrong
};
SweepRunResult readSweepRunResult(const std::string& runDir, const Config& runConfig) noexcept;
// The same from the directory's overview, already read (overviewRunDirectory; an empty status is
// a directory with no run yet, "pending"): reads only summary.json.
SweepRunResult sweepRunResultOf(const std::string& runDir, const RunOverview& overview,
                                const Config& runConfig) noexcept;

// DIR/summary.csv: header "index,dir,<grid keys>,seed,status,steps,final_loss,final_val_loss,
// final_val_accuracy,constraint_activation_rate,mean_quant_error,wall_seconds,tokens_per_s",
// then one row per run (results[i] of runs[i]); cells quoted as RFC 4180 says, empty where a
// figure does not apply.
std::string sweepSummaryCsv(const Sweep& s, const std::vector<SweepRunResult>& results);

// readSweepRunResult of every run of s, in DIR/<run dir>.
std::vector<SweepRunResult> readSweepResults(const Sweep& s, const std::string& dir);

// DIR/summary.csv (sweepSummaryCsv), replaced atomically: a reader sees the old or the new
// file, never half of one. Throws FileError naming the file when it cannot be written.
void writeSweepSummary(const Sweep& s, const std::string& dir,
                       const std::vector<SweepRunResult>& results);

}  // namespace h158
