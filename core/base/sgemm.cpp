// sgemm (sgemm.h): the packed micro-kernel product (AVX-512 and AVX2 kernels, chosen at run time),
// its Eigen fallback and the naive reference.
// GCC 12's AVX-512 intrinsic headers trip these inside Eigen's kernels (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "core/base/sgemm.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "core/base/cpu_features.h"
#include "core/base/errors.h"
#include "core/base/types.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define H158_SGEMM_X86 1
// Each kernel carries its own target attribute, so this file builds for plain x86-64 (the
// portable package) and still runs the AVX-512 or AVX2 kernel on a CPU that has it.
#define H158_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define H158_TARGET_AVX2 __attribute__((target("avx2,fma")))
#endif

namespace h158 {
namespace {

// C = alpha·A·op(B) (+ C) with Eigen on strided column-major buffers: the double gemm, and the
// float one on a CPU without AVX2.
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

#if defined(H158_SGEMM_X86)

namespace {

constexpr int64_t kKc = 256;  // depth of one packed block
constexpr int64_t kMc = 256;  // rows of A per packed block (kMc x kKc floats in L2)

// Both kernels update a register tile of C, Mr rows x Nr columns:
//   C tile (mr x nc valid of Mr x Nr, ldc) = [C +] alpha * Ap (kb x Mr packed) * B (kb x Nr:
//   B(p, j) at B[p + j ldb], or B[p ldb + j] when TB),
// summing each element's kb products in increasing p by fused multiply-adds from zero, then
// scaling by alpha and adding to C. Both kernels do exactly these operations per element, so
// they give the same bits; only the tile shape (the register count) differs.

// AVX-512: 32 x 12 (2 zmm rows x 12 columns: 24 accumulators).
struct Avx512Kernel {
    static constexpr int kV = 2;  // zmm vectors (16 floats) per tile column
    static constexpr int64_t kMr = 16 * kV;
    static constexpr int kNr = 12;

    template <bool TB>
    H158_TARGET_AVX512 __attribute__((always_inline)) static inline void run(
        int64_t kb, const float* __restrict Ap, const float* __restrict B, int64_t ldb,
        float* __restrict C, int64_t ldc, float alpha, bool overwrite, int64_t nc,
        const __mmask16 (&mask)[kV]) {
        __m512 c[kV][kNr];
#pragma GCC unroll 12
        for (int j = 0; j < kNr; ++j)
#pragma GCC unroll 2
            for (int i = 0; i < kV; ++i) c[i][j] = _mm512_setzero_ps();
        for (int64_t p = 0; p < kb; ++p) {
            __m512 a[kV];
#pragma GCC unroll 2
            for (int i = 0; i < kV; ++i) a[i] = _mm512_load_ps(Ap + 16 * i);
#pragma GCC unroll 12
            for (int j = 0; j < kNr; ++j) {
                const __m512 b = _mm512_set1_ps(TB ? B[p * ldb + j] : B[p + j * ldb]);
#pragma GCC unroll 2
                for (int i = 0; i < kV; ++i) c[i][j] = _mm512_fmadd_ps(a[i], b, c[i][j]);
            }
            Ap += kMr;
        }
        const __m512 va = _mm512_set1_ps(alpha);
#pragma GCC unroll 12
        for (int j = 0; j < kNr; ++j) {
            if (j >= nc) break;
            float* d = C + j * ldc;
#pragma GCC unroll 2
            for (int i = 0; i < kV; ++i) {
                __m512 v = _mm512_mul_ps(c[i][j], va);
                if (!overwrite) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask[i], d + 16 * i), v);
                _mm512_mask_storeu_ps(d + 16 * i, mask[i], v);
            }
        }
    }

    H158_TARGET_AVX512 static void tile(int64_t kb, const float* Ap, const float* B, int64_t ldb,
                                        bool transB, float* C, int64_t ldc, float alpha,
                                        bool overwrite, int64_t mr, int64_t nc) {
        __mmask16 mask[kV];
        for (int i = 0; i < kV; ++i) {
            const int64_t rows = std::clamp<int64_t>(mr - 16 * i, 0, 16);
            mask[i] = rows == 16 ? __mmask16(0xFFFF) : __mmask16((1u << rows) - 1);
        }
        if (transB)
            run<true>(kb, Ap, B, ldb, C, ldc, alpha, overwrite, nc, mask);
        else
            run<false>(kb, Ap, B, ldb, C, ldc, alpha, overwrite, nc, mask);
    }
};

// AVX2: 16 x 6 (2 ymm rows x 6 columns: 12 accumulators, 2 for A and 1 broadcast of 16).
struct Avx2Kernel {
    static constexpr int kV = 2;  // ymm vectors (8 floats) per tile column
    static constexpr int64_t kMr = 8 * kV;
    static constexpr int kNr = 6;

    template <bool TB>
    H158_TARGET_AVX2 __attribute__((always_inline)) static inline void run(
        int64_t kb, const float* __restrict Ap, const float* __restrict B, int64_t ldb,
        float* __restrict C, int64_t ldc, float alpha, bool overwrite, int64_t nc,
        const __m256i (&mask)[kV]) {
        __m256 c[kV][kNr];
#pragma GCC unroll 6
        for (int j = 0; j < kNr; ++j)
#pragma GCC unroll 2
            for (int i = 0; i < kV; ++i) c[i][j] = _mm256_setzero_ps();
        for (int64_t p = 0; p < kb; ++p) {
            __m256 a[kV];
#pragma GCC unroll 2
            for (int i = 0; i < kV; ++i) a[i] = _mm256_load_ps(Ap + 8 * i);
#pragma GCC unroll 6
            for (int j = 0; j < kNr; ++j) {
                const __m256 b = _mm256_set1_ps(TB ? B[p * ldb + j] : B[p + j * ldb]);
#pragma GCC unroll 2
                for (int i = 0; i < kV; ++i) c[i][j] = _mm256_fmadd_ps(a[i], b, c[i][j]);
            }
            Ap += kMr;
        }
        const __m256 va = _mm256_set1_ps(alpha);
#pragma GCC unroll 6
        for (int j = 0; j < kNr; ++j) {
            if (j >= nc) break;
            float* d = C + j * ldc;
#pragma GCC unroll 2
            for (int i = 0; i < kV; ++i) {
                __m256 v = _mm256_mul_ps(c[i][j], va);
                if (!overwrite) v = _mm256_add_ps(_mm256_maskload_ps(d + 8 * i, mask[i]), v);
                _mm256_maskstore_ps(d + 8 * i, mask[i], v);
            }
        }
    }

    H158_TARGET_AVX2 static void tile(int64_t kb, const float* Ap, const float* B, int64_t ldb,
                                      bool transB, float* C, int64_t ldc, float alpha,
                                      bool overwrite, int64_t mr, int64_t nc) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256i mask[kV];
        for (int i = 0; i < kV; ++i)  // lane l is written when l < rows left in this vector
            mask[i] = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(mr - 8 * i)), lane);
        if (transB)
            run<true>(kb, Ap, B, ldb, C, ldc, alpha, overwrite, nc, mask);
        else
            run<false>(kb, Ap, B, ldb, C, ldc, alpha, overwrite, nc, mask);
    }
};

// Packs rows [0, mb) x depth [0, kb) of A (column-major, lda) into Mr-row panels, each kb x Mr
// (row index fastest), zero rows past mb.
template <int64_t Mr>
void packA(const float* A, int64_t lda, int64_t mb, int64_t kb, float* Ap) {
    for (int64_t ir = 0; ir < mb; ir += Mr) {
        const int64_t mr = std::min(Mr, mb - ir);
        float* dst = Ap + ir * kb;
        const float* src = A + ir;
        for (int64_t p = 0; p < kb; ++p) {
            float* d = dst + p * Mr;
            const float* s = src + p * lda;
            if (mr == Mr)
                std::copy(s, s + Mr, d);
            else
                for (int64_t i = 0; i < Mr; ++i) d[i] = i < mr ? s[i] : 0.0f;
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

// The Goto / BLIS loops around a kernel K: KC blocks of depth, MC blocks of A packed, B's columns
// Nr at a time in place (a narrower last panel copied, zero-padded), A's panels Mr rows at a time.
template <class K>
void blockedGemm(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, bool transB, float* C, int64_t ldc,
                 bool accumulate) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate)
            for (int64_t j = 0; j < n; ++j) std::fill(C + j * ldc, C + j * ldc + m, 0.0f);
        return;
    }
    thread_local Workspace ws;
    float* Ap = ws.aligned(size_t((kMc + K::kMr) * kKc));
    alignas(64) float bEdge[kKc * K::kNr];
    for (int64_t pc = 0; pc < k; pc += kKc) {
        const int64_t kb = std::min(kKc, k - pc);
        const bool overwrite = pc == 0 && !accumulate;
        for (int64_t ic = 0; ic < m; ic += kMc) {
            const int64_t mb = std::min(kMc, m - ic);
            packA<K::kMr>(A + ic + pc * lda, lda, mb, kb, Ap);
            for (int64_t jr = 0; jr < n; jr += K::kNr) {
                const int64_t nr = std::min<int64_t>(K::kNr, n - jr);
                const float* Bp = transB ? B + jr + pc * ldb : B + pc + jr * ldb;
                int64_t bld = ldb;
                bool bt = transB;
                if (nr < K::kNr) {
                    for (int64_t p = 0; p < kb; ++p)
                        for (int64_t j = 0; j < K::kNr; ++j)
                            bEdge[p * K::kNr + j] = j >= nr  ? 0.0f
                                                    : transB ? Bp[p * ldb + j]
                                                             : Bp[p + j * ldb];
                    Bp = bEdge;
                    bld = K::kNr;
                    bt = true;
                }
                for (int64_t ir = 0; ir < mb; ir += K::kMr)
                    K::tile(kb, Ap + ir * kb, Bp, bld, bt, C + (ic + ir) + jr * ldc, ldc, alpha,
                            overwrite, std::min(K::kMr, mb - ir), nr);
            }
        }
    }
}

}  // namespace

#endif  // H158_SGEMM_X86

namespace {

SgemmPath bestPath() {
    return sgemmPathSupported(SgemmPath::Avx512) ? SgemmPath::Avx512
           : sgemmPathSupported(SgemmPath::Avx2) ? SgemmPath::Avx2
                                                 : SgemmPath::Eigen;
}

// -1: the best path; otherwise a forced SgemmPath (setSgemmPath).
std::atomic<int> g_forced{-1};

Error unsupported(SgemmPath path) {
    return Error(std::string("sgemm: the ") + sgemmPathName(path) +
                 " kernel needs a CPU feature this CPU lacks");
}

}  // namespace

// The micro-kernels exist only in an x86-64 build; elsewhere only Eigen runs.
bool sgemmPathSupported(SgemmPath path) {
#if defined(H158_SGEMM_X86)
    const CpuFeatures& f = cpuFeatures();
    switch (path) {
        case SgemmPath::Avx512: return f.avx2 && f.fma && f.avx512f;
        case SgemmPath::Avx2: return f.avx2 && f.fma;
        case SgemmPath::Eigen: return true;
    }
    return false;
#else
    return path == SgemmPath::Eigen;
#endif
}

const char* sgemmPathName(SgemmPath path) {
    switch (path) {
        case SgemmPath::Avx512: return "avx512";
        case SgemmPath::Avx2: return "avx2";
        case SgemmPath::Eigen: return "eigen";
    }
    return "?";
}

std::optional<SgemmPath> parseSgemmPath(const std::string& name) {
    for (SgemmPath p : {SgemmPath::Avx512, SgemmPath::Avx2, SgemmPath::Eigen})
        if (name == sgemmPathName(p)) return p;
    return std::nullopt;
}

SgemmPath sgemmActivePath() {
    const int forced = g_forced.load(std::memory_order_relaxed);
    return forced < 0 ? bestPath() : SgemmPath(forced);
}

void setSgemmPath(std::optional<SgemmPath> path) {
    if (path && !sgemmPathSupported(*path)) throw unsupported(*path);
    g_forced.store(path ? int(*path) : -1, std::memory_order_relaxed);
}

const char* sgemmPath() {
    return sgemmPathName(sgemmActivePath());
}

void sgemmOn(SgemmPath path, int64_t m, int64_t n, int64_t k, float alpha, const float* A,
             int64_t lda, const float* B, int64_t ldb, bool transB, float* C, int64_t ldc,
             bool accumulate) {
    if (!sgemmPathSupported(path)) throw unsupported(path);
#if defined(H158_SGEMM_X86)
    if (path == SgemmPath::Avx512)
        return blockedGemm<Avx512Kernel>(m, n, k, alpha, A, lda, B, ldb, transB, C, ldc,
                                         accumulate);
    if (path == SgemmPath::Avx2)
        return blockedGemm<Avx2Kernel>(m, n, k, alpha, A, lda, B, ldb, transB, C, ldc,
                                       accumulate);
#endif
    eigenGemm(m, n, k, alpha, A, lda, B, ldb, transB, C, ldc, accumulate);
}

void sgemm(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, bool transB, float* C, int64_t ldc, bool accumulate) {
    sgemmOn(sgemmActivePath(), m, n, k, alpha, A, lda, B, ldb, transB, C, ldc, accumulate);
}

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
