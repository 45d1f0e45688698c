// The data-set factory: picks the generator or reader that cfg.data.kind names.
#include "core/config.h"
#include "core/dataset.h"
#include "core/tabular_data.h"
#if __has_include("core/text_data.h")
#include "core/text_data.h"
#define H158_HAVE_TEXT 1
#endif

namespace h158 {

std::unique_ptr<Dataset> makeDataset(const Config& cfg) {
    const std::string& k = cfg.data.kind;
    if (k == "regression") return makeRegressionData(cfg);
    if (k == "spirals" || k == "moons" || k == "blobs" || k == "xor") return makeClassification2d(cfg);
    if (k == "csv") return makeCsvData(cfg);
#ifdef H158_HAVE_TEXT
    if (k == "text") return makeTextDataset(cfg);
#endif
    throw ConfigError("data.kind '" + k + "' is not available");
}

}  // namespace h158
