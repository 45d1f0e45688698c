// Fixed-order double reductions over float vectors (see vector_ops.h for the order).
#include "core/base/vector_ops.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/base/errors.h"
#include "core/base/types.h"
#include "core/base/parallel.h"

namespace h158 {

namespace {

constexpr size_t kLanes = 8;

// Eight independent accumulators: the compiler turns the inner loop into SIMD adds, and the
// order of additions inside each lane is the index order whatever it does. float×float is exact
// in double, so a fused multiply-add gives the same bits as a multiply then an add.
double dotImpl(const float* a, const float* b, size_t n) {
    double acc[kLanes] = {};
    const size_t blocked = n - n % kLanes;
    for (size_t i = 0; i < blocked; i += kLanes)
        for (size_t j = 0; j < kLanes; ++j) acc[j] += double(a[i + j]) * double(b[i + j]);
    double s = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
    for (size_t i = blocked; i < n; ++i) s += double(a[i]) * double(b[i]);
    return s;
}

// Chunks of kReduceChunk reduced in parallel, their sums added in chunk order.
double chunkedDot(const float* a, const float* b, size_t n) {
    if (n <= kReduceChunk) return dotImpl(a, b, n);
    const size_t chunks = (n + kReduceChunk - 1) / kReduceChunk;
    std::vector<double> part(chunks);
    parallelFor(int64_t(chunks), 1, [&](int64_t c, int64_t) {
        const size_t i = size_t(c) * kReduceChunk;
        part[size_t(c)] = dotImpl(a + i, b + i, std::min(kReduceChunk, n - i));
    });
    double s = 0;
    for (double p : part) s += p;
    return s;
}

}  // namespace

double dot(std::span<const float> a, std::span<const float> b) {
    if (a.size() != b.size())
        throw Error("dot: sizes differ (" + std::to_string(a.size()) + " vs " +
                    std::to_string(b.size()) + ")");
    return chunkedDot(a.data(), b.data(), a.size());
}

double squaredNorm(std::span<const float> a) {
    return chunkedDot(a.data(), a.data(), a.size());
}

double l2Norm(std::span<const float> a) {
    return std::sqrt(squaredNorm(a));
}

}  // namespace h158
