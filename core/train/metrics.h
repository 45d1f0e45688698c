// One metrics row per step, snapshots, and the run summary (the run-directory contract).
#pragma once

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace h158 {

inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

// The contract columns of metrics.csv in order, then our further columns. NaN = empty cell.
struct StepMetrics {
    int64_t step = 0;
    double loss = kNoValue;
    double val_loss = kNoValue;
    double lr = kNoValue;
    double trust_radius = kNoValue;
    double step_norm = kNoValue;
    int constrained = 0;
    double quant_error = 0;
    double update_quant_error = kNoValue;
    int cluster = -1;
    double grad_norm = kNoValue;
    double elapsed_ms = 0;
    // further columns
    double lr_multiplier = kNoValue;  // auxiliary NN's m_t (1 when off)
    double frac_neg = kNoValue;       // fractions of negative / zero / positive weight codes
    double frac_zero = kNoValue;
    double frac_pos = kNoValue;
    double accuracy = kNoValue;       // batch accuracy (classification, next byte)
    double val_accuracy = kNoValue;
    double constrained_fraction = kNoValue;  // trust region: share of the matrices' parameters
                                             // whose step it shortened (1 or 0 when global)
    double step_ratio = kNoValue;  // trust.mode=tensor: max over matrices of ‖Δ_i‖/‖Θ_i‖ as
                                   // the optimizer proposed it (the region binds when > r_t)
    double weight_bits = kNoValue;  // mean bits per quantizable weight of the weights this step
                                    // used (sensitivity.h; 32 with quantization off)
    double code_flips = kNoValue;        // fraction of the quantized weights whose code this
                                         // step's update changed (code_flips.h); empty when off
    double code_flips_scale = kNoValue;  // of which flipped because the scale moved, not the weight
};

std::vector<std::string> metricsColumns();
std::string metricsCsvRow(const StepMetrics& m);
// Parses one data row written by metricsCsvRow (for reading past runs).
StepMetrics parseMetricsCsvRow(const std::string& line);

struct Snapshot {
    int64_t step = 0;
    std::string kind;     // clusters | weights | boundary | network | samples | precision
    nlohmann::json data;  // kind-specific fields (see trainer.h)
    nlohmann::json toJson() const;
};

enum class RunStatus { Running, Completed, Stopped, Diverged, Failed };
std::string toString(RunStatus s);

struct Summary {
    RunStatus status = RunStatus::Running;
    std::string message;   // why it stopped (diverged at step N: ..., the failure)
    int64_t steps = 0;
    double wall_seconds = 0;
    nlohmann::json figures;  // total_loss_reduction, constraint_activation_rate, ... and per component
    nlohmann::json toJson() const;
};

}  // namespace h158
