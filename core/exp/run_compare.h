// Comparing finished runs: which settings tell them apart, the seed groups (runs equal but for
// run.seed), the band of a group's curves (mean, min, max, std at each step) and a run's figures
// for a table. Plain data in and out, for the GUI's runs table and plots.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/train/metrics.h"
#include "core/exp/sweep.h"

namespace h158 {

// True for the keys that change no result of a run, only its name, its speed or which extra files
// it writes: run.name, run.threads (results do not depend on it, as sweep.h says too),
// run.snapshot_every (snapshots read the state, and draw from no training RNG),
// run.record_batches (batches.csv) and run.checkpoint_every (a resume continues bit for bit).
// sample.* is not among them: it changes the text samples, which are a result one may compare.
bool isResultNeutralKey(const std::string& key);

// The keys (schema order) whose values are not all equal among `configs`, compared as the
// schema's text of the value (FieldSpec::toString: 3e-3 and 0.003 are the same), the
// result-neutral keys aside, and run.seed too when !includeSeed. Empty for fewer than 2 configs.
std::vector<std::string> differingKeys(const std::vector<Config>& configs, bool includeSeed = true);

// How `keys` are named in a label: the key's last component ("lr"), or the whole key when two of
// `keys` share that last component (optim.lr and aux.lr). The rule the sweep names runs by.
std::vector<std::string> keyLabels(const std::vector<std::string>& keys);

// "lr=0.003, enabled=off": each key as keyLabels names it, booleans as on/off, numbers in the
// schema's shortest text, an empty string as "". Empty keys: an empty label. Throws ConfigError
// for a key that is not in the schema.
std::string differenceLabel(const Config& c, const std::vector<std::string>& keys);

// Runs whose configurations are equal but for run.seed (and the result-neutral keys) form one
// group; groups in order of first appearance, members in input order, a run alone a group of one.
// Each label is differenceLabel over differingKeys(configs, false): what sets the group apart from
// the other groups (empty when there is one group).
struct RunGroup {
    std::vector<size_t> members;  // indices into the input
    std::string label;
};
std::vector<RunGroup> seedGroups(const std::vector<Config>& configs);

// The statistics of one metric over a group's runs, step by step, for a band around a mean.
// Alignment: every step that at least one run has a finite value at is a point, over the runs that
// have one there (count). So a run that ended early (diverged, stopped, fewer steps) drops out of
// the band where it ends and the band goes on over the rest; a caller that wants only the steps
// all runs reached keeps the points with count == runs. NaN and ±inf values are skipped: the
// validation columns (val_loss, val_accuracy) are NaN but on every run.eval_every-th and the last
// row, so their band has points only at the validation steps. validationRowsOnly keeps only rows
// with a finite val_loss for any field (the training loss at the validation steps, say).
// lo/hi are the min/max over the runs at the step, std the sample standard deviation (n - 1; NaN
// where count is 1).
struct BandSeries {
    std::vector<double> x, mean, lo, hi, std;  // x: the step
    std::vector<int> count;                    // runs with a value at the point
    int runs = 0;                              // runs given (null pointers aside)
};
BandSeries groupBand(const std::vector<const std::vector<StepMetrics>*>& runs,
                     double StepMetrics::*field, bool validationRowsOnly = false);

// The same statistics over curves already derived from the runs (a smoothed loss, a rolling rate):
// curve i is the points (x[j], y[j]); points are aligned by equal x, non-finite y skipped. The
// plots draw a seed group's band from whatever series each of them shows.
struct Curve {
    std::vector<double> x, y;
};
BandSeries bandOfCurves(const std::vector<Curve>& curves);

// Mean and sample standard deviation (n - 1) of the finite values, for "mean ± std" cells: both NaN
// without values, std NaN with one value (no spread to tell).
struct MeanStd {
    double mean = kNoValue;
    double std = kNoValue;
    int count = 0;
};
MeanStd meanStd(const std::vector<double>& values);

// A run's figures for a table (status, steps, final losses, constraint activation, mean
// quantization error, wall time, tokens/s), read from its directory without throwing: the same
// row a sweep's summary.csv has (readSweepRunResult), with the configuration read from the
// directory's config.json (a directory whose config.json does not load gives no tokens/s; its
// status comes from overviewRunDirectory). "pending" for a directory with no run in it yet.
SweepRunResult readRunResult(const std::string& runDir) noexcept;

// A table of runs as CSV: the header is `lead` then status, steps, final_loss, final_val_loss,
// final_val_accuracy, constraint_activation_rate, mean_quant_error, wall_seconds, tokens_per_s;
// row i is leadRows[i] then the figures of results[i] (pending where results is shorter). Cells
// are quoted as RFC 4180 says, empty where a figure does not apply (steps of a pending run, NaN).
// A sweep's summary.csv is one such table.
std::string resultsCsv(const std::vector<std::string>& lead,
                       const std::vector<std::vector<std::string>>& leadRows,
                       const std::vector<SweepRunResult>& results);

// resultsCsv of runs read from their directories: the lead columns are dir, group (the 1-based
// number of its seed group, seedGroups) and each of differingKeys(configs) in the schema's text.
std::string runsTableCsv(const std::vector<std::string>& dirs, const std::vector<Config>& configs,
                         const std::vector<SweepRunResult>& results);

}  // namespace h158
