// Model defaults and the factory that picks the model for a config.
#include "core/model.h"

#include "core/config.h"
#include "core/mlp_model.h"
#if __has_include("core/gpt_model.h")
#include "core/gpt_model.h"
#define H158_HAVE_GPT 1
#endif

namespace h158 {

MatF Model::representation(const float*, const QuantState*, const Dataset&,
                           std::span<const int64_t>) {
    return {};
}

MatF Model::predictProba(const float*, const QuantState*, const MatF&) { return {}; }

std::string Model::generateText(const float*, const QuantState*, const std::string&, int64_t,
                                double, int64_t, Rng&) {
    return {};
}

std::unique_ptr<Model> makeModel(const Config& cfg, const Dataset& data) {
#ifdef H158_HAVE_GPT
    if (cfg.model.kind == "gpt") return makeGptModel(cfg, data);
#else
    if (cfg.model.kind == "gpt") throw ConfigError("model.kind=gpt is not built yet");
#endif
    return makeMlpModel(cfg, data);
}

}  // namespace h158
