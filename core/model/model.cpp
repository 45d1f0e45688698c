// Model defaults and the factory that picks the model for a config.
#include "core/model/model.h"

#include "core/config/config.h"
#include "core/model/gpt/gpt_model.h"
#include "core/model/mlp_model.h"

namespace h158 {

MatF Model::representation(const float*, const QuantState*, const Dataset&,
                           std::span<const int64_t>) {
    return {};
}

MatF Model::predictProba(const float*, const QuantState*, const MatF&) { return {}; }

std::unique_ptr<Model> makeModel(const Config& cfg, const DataShape& data) {
    if (cfg.model.kind == "gpt") return makeGptModel(cfg, data);
    return makeMlpModel(cfg, data);
}

}  // namespace h158
