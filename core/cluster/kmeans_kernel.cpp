// K-Means kernels: centring and packing the data, the fused AVX-512 nearest-centroid kernel and
// its Eigen GEMM counterpart, the Lloyd accumulation, exact inertia and k-means++ potentials.
// GCC 12.2's AVX-512 headers seed some intrinsics with a self-initialised "undefined" vector that
// -Wmaybe-uninitialized reports once inlined (GCC bug 105593, fixed in 12.3).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "core/cluster/kmeans_kernel.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <string>

#include "core/base/cpu_features.h"
#include "core/base/errors.h"
#include "core/base/parallel.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define H158_KMEANS_AVX512 1
#endif

namespace h158::detail {

Tiling makeTiling(int64_t n, int64_t f, int64_t k) {
    Tiling t;
    t.chunk = std::clamp<int64_t>(16384 / k / 64 * 64, 64, 2048);
    // At most 32 partials (enough to balance 2-8 threads) and about 32 MiB of (F, k) doubles.
    const int64_t maxBlocks = std::clamp<int64_t>((int64_t(32) << 20) / (8 * (f + 2) * k), 1, 32);
    const int64_t perBlock = (n + maxBlocks - 1) / maxBlocks;
    t.block = std::max<int64_t>(1, (perBlock + t.chunk - 1) / t.chunk) * t.chunk;
    t.blocks = (n + t.block - 1) / t.block;
    return t;
}

double sumOf(const float* a, int64_t n) {
    double acc[8] = {};
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int u = 0; u < 8; ++u) acc[u] += double(a[j + u]);
    for (; j < n; ++j) acc[0] += double(a[j]);
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// The fused kernel reads all centroids (F x kp floats) again for every tile of 32 points; while
// they stay within 64 KiB (L1/L2) that beats a GEMM that writes a (chunk, kp) score tile and reads
// it back, past that the GEMM's cache blocking wins (measured here: F = 256, k = 64 fused 10%
// faster; F = 784, k = 100 GEMM 25% faster).
constexpr int64_t kFusedMaxCentroidFloats = 16384;
constexpr int64_t kLanes = 32;  // points per packed tile of the fused kernel

static bool useFused(int64_t f, int64_t k) {
#ifdef H158_KMEANS_AVX512
    return cpuFeatures().avx512f && f * ((k + 3) / 4 * 4) <= kFusedMaxCentroidFloats;
#else
    (void)f;
    (void)k;
    return false;
#endif
}

// Fills d.xp from d.x: tile t, feature q, lane u at xp(q * 32 + u, t), so the fused kernel
// streams each tile's F x 32 values from one contiguous run.
static void pack(Centred& d) {
    const int64_t f = d.x.rows(), n = d.x.cols(), tiles = (n + kLanes - 1) / kLanes;
    d.xp = MatF::Zero(kLanes * f, tiles);
    parallelFor(tiles, 256, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t)
            for (int64_t u = 0; u < kLanes && t * kLanes + u < n; ++u)
                for (int64_t q = 0; q < f; ++q) d.xp(q * kLanes + u, t) = d.x(q, t * kLanes + u);
    });
}

void checkShape(const MatF& x, const char* who) {
    if (x.rows() == 0 || x.cols() == 0)
        throw Error(std::string(who) + ": the data matrix is empty (" + std::to_string(x.rows()) +
                    " features x " + std::to_string(x.cols()) + " samples)");
}

Centred centre(const MatF& x, const char* who, int64_t k, bool allowFused) {
    checkShape(x, who);
    const int64_t f = x.rows(), n = x.cols();
    const Tiling t = makeTiling(n, f, 1);
    MatD part = MatD::Zero(f, t.blocks);  // (F, blocks) column sums, then squared deviations
    std::vector<int64_t> bad(t.blocks, -1);
    forBlocks(t, n, [&](int64_t blk, int64_t b, int64_t e) {
        double* sum = part.col(blk).data();
        for (int64_t j = b; j < e; ++j) {
            const float* xj = x.col(j).data();
            for (int64_t q = 0; q < f; ++q) {
                if (!std::isfinite(xj[q])) {
                    bad[blk] = j;
                    return;
                }
                sum[q] += xj[q];
            }
        }
    });
    for (int64_t j : bad) {
        if (j < 0) continue;
        int64_t q = 0;
        while (std::isfinite(x(q, j))) ++q;
        throw Error(std::string(who) + ": non-finite value " + std::to_string(x(q, j)) +
                    " at sample " + std::to_string(j) + ", feature " + std::to_string(q));
    }
    Centred d;
    d.mean = part.rowwise().sum() / double(n);
    d.fused = allowFused && useFused(f, k);
    d.x.resize(f, n);
    d.norm2.resize(n);
    part.setZero();
    forBlocks(t, n, [&](int64_t blk, int64_t b, int64_t e) {
        double* var = part.col(blk).data();
        for (int64_t j = b; j < e; ++j) {
            float norm = 0.0f;
            for (int64_t q = 0; q < f; ++q) {
                const double dev = double(x(q, j)) - d.mean[q];
                const float v = float(dev);
                d.x(q, j) = v;
                norm += v * v;
                var[q] += dev * dev;
            }
            d.norm2[j] = norm;
        }
    });
    d.meanVar = part.sum() / (double(n) * double(f));
    if (d.fused) pack(d);
    return d;
}

Centred gather(const Centred& d, const std::vector<int64_t>& idx) {
    const int64_t m = int64_t(idx.size());
    Centred s;
    s.mean = d.mean;
    s.meanVar = d.meanVar;
    s.fused = d.fused;
    s.x.resize(d.x.rows(), m);
    s.norm2.resize(m);
    for (int64_t j = 0; j < m; ++j) {
        s.x.col(j) = d.x.col(idx[j]);
        s.norm2[j] = d.norm2[idx[j]];
    }
    if (s.fused) pack(s);
    return s;
}

Prepared prepare(const MatF& c) {
    const int64_t k = c.cols(), kp = (k + 3) / 4 * 4;
    Prepared p;
    p.cm2 = MatF::Zero(c.rows(), kp);
    p.cm2.leftCols(k) = -2.0f * c;
    p.cn2 = VecF::Constant(kp, std::numeric_limits<float>::infinity());
    p.cn2.head(k) = c.colwise().squaredNorm().transpose();
    return p;
}

namespace {

// Scratch of one task: the GEMM tile of -2 c'x (chunk, kp), the running minimum and its index.
struct Scratch {
    Scratch(int64_t chunk, int64_t kp, bool gemm)
        : dots(gemm ? chunk * kp : 0), best(chunk), lab(chunk) {}
    std::vector<float> dots, best;
    std::vector<int> lab;
};

#ifdef H158_KMEANS_AVX512
// The fused kernel: score(j, i) = ||c_i||^2 + sum_q cm2(q, i) x(q, j) for a packed tile of 32
// points (two 16-lane halves) and 4 centroids at a time, i.e. a GEMM micro-kernel with 8
// accumulators (each x load serves 4 centroids, each broadcast centroid entry both halves) whose
// output goes straight into the running minimum instead of memory. Strict < keeps ties at the
// lower index. xp: the packed tiles of the n points (see pack()).
__attribute__((target("avx512f"))) void nearestFusedAvx512(const float* xp, int64_t f, int64_t n,
                                                           const float* cm2, const float* cn2,
                                                           int64_t kp, float* best, int* lab) {
    for (int64_t j = 0; j < n; j += 32) {
        const int64_t m = std::min<int64_t>(32, n - j);
        const float* tile = xp + j * f;
        const __mmask16 m0 = m >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << m) - 1);
        const __mmask16 m1 = m >= 32  ? __mmask16(0xFFFF)
                             : m > 16 ? __mmask16((1u << (m - 16)) - 1)
                                      : __mmask16(0);
        __m512 b0 = _mm512_set1_ps(std::numeric_limits<float>::infinity()), b1 = b0;
        __m512i l0 = _mm512_setzero_si512(), l1 = l0;
        for (int64_t i = 0; i < kp; i += 4) {
            const float* c = cm2 + i * f;  // 4 columns: c[r * f + q] for centroid i + r
            __m512 a[4][2];
            for (int r = 0; r < 4; ++r) a[r][0] = a[r][1] = _mm512_set1_ps(cn2[i + r]);
            for (int64_t q = 0; q < f; ++q) {
                const __m512 x0 = _mm512_loadu_ps(tile + q * 32);
                const __m512 x1 = _mm512_loadu_ps(tile + q * 32 + 16);
                for (int r = 0; r < 4; ++r) {
                    const __m512 w = _mm512_set1_ps(c[r * f + q]);
                    a[r][0] = _mm512_fmadd_ps(x0, w, a[r][0]);
                    a[r][1] = _mm512_fmadd_ps(x1, w, a[r][1]);
                }
            }
            for (int r = 0; r < 4; ++r) {
                const __m512i id = _mm512_set1_epi32(int(i) + r);
                const __mmask16 lt0 = _mm512_cmp_ps_mask(a[r][0], b0, _CMP_LT_OQ);
                const __mmask16 lt1 = _mm512_cmp_ps_mask(a[r][1], b1, _CMP_LT_OQ);
                b0 = _mm512_mask_mov_ps(b0, lt0, a[r][0]);
                b1 = _mm512_mask_mov_ps(b1, lt1, a[r][1]);
                l0 = _mm512_mask_mov_epi32(l0, lt0, id);
                l1 = _mm512_mask_mov_epi32(l1, lt1, id);
            }
        }
        _mm512_mask_storeu_ps(best + j, m0, b0);
        _mm512_mask_storeu_ps(best + j + 16, m1, b1);
        _mm512_mask_storeu_epi32(lab + j, m0, l0);
        _mm512_mask_storeu_epi32(lab + j + 16, m1, l1);
    }
}
#endif

// Nearest centroid of columns [b, b + n) of d into s.best (the score ||c||^2 - 2c'x, i.e.
// ||x - c||^2 less ||x||^2) and s.lab. Without the fused kernel: one Eigen GEMM for the
// (n, kp) score tile, then a running minimum over the centroids, ties to the lower index.
void nearestChunk(const Centred& d, int64_t b, int64_t n, const Prepared& c, Scratch& s) {
    const int64_t kp = c.cm2.cols();
#ifdef H158_KMEANS_AVX512
    if (d.fused) {
        nearestFusedAvx512(d.xp.col(b / kLanes).data(), d.x.rows(), n, c.cm2.data(), c.cn2.data(),
                           kp, s.best.data(), s.lab.data());
        return;
    }
#endif
    MapMat<float> tile(s.dots.data(), n, kp);  // (n, kp)
    tile.noalias() = d.x.middleCols(b, n).transpose() * c.cm2;
    float* best = s.best.data();
    int* lab = s.lab.data();
    for (int64_t j = 0; j < n; ++j) {
        best[j] = tile(j, 0) + c.cn2[0];
        lab[j] = 0;
    }
    for (int64_t i = 1; i < kp; ++i) {
        const float* ti = tile.col(i).data();
        for (int64_t j = 0; j < n; ++j) {
            const float v = ti[j] + c.cn2[i];
            if (v < best[j]) {
                best[j] = v;
                lab[j] = int(i);
            }
        }
    }
}

// sums(:, lab_j) += x_j in double; FF > 0 fixes the feature count so the loop unrolls.
template <int FF>
void accumulate(const MatF& x, int64_t b, int64_t n, const int* lab, Partial& p) {
    const int64_t f = FF > 0 ? FF : x.rows();
    double* sums = p.sums.data();
    const float* xb = x.data() + b * f;
    for (int64_t j = 0; j < n; ++j) {
        const int l = lab[j];
        double* s = sums + l * f;
        const float* xj = xb + j * f;
        for (int64_t q = 0; q < f; ++q) s[q] += xj[q];
        ++p.counts[l];
    }
}

// accumulate<F> for F = 1..4, the generic loop at index 0.
constexpr void (*kAccumulate[])(const MatF&, int64_t, int64_t, const int*, Partial&) = {
    accumulate<0>, accumulate<1>, accumulate<2>, accumulate<3>, accumulate<4>};

}  // namespace

void assignBlock(const Centred& d, const Tiling& t, const Prepared& c, int64_t b, int64_t e,
                 int* labels, float* dist, Partial* p) {
    Scratch s(t.chunk, c.cm2.cols(), !d.fused);
    for (int64_t at = b; at < e; at += t.chunk) {
        const int64_t n = std::min(t.chunk, e - at);
        nearestChunk(d, at, n, c, s);
        float* best = s.best.data();  // becomes ||x_j - c_label||^2, clamped at 0
        const int* lab = s.lab.data();
        for (int64_t j = 0; j < n; ++j) best[j] = std::max(0.0f, d.norm2[at + j] + best[j]);
        if (dist) std::copy_n(best, n, dist + at);
        if (!p) {
            std::copy_n(lab, n, labels + at);
            continue;
        }
        p->inertia += sumOf(best, n);
        int64_t changed = 0;
        for (int64_t j = 0; j < n; ++j) changed += labels[at + j] != lab[j];
        p->changed += changed;
        std::copy_n(lab, n, labels + at);
        const int64_t f = d.x.rows();
        kAccumulate[f < int64_t(std::size(kAccumulate)) ? f : 0](d.x, at, n, lab, *p);
    }
}

void assignAll(const Centred& d, const MatF& c, int* labels, float* dist) {
    const Tiling t = makeTiling(d.x.cols(), d.x.rows(), c.cols());
    const Prepared pc = prepare(c);
    forBlocks(t, d.x.cols(), [&](int64_t, int64_t b, int64_t e) {
        assignBlock(d, t, pc, b, e, labels, dist, nullptr);
    });
}

double exactInertia(const Centred& d, const MatF& c, const std::vector<int>& labels,
                    std::vector<int64_t>& sizes) {
    const int64_t f = d.x.rows(), n = d.x.cols(), k = c.cols();
    const Tiling t = makeTiling(n, f, k);
    std::vector<double> part(t.blocks, 0.0);
    std::vector<std::vector<int64_t>> cnt(t.blocks, std::vector<int64_t>(k, 0));
    forBlocks(t, n, [&](int64_t blk, int64_t b, int64_t e) {
        double acc = 0.0;
        for (int64_t j = b; j < e; ++j) {
            const float* xj = d.x.col(j).data();
            const float* cl = c.col(labels[j]).data();
            float s = 0.0f;
            for (int64_t q = 0; q < f; ++q) s += (xj[q] - cl[q]) * (xj[q] - cl[q]);
            acc += s;
            ++cnt[blk][labels[j]];
        }
        part[blk] = acc;
    });
    sizes.assign(k, 0);
    double total = 0.0;
    for (int64_t blk = 0; blk < t.blocks; ++blk) {
        total += part[blk];
        for (int64_t i = 0; i < k; ++i) sizes[i] += cnt[blk][i];
    }
    return total;
}

std::vector<double> candidatePotentials(const Centred& d, const MatF& cand, const float* closest,
                                        MatF& dist) {
    const int64_t n = d.x.cols(), nc = cand.cols();
    const Tiling t = makeTiling(n, d.x.rows(), nc);
    const MatF cm2 = -2.0f * cand;
    const VecF cn2 = cand.colwise().squaredNorm().transpose();
    dist.resize(n, nc);
    MatD part = MatD::Zero(nc, t.blocks);
    forBlocks(t, n, [&](int64_t blk, int64_t b, int64_t e) {
        for (int64_t c = b; c < e; c += t.chunk) {
            const int64_t m = std::min(t.chunk, e - c);
            auto tile = dist.middleRows(c, m);  // (m, nc)
            tile.noalias() = d.x.middleCols(c, m).transpose() * cm2;
            for (int64_t l = 0; l < nc; ++l) {
                float* col = tile.col(l).data();
                for (int64_t j = 0; j < m; ++j) {
                    float v = std::max(0.0f, col[j] + cn2[l] + d.norm2[c + j]);
                    if (closest) v = std::min(v, closest[c + j]);
                    col[j] = v;
                }
                part(l, blk) += sumOf(col, m);
            }
        }
    });
    std::vector<double> pot(nc, 0.0);
    for (int64_t blk = 0; blk < t.blocks; ++blk)
        for (int64_t l = 0; l < nc; ++l) pot[l] += part(l, blk);
    return pot;
}

}  // namespace h158::detail
