// The sensitivity of a run directory's trained model (sensitivity.h measures; this reads the run).
#pragma once

#include <string>

#include "core/train/sensitivity.h"

namespace h158 {

// The sensitivity of a finished or stopped run's trained model: the trainer rebuilt from
// DIR/config.json with the latent weights DIR/latent.safetensors, at the levels DIR/weights.h158
// holds. Throws FileError naming the missing or malformed file.
SensitivityTable runSensitivity(const std::string& dir, int64_t batches);

}  // namespace h158
