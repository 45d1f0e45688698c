// The data-set factory: picks the generator or reader that cfg.data.kind names.
#include <algorithm>

#include "core/base/errors.h"
#include "core/config/config.h"
#include "core/data/dataset.h"
#include "core/data/tabular_data.h"
#include "core/data/text_data.h"

namespace h158 {

std::unique_ptr<Dataset> makeDataset(const Config& cfg) {
    const std::string& k = cfg.data.kind;
    if (k == "regression") return makeRegressionData(cfg);
    if (k == "spirals" || k == "moons" || k == "blobs" || k == "xor") return makeClassification2d(cfg);
    if (k == "csv") return makeCsvData(cfg);
    if (k == "text") return makeTextDataset(cfg);
    throw ConfigError("data.kind '" + k + "' is not available");
}

DataShape dataShape(const Config& cfg) {
    const std::string& k = cfg.data.kind;
    if (k == "regression") return {Task::Regression, cfg.data.features, cfg.data.targets};
    if (k == "spirals" || k == "moons" || k == "xor") return {Task::Classification, 2, 2};
    if (k == "blobs") return {Task::Classification, 2, std::max<int64_t>(2, cfg.data.modes)};
    if (k == "text") return {Task::LanguageModel, 256, 256};
    return makeDataset(cfg)->shape();
}

}  // namespace h158
