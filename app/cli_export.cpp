// `export --run DIR --out FILE.h158`: the trained model of a run directory (DIR/weights.h158,
// written when the run ended) checked against DIR/config.json and written to FILE, with its
// storage figures as one JSON line.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/cli.h"
#include "app/cli_args.h"
#include "core/config/config.h"
#include "core/data/dataset.h"
#include "core/io/h158_export.h"
#include "core/model/model.h"
#include "core/exp/run_session.h"

namespace h158::cli {
namespace {

int fail(int code, const std::string& msg) {
    std::fprintf(stderr, "hybrid158-cli export: %s\n", msg.c_str());
    return code;
}

double round4(double v) {
    return std::round(v * 1e4) / 1e4;
}

// The JSON line: the contract fields first (ternary_weights, ternary_bytes, bits_per_weight,
// file_bytes, fp32_bytes_equivalent), then the details. ternary_bytes counts the packed trits
// and their scales; bits_per_weight = 8 ternary_bytes / ternary_weights (null without ternary);
// five-level and int8 tensors, when present, get the same three figures. mean_bits is the mean
// information per quantizable weight (meanBitsPerWeight: what quant.bits_budget bounds).
nlohmann::json exportLine(const H158Model& m, const H158Stats& s, double meanBits,
                          const RunRecord& rec, const std::string& out) {
    const int64_t ternaryBytes = s.ternaryPackedBytes + s.ternaryScaleBytes;
    const int64_t fiveBytes = s.fiveLevelPackedBytes + s.fiveLevelScaleBytes;
    const int64_t int8Bytes = s.int8PackedBytes + s.int8ScaleBytes;
    auto bits = [](int64_t bytes, int64_t n) -> nlohmann::json {
        if (n == 0) return nullptr;
        return round4(8.0 * double(bytes) / double(n));
    };
    nlohmann::json j;
    j["ternary_weights"] = s.ternaryWeights;
    j["ternary_bytes"] = ternaryBytes;
    j["bits_per_weight"] = bits(ternaryBytes, s.ternaryWeights);
    j["file_bytes"] = s.fileBytes;
    j["fp32_bytes_equivalent"] = 4 * s.parameters;
    j["compression_vs_fp32"] = round4(double(4 * s.parameters) / double(s.fileBytes));
    j["packed_bits_per_weight"] = bits(s.ternaryPackedBytes, s.ternaryWeights);
    j["ternary_scale_bytes"] = s.ternaryScaleBytes;
    if (s.fiveLevelWeights > 0) {
        j["five_level_weights"] = s.fiveLevelWeights;
        j["five_level_bytes"] = fiveBytes;
        j["five_level_bits_per_weight"] = bits(fiveBytes, s.fiveLevelWeights);
    }
    if (s.int8Weights > 0) {
        j["int8_weights"] = s.int8Weights;
        j["int8_bytes"] = int8Bytes;
        j["int8_bits_per_weight"] = bits(int8Bytes, s.int8Weights);
    }
    j["mean_bits"] =
        std::isnan(meanBits) ? nlohmann::json(nullptr) : nlohmann::json(round4(meanBits));
    j["fp32_weights"] = s.fp32Weights;
    j["fp32_bytes"] = 4 * s.fp32Weights;
    j["parameters"] = s.parameters;
    j["tensors"] = m.tensors.size();
    j["model"] = m.header.value("model", "");
    j["quant"] = rec.config.quant.weights;
    j["run"] = rec.dir;
    j["run_status"] = rec.summary.value("status", "");
    j["out"] = out;
    return j;
}

}  // namespace

int exportCommand(int argc, char** argv) {
    Args a("export",
           "Packs a run's weights (weights.h158) into one .h158 model file, checked against\n"
           "the run's config.json; prints its sizes as one JSON line.");
    a.option("run", "DIR",
             "The run directory (a run writes its weights when it completes or is stopped)", true)
        .option("out", "FILE.h158", "The model file to write", true);
    if (const auto rc = a.parse(argc, argv)) return *rc;
    const std::string run = a.get("run"), out = a.get("out");
    namespace fs = std::filesystem;
    try {
        if (!fs::is_directory(run)) return fail(2, run + ": no such run directory");
        const RunRecord rec = readRunDirectory(run);
        const std::string weights = (fs::path(run) / "weights.h158").string();
        if (!fs::exists(weights))
            return fail(2, weights +
                               ": missing; a run writes it when it completes or is stopped"
                               " (status here: " +
                               rec.summary.value("status", "unknown") + ")");
        const H158Model m = readH158(weights);
        // The weights must be the model config.json describes (same model and quantization).
        const nlohmann::json want = toJson(rec.config);
        const nlohmann::json got = m.header.value("config", nlohmann::json::object());
        for (const char* section : {"model", "quant"})
            if (!got.contains(section) || got[section] != want[section])
                return fail(2, weights + ": its \"" + section + "\" configuration differs from " +
                                   (fs::path(run) / "config.json").string());
        // Which tensors are quantizable is the model's layout (an adaptive model may keep some
        // of them fp32, which the file alone cannot tell from embeddings and norms).
        const std::unique_ptr<Model> model = makeModel(rec.config, dataShape(rec.config));
        double meanBits = 0;
        try {
            meanBits = meanBitsPerWeight(m, model->layout());
        } catch (const Error& e) {  // a tensor of the model is missing from the file
            return fail(2, weights + ": " + e.what());
        }
        writeH158(m, out);
        const H158Stats s = h158Stats(m);
        std::error_code ec;
        if (fs::file_size(out, ec) != uint64_t(s.fileBytes) || ec)
            return fail(1, out + ": written size differs from the format's size");
        std::printf("%s\n", exportLine(m, s, meanBits, rec, out).dump().c_str());
        return 0;
    } catch (const std::exception& e) {
        return fail(exitCodeFor(e), e.what());
    }
}

}  // namespace h158::cli
