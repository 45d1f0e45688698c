// Internal to bit_kernels.cpp: the x86 SIMD pieces (compiled with per-function target
// attributes, called only after the CPU check). Formats and math are in bit_kernels.h.
#pragma once

#include <cstdint>

#include "core/quant/bit_kernels.h"

namespace h158::detail {

// GEMM on one chunk of cnt tokens. xu: (w.inPad, cnt) activations as u8 (x + 128), padded rows
// hold 128; inv: (cnt); y: (w.out, cnt) column-major, overwritten.
void bitGemmChunkAvx512(const PreparedBitWeights& w, const uint8_t* xu, const float* inv,
                        int64_t cnt, float* y);
void bitGemmChunkAvx2(const PreparedBitWeights& w, const uint8_t* xu, const float* inv, int64_t cnt,
                      float* y);

// Packed GEMV, rows [r0, r1): acc(r) = sum_j sum_i digit_i(byte(r, j)) * xperm (int32, the
// -sum x correction is applied by the caller). xperm holds `chunks` blocks of 5 x W bytes
// (W = 64 for avx512, 32 for avx2): block c, digit i, lane j = x(5 (W c + j) + i), 0 past cols.
constexpr int64_t kGemvChunkAvx512 = 64;
constexpr int64_t kGemvChunkAvx2 = 32;
void packedGemvRowsAvx512(const PackedTernaryMatrix& w, const int8_t* xperm, int64_t r0, int64_t r1,
                          int32_t* acc);
void packedGemvRowsAvx2(const PackedTernaryMatrix& w, const int8_t* xperm, int64_t r0, int64_t r1,
                        int32_t* acc);

}  // namespace h158::detail
