// sgemm (sgemm.h): the packed AVX-512 micro-kernel product, its Eigen fallback and the naive
// reference.
// GCC 12's AVX-512 intrinsic headers trip these inside Eigen's kernels (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "core/base/sgemm.h"

#include <algorithm>
#include <vector>

#include "core/base/types.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace h158 {
namespace {

// C = alpha·A·op(B) (+ C) with Eigen on strided column-major buffers: the double gemm, and the
// float one in builds without AVX-512.
template <typename T>
void eigenGemm(int64_t m, int64_t n, int64_t k, T alpha, const T* A, int64_t lda, const T* B,
               int64_t ldb, bool transB, T* C, int64_t ldc, bool accumulate) {
    if (m <= 0 || n <= 0) return;
    using Strided = Eigen::Map<const Mat<T>, 0, Eigen::OuterStride<>>;
    Eigen::Map<Mat<T>, 0, Eigen::OuterStride<>> c(C, m, n, Eigen::OuterStride<>(ldc));
    if (!accumulate) c.setZero();
    if (k <= 0) return;
    const Strided a(A, m, k, Eigen::OuterStride<>(lda));
    if (transB)
        c.noalias() += alpha * (a * Strided(B, n, k, Eigen::OuterStride<>(ldb)).transpose());
    else
        c.noalias() += alpha * (a * Strided(B, k, n, Eigen::OuterStride<>(ldb)));
}

}  // namespace

void sgemmReference(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
                    const float* B, int64_t ldb, bool transB, float* C, int64_t ldc,
                    bool accumulate) {
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < m; ++i) {
            double s = 0;
            for (int64_t p = 0; p < k; ++p)
                s += double(A[i + p * lda]) * double(transB ? B[j + p * ldb] : B[p + j * ldb]);
            float& c = C[i + j * ldc];
            c = float((accumulate ? double(c) : 0.0) + double(alpha) * s);
        }
}

#if defined(__AVX512F__)

namespace {

constexpr int kMr16 = 2;             // micro-tile rows in zmm registers (16 floats each)
constexpr int64_t kMr = 16 * kMr16;  // 32 rows of C
constexpr int kNr = 12;              // 12 columns of C: 24 accumulators
constexpr int64_t kKc = 256;         // depth of one packed block
constexpr int64_t kMc = 256;         // rows of A per packed block (kMc x kKc floats in L2)

// C tile (32 x 12, ldc) = [C +] alpha * Ap (kb x 32 packed) * B (kb x 12: B(p, j) at
// B[p + j ldb], or B[p ldb + j] when TB). Only the first nc columns and, per zmm row i, the rows
// in mask[i] are written (edge tiles).
template <bool TB>
__attribute__((always_inline)) inline void microKernel(int64_t kb, const float* __restrict Ap,
                                                       const float* __restrict B, int64_t ldb,
                                                       float* __restrict C, int64_t ldc,
                                                       float alpha, bool overwrite, int64_t nc,
                                                       const __mmask16 (&mask)[kMr16]) {
    __m512 c[kMr16][kNr];
#pragma GCC unroll 12
    for (int j = 0; j < kNr; ++j)
#pragma GCC unroll 2
        for (int i = 0; i < kMr16; ++i) c[i][j] = _mm512_setzero_ps();
    for (int64_t p = 0; p < kb; ++p) {
        __m512 a[kMr16];
#pragma GCC unroll 2
        for (int i = 0; i < kMr16; ++i) a[i] = _mm512_load_ps(Ap + 16 * i);
#pragma GCC unroll 12
        for (int j = 0; j < kNr; ++j) {
            const __m512 b = _mm512_set1_ps(TB ? B[p * ldb + j] : B[p + j * ldb]);
#pragma GCC unroll 2
            for (int i = 0; i < kMr16; ++i) c[i][j] = _mm512_fmadd_ps(a[i], b, c[i][j]);
        }
        Ap += kMr;
    }
    const __m512 va = _mm512_set1_ps(alpha);
#pragma GCC unroll 12
    for (int j = 0; j < kNr; ++j) {
        if (j >= nc) break;
        float* d = C + j * ldc;
#pragma GCC unroll 2
        for (int i = 0; i < kMr16; ++i) {
            __m512 v = _mm512_mul_ps(c[i][j], va);
            if (!overwrite) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask[i], d + 16 * i), v);
            _mm512_mask_storeu_ps(d + 16 * i, mask[i], v);
        }
    }
}

// Packs rows [0, mb) x depth [0, kb) of A (column-major, lda) into 32-row panels, each kb x 32
// (row index fastest), zero rows past mb.
void packA(const float* A, int64_t lda, int64_t mb, int64_t kb, float* Ap) {
    for (int64_t ir = 0; ir < mb; ir += kMr) {
        const int64_t mr = std::min(kMr, mb - ir);
        float* dst = Ap + ir * kb;
        const float* src = A + ir;
        if (mr == kMr) {
            for (int64_t p = 0; p < kb; ++p)
                for (int i = 0; i < kMr16; ++i)
                    _mm512_store_ps(dst + p * kMr + 16 * i,
                                    _mm512_loadu_ps(src + p * lda + 16 * i));
        } else {
            for (int64_t p = 0; p < kb; ++p)
                for (int64_t i = 0; i < kMr; ++i)
                    dst[p * kMr + i] = i < mr ? src[p * lda + i] : 0.0f;
        }
    }
}

struct Workspace {
    std::vector<float> a;  // packed A block, 64-byte aligned inside
    float* aligned(size_t n) {
        if (a.size() < n + 16) a.resize(n + 16);
        return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(a.data()) + 63) &
                                        ~uintptr_t(63));
    }
};

}  // namespace

void sgemm(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, bool transB, float* C, int64_t ldc, bool accumulate) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate)
            for (int64_t j = 0; j < n; ++j) std::fill(C + j * ldc, C + j * ldc + m, 0.0f);
        return;
    }
    thread_local Workspace ws;
    float* Ap = ws.aligned(size_t((kMc + kMr) * kKc));
    alignas(64) float bEdge[kKc * kNr];  // a zero-padded copy of a last, narrower column panel
    for (int64_t pc = 0; pc < k; pc += kKc) {
        const int64_t kb = std::min(kKc, k - pc);
        const bool overwrite = pc == 0 && !accumulate;
        for (int64_t ic = 0; ic < m; ic += kMc) {
            const int64_t mb = std::min(kMc, m - ic);
            packA(A + ic + pc * lda, lda, mb, kb, Ap);
            for (int64_t jr = 0; jr < n; jr += kNr) {
                const int64_t nr = std::min<int64_t>(kNr, n - jr);
                const float* Bp = transB ? B + jr + pc * ldb : B + pc + jr * ldb;
                int64_t bld = ldb;
                bool bt = transB;
                if (nr < kNr) {
                    for (int64_t p = 0; p < kb; ++p)
                        for (int64_t j = 0; j < kNr; ++j)
                            bEdge[p * kNr + j] = j >= nr  ? 0.0f
                                                 : transB ? Bp[p * ldb + j]
                                                          : Bp[p + j * ldb];
                    Bp = bEdge;
                    bld = kNr;
                    bt = true;
                }
                for (int64_t ir = 0; ir < mb; ir += kMr) {
                    const int64_t mr = std::min(kMr, mb - ir);
                    __mmask16 mask[kMr16];
                    for (int i = 0; i < kMr16; ++i) {
                        const int64_t rows = std::clamp<int64_t>(mr - 16 * i, 0, 16);
                        mask[i] = rows == 16 ? __mmask16(0xFFFF) : __mmask16((1u << rows) - 1);
                    }
                    float* Cp = C + (ic + ir) + jr * ldc;
                    const float* a = Ap + ir * kb;
                    if (bt)
                        microKernel<true>(kb, a, Bp, bld, Cp, ldc, alpha, overwrite, nr, mask);
                    else
                        microKernel<false>(kb, a, Bp, bld, Cp, ldc, alpha, overwrite, nr, mask);
                }
            }
        }
    }
}

const char* sgemmPath() {
    return "avx512";
}

#else  // no AVX-512 in this build: Eigen

void sgemm(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, bool transB, float* C, int64_t ldc, bool accumulate) {
    eigenGemm(m, n, k, alpha, A, lda, B, ldb, transB, C, ldc, accumulate);
}

const char* sgemmPath() {
    return "eigen";
}

#endif

template <>
void gemm<float>(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, bool transB, float* C, int64_t ldc, bool accumulate) {
    sgemm(m, n, k, alpha, A, lda, B, ldb, transB, C, ldc, accumulate);
}

template <>
void gemm<double>(int64_t m, int64_t n, int64_t k, double alpha, const double* A, int64_t lda,
                  const double* B, int64_t ldb, bool transB, double* C, int64_t ldc,
                  bool accumulate) {
    eigenGemm(m, n, k, alpha, A, lda, B, ldb, transB, C, ldc, accumulate);
}

}  // namespace h158
