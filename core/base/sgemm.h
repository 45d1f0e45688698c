// Single-precision matrix product for the GPT's hot loops: C = [C +] alpha A op(B), column-major,
// one thread per call (callers split work into fixed chunks with parallelFor).
//
// Why not Eigen: on this project's AVX-512 machine Eigen's float GEMM reaches ~150-180 GFLOP/s per
// core on the GPT's shapes, this kernel ~200-245 (the core's FMA peak is ~260). Method (Goto /
// BLIS): A is packed in blocks of MC x KC into 32-row micro-panels (L2-resident); B is read in
// place, 12 columns at a time (its KC x 12 slice stays in L1); a 32 x 12 register tile of C
// (24 zmm accumulators) is updated by broadcast-FMAs and written once per KC block.
// Result order: each C element sums its k products in increasing k within a KC block, blocks in
// order; it depends only on (m, n, k), never on threads.
// Kernels: AVX-512 (32 x 12 tile) and AVX2 (16 x 6 tile) carry their own target attributes and
// are chosen at run time by the CPU, so a portable (plain x86-64) build runs them too. Both do
// the same operations per element, so they give the same bits. A CPU without AVX2 (or FMA) runs
// Eigen's product, whose bits differ.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace h158 {

// C (m x n, ldc) = [C +] alpha * A (m x k, lda) * op(B), all column-major.
// op(B) = B (k x n, ldb) or, with transB, the transpose of a stored (n x k, ldb) matrix.
// accumulate = false overwrites C (it is never read).
void sgemm(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, bool transB, float* C, int64_t ldc, bool accumulate);

// The naive triple loop of the same contract (double accumulation), for tests.
void sgemmReference(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
                    const float* B, int64_t ldb, bool transB, float* C, int64_t ldc,
                    bool accumulate);

// The same contract in either precision: float runs sgemm, double runs Eigen (the double path
// exists for the gradient checks).
template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, bool transB, T* C, int64_t ldc, bool accumulate);

enum class SgemmPath { Avx512, Avx2, Eigen };

// Whether this CPU can run the path (Eigen always can).
bool sgemmPathSupported(SgemmPath path);
// "avx512", "avx2" or "eigen".
const char* sgemmPathName(SgemmPath path);
// The path of that name, nullopt for any other name.
std::optional<SgemmPath> parseSgemmPath(const std::string& name);
// The path sgemm runs: the fastest this CPU supports, unless setSgemmPath forced one.
SgemmPath sgemmActivePath();
// Forces every later sgemm onto a path (benchmarks, tests), or back to the best with nullopt.
// Throws Error for a path this CPU cannot run.
void setSgemmPath(std::optional<SgemmPath> path);
// sgemmPathName(sgemmActivePath()).
const char* sgemmPath();
// sgemm on the given path; throws Error for a path this CPU cannot run.
void sgemmOn(SgemmPath path, int64_t m, int64_t n, int64_t k, float alpha, const float* A,
             int64_t lda, const float* B, int64_t ldb, bool transB, float* C, int64_t ldc,
             bool accumulate);

}  // namespace h158
