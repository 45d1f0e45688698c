// metrics.csv rows (the contract column order), snapshot and summary JSON.
#include "core/train/metrics.h"

#include <charconv>
#include <cstdio>
#include <sstream>

#include "core/base/errors.h"
#include "core/base/types.h"

namespace h158 {
namespace {

// Shortest decimal that reads back to the same double: equal numbers give equal files.
void appendNumber(std::string& out, double v) {
    if (std::isnan(v)) return;
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

double parseCell(const std::string& cell) {
    if (cell.empty()) return kNoValue;
    double v = 0;
    const auto r = std::from_chars(cell.data(), cell.data() + cell.size(), v);
    if (r.ec != std::errc() || r.ptr != cell.data() + cell.size())
        throw Error("bad number '" + cell + "'");
    return v;
}

// The integer columns (step, constrained, cluster), written by std::to_string: read as integers,
// since a cell such as "" or "1e30" converted from double would be undefined behaviour.
template <typename I>
I parseIntCell(const std::string& cell, const char* column) {
    I v = 0;
    const auto r = std::from_chars(cell.data(), cell.data() + cell.size(), v);
    if (cell.empty() || r.ec != std::errc() || r.ptr != cell.data() + cell.size())
        throw Error(std::string("column ") + column + ": '" + cell + "' is not an integer");
    return v;
}

}  // namespace

std::vector<std::string> metricsColumns() {
    return {"step",         "loss",       "val_loss",  "lr",        "trust_radius",
            "step_norm",    "constrained", "quant_error", "update_quant_error", "cluster",
            "grad_norm",    "elapsed_ms", "lr_multiplier", "frac_neg", "frac_zero",
            "frac_pos",     "accuracy",   "val_accuracy", "constrained_fraction", "step_ratio",
            "weight_bits",  "code_flips", "code_flips_scale"};
}

std::string metricsCsvRow(const StepMetrics& m) {
    std::string s;
    s.reserve(256);
    s += std::to_string(m.step);
    const double values[] = {m.loss,       m.val_loss,     m.lr,
                             m.trust_radius, m.step_norm};
    for (double v : values) {
        s += ',';
        appendNumber(s, v);
    }
    s += ',';
    s += std::to_string(m.constrained);
    s += ',';
    appendNumber(s, m.quant_error);
    s += ',';
    appendNumber(s, m.update_quant_error);
    s += ',';
    s += std::to_string(m.cluster);
    s += ',';
    appendNumber(s, m.grad_norm);
    s += ',';
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", m.elapsed_ms);
    s += buf;
    const double extra[] = {m.lr_multiplier, m.frac_neg,     m.frac_zero,
                            m.frac_pos,      m.accuracy,     m.val_accuracy,
                            m.constrained_fraction, m.step_ratio, m.weight_bits,
                            m.code_flips,    m.code_flips_scale};
    for (double v : extra) {
        s += ',';
        appendNumber(s, v);
    }
    return s;
}

StepMetrics parseMetricsCsvRow(const std::string& line) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream in(line);
    while (std::getline(in, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    const size_t n = metricsColumns().size();
    if (cells.size() < 12)
        throw Error("expected at least 12 columns, got " + std::to_string(cells.size()));
    cells.resize(std::max(cells.size(), n));
    StepMetrics m;
    m.step = parseIntCell<int64_t>(cells[0], "step");
    m.loss = parseCell(cells[1]);
    m.val_loss = parseCell(cells[2]);
    m.lr = parseCell(cells[3]);
    m.trust_radius = parseCell(cells[4]);
    m.step_norm = parseCell(cells[5]);
    m.constrained = parseIntCell<int>(cells[6], "constrained");
    m.quant_error = parseCell(cells[7]);
    m.update_quant_error = parseCell(cells[8]);
    m.cluster = parseIntCell<int>(cells[9], "cluster");
    m.grad_norm = parseCell(cells[10]);
    m.elapsed_ms = parseCell(cells[11]);
    m.lr_multiplier = parseCell(cells[12]);
    m.frac_neg = parseCell(cells[13]);
    m.frac_zero = parseCell(cells[14]);
    m.frac_pos = parseCell(cells[15]);
    m.accuracy = parseCell(cells[16]);
    m.val_accuracy = parseCell(cells[17]);
    m.constrained_fraction = parseCell(cells[18]);
    m.step_ratio = parseCell(cells[19]);
    m.weight_bits = parseCell(cells[20]);
    m.code_flips = parseCell(cells[21]);
    m.code_flips_scale = parseCell(cells[22]);
    return m;
}

nlohmann::json Snapshot::toJson() const {
    nlohmann::json j = data.is_object() ? data : nlohmann::json::object();
    j["step"] = step;
    j["kind"] = kind;
    return j;
}

std::string toString(RunStatus s) {
    switch (s) {
    case RunStatus::Running: return "running";
    case RunStatus::Completed: return "completed";
    case RunStatus::Stopped: return "stopped";
    case RunStatus::Diverged: return "diverged";
    case RunStatus::Failed: return "failed";
    }
    return "unknown";
}

nlohmann::json Summary::toJson() const {
    nlohmann::json j;
    j["status"] = toString(status);
    j["message"] = message;
    j["steps"] = steps;
    j["wall_seconds"] = wall_seconds;
    for (const auto& [k, v] : figures.items()) j[k] = v;
    return j;
}

}  // namespace h158
