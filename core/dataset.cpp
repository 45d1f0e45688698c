// The data-set factory: picks the generator or reader that cfg.data.kind names.
#include "core/config.h"
#include "core/dataset.h"
#include "core/tabular_data.h"
#include "core/text_data.h"

namespace h158 {

std::unique_ptr<Dataset> makeDataset(const Config& cfg) {
    const std::string& k = cfg.data.kind;
    if (k == "regression") return makeRegressionData(cfg);
    if (k == "spirals" || k == "moons" || k == "blobs" || k == "xor") return makeClassification2d(cfg);
    if (k == "csv") return makeCsvData(cfg);
    if (k == "text") return makeTextDataset(cfg);
    throw ConfigError("data.kind '" + k + "' is not available");
}

}  // namespace h158
