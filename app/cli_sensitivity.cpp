// `sensitivity --run DIR [--batches N] [--out PREFIX]`: the per-tensor sensitivity of a run's
// trained model (core/train/sensitivity.h) as DIR/sensitivity.json and DIR/sensitivity.csv, and
// a JSON line with the headline figures.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/cli.h"
#include "app/cli_args.h"
#include "core/base/file_io.h"
#include "core/train/sensitivity.h"
#include "core/exp/run_sensitivity.h"

namespace h158::cli {
namespace {

int fail(int code, const std::string& msg) {
    std::fprintf(stderr, "hybrid158-cli sensitivity: %s\n", msg.c_str());
    return code;
}

// The JSON line: where the table went, the baselines, and the tensor whose quantization to each
// level set alone costs the most.
nlohmann::json summaryLine(const SensitivityTable& t, const std::string& json,
                           const std::string& csv) {
    nlohmann::json j;
    j["json"] = json;
    j["csv"] = csv;
    j["tensors"] = t.tensors.size();
    j["batches"] = t.batches;
    j["fp32_loss"] = t.fp32Loss;
    j["current_loss"] = std::isfinite(t.currentLoss) ? nlohmann::json(t.currentLoss) : nullptr;
    for (size_t k = 0; k < kSensitivityLevels.size(); ++k) {
        const char* name = quantLevelsName(kSensitivityLevels[k]);
        j["uniform_" + std::string(name)] = t.uniform[k];
        const TensorSensitivity* worst = nullptr;
        for (const auto& x : t.tensors)
            if (!worst || x.alone[k] > worst->alone[k]) worst = &x;
        if (worst) {
            j["most_sensitive_" + std::string(name)] = worst->name;
            j["most_sensitive_" + std::string(name) + "_rise"] = worst->alone[k] - t.fp32Loss;
        }
    }
    return j;
}

}  // namespace

int sensitivityCommand(int argc, char** argv) {
    Args a("sensitivity",
           "Measures how much validation loss each quantized tensor of a run's trained model\n"
           "costs: the loss with that tensor alone quantized (others fp32) and with it alone\n"
           "kept at fp32 (others quantized), at ternary, five-level and int8, from the latent\n"
           "weights the run wrote (DIR/latent.safetensors). Writes the table as JSON and CSV\n"
           "and prints a JSON line with the baselines and the most sensitive tensors.");
    a.option("run", "DIR", "The run directory (completed or stopped)", true)
        .option("batches", "N", "Validation batches per figure (default 8)")
        .option("out", "PREFIX",
                "Write PREFIX.json and PREFIX.csv (default DIR/sensitivity.json, .csv)");
    a.footer(
        "CSV columns: tensor, weights, level (what the run uses), alone_<l> = loss with the\n"
        "tensor alone at <l> minus the all-fp32 loss, kept_<l> = the loss with every tensor\n"
        "at <l> minus the loss with this one kept at fp32 (what keeping it recovers).");
    if (const auto rc = a.parse(argc, argv)) return *rc;
    namespace fs = std::filesystem;
    try {
        const std::string run = a.get("run");
        const long long batches = a.getInt("batches", 8);
        if (batches < 1 || batches > 1024)
            return a.usageError("--batches must be in [1, 1024], got " + std::to_string(batches));
        if (!fs::is_directory(run)) return fail(2, run + ": no such run directory");
        const std::string prefix =
            a.has("out") ? a.get("out") : (fs::path(run) / "sensitivity").string();
        const SensitivityTable t = runSensitivity(run, batches);
        const std::string json = prefix + ".json", csv = prefix + ".csv";
        writeFileAtomically(json, t.toJson().dump(2) + "\n");
        writeFileAtomically(csv, t.toCsv());
        std::printf("%s\n", summaryLine(t, json, csv).dump().c_str());
        return 0;
    } catch (const std::exception& e) {
        return fail(exitCodeFor(e), e.what());
    }
}

}  // namespace h158::cli
