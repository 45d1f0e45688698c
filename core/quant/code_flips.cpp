// Code flips between two quantizations of a tensor, told apart by cause (code_flips.h).
#include "core/quant/code_flips.h"

#include "core/base/errors.h"

namespace h158 {

FlipCounts countFlips(const QuantizedTensor& before, const QuantizedTensor& after,
                      const float* latent, std::span<int32_t> lastFlip, std::span<uint8_t> cause,
                      int32_t step) {
    if (before.levels != after.levels || after.levels == QuantLevels::None)
        throw Error("countFlips: the two quantizations must share a level set other than none");
    if (before.rows != after.rows || before.cols != after.cols ||
        before.codes.size() != after.codes.size() || after.rowScale.size() != after.rows ||
        before.rowScale.size() != before.rows)
        throw Error("countFlips: the two quantizations have different shapes");
    const int64_t rows = after.rows, n = int64_t(after.codes.size());
    const bool mark = !lastFlip.empty();
    if (mark && (int64_t(lastFlip.size()) != n || int64_t(cause.size()) != n))
        throw Error("countFlips: lastFlip and cause need one entry per weight");
    const int limit = codeLimit(after.levels);
    FlipCounts f;
    for (int64_t i = 0; i < n; ++i) {
        const int8_t old = before.codes[size_t(i)];
        if (after.codes[size_t(i)] == old) continue;
        const bool moved = codeAt(latent[i], before.rowScale(i % rows), limit) != old;
        ++(moved ? f.weight : f.scale);
        if (mark) {
            lastFlip[size_t(i)] = step;
            cause[size_t(i)] = uint8_t(moved ? FlipCause::Weight : FlipCause::Scale);
        }
    }
    return f;
}

}  // namespace h158
