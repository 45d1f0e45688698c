// The inner machinery of K-Means (internal to core/cluster/kmeans.cpp and its tests): centred data, the
// fixed tiling that makes sums independent of the thread count, and the nearest-centroid kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "core/base/types.h"
#include "core/base/parallel.h"

namespace h158::detail {

// Work is cut by column index only. `chunk` columns share one score tile (within 64 KiB);
// `block` columns (whole chunks) are one parallel task with its own partial sums, and partials
// are added in block order, so every result is bit-identical for any number of threads.
struct Tiling {
    int64_t chunk = 0;
    int64_t block = 0;
    int64_t blocks = 0;
};
Tiling makeTiling(int64_t n, int64_t f, int64_t k);

// fn(blockIndex, begin, end) over the blocks of [0, n), in parallel.
template <class Fn>
void forBlocks(const Tiling& t, int64_t n, Fn&& fn) {
    parallelFor(n, t.block, [&](int64_t b, int64_t e) { fn(b / t.block, b, e); });
}

// sum_j a_j in double, in an order fixed by n alone.
double sumOf(const float* a, int64_t n);

// The data as the kernels see them. Centring (x - mean) keeps the expansion
// ||x - c||^2 = ||x||^2 - 2 c'x + ||c||^2 accurate in float when the data sit far from the
// origin (scikit-learn centres for the same reason); distances and labels do not change.
struct Centred {
    MatF x;                // (F, N) x_j - mean
    MatF xp;               // (32 F, ceil(N / 32)) the same packed for the fused kernel (else
                           // empty): column t holds points 32t.. as F rows of 32 lanes, zero-padded
    VecD mean;             // (F)
    VecF norm2;            // (N) ||x_j - mean||^2
    double meanVar = 0.0;  // mean over features of the variance: the scale of tol
    bool fused = false;    // assignments by the AVX-512 fused kernel (else the Eigen GEMM path)
};

// Throws h158::Error naming `who` when x is empty.
void checkShape(const MatF& x, const char* who);
// Checks every value is finite (the error names sample and feature), then centres, for
// assignments to k centroids (k picks the kernel). allowFused = false forces the GEMM path (tests
// compare the two).
Centred centre(const MatF& x, const char* who, int64_t k, bool allowFused = true);
// The columns `idx` of d, centred by d's mean.
Centred gather(const Centred& d, const std::vector<int64_t>& idx);

// Centroids ready for an assignment pass: -2C and ||c||^2, padded to a multiple of 4 centroids
// with zero columns and +inf norms (padding never wins).
struct Prepared {
    MatF cm2;  // (F, kp)
    VecF cn2;  // (kp)
};
Prepared prepare(const MatF& c);

// What one block contributes to a Lloyd update.
struct Partial {
    MatD sums;                    // (F, k) sum of the members of each cluster
    std::vector<int64_t> counts;  // (k)
    double inertia = 0.0;         // sum of ||x_j - c_label||^2 by the expansion
    int64_t changed = 0;          // labels that differ from the previous iteration
};

// Assigns columns [b, e) of d (b a multiple of t.chunk) to the nearest centroid, ties to the lower
// index, by the score ||c||^2 - 2 c'x: with d.fused an AVX-512 micro-kernel computes C'X for 32
// points x 4 centroids in registers and feeds the running minimum directly; otherwise Eigen's GEMM
// writes the (chunk, kp) score tile and a plain loop takes the minimum. Outputs: labels always;
// `dist` (optional) gets ||x_j - c_label||^2 by the expansion, clamped at 0; `p` (optional) gets
// the block's Lloyd sums, counts, inertia and label changes.
void assignBlock(const Centred& d, const Tiling& t, const Prepared& c, int64_t b, int64_t e,
                 int* labels, float* dist, Partial* p);
// The same over all columns, in parallel.
void assignAll(const Centred& d, const MatF& c, int* labels, float* dist);

// sum_j ||x_j - c_{l_j}||^2 computed directly (no expansion), and the cluster sizes.
double exactInertia(const Centred& d, const MatF& c, const std::vector<int>& labels,
                    std::vector<int64_t>& sizes);

// dist(j, l) = min(closest_j, ||x_j - cand_l||^2) for every column j and candidate l (the GEMM
// expansion clamped at 0; no minimum when closest is null). Returns sum_j dist(j, l) per l.
std::vector<double> candidatePotentials(const Centred& d, const MatF& cand, const float* closest,
                                        MatF& dist);

}  // namespace h158::detail
