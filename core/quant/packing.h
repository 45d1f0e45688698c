// Packed ternary storage: 5 trits per byte (1.6 bits per weight), for export and inference.
//
// Format. A sequence of n trits t_0 .. t_{n-1}, each in {-1, 0, +1}, is stored in ceil(n/5)
// bytes. Byte j holds trits t_{5j} .. t_{5j+4} as base-3 digits, least significant first:
//     byte_j = sum_{i=0..4} (t_{5j+i} + 1) * 3^i        (0 .. 242, since 3^5 = 243 <= 256)
// so byte 0 is five -1s, byte 121 five 0s, byte 242 five +1s. The last byte's unused digits
// hold trit 0 (digit 1); readers ignore them. Bytes 243..255 never occur and are refused.
//
// A packed ternary matrix (out, in) stores each row contiguously: row r is the packed sequence
// W(r, 0 .. in-1) in rowStride = ceil(in/5) bytes at offset r * rowStride (rows are not padded).
// Its dequantized value is W(r, c) = trit(r, c) * rowScale(r).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/base/types.h"

namespace h158 {

struct QuantizedTensor;

constexpr int64_t kTritsPerByte = 5;
constexpr int kPackedByteValues = 3 * 3 * 3 * 3 * 3;  // 243 distinct bytes
static_assert(kPackedByteValues <= 256, "5 trits must fit in one byte");

// Bytes needed for n trits.
constexpr int64_t packedSize(int64_t n) {
    return (n + kTritsPerByte - 1) / kTritsPerByte;
}
static_assert(packedSize(0) == 0 && packedSize(1) == 1 && packedSize(5) == 1 &&
                  packedSize(6) == 2 && packedSize(4096) == 820,
              "packed size is ceil(n / 5)");

// The five trits of every valid byte value, in order t_0 .. t_4 (a 243 x 5 lookup table).
const int8_t (&tritTable())[kPackedByteValues][kTritsPerByte];

// Packs trits (each -1, 0 or +1) into out (packedSize(trits.size()) bytes).
// Throws h158::Error naming the index of a value outside {-1, 0, 1} or on a wrong out size.
void packTrits(std::span<const int8_t> trits, std::span<uint8_t> out);
// The digit packing behind packTrits (base 3, 5 per byte) and the .h158 five-level codes
// (base 5, 3 per byte): code c in [-(base-1)/2, (base-1)/2] is stored as the digit c + (base-1)/2,
// byte j = Σ_i digit(j·perByte + i)·base^i; unused digits of the last byte hold code 0.
// `who` names the caller in the Error thrown for a wrong size or an out-of-range code.
void packDigits(std::span<const int8_t> codes, int base, int perByte, std::span<uint8_t> out,
                const char* who);
std::vector<uint8_t> packTrits(std::span<const int8_t> trits);

// Unpacks out.size() trits from packed (exactly packedSize(out.size()) bytes).
// Throws h158::Error naming the offset of a byte > 242 or on a wrong size.
void unpackTrits(std::span<const uint8_t> packed, std::span<int8_t> out);
std::vector<int8_t> unpackTrits(std::span<const uint8_t> packed, int64_t n);

// A ternary weight matrix in the row-packed form above (the export format's payload and the
// operand of the packed GEMV in bit_kernels.h).
struct PackedTernaryMatrix {
    int64_t rows = 0, cols = 0;
    int64_t rowStride = 0;       // packedSize(cols)
    std::vector<uint8_t> bytes;  // (rows * rowStride)
    VecF rowScale;               // (rows)
};

// Packs a ternary QuantizedTensor (codes column-major (rows, cols)); throws if its levels are
// not ternary or its sizes do not match.
PackedTernaryMatrix packTernaryMatrix(const QuantizedTensor& q);
// Packs codes given column-major (rows, cols) with their row scales.
PackedTernaryMatrix packTernaryMatrix(const int8_t* codes, const float* rowScale, int64_t rows,
                                      int64_t cols);
// The codes back, column-major (rows, cols).
std::vector<int8_t> unpackTernaryMatrix(const PackedTernaryMatrix& p);

}  // namespace h158
