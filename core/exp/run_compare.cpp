// Comparing runs: differing settings, seed groups, bands over a group's curves, a run's figures.
#include "core/exp/run_compare.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/base/errors.h"

namespace h158 {

namespace {

const FieldSpec& fieldOf(const std::string& key) {
    const FieldSpec* f = findField(key);
    if (!f) throw ConfigError("run comparison: '" + key + "' is not a configuration key");
    return *f;
}

std::string lastComponent(const std::string& key) {
    return key.substr(key.rfind('.') + 1);
}

// The schema's text of every field that can change a result, run.seed included or not.
std::vector<std::string> resultTexts(const Config& c, bool includeSeed) {
    std::vector<std::string> out;
    for (const auto& f : configSchema())
        if (!isResultNeutralKey(f.key) && (includeSeed || f.key != "run.seed"))
            out.push_back(f.toString(c));
    return out;
}

std::string csvCell(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string numberCell(double v) {
    return std::isfinite(v) ? formatNumber(v) : "";
}

// One CSV line of the cells, each quoted where it needs to be.
std::string csvLine(const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + csvCell(cells[i]);
    return out + "\n";
}

}  // namespace

bool isResultNeutralKey(const std::string& key) {
    return key == "run.name" || key == "run.threads" || key == "run.snapshot_every" ||
           key == "run.record_batches" || key == "run.checkpoint_every" ||
           key == "run.keep_checkpoints";
}

std::vector<std::string> differingKeys(const std::vector<Config>& configs, bool includeSeed) {
    std::vector<std::string> keys;
    if (configs.size() < 2) return keys;
    for (const auto& f : configSchema()) {
        if (isResultNeutralKey(f.key) || (!includeSeed && f.key == "run.seed")) continue;
        const std::string first = f.toString(configs.front());
        if (std::any_of(configs.begin() + 1, configs.end(),
                        [&](const Config& c) { return f.toString(c) != first; }))
            keys.push_back(f.key);
    }
    return keys;
}

std::vector<std::string> keyLabels(const std::vector<std::string>& keys) {
    std::vector<std::string> labels;
    for (const auto& k : keys) {
        const std::string l = lastComponent(k);
        const auto same = std::count_if(
            keys.begin(), keys.end(), [&](const std::string& o) { return lastComponent(o) == l; });
        labels.push_back(same > 1 ? k : l);
    }
    return labels;
}

std::string differenceLabel(const Config& c, const std::vector<std::string>& keys) {
    const std::vector<std::string> labels = keyLabels(keys);
    std::string out;
    for (size_t i = 0; i < keys.size(); ++i) {
        const FieldSpec& f = fieldOf(keys[i]);
        std::string value = f.toString(c);
        if (f.type == FieldType::Bool)
            value = std::get<bool>(f.get(c)) ? "on" : "off";
        else if (value.empty())
            value = "\"\"";
        out += (i ? ", " : "") + labels[i] + "=" + value;
    }
    return out;
}

std::vector<RunGroup> seedGroups(const std::vector<Config>& configs) {
    std::vector<RunGroup> groups;
    std::vector<std::vector<std::string>> groupTexts;  // of each group's first member
    for (size_t i = 0; i < configs.size(); ++i) {
        std::vector<std::string> t = resultTexts(configs[i], false);
        const auto it = std::find(groupTexts.begin(), groupTexts.end(), t);
        if (it != groupTexts.end()) {
            groups[size_t(it - groupTexts.begin())].members.push_back(i);
        } else {
            groups.push_back({{i}, ""});
            groupTexts.push_back(std::move(t));
        }
    }
    const std::vector<std::string> keys = differingKeys(configs, false);
    for (auto& g : groups) g.label = differenceLabel(configs[g.members.front()], keys);
    return groups;
}

namespace {

// The band of values gathered per x (each vector: the runs' finite values there).
template <class Key>
BandSeries bandOf(const std::map<Key, std::vector<double>>& byX, int runs) {
    BandSeries b;
    b.runs = runs;
    for (const auto& [x, values] : byX) {
        const MeanStd s = meanStd(values);
        const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
        b.x.push_back(double(x));
        b.mean.push_back(s.mean);
        b.lo.push_back(*lo);
        b.hi.push_back(*hi);
        b.std.push_back(s.std);
        b.count.push_back(s.count);
    }
    return b;
}

}  // namespace

BandSeries groupBand(const std::vector<const std::vector<StepMetrics>*>& runs,
                     double StepMetrics::*field, bool validationRowsOnly) {
    std::map<int64_t, std::vector<double>> byStep;  // step -> the runs' finite values there
    int n = 0;
    for (const auto* rows : runs) {
        if (!rows) continue;
        ++n;
        for (const StepMetrics& m : *rows) {
            if (validationRowsOnly && !std::isfinite(m.val_loss)) continue;
            if (const double v = m.*field; std::isfinite(v)) byStep[m.step].push_back(v);
        }
    }
    return bandOf(byStep, n);
}

BandSeries bandOfCurves(const std::vector<Curve>& curves) {
    std::map<double, std::vector<double>> byX;
    for (const Curve& c : curves)
        for (size_t j = 0; j < std::min(c.x.size(), c.y.size()); ++j)
            if (std::isfinite(c.x[j]) && std::isfinite(c.y[j])) byX[c.x[j]].push_back(c.y[j]);
    return bandOf(byX, int(curves.size()));
}

MeanStd meanStd(const std::vector<double>& values) {
    MeanStd r;
    double sum = 0;
    for (double v : values)
        if (std::isfinite(v)) sum += v, ++r.count;
    if (r.count == 0) return r;
    r.mean = sum / r.count;
    if (r.count < 2) return r;
    double ss = 0;  // two passes: no cancellation for values far from zero
    for (double v : values)
        if (std::isfinite(v)) ss += (v - r.mean) * (v - r.mean);
    r.std = std::sqrt(ss / (r.count - 1));
    return r;
}

SweepRunResult readRunResult(const std::string& runDir) noexcept {
    Config cfg;
    try {
        cfg = loadConfigFile(runDir + "/config.json");
    } catch (const std::exception&) {
        cfg = Config{};  // the overview below says what is wrong, if anything
    }
    return readSweepRunResult(runDir, cfg);
}

std::string resultsCsv(const std::vector<std::string>& lead,
                       const std::vector<std::vector<std::string>>& leadRows,
                       const std::vector<SweepRunResult>& results) {
    std::vector<std::string> head = lead;
    for (const char* c :
         {"status", "steps", "final_loss", "final_val_loss", "final_val_accuracy",
          "constraint_activation_rate", "mean_quant_error", "wall_seconds", "tokens_per_s"})
        head.push_back(c);
    std::string out = csvLine(head);
    for (size_t i = 0; i < leadRows.size(); ++i) {
        const SweepRunResult r = i < results.size() ? results[i] : SweepRunResult{};
        std::vector<std::string> row = leadRows[i];
        row.push_back(r.status);
        row.push_back(r.status == "pending" ? "" : std::to_string(r.steps));
        for (double v :
             {r.finalLoss, r.finalValLoss, r.finalValAccuracy, r.constraintActivationRate,
              r.meanQuantError, r.wallSeconds, r.tokensPerSecond})
            row.push_back(numberCell(v));
        out += csvLine(row);
    }
    return out;
}

std::string runsTableCsv(const std::vector<std::string>& dirs, const std::vector<Config>& configs,
                         const std::vector<SweepRunResult>& results) {
    if (dirs.size() != configs.size())
        throw Error("runsTableCsv: " + std::to_string(dirs.size()) + " directories but " +
                    std::to_string(configs.size()) + " configurations");
    const std::vector<std::string> keys = differingKeys(configs);
    std::vector<std::string> lead = {"dir", "group"};
    lead.insert(lead.end(), keys.begin(), keys.end());
    std::vector<std::vector<std::string>> rows(dirs.size());
    const std::vector<RunGroup> groups = seedGroups(configs);
    for (size_t g = 0; g < groups.size(); ++g)
        for (size_t i : groups[g].members) rows[i] = {dirs[i], std::to_string(g + 1)};
    for (size_t i = 0; i < rows.size(); ++i)
        for (const auto& k : keys) rows[i].push_back(findField(k)->toString(configs[i]));
    return resultsCsv(lead, rows, results);
}

}  // namespace h158
