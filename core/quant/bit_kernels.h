// Integer BitLinear kernels: int8 activations x ternary / five-level weight codes with exact
// int32 accumulation (training forward), and a GEMV and a GEMM on packed 5-trits-per-byte
// weights (inference).
//
// GEMM.  Y(out, N) = rowScale(out) ⊙ (W(out, in) · X(in, N)) ⊙ invScale(N), where W are int8
// codes in [-2, 2] (column-major (out, in), as in QuantizedTensor), X are int8 activation codes
// (column-major (in, N), a token per column, as written by quantizeActivations) and
//     Y(o, n) = (float(acc(o, n)) * rowScale(o)) * invScale(n),  acc = sum_k W(o,k) X(k,n)
// with acc in int32 and exactly that float evaluation order in every path, so all paths agree
// bit for bit and equal the "simulated" float product (dequantized W times dequantized X) up to
// float rounding. |acc| <= 2 * 128 * in, so float(acc) is exact for in < 2^16 (larger in is
// refused).
//
// Paths. plain: portable loops (auto-vectorized); avx2: vpmaddubsw, int16 sums of 32 of its pairs,
// then vpmaddwd (exact: a pair of u8 x s8 products is at most 2 * 255 * 2 = 1020, 32 of them
// 32640 < 2^15); avx512_vnni: vpdpbusd (u8 x s8 -> s32, needs AVX512 F/BW/VL/VNNI/VBMI). Both x86
// paths multiply unsigned by signed bytes, so the kernels feed activations as u = x + 128 (x XOR
// 0x80) and subtract 128 * rowSum(W), precomputed by prepareBitWeights:  sum_k W x = sum_k W u -
// 128 sum_k W. The path is chosen at run time (__builtin_cpu_supports), so any build runs on any
// x86-64 CPU. Work is split over tokens in fixed chunks (parallelFor); integer sums make every
// path's result independent of the thread count.
#pragma once

#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "core/base/types.h"
#include "core/quant/packing.h"

namespace h158 {

struct QuantizedTensor;

enum class BitKernelPath { Auto, Plain, Avx2, Avx512Vnni };

const char* bitKernelPathName(BitKernelPath p);          // auto | plain | avx2 | avx512_vnni
BitKernelPath parseBitKernelPath(const std::string& s);  // the names above; throws otherwise
bool bitKernelPathSupported(BitKernelPath p);            // this CPU runs it (Auto, Plain: always)
BitKernelPath bestBitKernelPath();                       // the fastest supported path
// Auto -> bestBitKernelPath(); throws h158::Error for a path this CPU cannot run.
BitKernelPath resolveBitKernelPath(BitKernelPath p);

// 64-byte aligned storage for SIMD operands.
template <typename T>
struct AlignedAllocator {
    using value_type = T;
    AlignedAllocator() = default;
    template <typename U>
    AlignedAllocator(const AlignedAllocator<U>&) {}
    T* allocate(size_t n) {
        return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64)));
    }
    void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(64)); }
    template <typename U>
    bool operator==(const AlignedAllocator<U>&) const {
        return true;
    }
};

// Weight codes repacked for the GEMM. Built once per quantization (once per training step) and
// reused for all B*T token columns.
struct PreparedBitWeights {
    int64_t out = 0, in = 0;
    int64_t inPad = 0;          // in rounded up to a multiple of 4 (one vpdpbusd group)
    int64_t groups = 0;         // ceil(out / 16): outputs are handled 16 at a time
    std::vector<int8_t> codes;  // (out, in) column-major copy, for the plain path
    // (groups, inPad/4, 16, 4): for output group s and input group g, 64 bytes holding
    // W(16s + j, 4g + i) at [j*4 + i]; zero beyond out and in. This and the two arrays below
    // hold groups rounded up to a multiple of 4, zero-filled.
    std::vector<int8_t, AlignedAllocator<int8_t>> packed;
    std::vector<int32_t, AlignedAllocator<int32_t>> rowSum128;  // 128 * sum_k W(o, k)
    std::vector<float, AlignedAllocator<float>> rowScale;       // rowScale(o), zero-padded
};

// From a QuantizedTensor (ternary or five-level), or from raw codes in [-2, 2] (column-major
// (out, in)) with one scale per output row. Throws on bad shapes or codes outside [-2, 2].
void prepareBitWeights(const QuantizedTensor& q, PreparedBitWeights& p);
void prepareBitWeights(const int8_t* codes, const float* rowScale, int64_t out, int64_t in,
                       PreparedBitWeights& p);

// Naive reference: three loops over the unprepared codes, serial.
void bitGemmReference(const int8_t* wCodes, const float* rowScale, int64_t out, int64_t in,
                      const int8_t* xCodes, const float* invScale, int64_t n, float* y);

// The fast GEMM: y (w.out, n) column-major, overwritten.
void bitGemm(const PreparedBitWeights& w, const int8_t* xCodes, const float* invScale, int64_t n,
             float* y, BitKernelPath path = BitKernelPath::Auto);

// bitGemm with the activation quantization fused in, chunk by chunk (no RMSNorm: the GPT's
// BitLinear, gpt_layers.h, normalizes first): x (w.in, n) float
// -> xCodes (w.in, n) and invScale (n) exactly as quantizeActivations -> y (w.out, n) as bitGemm.
void quantizeAndBitGemm(const PreparedBitWeights& w, const float* x, int64_t n, int8_t* xCodes,
                        float* invScale, float* y, BitKernelPath path = BitKernelPath::Auto);

// Packed ternary GEMV for inference: y (rows) = W x for x (cols) float. x is quantized to int8
// with the per-token absmax rule (quantizeActivations on one column, inverse scale xInv), then
//     y(r) = (float(acc(r)) * rowScale(r)) * xInv,   acc(r) = sum_c trit(r, c) * xCode(c)  (int32).
// The x86 paths decode 64 (avx512) or 32 (avx2) packed bytes at a time into base-3 digits
// d = t + 1 in {0, 1, 2} (q = b / 9 by a 16-bit multiply-high, r = b - 9q; digits of r by
// vpshufb, of q by vpermb or compares) and take sum d * x - sum x, with x pre-permuted to the
// digit order (element 5j + i lives in digit i of byte j). Rows are split over threads in fixed
// chunks. Bytes > 242 (invalid, see packing.h) give unspecified values but never fault.
void packedGemvReference(const PackedTernaryMatrix& w, const float* x, float* y);
void packedGemv(const PackedTernaryMatrix& w, const float* x, float* y,
                BitKernelPath path = BitKernelPath::Auto);

// Packed ternary GEMM for inference (prefill): y (w.rows, n) = W x for x (w.cols, n) float,
// column-major, a token per column; each column is quantized and scaled exactly as packedGemv
// does, so column t of y equals packedGemv(w, x(:, t)) bit for bit. The weights stay packed
// (1.6 bits per weight); each chunk of 64 rows is decoded into an int8 panel in the GEMM layout
// above (a thread-local buffer) with its inputs in the AVX2 GEMV's digit order (x is permuted
// to match), and the avx2 / avx512_vnni GEMM tiles run it over all n tokens, so the decoding is
// paid once per n tokens. Rows are split over threads in fixed chunks. The plain path, and any
// path for n = 1 (where a panel costs more than it saves), run packedGemv per column.
void packedGemm(const PackedTernaryMatrix& w, const float* x, int64_t n, float* y,
                BitKernelPath path = BitKernelPath::Auto);

}  // namespace h158
