// The typed experiment configuration, its self-description (schema) and JSON load/save.
// Every field is reachable by its dotted key ("optim.lr"); the schema gives each field's type,
// range, choices, default and a one-line doc, so the GUI builds its form from it.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <variant>
#include <vector>

#include "core/base/types.h"

namespace h158 {

struct RunConfig {
    std::string name = "experiment";
    int64_t steps = 300;
    int64_t seed = 0;
    int64_t batch_size = 32;
    int64_t threads = 0;           // 0 = all hardware threads
    int64_t eval_every = 25;       // validation loss every N steps (0 = never)
    int64_t snapshot_every = 25;   // snapshots every N steps (0 = never)
    double diverge_ratio = 1e4;    // stop as diverged when loss > ratio x first loss (0 = off)
    bool record_batches = false;   // write DIR/batches.csv (run_session.h)
    int64_t checkpoint_every = 100;  // DIR/checkpoint.safetensors every N steps (0 = never)
    int64_t keep_checkpoints = 10;   // past checkpoints kept for forks (core/exp/fork.h)
};

struct DataConfig {
    std::string kind = "regression";  // regression | spirals | moons | blobs | xor | csv | text
    int64_t samples = 2048;
    double noise = 0.1;
    int64_t features = 16;        // regression input width
    int64_t targets = 4;          // regression output width
    int64_t modes = 4;            // regression: Gaussian modes the inputs are drawn from
    double val_fraction = 0.2;
    std::string csv_file;
    std::string csv_target;       // column name or 0-based index; empty = last column
    std::string csv_task = "regression";  // regression | classification
    std::string text_file;        // empty = the embedded generated corpus
};

struct ModelConfig {
    std::string kind = "linear";  // linear | mlp | gpt
    int64_t hidden = 16;          // mlp width
    int64_t depth = 2;            // mlp hidden layers
    std::string activation = "relu";  // relu | tanh | gelu
    int64_t layers = 4;           // gpt blocks
    int64_t d_model = 128;
    int64_t heads = 4;
    int64_t context = 128;
    std::string init = "torch";   // torch | gpt2 (gpt_model.h)
    std::string init_file;        // safetensors file of starting weights (empty = init)
};

struct QuantConfig {
    std::string weights = "ternary";     // none | ternary | five_level | int8 | adaptive
    std::string granularity = "tensor";  // tensor | row | cluster
    std::string activations = "none";    // none | int8 (per-sample absmax)
    bool updates = false;                // ternary update quantization (TernGrad)
    bool io_layers = true;               // mlp: quantize the first and last layer too
    std::string kernel = "auto";         // auto | reference | float
    std::string backward = "fp32";       // fp32 | int8 (GPT BitLinear dX product, model.h)
    // quant.weights=adaptive: levels per tensor (core/train/sensitivity.h)
    double bits_budget = 2.0;            // mean bits per quantizable weight, >= log2 3
    int64_t adapt_every = 100;           // re-allocate every N steps (0 = once, at the start)
    int64_t adapt_batches = 2;           // validation batches per sensitivity figure
};

struct ClusterConfig {
    int64_t data_k = 4;                  // 0 = no data clustering
    std::string policy = "round_robin";  // round_robin | proportional | balanced | random_cluster
    int64_t refresh_every = 0;           // re-cluster on the model's representation (0 = never)
    std::string algorithm = "auto";      // lloyd | minibatch | auto (mini-batch above 20000 samples)
    int64_t max_iter = 100;
    double tol = 1e-4;
    int64_t param_k = 4;                 // row clusters per tensor for quant.granularity=cluster
    int64_t param_refresh_every = 50;
};

struct AuxConfig {
    bool enabled = true;
    int64_t hidden = 16;
    double lr = 0.001;            // the auxiliary network's own (Adam) learning rate
    double max_multiplier = 4.0;  // m_t in [1/max, max]
    double radius_range = 4.0;    // r_t in [r0/range, r0*range]
    int64_t warmup = 5;           // steps before its outputs are used (m=1, r=r0 before)
    int64_t horizon = 100;        // steps the learning signals look back over (aux_net.h)
    // With a decaying schedule (cosine, two_stage) the multiplier applied is max(m_t, 1): the
    // schedule anneals, and the network only raises the rate (auxFloorsMultiplier, schedule.h).
    bool keep_decay = true;
};

struct TrustConfig {
    bool enabled = true;
    std::string mode = "tensor";  // tensor (relative, per matrix) | global (trust_region.h)
    double radius = 0.05;         // r0: relative (tensor) or absolute (global)
};

struct OptimConfig {
    std::string kind = "adamw";       // sgd | adamw
    double lr = 0.01;
    double momentum = 0.9;            // sgd
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;
    std::string schedule = "constant";  // constant | cosine | two_stage
    int64_t warmup = 0;
    double min_lr_ratio = 0.1;          // cosine floor; two_stage second-stage ratio
    double grad_clip = 0.0;             // clip ‖g‖ to this (0 = off)
};

struct SampleConfig {
    int64_t every = 100;        // gpt text samples every N steps (0 = never)
    int64_t tokens = 120;
    double temperature = 0.8;
    int64_t top_k = 20;
    std::string prompt;         // empty = a line start from the validation text
};

struct Config {
    RunConfig run;
    DataConfig data;
    ModelConfig model;
    QuantConfig quant;
    ClusterConfig cluster;
    AuxConfig aux;
    TrustConfig trust;
    OptimConfig optim;
    SampleConfig sample;
};

enum class FieldType { Int, Double, Bool, Choice, String, Path };

using FieldRef = std::variant<int64_t*, double*, bool*, std::string*>;
using FieldValue = std::variant<int64_t, double, bool, std::string>;

struct FieldSpec {
    std::string key;      // "optim.lr"
    std::string section;  // "optim"
    std::string name;     // "lr"
    FieldType type;
    double min = 0, max = 0;     // inclusive range for Int/Double
    bool minExclusive = false;   // (min, max] when true
    bool logScale = false;       // a GUI hint: spans decades
    std::vector<std::string> choices;
    std::string doc;
    std::function<FieldRef(Config&)> ref;
    // May change between the steps of a run (core/exp/events.h): it shapes neither the model, the
    // data nor the random streams the trainer draws at its start.
    bool live = false;

    FieldValue get(const Config& c) const;
    // Sets from a value of the field's type; throws ConfigError naming the key when it does
    // not fit (wrong type, out of range, not a choice).
    void set(Config& c, const FieldValue& v) const;
    // Parses text ("3e-4", "true", "ternary") then set().
    void setFromString(Config& c, const std::string& text) const;
    std::string toString(const Config& c) const;
    FieldValue defaultValue() const;
    // The range check alone; empty string when fine, else the message.
    std::string check(const FieldValue& v) const;
};

// All fields in display order.
const std::vector<FieldSpec>& configSchema();
const FieldSpec* findField(const std::string& key);
std::vector<std::string> configSections();

// Cross-field validation (and every field's range); throws ConfigError naming the field.
void validate(const Config& c);
// The schema's checks of one section alone, for the components built from a section (optimizer,
// schedule, auxiliary NN, trust region), so that every range is written once, in the schema.
void validate(const OptimConfig& s);
void validate(const AuxConfig& s);
void validate(const TrustConfig& s);
// Every problem found, one message per entry, each starting with the field's key.
std::vector<std::string> validationErrors(const Config& c);

// c with the live field `key` (FieldSpec::live) set from `value`, checked like a configuration:
// throws ConfigError naming the key when it is unknown, cannot change during a run (it shapes the
// model, the data or the random streams), the value does not fit, the result does not validate,
// or run.steps would not exceed `stepsDone`.
Config liveEdit(const Config& c, const std::string& key, const std::string& value,
                int64_t stepsDone);

nlohmann::json toJson(const Config& c);
// Starts from `base` and applies the keys present; unknown keys are errors naming the key and
// the closest valid one. `where` names the source in messages (a file name).
Config fromJson(const nlohmann::json& j, const Config& base = Config{},
                const std::string& where = "config");
Config loadConfigFile(const std::string& path);
void saveConfigFile(const Config& c, const std::string& path);
// "key=value" as given to --set; `where` names the source in messages ("--set", "--grid").
void applySetting(Config& c, const std::string& assignment, const std::string& where = "--set");

// Built-in presets, compiled in from resources/presets/*.json.
struct PresetInfo {
    std::string name;
    std::string summary;
};
std::vector<PresetInfo> presetList();
Config presetConfig(const std::string& name);  // throws ConfigError for an unknown name

}  // namespace h158
