// 5-trits-per-byte packing (format in packing.h): base-3 digits in, a 243-entry table out.
#include "core/quant/packing.h"

#include <algorithm>
#include <string>

#include "core/base/errors.h"
#include "core/quant/weight_quantizer.h"

namespace h158 {
namespace {

struct TritTable {
    int8_t t[kPackedByteValues][kTritsPerByte];
    TritTable() {
        for (int b = 0; b < kPackedByteValues; ++b)
            for (int i = 0, v = b; i < kTritsPerByte; ++i, v /= 3) t[b][i] = int8_t(v % 3 - 1);
    }
};

void checkSize(const char* what, int64_t got, int64_t want) {
    if (got != want)
        throw Error(std::string(what) + ": expected " + std::to_string(want) + " bytes, got " +
                    std::to_string(got));
}

}  // namespace

const int8_t (&tritTable())[kPackedByteValues][kTritsPerByte] {
    static const TritTable table;
    return table.t;
}

void packDigits(std::span<const int8_t> codes, int base, int perByte, std::span<uint8_t> out,
                const char* who) {
    const int64_t n = int64_t(codes.size());
    checkSize(who, int64_t(out.size()), (n + perByte - 1) / perByte);
    const int half = (base - 1) / 2;
    for (int64_t j = 0; j < int64_t(out.size()); ++j) {
        int byte = 0;
        for (int64_t i = perByte - 1; i >= 0; --i) {  // Horner, most significant first
            const int64_t k = j * perByte + i;
            int c = 0;
            if (k < n) {
                c = codes[size_t(k)];
                if (c < -half || c > half)
                    throw Error(std::string(who) + ": code " + std::to_string(c) + " at index " +
                                std::to_string(k) + " is outside -" + std::to_string(half) + ".." +
                                std::to_string(half));
            }
            byte = byte * base + (c + half);
        }
        out[size_t(j)] = uint8_t(byte);
    }
}

void packTrits(std::span<const int8_t> trits, std::span<uint8_t> out) {
    packDigits(trits, 3, kTritsPerByte, out, "packTrits");
}

std::vector<uint8_t> packTrits(std::span<const int8_t> trits) {
    std::vector<uint8_t> out(static_cast<size_t>(packedSize(int64_t(trits.size()))));
    packTrits(trits, out);
    return out;
}

void unpackTrits(std::span<const uint8_t> packed, std::span<int8_t> out) {
    const int64_t n = int64_t(out.size());
    checkSize("unpackTrits", int64_t(packed.size()), packedSize(n));
    const auto& table = tritTable();
    for (int64_t j = 0; j < int64_t(packed.size()); ++j) {
        const int b = packed[size_t(j)];
        if (b >= kPackedByteValues)
            throw Error("unpackTrits: byte " + std::to_string(b) + " at offset " +
                        std::to_string(j) + " is not a packed trit byte (0..242)");
        const int64_t k0 = j * kTritsPerByte;
        const int64_t m = std::min<int64_t>(kTritsPerByte, n - k0);
        for (int64_t i = 0; i < m; ++i) out[size_t(k0 + i)] = table[b][i];
    }
}

std::vector<int8_t> unpackTrits(std::span<const uint8_t> packed, int64_t n) {
    if (n < 0) throw Error("unpackTrits: negative length " + std::to_string(n));
    std::vector<int8_t> out(static_cast<size_t>(n));
    unpackTrits(packed, out);
    return out;
}

PackedTernaryMatrix packTernaryMatrix(const int8_t* codes, const float* rowScale, int64_t rows,
                                      int64_t cols) {
    if (rows < 0 || cols < 0) throw Error("packTernaryMatrix: negative shape");
    PackedTernaryMatrix p;
    p.rows = rows;
    p.cols = cols;
    p.rowStride = packedSize(cols);
    p.bytes.resize(size_t(rows * p.rowStride));
    p.rowScale = CMapVec<float>(rowScale, rows);
    std::vector<int8_t> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cols; ++c) row[size_t(c)] = codes[c * rows + r];
        packTrits(row, std::span<uint8_t>(p.bytes.data() + r * p.rowStride, size_t(p.rowStride)));
    }
    return p;
}

PackedTernaryMatrix packTernaryMatrix(const QuantizedTensor& q) {
    if (q.levels != QuantLevels::Ternary)
        throw Error("packTernaryMatrix: only ternary tensors pack 5 trits per byte");
    if (int64_t(q.codes.size()) != q.rows * q.cols || q.rowScale.size() != q.rows)
        throw Error("packTernaryMatrix: codes or row scales do not match the shape (" +
                    std::to_string(q.rows) + ", " + std::to_string(q.cols) + ")");
    return packTernaryMatrix(q.codes.data(), q.rowScale.data(), q.rows, q.cols);
}

std::vector<int8_t> unpackTernaryMatrix(const PackedTernaryMatrix& p) {
    if (int64_t(p.bytes.size()) != p.rows * p.rowStride || p.rowStride != packedSize(p.cols))
        throw Error("unpackTernaryMatrix: byte count does not match the shape");
    std::vector<int8_t> codes(static_cast<size_t>(p.rows * p.cols));
    std::vector<int8_t> row(static_cast<size_t>(p.cols));
    for (int64_t r = 0; r < p.rows; ++r) {
        unpackTrits(std::span<const uint8_t>(p.bytes.data() + r * p.rowStride, size_t(p.rowStride)),
                    row);
        for (int64_t c = 0; c < p.cols; ++c) codes[c * p.rows + r] = row[size_t(c)];
    }
    return codes;
}

}  // namespace h158
