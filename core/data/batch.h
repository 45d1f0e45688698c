// One training or validation batch, as the dataset hands it to the model.
#pragma once

#include <vector>

#include "core/base/types.h"

namespace h158 {

struct Batch {
    MatF x;                        // (features, B) inputs: linear and mlp models
    MatF y;                        // (targets, B) regression targets
    std::vector<int32_t> labels;   // (B) class ids: classification
    std::vector<int32_t> tokens;   // (B, T+1) row-major byte ids: gpt; inputs [0,T), targets [1,T]
    int64_t size = 0;              // B
    int64_t seqLen = 0;            // T (gpt)
    int cluster = -1;              // data cluster the batch came from, -1 when mixed
    std::vector<int64_t> origins;  // (B) where each row came from: the sample's index in the
                                   // data (tabular), the window's first byte in the text (gpt)
};

}  // namespace h158
