// The .h158 file: named tensors, quantized ones packed (ternary 5 trits per byte, five-level 3
// codes per byte, int8 one code per byte) and the rest fp32, a JSON header, and a checksum. Each
// tensor has its own kind, so one file can hold a mixed-precision model. What a trained model puts
// in it is h158_export.h; it is written at the end of every run (DIR/weights.h158) and by export.
//
// Format, version 1. Integers are unsigned little-endian; floats IEEE-754 binary32 little-endian.
//
//   offset  size  field
//   0       4     magic "H158"
//   4       4     version (1)
//   8       8     checksum: FNV-1a 64 over bytes [16, fileBytes), i.e. everything after it
//   16      8     fileBytes: the size of the whole file
//   24      8     headerOffset = 64
//   32      8     headerBytes: length of the JSON header (UTF-8, no terminator)
//   40      8     tableOffset = headerOffset + headerBytes rounded up to a multiple of 8
//   48      8     tensorCount
//   56      8     payloadOffset = tableOffset + 96 * tensorCount rounded up to a multiple of 64
//   64      ...   JSON header, zero padding, tensor table, zero padding, tensor payloads
//
// JSON header: an object with "format": "hybrid158-h158"; a trained model's header
// (h158_export.h) adds "version", "model", "parameters" and "config", the full resolved
// configuration, whose model and quant sections rebuild the model.
//
// Tensor table: tensorCount entries of 96 bytes, in the model's parameter-layout order:
//   0   48  name, UTF-8, zero-padded (at most 47 bytes, so it always ends in a zero)
//   48  4   kind: 1 fp32 | 2 ternary | 3 five-level | 4 int8
//   52  4   scales: 0 none (fp32 tensors) | 1 per tensor (one float) | 2 per row (rows floats)
//   56  8   rows (>= 1)
//   64  8   cols (>= 1)
//   72  8   offset of the payload from the start of the file, a multiple of 64
//   80  8   bytes of the payload (exactly as below)
//   88  8   reserved: written 0, not read
// Payloads follow in table order, each at the next multiple of 64 after the previous one (zero
// padding between), the first at payloadOffset; the file ends with the last payload.
//   fp32:       rows*cols floats, column-major (rows, cols) as in the parameter layout.
//   ternary:    the scales (1 or rows floats), then rows * ceil(cols/5) bytes: each row packed
//               5 trits per byte (packing.h: byte = sum (t_i + 1) 3^i, 0..242). Value of (r, c)
//               = trit(r, c) * scale(r). 1.6 bits per weight (+ padding of each row's last byte).
//   five-level: the scales, then rows * ceil(cols/3) bytes: each row packed 3 codes per byte,
//               byte = sum_{i<3} (c_i + 2) 5^i (0..124; unused digits hold code 0), codes in
//               -2..2, value = code * scale(r) (scale = gamma/2, weight_quantizer.h). 5^3 = 125
//               fits a byte with 2.67 bits per weight; log2 5 = 2.32 would need multi-byte groups.
//   int8:       the scales, then rows * cols bytes: each row's codes in column order, one
//               two's-complement byte each, codes in -127..127 (byte 0x80 = -128 is refused: the
//               quantizer's range is symmetric, weight_quantizer.h), value = code * scale(r)
//               (scale = absmax/127). 8 bits per weight. Kind 4 came after version 1's first
//               files; those hold kinds 1-3 only and stay valid.
//
// Reading validates before it allocates anything sized by a field: the 64-byte header (magic,
// version, fileBytes equal to the real size), then the checksum over the whole file, then every
// field (offsets and lengths inside the file and in order, sizes that overflow refused, each
// payload length equal to what its kind and shape need, packed bytes and int8 codes in range,
// finite scales).
// A file that fails is refused with h158::FileError "<file>: <what is wrong>".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/base/hash.h"
#include "core/base/types.h"
#include "core/quant/packing.h"

namespace h158 {

struct QuantizedTensor;
enum class QuantLevels;

constexpr char kH158Magic[4] = {'H', '1', '5', '8'};
constexpr uint32_t kH158Version = 1;
constexpr const char* kH158FormatName = "hybrid158-h158";  // the JSON header's "format"
constexpr int64_t kH158FixedHeaderBytes = 64;
constexpr int64_t kH158TableEntryBytes = 96;
constexpr int64_t kH158NameBytes = 48;  // names of at most 47 bytes
constexpr int64_t kH158PayloadAlign = 64;

// Five-level codes, 3 per byte (format above).
constexpr int64_t kFiveLevelPerByte = 3;
constexpr int kFiveLevelByteValues = 5 * 5 * 5;
static_assert(kFiveLevelByteValues <= 256, "3 five-level codes must fit in one byte");
constexpr int64_t packedFiveLevelSize(int64_t n) {
    return (n + kFiveLevelPerByte - 1) / kFiveLevelPerByte;
}
static_assert(packedFiveLevelSize(0) == 0 && packedFiveLevelSize(3) == 1 &&
                  packedFiveLevelSize(4) == 2 && packedFiveLevelSize(4096) == 1366,
              "five-level packed size is ceil(n / 3)");
static_assert(packedSize(128) == 26 && packedSize(512) == 103,
              "gpt-s rows: 128 trits in 26 bytes, 512 in 103");

void packFiveLevel(std::span<const int8_t> codes, std::span<uint8_t> out);
// Throws h158::Error naming the offset of a byte > 124.
void unpackFiveLevel(std::span<const uint8_t> packed, std::span<int8_t> out);

enum class H158Kind : uint32_t { Fp32 = 1, Ternary = 2, FiveLevel = 3, Int8 = 4 };
enum class H158Scales : uint32_t { None = 0, PerTensor = 1, PerRow = 2 };
const char* h158KindName(H158Kind k);  // fp32 | ternary | five_level | int8
// The kind that stores these levels (None -> fp32) and back (fp32 -> None).
H158Kind h158KindOf(QuantLevels l);
QuantLevels quantLevelsOf(H158Kind k);

struct H158Tensor {
    std::string name;
    H158Kind kind = H158Kind::Fp32;
    H158Scales scales = H158Scales::None;
    int64_t rows = 0, cols = 0;
    std::vector<float> values;    // fp32: (rows, cols) column-major
    std::vector<float> scale;     // quantized: 1 (per tensor) or rows (per row)
    std::vector<uint8_t> packed;  // quantized: rows * rowStride() bytes (int8: the code bytes)

    int64_t rowStride() const;          // packed bytes per row (0 for fp32, cols for int8)
    int64_t payloadBytes() const;       // bytes this tensor takes in the file
    VecF rowScale() const;              // (rows) the scale of each row (quantized tensors)
    std::vector<int8_t> codes() const;  // (rows, cols) column-major codes (quantized tensors)
    MatF dequantized() const;           // (rows, cols) the values the model computes with
    PackedTernaryMatrix packedTernary() const;  // the GEMV operand (ternary tensors)
};

// fp32 tensor from (rows, cols) column-major values.
H158Tensor h158Fp32(std::string name, const float* w, int64_t rows, int64_t cols);
// Ternary, five-level or int8 tensor from a quantizer's output (its levels say which). PerTensor
// requires all row scales to be equal (tensor granularity); throws h158::Error otherwise, and for
// int8 codes outside -127..127.
H158Tensor h158Quantized(std::string name, const QuantizedTensor& q, H158Scales scales);

struct H158Model {
    nlohmann::json header;  // the JSON header (format above)
    std::vector<H158Tensor> tensors;
    const H158Tensor* find(const std::string& name) const;  // null when absent
};

// A tensor's shape and storage without its data, for sizes.
struct H158TensorPlan {
    H158Kind kind = H158Kind::Fp32;
    H158Scales scales = H158Scales::None;
    int64_t rows = 0, cols = 0;
};
int64_t h158PayloadBytes(const H158TensorPlan& t);
// Exact file size for these tensors and a JSON header of headerBytes bytes.
int64_t h158FileBytes(int64_t headerBytes, std::span<const H158TensorPlan> tensors);

// The format's checksum is FNV-1a 64 (base/hash.h) of the bytes after the first 16.

std::vector<uint8_t> serializeH158(const H158Model& m);
// Writes atomically (FILE.tmp, then rename). Throws FileError naming the file.
void writeH158(const H158Model& m, const std::string& path);
// `where` names the source in messages (a file name).
H158Model parseH158(std::span<const uint8_t> bytes, const std::string& where);
H158Model readH158(const std::string& path);

}  // namespace h158
