// Internal to bit_kernels.cpp: the x86 SIMD pieces (compiled with per-function target
// attributes, called only after the CPU check). Formats and math are in bit_kernels.h.
#pragma once

#include <cstdint>

#include "core/quant/bit_kernels.h"

namespace h158::detail {

// An int8 weight panel in the layout of PreparedBitWeights::packed: `groups` = ceil(out / 16)
// groups of 16 outputs, stored as (groups rounded up to 4, inPad/4, 16, 4) codes, with
// 128 * rowSum and rowScale (groups rounded up to 4) * 16 long; zero past out.
struct Int8Panel {
    const int8_t* codes = nullptr;
    const int32_t* rowSum128 = nullptr;
    const float* rowScale = nullptr;
    int64_t out = 0, inPad = 0, groups = 0;
};

// GEMM of a panel with cnt tokens. xu: (w.inPad, cnt) activations as u8 (x + 128), padded rows
// hold 128; inv: (cnt); y(o, t) at y[t * ldy + o] for o < w.out, overwritten.
void bitGemmChunkAvx512(const Int8Panel& w, const uint8_t* xu, const float* inv, int64_t cnt,
                        float* y, int64_t ldy);
void bitGemmChunkAvx2(const Int8Panel& w, const uint8_t* xu, const float* inv, int64_t cnt,
                      float* y, int64_t ldy);

// Decodes rows [r0, r0 + count) (count <= kPanelRows) of a packed ternary matrix into an
// Int8Panel of kPanelRows outputs (4 groups; rows past count are zero) whose inputs are in the
// digit order of the AVX2 GEMV (blocks of 32 packed bytes, digit i of byte j at 32 i + j, so
// inPad = 160 * ceil(rowStride / 32)). codes: (4, inPad/4, 16, 4); rowSum128: (kPanelRows).
// Bytes past rowStride decode as trit 0; positions past cols hold whatever digit the byte
// carries, which the caller cancels by feeding x = 0 there (u = 128: W u - 128 W = 0).
constexpr int64_t kPanelRows = 64;
void decodePackedPanelAvx2(const PackedTernaryMatrix& w, int64_t r0, int64_t count, int64_t inPad,
                           int8_t* codes, int32_t* rowSum128);

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
