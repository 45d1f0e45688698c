// Model defaults and the factory that picks the model for a config.
#include "core/model.h"

#include "core/config.h"
#include "core/gpt_model.h"
#include "core/mlp_model.h"

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
    if (cfg.model.kind == "gpt") return makeGptModel(cfg, data);
    return makeMlpModel(cfg, data);
}

}  // namespace h158
