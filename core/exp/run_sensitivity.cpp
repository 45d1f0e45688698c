// runSensitivity: a finished or stopped run's model, rebuilt from its directory and measured.
#include "core/exp/run_sensitivity.h"

#include <filesystem>

#include "core/base/errors.h"
#include "core/exp/run_session.h"
#include "core/io/h158_format.h"

namespace h158 {

SensitivityTable runSensitivity(const std::string& dir, int64_t batches) {
    namespace fs = std::filesystem;
    const RunRecord rec = readRunDirectory(dir);
    const std::string latent = (fs::path(dir) / kLatentFile).string();
    if (!fs::exists(latent))
        throw FileError(latent + ": no latent weights (a run writes them when it completes or is "
                                 "stopped; runs of hybrid158 before 0.2 did not)");
    Config cfg = rec.config;
    cfg.model.init_file = latent;
    Trainer trainer(cfg);
    const std::string weights = (fs::path(dir) / "weights.h158").string();
    if (cfg.quant.weights != "none" && fs::exists(weights)) {
        // The levels the trained model holds (an adaptive run's last allocation).
        const H158Model file = readH158(weights);
        const ParamLayout& L = trainer.model().layout();
        std::vector<QuantLevels> levels(size_t(L.count()), QuantLevels::None);
        for (int i = 0; i < L.count(); ++i) {
            const H158Tensor* t = file.find(L[i].name);
            if (!t) throw FileError(weights + ": no tensor " + L[i].name);
            if (L[i].quantized) levels[size_t(i)] = quantLevelsOf(t->kind);
        }
        trainer.setTensorLevels(levels);
    }
    SensitivityTable t = trainer.sensitivity(batches);
    t.step = rec.metrics.empty() ? 0 : rec.metrics.back().step;
    return t;
}

}  // namespace h158
