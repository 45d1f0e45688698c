// Per-tensor sensitivity and the level allocation of quant.weights=adaptive (sensitivity.h), and
// the trainer's side of them: measuring on its latent weights, allocating, the precision
// snapshot.
#include "core/train/sensitivity.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "core/base/errors.h"
#include "core/base/parallel.h"
#include "core/io/h158_format.h"
#include "core/model/safetensors.h"
#include "core/train/trainer_impl.h"

namespace h158 {
namespace {

using json = nlohmann::json;

// The ladder of the greedy descent, most bits first.
constexpr std::array<QuantLevels, 4> kLadder = {QuantLevels::None, QuantLevels::Int8,
                                                QuantLevels::FiveLevel, QuantLevels::Ternary};

json levelMap(const std::array<double, 3>& v) {
    json j = json::object();
    for (size_t k = 0; k < kSensitivityLevels.size(); ++k) {
        const double x = v[k];
        j[quantLevelsName(kSensitivityLevels[k])] = std::isfinite(x) ? json(x) : json();
    }
    return j;
}

std::array<double, 3> levelArray(const json& j, const std::string& field) {
    std::array<double, 3> v{};
    if (!j.is_object()) throw Error("sensitivity: '" + field + "' must be an object");
    for (size_t k = 0; k < kSensitivityLevels.size(); ++k) {
        const char* name = quantLevelsName(kSensitivityLevels[k]);
        if (!j.contains(name)) throw Error("sensitivity: '" + field + "' has no '" + name + "'");
        const json& x = j[name];
        if (!x.is_null() && !x.is_number())
            throw Error("sensitivity: '" + field + "." + name + "' must be a number");
        v[k] = x.is_null() ? kNoValue : x.get<double>();
    }
    return v;
}

std::string csvNumber(double v) {
    if (!std::isfinite(v)) return "";
    std::ostringstream s;
    s.precision(9);
    s << v;
    return s.str();
}

}  // namespace

json SensitivityTable::toJson() const {
    json t = json::array();
    for (const auto& x : tensors)
        t.push_back({{"name", x.name},
                     {"weights", x.weights},
                     {"level", quantLevelsName(x.level)},
                     {"fp32", std::isfinite(x.fp32) ? json(x.fp32) : json()},
                     {"alone", levelMap(x.alone)},
                     {"kept", levelMap(x.kept)}});
    const auto num = [](double v) { return std::isfinite(v) ? json(v) : json(); };
    return {{"step", step},         {"batches", batches},          {"fp32_loss", num(fp32Loss)},
            {"current_loss", num(currentLoss)}, {"uniform", levelMap(uniform)}, {"tensors", t}};
}

SensitivityTable SensitivityTable::fromJson(const json& j) {
    if (!j.is_object()) throw Error("sensitivity: the table must be a JSON object");
    const auto number = [&](const char* f) {
        if (!j.contains(f) || !(j[f].is_number() || j[f].is_null()))
            throw Error(std::string("sensitivity: '") + f + "' must be a number");
        return j[f].is_null() ? kNoValue : j[f].get<double>();
    };
    SensitivityTable t;
    t.step = int64_t(number("step"));
    t.batches = int64_t(number("batches"));
    t.fp32Loss = number("fp32_loss");
    t.currentLoss = number("current_loss");
    t.uniform = levelArray(j.value("uniform", json()), "uniform");
    if (!j.contains("tensors") || !j["tensors"].is_array())
        throw Error("sensitivity: 'tensors' must be an array");
    int index = 0;
    for (const json& x : j["tensors"]) {
        const std::string where = "tensors[" + std::to_string(index) + "]";
        if (!x.is_object() || !x.contains("name") || !x["name"].is_string() ||
            !x.contains("weights") || !x["weights"].is_number_integer() ||
            !x.contains("level") || !x["level"].is_string())
            throw Error("sensitivity: '" + where + "' needs name, weights and level");
        TensorSensitivity s;
        s.name = x["name"].get<std::string>();
        s.layoutIndex = index++;
        s.weights = x["weights"].get<int64_t>();
        s.level = parseQuantLevels(x["level"].get<std::string>());
        if (x.contains("fp32") && !x["fp32"].is_null()) {
            if (!x["fp32"].is_number()) throw Error("sensitivity: '" + where + ".fp32' must be a number");
            s.fp32 = x["fp32"].get<double>();
        }
        s.alone = levelArray(x.value("alone", json()), where + ".alone");
        s.kept = levelArray(x.value("kept", json()), where + ".kept");
        t.tensors.push_back(std::move(s));
    }
    return t;
}

std::string SensitivityTable::toCsv() const {
    std::string out = "tensor,weights,level";
    for (const char* m : {"alone_", "kept_"})
        for (QuantLevels l : kSensitivityLevels) out += std::string(",") + m + quantLevelsName(l);
    out += "\n";
    for (const auto& x : tensors) {
        out += x.name + "," + std::to_string(x.weights) + "," + quantLevelsName(x.level);
        const double fp32 = std::isfinite(x.fp32) ? x.fp32 : fp32Loss;
        for (size_t k = 0; k < kSensitivityLevels.size(); ++k)
            out += "," + csvNumber(x.alone[k] - fp32);
        for (size_t k = 0; k < kSensitivityLevels.size(); ++k)
            out += "," + csvNumber(uniform[k] - x.kept[k]);
        out += "\n";
    }
    return out;
}

LevelAllocation allocateLevels(const SensitivityTable& t, double budget) {
    const double floor = bitsPerWeight(QuantLevels::Ternary);
    if (!std::isfinite(budget) || budget < floor)
        throw Error("quant.bits_budget must be at least log2 3 = 1.585 bits (every tensor "
                    "ternary), got " + std::to_string(budget));
    const size_t n = t.tensors.size();
    std::vector<size_t> rung(n, 0);  // index into kLadder
    std::vector<int64_t> weights(n);
    double bits = 0, total = 0;
    for (size_t i = 0; i < n; ++i) {
        weights[i] = t.tensors[i].weights;
        bits += double(weights[i]) * bitsPerWeight(kLadder[0]);
        total += double(weights[i]);
    }
    // The loss with tensor i alone at ladder rung r: fp32Loss at the top, alone[] below.
    const auto lossAt = [&](size_t i, size_t r) {
        if (r == 0) return std::isfinite(t.tensors[i].fp32) ? t.tensors[i].fp32 : t.fp32Loss;
        for (size_t k = 0; k < kSensitivityLevels.size(); ++k)
            if (kSensitivityLevels[k] == kLadder[r]) return t.tensors[i].alone[k];
        return kNoValue;
    };
    while (total > 0 && bits > budget * total) {
        size_t best = n;
        double bestCost = std::numeric_limits<double>::infinity();
        for (size_t i = 0; i < n; ++i) {
            if (rung[i] + 1 >= kLadder.size()) continue;
            const double saved = double(weights[i]) * (bitsPerWeight(kLadder[rung[i]]) -
                                                       bitsPerWeight(kLadder[rung[i] + 1]));
            double cost = (lossAt(i, rung[i] + 1) - lossAt(i, rung[i])) / saved;
            if (std::isnan(cost)) cost = std::numeric_limits<double>::infinity();  // unmeasured
            if (best == n || cost < bestCost) best = i, bestCost = cost;
        }
        if (best == n) break;  // every tensor ternary: the budget (>= log2 3) is met
        bits -= double(weights[best]) * (bitsPerWeight(kLadder[rung[best]]) -
                                         bitsPerWeight(kLadder[rung[best] + 1]));
        ++rung[best];
    }
    LevelAllocation a;
    for (size_t i = 0; i < n; ++i) a.levels.push_back(kLadder[rung[i]]);
    a.meanBits = meanBits(weights, a.levels);
    return a;
}

// ---- the trainer's side ----

SensitivityTable Trainer::Impl::measureSensitivity(int64_t batches, bool full, bool fromCurrent) {
    const ParamLayout& L = model->layout();
    SensitivityTable table;
    table.step = step;
    table.batches = batches;
    table.uniform.fill(kNoValue);
    table.fp32Loss = table.currentLoss = kNoValue;
    // Scratch weights and codes: the run's own (effective, quant) stay as they are.
    FloatBuffer eff = params;
    QuantState q;
    q.activationsInt8 = quant.activationsInt8;
    q.kernel = quant.kernel;
    q.int8Backward = quant.int8Backward;
    q.tensors.resize(size_t(L.count()));
    std::vector<QuantLevels> now(size_t(L.count()), QuantLevels::None);
    const auto set = [&](int i, QuantLevels l) {
        if (now[size_t(i)] == l) return;
        const ParamTensor& t = L[i];
        quantizeWeights(params.data() + t.offset, t.rows, t.cols, l, granularity,
                        rowCluster[size_t(i)], q.tensors[size_t(i)], eff.data() + t.offset);
        now[size_t(i)] = l;
    };
    const auto loss = [&] { return evaluateOn(eff.data(), &q, batches).loss; };
    std::vector<int> quantized;
    for (int i = 0; i < L.count(); ++i)
        if (L[i].quantized) quantized.push_back(i);

    // The other tensors' levels while one is varied: fp32, or the run's own.
    const std::vector<QuantLevels> base =
        fromCurrent ? tensorLevels : std::vector<QuantLevels>(size_t(L.count()), QuantLevels::None);
    for (int i : quantized) set(i, base[size_t(i)]);
    const double baseLoss = loss();
    (fromCurrent ? table.currentLoss : table.fp32Loss) = baseLoss;
    const auto lossWith = [&](int i, QuantLevels l) {
        if (l == base[size_t(i)]) return baseLoss;
        set(i, l);
        const double v = loss();
        set(i, base[size_t(i)]);
        return v;
    };
    for (int i : quantized) {
        TensorSensitivity s;
        s.name = L[i].name;
        s.layoutIndex = i;
        s.weights = L[i].size();
        s.level = tensorLevels[size_t(i)];
        s.kept.fill(kNoValue);
        s.fp32 = lossWith(i, QuantLevels::None);
        for (size_t k = 0; k < kSensitivityLevels.size(); ++k)
            s.alone[k] = lossWith(i, kSensitivityLevels[k]);
        table.tensors.push_back(std::move(s));
    }
    if (!full) return table;
    for (size_t k = 0; k < kSensitivityLevels.size(); ++k) {
        for (int i : quantized) set(i, kSensitivityLevels[k]);
        table.uniform[k] = loss();
        for (size_t j = 0; j < quantized.size(); ++j) {
            set(quantized[j], QuantLevels::None);
            table.tensors[j].kept[k] = loss();
            set(quantized[j], kSensitivityLevels[k]);
        }
    }
    for (int i : quantized) set(i, tensorLevels[size_t(i)]);
    table.currentLoss = loss();
    return table;
}

void Trainer::Impl::allocate() {
    SensitivityTable t = measureSensitivity(cfg.quant.adapt_batches, false, true);
    const LevelAllocation a = allocateLevels(t, cfg.quant.bits_budget);
    for (size_t j = 0; j < t.tensors.size(); ++j) {
        tensorLevels[size_t(t.tensors[j].layoutIndex)] = a.levels[j];
        t.tensors[j].level = a.levels[j];
    }
    lastSensitivity = std::move(t);
}

double Trainer::Impl::meanWeightBits() const {
    const ParamLayout& L = model->layout();
    std::vector<int64_t> w;
    std::vector<QuantLevels> lv;
    for (int i = 0; i < L.count(); ++i)
        if (L[i].quantized) {
            w.push_back(L[i].size());
            lv.push_back(tensorLevels[size_t(i)]);
        }
    return meanBits(w, lv);
}

Snapshot Trainer::Impl::precisionSnapshot() {
    const ParamLayout& L = model->layout();
    json tensors = json::array();
    for (int i = 0; i < L.count(); ++i)
        if (L[i].quantized)
            tensors.push_back({{"name", L[i].name},
                               {"weights", L[i].size()},
                               {"level", quantLevelsName(tensorLevels[size_t(i)])},
                               {"bits", bitsPerWeight(tensorLevels[size_t(i)])}});
    json d = {{"tensors", tensors},
              {"mean_bits", meanWeightBits()},
              {"budget", adaptive ? json(cfg.quant.bits_budget) : json()},
              {"adaptive", adaptive}};
    if (adaptive && lastSensitivity) {
        const SensitivityTable& t = *lastSensitivity;
        json rises = json::array();
        for (const auto& x : t.tensors) {
            std::array<double, 3> r{};
            for (size_t k = 0; k < r.size(); ++k) r[k] = x.alone[k] - x.fp32;
            rises.push_back(levelMap(r));
        }
        d["loss"] = std::isfinite(t.currentLoss) ? json(t.currentLoss) : json();
        d["rises"] = rises;
    }
    return Snapshot{step, "precision", d};
}

SensitivityTable Trainer::sensitivity(int64_t batches) {
    if (batches < 1) throw Error("sensitivity: batches must be at least 1, got " + std::to_string(batches));
    const ThreadLimit threads(int(m->cfg.run.threads));
    return m->measureSensitivity(batches, true, false);
}

std::vector<QuantLevels> Trainer::tensorLevels() const { return m->tensorLevels; }

void Trainer::setTensorLevels(std::span<const QuantLevels> levels) {
    const ParamLayout& L = m->model->layout();
    if (int64_t(levels.size()) != L.count())
        throw Error("setTensorLevels: " + std::to_string(levels.size()) + " levels for " +
                    std::to_string(L.count()) + " tensors");
    if (!m->quantizing()) throw Error("setTensorLevels: quantization is off (quant.weights=none)");
    for (int i = 0; i < L.count(); ++i)
        if (!L[i].quantized && levels[size_t(i)] != QuantLevels::None)
            throw Error("setTensorLevels: tensor " + L[i].name + " is never quantized");
    m->tensorLevels.assign(levels.begin(), levels.end());
    const ThreadLimit threads(int(m->cfg.run.threads));
    m->quantizeAll();
}

double Trainer::meanWeightBits() const { return m->meanWeightBits(); }


}  // namespace h158
