// TernGrad update ternarization (see terngrad.h): a max-reduction, then one Bernoulli draw per
// element from per-chunk random streams, with the error sums kept per chunk and added in order.
#include "core/quant/terngrad.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/errors.h"
#include "core/base/types.h"
#include "core/base/parallel.h"

namespace h158 {
namespace {

constexpr int64_t kChunk = int64_t(1) << 15;

// max|d| on the sign-cleared IEEE bit patterns (numeric order for non-NaN floats; a NaN or inf
// shows up as a pattern >= that of inf).
uint32_t maxAbsBits(const float* d, int64_t n) {
    uint32_t m = 0;
    for (int64_t i = 0; i < n; ++i) m = std::max(m, std::bit_cast<uint32_t>(d[i]) & 0x7fffffffu);
    return m;
}

}  // namespace

TernGradResult ternGrad(std::span<const float> d, std::span<float> out, Rng& rng) {
    if (d.size() != out.size())
        throw Error("ternGrad: update has " + std::to_string(d.size()) + " values but output " +
                    std::to_string(out.size()));
    const int64_t n = int64_t(d.size());
    const int64_t chunks = (n + kChunk - 1) / kChunk;
    const uint64_t seed = rng.next();  // consumed even for an empty or zero update

    std::vector<uint32_t> chunkMax(size_t(chunks), 0);
    parallelFor(chunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c)
            chunkMax[size_t(c)] =
                maxAbsBits(d.data() + c * kChunk, std::min(kChunk, n - c * kChunk));
    });
    uint32_t maxBits = 0;
    for (uint32_t m : chunkMax) maxBits = std::max(maxBits, m);
    if (maxBits >= 0x7f800000u) throw Error("ternGrad: the update holds a non-finite value");
    const float s = std::bit_cast<float>(maxBits);

    TernGradResult result;
    result.scale = s;
    if (s == 0.0f) {
        std::fill(out.begin(), out.end(), 0.0f);
        return result;
    }

    std::vector<double> diff2(size_t(chunks), 0.0), norm2(size_t(chunks), 0.0);
    const double toThreshold = 4294967296.0 / double(s);  // |d| -> |d|/s * 2^32
    parallelFor(chunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
            Rng chunkRng(seed, uint64_t(c));
            const int64_t begin = c * kChunk, end = std::min(n, begin + kChunk);
            double e = 0, w = 0;
            for (int64_t i = begin; i < end; i += 2) {
                const uint64_t bits = chunkRng.next();  // two 32-bit uniforms per draw
                for (int64_t k = i; k < std::min(end, i + 2); ++k) {
                    const float di = d[size_t(k)];
                    const uint32_t u = uint32_t(bits >> (32 * (k - i)));
                    const bool keep = double(u) < double(std::fabs(di)) * toThreshold;
                    const float o = keep ? std::copysign(s, di) : 0.0f;
                    const double diff = double(o) - double(di);
                    e += diff * diff;
                    w += double(di) * double(di);
                    out[size_t(k)] = o;
                }
            }
            diff2[size_t(c)] = e;
            norm2[size_t(c)] = w;
        }
    });
    for (int64_t c = 0; c < chunks; ++c) {
        result.diff2 += diff2[size_t(c)];
        result.norm2 += norm2[size_t(c)];
    }
    return result;
}

}  // namespace h158
