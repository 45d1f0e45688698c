// quantizeActivations (activation_quantizer.h) for the integer kernels.
#include "core/quant/activation_quantizer.h"

#include <string>

#include "core/base/errors.h"
#include "core/base/vector_clones.h"
#include "core/base/parallel.h"
#include "core/base/types.h"

namespace h158 {
namespace {

// One column through int8AbsmaxCodes (into `work`, rows floats), then to int8: exact, the codes
// are integers in [-128, 127]. invScale = 1/s, so code * invScale can differ from the
// reference's code / s by one ulp.
H158_VECTOR_CLONES
void quantizeColumn(const float* x, int64_t rows, float* work, int8_t* codes, float* invScale) {
    *invScale = 1.0f / int8AbsmaxCodes(x, rows, work);
    for (int64_t r = 0; r < rows; ++r) codes[r] = int8_t(work[r]);
}

// One column of quantizeScaledColumns: max |x r| on the bit patterns (as absMax), then the codes
// of (x r) s, clipped and converted in the same loop.
H158_VECTOR_CLONES
void quantizeScaledColumn(const float* x, const float* r, int64_t rows, int8_t* codes,
                          float* invScale) {
    uint32_t m = 0;
    for (int64_t i = 0; i < rows; ++i)
        m = std::max(m, std::bit_cast<uint32_t>(x[i] * r[i]) & 0x7fffffffu);
    const float s = 127.0f / std::max(std::bit_cast<float>(m), 1e-5f);
    for (int64_t i = 0; i < rows; ++i)
        codes[i] = int8_t(std::min(127.0f, std::max(-128.0f, roundTieStable((x[i] * r[i]) * s))));
    *invScale = 1.0f / s;
}

}  // namespace

void quantizeScaledColumns(const float* x, const float* rowScale, int64_t rows, int64_t cols,
                           int8_t* codes, float* invScale) {
    for (int64_t c = 0; c < cols; ++c)
        quantizeScaledColumn(x + c * rows, rowScale, rows, codes + c * rows, invScale + c);
}

void quantizeActivations(const float* x, int64_t rows, int64_t cols, int8_t* codes,
                         float* invScale) {
    if (rows < 0 || cols < 0)
        throw Error("quantizeActivations: negative shape (" + std::to_string(rows) + ", " +
                    std::to_string(cols) + ")");
    auto run = [&](int64_t c0, int64_t c1) {
        FloatBuffer work(static_cast<size_t>(rows));
        for (int64_t c = c0; c < c1; ++c)
            quantizeColumn(x + c * rows, rows, work.data(), codes + c * rows, invScale + c);
    };
    // Columns are independent, so splitting them over threads cannot change a result.
    if (rows * cols >= (int64_t(1) << 16))
        parallelFor(cols, std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(1, rows)),
                    run);
    else
        run(0, cols);
}

}  // namespace h158
