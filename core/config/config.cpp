// Config schema table, field access by key, validation and JSON (de)serialisation.
#include "core/config/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/base/errors.h"
#include "core/base/file_io.h"

namespace h158 {
namespace {

using nlohmann::json;

template <typename S, typename M>
std::function<FieldRef(Config&)> member(S Config::* section, M S::* field) {
    return [=](Config& c) -> FieldRef { return &(c.*section.*field); };
}

struct Builder {
    std::vector<FieldSpec> fields;
    std::string section;

    template <typename S>
    FieldSpec& add(const char* name, FieldType type, std::function<FieldRef(Config&)> ref,
                   std::string doc) {
        FieldSpec f;
        f.section = section;
        f.name = name;
        f.key = section + "." + name;
        f.type = type;
        f.ref = std::move(ref);
        f.doc = std::move(doc);
        fields.push_back(std::move(f));
        return fields.back();
    }
    template <typename S>
    void integer(int64_t S::* m, S Config::* sec, const char* name, double lo, double hi,
                 std::string doc) {
        auto& f = add<S>(name, FieldType::Int, member(sec, m), std::move(doc));
        f.min = lo;
        f.max = hi;
    }
    template <typename S>
    void real(double S::* m, S Config::* sec, const char* name, double lo, double hi,
              bool loExclusive, bool log, std::string doc) {
        auto& f = add<S>(name, FieldType::Double, member(sec, m), std::move(doc));
        f.min = lo;
        f.max = hi;
        f.minExclusive = loExclusive;
        f.logScale = log;
    }
    template <typename S>
    void flag(bool S::* m, S Config::* sec, const char* name, std::string doc) {
        add<S>(name, FieldType::Bool, member(sec, m), std::move(doc));
    }
    template <typename S>
    void choice(std::string S::* m, S Config::* sec, const char* name,
                std::vector<std::string> choices, std::string doc) {
        auto& f = add<S>(name, FieldType::Choice, member(sec, m), std::move(doc));
        f.choices = std::move(choices);
    }
    template <typename S>
    void text(std::string S::* m, S Config::* sec, const char* name, FieldType type,
              std::string doc) {
        add<S>(name, type, member(sec, m), std::move(doc));
    }
};

void addRunFields(Builder& b) {
    using C = Config;
    b.section = "run";
    b.text(&RunConfig::name, &C::run, "name", FieldType::String, "Name of the run (run directory prefix)");
    b.integer(&RunConfig::steps, &C::run, "steps", 1, 1e7, "Training steps (at most 10 million: the summary keeps the last 5% of the losses)");
    b.integer(&RunConfig::seed, &C::run, "seed", 0, 9007199254740991.0, "Random seed: same config and seed give the same metrics, bit for bit");
    b.integer(&RunConfig::batch_size, &C::run, "batch_size", 1, 65536, "Samples (sequences for gpt) per batch");
    b.integer(&RunConfig::threads, &C::run, "threads", 0, 256, "Worker threads (0 = all cores); results do not depend on it");
    b.integer(&RunConfig::eval_every, &C::run, "eval_every", 0, 1e9, "Validation loss every N steps (0 = never)");
    b.integer(&RunConfig::snapshot_every, &C::run, "snapshot_every", 0, 1e9, "Cluster/weight/boundary snapshots every N steps (0 = never)");
    b.real(&RunConfig::diverge_ratio, &C::run, "diverge_ratio", 0, 1e30, false, true, "Stop as diverged when the loss exceeds this multiple of the first loss (0 = only non-finite values stop)");
    b.flag(&RunConfig::record_batches, &C::run, "record_batches", "Write batches.csv to the run directory: what every step trained on (sample index, or the first byte of each text window), to replay the run elsewhere");
    b.integer(&RunConfig::checkpoint_every, &C::run, "checkpoint_every", 0, 1e9, "Write checkpoint.safetensors (everything the next steps depend on) every N steps and when the run is stopped, so `hybrid158-cli resume` or Resume continues it bit for bit (0 = never)");
    b.integer(&RunConfig::keep_checkpoints, &C::run, "keep_checkpoints", 0, 1e6, "Past checkpoints kept in checkpoints/ for `fork` and Fork here... (spread over the whole run: past this many, every other one goes); 0 = only the latest, to resume");
}

void addDataFields(Builder& b) {
    using C = Config;
    b.section = "data";
    b.choice(&DataConfig::kind, &C::data, "kind", {"regression", "spirals", "moons", "blobs", "xor", "csv", "text"}, "Data set: synthetic regression, 2-D classification, a CSV file, or text (gpt)");
    b.integer(&DataConfig::samples, &C::data, "samples", 8, 1e8, "Synthetic samples (training + validation)");
    b.real(&DataConfig::noise, &C::data, "noise", 0, 10, false, false, "Noise level of synthetic data");
    b.integer(&DataConfig::features, &C::data, "features", 1, 4096, "Regression: input width");
    b.integer(&DataConfig::targets, &C::data, "targets", 1, 4096, "Regression: output width");
    b.integer(&DataConfig::modes, &C::data, "modes", 1, 256, "Regression and blobs: Gaussian modes the inputs are drawn from");
    b.real(&DataConfig::val_fraction, &C::data, "val_fraction", 0, 0.9, false, false, "Fraction of samples held out for validation");
    b.text(&DataConfig::csv_file, &C::data, "csv_file", FieldType::Path, "CSV file (numeric columns, header optional) for data.kind=csv");
    b.text(&DataConfig::csv_target, &C::data, "csv_target", FieldType::String, "Target column: a header name or 0-based index (empty = last column)");
    b.choice(&DataConfig::csv_task, &C::data, "csv_task", {"regression", "classification"}, "CSV: regress the target or classify by its integer value");
    b.text(&DataConfig::text_file, &C::data, "text_file", FieldType::Path, "Text file for the gpt model, read as bytes (empty = the built-in generated corpus)");
}

void addModelFields(Builder& b) {
    using C = Config;
    b.section = "model";
    b.choice(&ModelConfig::kind, &C::model, "kind", {"linear", "mlp", "gpt"}, "Model: linear map, multi-layer perceptron, or tiny GPT");
    b.integer(&ModelConfig::hidden, &C::model, "hidden", 1, 4096, "MLP: hidden width");
    b.integer(&ModelConfig::depth, &C::model, "depth", 1, 16, "MLP: hidden layers");
    b.choice(&ModelConfig::activation, &C::model, "activation", {"relu", "tanh", "gelu"}, "MLP: activation function");
    b.integer(&ModelConfig::layers, &C::model, "layers", 1, 48, "GPT: transformer blocks");
    b.integer(&ModelConfig::d_model, &C::model, "d_model", 8, 4096, "GPT: model width");
    b.integer(&ModelConfig::heads, &C::model, "heads", 1, 64, "GPT: attention heads (must divide d_model)");
    b.integer(&ModelConfig::context, &C::model, "context", 4, 4096, "GPT: context length in bytes");
    b.choice(&ModelConfig::init, &C::model, "init", {"torch", "gpt2"}, "GPT: initial weights as PyTorch's defaults (embeddings N(0, 1), linears U(+-1/sqrt(fan_in))) or GPT-2's (N(0, 0.02), residual projections scaled by 1/sqrt(2 layers)); ternary models learn far better from the first");
    b.text(&ModelConfig::init_file, &C::model, "init_file", FieldType::Path, "Start from these weights: a safetensors file with every tensor of the model, named and shaped as in PyTorch (empty = model.init)");
}

void addQuantFields(Builder& b) {
    using C = Config;
    b.section = "quant";
    b.choice(&QuantConfig::weights, &C::quant, "weights", {"none", "ternary", "five_level", "int8", "adaptive"}, "Weight quantization: none, ternary {-1,0,+1} (1.58 bits), five-level (2.32 bits), int8 (absmax, 8 bits) or adaptive (each tensor's levels chosen from its measured sensitivity to meet quant.bits_budget)");
    b.choice(&QuantConfig::granularity, &C::quant, "granularity", {"tensor", "row", "cluster"}, "Scale per tensor, per row, or per parameter cluster of rows");
    b.choice(&QuantConfig::activations, &C::quant, "activations", {"none", "int8"}, "8-bit absmax activations at the inputs of quantized layers");
    b.flag(&QuantConfig::updates, &C::quant, "updates", "Ternarize each update (unbiased stochastic, TernGrad)");
    b.flag(&QuantConfig::io_layers, &C::quant, "io_layers", "MLP: quantize the first and last layer too");
    b.real(&QuantConfig::bits_budget, &C::quant, "bits_budget", 1.585, 32, false, false, "quant.weights=adaptive: mean bits per quantizable weight (ternary 1.58, five-level 2.32, int8 8, fp32 32) the allocation must not exceed");
    b.integer(&QuantConfig::adapt_every, &C::quant, "adapt_every", 0, 1e9, "quant.weights=adaptive: measure the sensitivity and re-allocate levels every N steps (0 = once, at the start)");
    b.integer(&QuantConfig::adapt_batches, &C::quant, "adapt_batches", 1, 64, "quant.weights=adaptive: validation batches each sensitivity figure is measured on");
    b.choice(&QuantConfig::kernel, &C::quant, "kernel", {"auto", "avx512_vnni", "avx2", "reference", "float"}, "GPT BitLinear arithmetic: the fastest integer kernel this CPU runs, a given one (AVX-512 VNNI, AVX2), the plain integer reference, or float simulation; all give the same results within float rounding");
    b.choice(&QuantConfig::backward, &C::quant, "backward", {"fp32", "int8"}, "GPT BitLinear backward: fp32, or int8 for the input-gradient product (each token's gradient quantized to 8 bits absmax, times the ternary codes on the integer kernel; the weight gradient stays fp32). Faster, not bit-equal to fp32; applies where the integer kernel runs the forward");
}

void addClusterFields(Builder& b) {
    using C = Config;
    b.section = "cluster";
    b.integer(&ClusterConfig::data_k, &C::cluster, "data_k", 0, 256, "Data clusters for stratified batches (0 = off)");
    b.choice(&ClusterConfig::policy, &C::cluster, "policy", {"round_robin", "proportional", "balanced", "random_cluster"}, "Batch policy: one cluster per batch in turn, proportional strata, equal strata, or one random cluster");
    b.integer(&ClusterConfig::refresh_every, &C::cluster, "refresh_every", 0, 1e9, "Re-cluster on the model's representation every N steps, warm-started (0 = never)");
    b.choice(&ClusterConfig::algorithm, &C::cluster, "algorithm", {"auto", "lloyd", "minibatch"}, "K-Means variant: full Lloyd passes, Sculley's mini-batch, or mini-batch above 20000 samples");
    b.integer(&ClusterConfig::max_iter, &C::cluster, "max_iter", 1, 10000, "K-Means: maximum Lloyd iterations");
    b.real(&ClusterConfig::tol, &C::cluster, "tol", 0, 1, false, true, "K-Means: relative centroid-shift tolerance");
    b.integer(&ClusterConfig::param_k, &C::cluster, "param_k", 1, 64, "Parameter clusters (groups of rows sharing a scale) for quant.granularity=cluster");
    b.integer(&ClusterConfig::param_refresh_every, &C::cluster, "param_refresh_every", 0, 1e9, "Re-cluster parameters every N steps (0 = only at the start)");
}

void addAuxFields(Builder& b) {
    using C = Config;
    b.section = "aux";
    b.flag(&AuxConfig::enabled, &C::aux, "enabled", "Auxiliary NN predicts the learning-rate multiplier and the trust radius");
    b.integer(&AuxConfig::hidden, &C::aux, "hidden", 1, 256, "Auxiliary NN hidden width (6 -> hidden -> 2)");
    b.real(&AuxConfig::lr, &C::aux, "lr", 0, 10, true, true, "Auxiliary NN learning rate (its own Adam)");
    b.real(&AuxConfig::max_multiplier, &C::aux, "max_multiplier", 1, 1000, false, true, "Multiplier range: [1/max, max]");
    b.real(&AuxConfig::radius_range, &C::aux, "radius_range", 1, 1e6, false, true, "Radius range: [r0/range, r0*range]");
    b.integer(&AuxConfig::warmup, &C::aux, "warmup", 0, 1e9, "Steps before the auxiliary NN's outputs are used");
    b.integer(&AuxConfig::horizon, &C::aux, "horizon", 1, 10000, "Steps the auxiliary NN's learning signals look back over (1 = the last step only, a greedy short horizon)");
    b.flag(&AuxConfig::keep_decay, &C::aux, "keep_decay", "With a decaying schedule (cosine, two_stage), the multiplier never goes below 1: the schedule does the annealing and the auxiliary NN only raises the rate (its signal's short-horizon bias would anneal a second time)");
}

void addTrustFields(Builder& b) {
    using C = Config;
    b.section = "trust";
    b.flag(&TrustConfig::enabled, &C::trust, "enabled", "Trust region: project each step onto ||step|| <= r_t");
    b.choice(&TrustConfig::mode, &C::trust, "mode", {"tensor", "global"}, "tensor: every weight matrix's step at most r_t times its norm (vectors free); global: the whole step's norm at most r_t");
    b.real(&TrustConfig::radius, &C::trust, "radius", 0, 1e9, true, true, "Initial / fixed trust radius r0 (relative to each matrix's norm with mode tensor, absolute with global)");
}

void addOptimFields(Builder& b) {
    using C = Config;
    b.section = "optim";
    b.choice(&OptimConfig::kind, &C::optim, "kind", {"sgd", "adamw"}, "Optimizer");
    b.real(&OptimConfig::lr, &C::optim, "lr", 0, 100, true, true, "Base learning rate");
    b.real(&OptimConfig::momentum, &C::optim, "momentum", 0, 0.9999, false, false, "SGD momentum");
    b.real(&OptimConfig::beta1, &C::optim, "beta1", 0, 0.9999, false, false, "AdamW beta1");
    b.real(&OptimConfig::beta2, &C::optim, "beta2", 0, 0.999999, false, false, "AdamW beta2");
    b.real(&OptimConfig::eps, &C::optim, "eps", 0, 1, true, true, "AdamW epsilon");
    b.real(&OptimConfig::weight_decay, &C::optim, "weight_decay", 0, 10, false, false, "Decoupled weight decay");
    b.choice(&OptimConfig::schedule, &C::optim, "schedule", {"constant", "cosine", "two_stage"}, "Learning-rate schedule (two_stage = BitNet b1.58's)");
    b.integer(&OptimConfig::warmup, &C::optim, "warmup", 0, 1e9, "Linear warmup steps");
    b.real(&OptimConfig::min_lr_ratio, &C::optim, "min_lr_ratio", 0, 1, false, false, "Cosine floor / second-stage ratio of the peak learning rate");
    b.real(&OptimConfig::grad_clip, &C::optim, "grad_clip", 0, 1e9, false, false, "Clip the gradient norm to this (0 = off)");
}

void addSampleFields(Builder& b) {
    using C = Config;
    b.section = "sample";
    b.integer(&SampleConfig::every, &C::sample, "every", 0, 1e9, "GPT: text sample every N steps (0 = never)");
    b.integer(&SampleConfig::tokens, &C::sample, "tokens", 1, 100000, "GPT: bytes per sample");
    b.real(&SampleConfig::temperature, &C::sample, "temperature", 0, 10, false, false, "GPT: sampling temperature (0 = greedy)");
    b.integer(&SampleConfig::top_k, &C::sample, "top_k", 0, 256, "GPT: sample among the k most likely bytes (0 = all)");
    b.text(&SampleConfig::prompt, &C::sample, "prompt", FieldType::String, "GPT: sample prompt (empty = a line from the validation text)");
}

std::vector<FieldSpec> buildSchema() {
    Builder b;
    addRunFields(b);
    addDataFields(b);
    addModelFields(b);
    addQuantFields(b);
    addClusterFields(b);
    addAuxFields(b);
    addTrustFields(b);
    addOptimFields(b);
    addSampleFields(b);
    // The settings a run can change between steps (core/exp/events.h); Trainer::applyEdit
    // carries each into the components built from it.
    static const char* const kLive[] = {
        "run.steps", "run.eval_every", "run.snapshot_every", "run.diverge_ratio",
        "run.checkpoint_every", "run.keep_checkpoints", "quant.updates", "quant.adapt_every",
        "cluster.refresh_every", "cluster.param_refresh_every", "aux.enabled", "aux.lr",
        "aux.max_multiplier", "aux.radius_range", "aux.warmup", "aux.horizon", "aux.keep_decay",
        "trust.enabled", "trust.mode", "trust.radius", "optim.lr", "optim.weight_decay",
        "optim.schedule", "optim.warmup", "optim.min_lr_ratio", "optim.grad_clip", "sample.every", "sample.tokens",
        "sample.temperature", "sample.top_k", "sample.prompt"};
    for (const char* key : kLive) {
        const auto it = std::find_if(b.fields.begin(), b.fields.end(),
                                     [&](const FieldSpec& f) { return f.key == key; });
        if (it == b.fields.end()) throw Error(std::string("schema: no field ") + key);
        it->live = true;
    }
    return b.fields;
}

size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string closest(const std::string& key, const std::vector<std::string>& options) {
    const size_t near = std::max<size_t>(2, key.size() / 3);
    std::string best;
    size_t bestD = SIZE_MAX;
    for (const auto& o : options) {
        // The distance is at least the difference in length: skip what cannot be near (a long
        // pasted value would otherwise cost length x option length for every option).
        if (std::max(key.size(), o.size()) - std::min(key.size(), o.size()) > near) continue;
        const size_t d = editDistance(key, o);
        if (d < bestD) {
            bestD = d;
            best = o;
        }
    }
    return bestD <= near ? best : std::string();
}

std::string unknownKeyMessage(const std::string& where, const std::string& key,
                              const std::vector<std::string>& options) {
    std::string msg = where + ": unknown key '" + key + "'";
    const std::string near = closest(key, options);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    return msg;
}

}  // namespace

Config liveEdit(const Config& c, const std::string& key, const std::string& value,
                int64_t stepsDone) {
    const FieldSpec* f = findField(key);
    if (!f) {
        std::vector<std::string> keys;
        for (const auto& g : configSchema()) keys.push_back(g.key);
        throw ConfigError(unknownKeyMessage("edit", key, keys));
    }
    if (!f->live)
        throw ConfigError(key + ": cannot change during a run (it shapes the model, the data or "
                                "the random streams); fork the run or start a new one");
    Config out = c;
    f->setFromString(out, value);
    if (key == "run.steps" && out.run.steps <= stepsDone)
        throw ConfigError("run.steps: " + std::to_string(out.run.steps) + " steps, but " +
                          std::to_string(stepsDone) + " are done already");
    validate(out);
    return out;
}

const std::vector<FieldSpec>& configSchema() {
    static const std::vector<FieldSpec> schema = buildSchema();
    return schema;
}

const FieldSpec* findField(const std::string& key) {
    for (const auto& f : configSchema())
        if (f.key == key) return &f;
    return nullptr;
}

std::vector<std::string> configSections() {
    std::vector<std::string> out;
    for (const auto& f : configSchema())
        if (out.empty() || out.back() != f.section) out.push_back(f.section);
    return out;
}

FieldValue FieldSpec::get(const Config& c) const {
    FieldRef r = ref(const_cast<Config&>(c));
    return std::visit([](auto* p) -> FieldValue { return *p; }, r);
}

FieldValue FieldSpec::defaultValue() const { return get(Config{}); }

std::string FieldSpec::check(const FieldValue& v) const {
    auto rangeText = [&] {
        // integer fields print their bounds as integers (10000000, not 1e+07)
        auto bound = [&](double x) {
            return type == FieldType::Int ? std::to_string(int64_t(x)) : formatNumber(x);
        };
        const std::string lo = bound(min), hi = bound(max);
        return std::string(minExclusive ? "> " : ">= ") + lo + " and <= " + hi;
    };
    switch (type) {
    case FieldType::Int: {
        if (!std::holds_alternative<int64_t>(v)) return key + " must be an integer";
        const double x = double(std::get<int64_t>(v));
        if (x < min || x > max)
            return key + " must be " + rangeText() + ", got " + std::to_string(std::get<int64_t>(v));
        return {};
    }
    case FieldType::Double: {
        double x;
        if (std::holds_alternative<double>(v)) x = std::get<double>(v);
        else if (std::holds_alternative<int64_t>(v)) x = double(std::get<int64_t>(v));
        else return key + " must be a number";
        if (!std::isfinite(x)) return key + " must be a finite number, got " + formatNumber(x);
        if (x < min || x > max || (minExclusive && x == min))
            return key + " must be " + rangeText() + ", got " + formatNumber(x);
        return {};
    }
    case FieldType::Bool:
        return std::holds_alternative<bool>(v) ? std::string() : key + " must be true or false";
    case FieldType::Choice: {
        if (!std::holds_alternative<std::string>(v)) return key + " must be a string";
        const auto& s = std::get<std::string>(v);
        if (std::find(choices.begin(), choices.end(), s) != choices.end()) return {};
        std::string all;
        for (const auto& c : choices) all += (all.empty() ? "" : " | ") + c;
        std::string msg = key + " must be one of " + all + ", got '" + s + "'";
        const std::string near = closest(s, choices);
        if (!near.empty()) msg += " (did you mean '" + near + "'?)";
        return msg;
    }
    case FieldType::String:
    case FieldType::Path:
        return std::holds_alternative<std::string>(v) ? std::string() : key + " must be a string";
    }
    return {};
}

void FieldSpec::set(Config& c, const FieldValue& v) const {
    if (const std::string err = check(v); !err.empty()) throw ConfigError(err);
    FieldRef r = ref(c);
    if (auto* p = std::get_if<int64_t*>(&r)) **p = std::get<int64_t>(v);
    else if (auto* d = std::get_if<double*>(&r))
        **d = std::holds_alternative<double>(v) ? std::get<double>(v) : double(std::get<int64_t>(v));
    else if (auto* b = std::get_if<bool*>(&r)) **b = std::get<bool>(v);
    else **std::get_if<std::string*>(&r) = std::get<std::string>(v);
}

void FieldSpec::setFromString(Config& c, const std::string& text) const {
    switch (type) {
    case FieldType::Int: {
        int64_t x = 0;
        const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
        if (ec != std::errc() || p != text.data() + text.size()) {
            // accept integral values written as 1e3
            double d = 0;
            const auto [p2, ec2] = std::from_chars(text.data(), text.data() + text.size(), d);
            if (ec2 != std::errc() || p2 != text.data() + text.size() || d != std::floor(d) ||
                std::abs(d) > 9.2e18)
                throw ConfigError(key + " must be an integer, got '" + text + "'");
            x = int64_t(d);
        }
        set(c, x);
        return;
    }
    case FieldType::Double: {
        double x = 0;
        const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
        if (ec != std::errc() || p != text.data() + text.size())
            throw ConfigError(key + " must be a number, got '" + text + "'");
        set(c, x);
        return;
    }
    case FieldType::Bool: {
        std::string t = text;
        std::transform(t.begin(), t.end(), t.begin(), ::tolower);
        if (t == "true" || t == "1" || t == "on" || t == "yes") set(c, true);
        else if (t == "false" || t == "0" || t == "off" || t == "no") set(c, false);
        else throw ConfigError(key + " must be true or false, got '" + text + "'");
        return;
    }
    default:
        set(c, text);
    }
}

std::string FieldSpec::toString(const Config& c) const {
    const FieldValue v = get(c);
    if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    if (auto* d = std::get_if<double>(&v)) return formatNumber(*d);
    if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
    return std::get<std::string>(v);
}

std::vector<std::string> validationErrors(const Config& c) {
    std::vector<std::string> errs;
    for (const auto& f : configSchema())
        if (std::string e = f.check(f.get(c)); !e.empty()) errs.push_back(std::move(e));
    auto need = [&](bool ok, std::string msg) {
        if (!ok) errs.push_back(std::move(msg));
    };
    const auto& d = c.data;
    const auto& m = c.model;
    const bool gpt = m.kind == "gpt";
    need(gpt == (d.kind == "text"),
         gpt ? "data.kind must be 'text' for model.kind=gpt, got '" + d.kind + "'"
             : "data.kind 'text' needs model.kind=gpt, got '" + m.kind + "'");
    need(d.kind != "csv" || !d.csv_file.empty(), "data.csv_file must name a CSV file when data.kind=csv");
    if (gpt) {
        need(m.heads > 0 && m.d_model % m.heads == 0,
             "model.heads must divide model.d_model (" + std::to_string(m.d_model) + "), got " +
                 std::to_string(m.heads));
    } else {
        const int64_t train = int64_t(double(d.samples) * (1.0 - d.val_fraction));
        need(c.cluster.data_k <= train / 2 || c.cluster.data_k == 0,
             "cluster.data_k must be at most half the training samples (" + std::to_string(train) +
                 "), got " + std::to_string(c.cluster.data_k));
    }
    // A setting that another makes irrelevant (quant.granularity with quant.weights=none, the
    // aux.* values with aux.enabled=false) is ignored, never an error: switching a component off
    // must not need a second edit.
    return errs;
}

namespace {

// The schema's checks of the fields of one section, on a default configuration holding `s`.
template <class S>
void validateSection(S Config::*member, const S& s, const char* section) {
    Config c;
    c.*member = s;
    for (const auto& f : configSchema())
        if (f.section == section)
            if (std::string e = f.check(f.get(c)); !e.empty()) throw ConfigError(e);
}

}  // namespace

void validate(const OptimConfig& s) { validateSection(&Config::optim, s, "optim"); }
void validate(const AuxConfig& s) { validateSection(&Config::aux, s, "aux"); }
void validate(const TrustConfig& s) { validateSection(&Config::trust, s, "trust"); }

void validate(const Config& c) {
    const auto errs = validationErrors(c);
    if (!errs.empty()) throw ConfigError(errs.front());
}

nlohmann::json toJson(const Config& c) {
    json j = json::object();
    for (const auto& f : configSchema()) {
        const FieldValue v = f.get(c);
        std::visit([&](const auto& x) { j[f.section][f.name] = x; }, v);
    }
    return j;
}

Config fromJson(const nlohmann::json& j, const Config& base, const std::string& where) {
    Config c = base;
    if (!j.is_object()) throw ConfigError(where + ": the configuration must be a JSON object");
    const auto sections = configSections();
    for (const auto& [sec, body] : j.items()) {
        if (std::find(sections.begin(), sections.end(), sec) == sections.end())
            throw ConfigError(unknownKeyMessage(where, sec, sections));
        if (!body.is_object())
            throw ConfigError(where + ": section '" + sec + "' must be an object");
        for (const auto& [name, val] : body.items()) {
            const std::string key = sec + "." + name;
            const FieldSpec* f = findField(key);
            if (!f) {
                std::vector<std::string> keys;
                for (const auto& s : configSchema()) keys.push_back(s.key);
                throw ConfigError(unknownKeyMessage(where, key, keys));
            }
            FieldValue v;
            if (val.is_boolean()) v = val.get<bool>();
            else if (val.is_number_integer()) v = val.get<int64_t>();
            else if (val.is_number()) v = val.get<double>();
            else if (val.is_string()) v = val.get<std::string>();
            else throw ConfigError(where + ": " + key + " has an unsupported value " + val.dump());
            if (f->type == FieldType::Double && std::holds_alternative<int64_t>(v))
                v = double(std::get<int64_t>(v));
            try {
                f->set(c, v);
            } catch (const ConfigError& e) {
                throw ConfigError(where + ": " + e.what());
            }
        }
    }
    return c;
}

Config loadConfigFile(const std::string& path) {
    // read once (a FIFO such as `--config <(...)` cannot be read again for the line number)
    const std::string text = readFile(path);
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        // nlohmann reports the byte offset; turn it into a line number
        const size_t at = std::min<size_t>(e.byte, text.size());
        const long line = 1 + std::count(text.begin(), text.begin() + long(at), '\n');
        throw FileError(path + ":" + std::to_string(line) + ": malformed JSON: " + e.what());
    } catch (const json::exception& e) {
        // out_of_range 406: a number beyond double's range ("1e999"); it carries no offset
        throw FileError(path + ": malformed JSON: " + e.what());
    }
    return fromJson(j, Config{}, path);
}

void saveConfigFile(const Config& c, const std::string& path) {
    writeFileAtomically(path, toJson(c).dump(2) + "\n");
}

void applySetting(Config& c, const std::string& assignment, const std::string& where) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw ConfigError(where + " expects key=value, got '" + assignment + "'");
    const std::string key = assignment.substr(0, eq);
    const FieldSpec* f = findField(key);
    if (!f) {
        std::vector<std::string> keys;
        for (const auto& s : configSchema()) keys.push_back(s.key);
        throw ConfigError(unknownKeyMessage(where, key, keys));
    }
    f->setFromString(c, assignment.substr(eq + 1));
}

}  // namespace h158
