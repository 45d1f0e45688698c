// Component ablation: trains a preset with everything as configured, then with each hybrid
// component switched off (and only that one), and prints a Markdown table of final loss,
// validation loss, constraint activation rate and quantization error. Usage:
//   bench_ablation [PRESET ...] [--steps N] [--seeds S]     (default: seed-linear spirals)
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/train/trainer.h"

using namespace h158;

namespace {

struct Variant {
    const char* name;
    void (*apply)(Config&);
};

const Variant kVariants[] = {
    {"all components on", [](Config&) {}},
    {"quantization off", [](Config& c) {
         c.quant.weights = "none";
         c.quant.granularity = "tensor";
         c.quant.activations = "none";
     }},
    {"data clustering off", [](Config& c) { c.cluster.data_k = 0; }},
    {"param clustering off", [](Config& c) {
         if (c.quant.granularity == "cluster") c.quant.granularity = "tensor";
     }},
    {"aux NN off", [](Config& c) { c.aux.enabled = false; }},
    {"trust region off", [](Config& c) { c.trust.enabled = false; }},
    {"all off (plain AdamW, fp32)", [](Config& c) {
         c.quant.weights = "none";
         c.quant.granularity = "tensor";
         c.quant.activations = "none";
         c.cluster.data_k = 0;
         c.aux.enabled = false;
         c.trust.enabled = false;
     }},
};

double num(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : NAN; }

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> presets;
    int64_t steps = 0, seeds = 3;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) steps = std::atoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--seeds") && i + 1 < argc) seeds = std::atoll(argv[++i]);
        else presets.push_back(argv[i]);
    }
    if (presets.empty()) presets = {"seed-linear", "spirals"};
    for (const auto& p : presets) {
        const Config base = presetConfig(p);
        std::printf("\n### %s (%lld steps, mean of %lld seeds)\n\n", p.c_str(),
                    (long long)(steps ? steps : base.run.steps), (long long)seeds);
        std::printf("| variant | final loss | final val loss | val acc | constraint activation | "
                    "mean quant error |\n| --- | --- | --- | --- | --- | --- |\n");
        for (const auto& v : kVariants) {
            double fl = 0, vl = 0, acc = 0, act = 0, qe = 0;
            int n = 0;
            bool diverged = false;
            for (int64_t s = 0; s < seeds; ++s) {
                Config c = base;
                if (steps) c.run.steps = steps;
                c.run.seed = s;
                v.apply(c);
                Trainer t(c);
                while (!t.finished()) t.step();
                if (t.status() != RunStatus::Completed) diverged = true;
                const auto f = t.summary().figures;
                fl += num(f["final_loss"]);
                vl += num(f["final_val_loss"]);
                acc += f.contains("final_val_accuracy") ? num(f["final_val_accuracy"]) : NAN;
                act += num(f["constraint_activation_rate"]);
                qe += num(f["mean_quant_error"]);
                ++n;
            }
            auto cell = [&](double x, const char* fmt) {
                static char buf[64];
                if (std::isnan(x)) return std::string("–");
                std::snprintf(buf, sizeof buf, fmt, x / n);
                return std::string(buf);
            };
            std::printf("| %s%s | %s | %s | %s | %s | %s |\n", v.name, diverged ? " (diverged)" : "",
                        cell(fl, "%.4f").c_str(), cell(vl, "%.4f").c_str(), cell(acc, "%.3f").c_str(),
                        cell(act * 100, "%.1f%%").c_str(), cell(qe, "%.3f").c_str());
        }
    }
    return 0;
}
