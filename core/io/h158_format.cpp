// The .h158 container (format in h158_format.h): five-level packing, int8 code bytes, tensors,
// serialization and the validating reader.
#include "core/io/h158_format.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/base/errors.h"
#include "core/base/file_io.h"
#include "core/quant/weight_quantizer.h"

namespace h158 {

static_assert(std::endian::native == std::endian::little,
              "the payload floats are copied as little-endian bytes");
static_assert(sizeof(float) == 4);
static_assert(kH158FixedHeaderBytes == 64 && kH158TableEntryBytes == 96 && kH158NameBytes == 48,
              "field offsets in h158_format.h assume these sizes");

namespace {

int64_t alignUp(int64_t v, int64_t a) {
    return (v + a - 1) / a * a;
}

void putU32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
void putU64(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}
uint32_t getU32(const uint8_t* p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
uint64_t getU64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

int64_t scaleCount(H158Scales s, int64_t rows) {
    return s == H158Scales::PerTensor ? 1 : s == H158Scales::PerRow ? rows : 0;
}

int64_t strideOf(H158Kind k, int64_t cols) {
    switch (k) {
        case H158Kind::Ternary:
            return packedSize(cols);
        case H158Kind::FiveLevel:
            return packedFiveLevelSize(cols);
        case H158Kind::Int8:
            return cols;
        case H158Kind::Fp32:
            break;
    }
    return 0;
}

// An int8 code's byte is its two's complement; 0x80 (-128) is outside the format's -127..127.
constexpr uint8_t kInt8Refused = 0x80;
static_assert(int8_t(kInt8Refused) == -128);

// The first bytes of a file that is not ours, for the message: hex and printable text.
std::string describeStart(std::span<const uint8_t> b) {
    const size_t n = std::min<size_t>(8, b.size());
    std::string hex, text;
    char buf[4];
    for (size_t i = 0; i < n; ++i) {
        std::snprintf(buf, sizeof buf, "%02x", b[i]);
        hex += (i ? " " : "") + std::string(buf);
        text += (b[i] >= 32 && b[i] < 127) ? char(b[i]) : '.';
    }
    std::string kind;
    if (b.size() >= 4 && b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G')
        kind = ", a PNG image";
    else if (b.size() >= 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F')
        kind = ", an ELF executable";
    else if (b.size() >= 2 && b[0] == 'P' && b[1] == 'K')
        kind = ", a zip archive";
    else if (std::all_of(b.begin(), b.begin() + long(n), [](uint8_t c) {
                 return (c >= 32 && c < 127) || c == '\n' || c == '\r' || c == '\t';
             }))
        kind = ", text";
    return "it starts with " + hex + " \"" + text + "\"" + kind;
}

void checkTensorShape(const std::string& name, int64_t rows, int64_t cols) {
    if (name.empty() || int64_t(name.size()) >= kH158NameBytes ||
        name.find('\0') != std::string::npos)
        throw Error("h158: tensor name '" + name + "' must have 1 to " +
                    std::to_string(kH158NameBytes - 1) + " bytes and no zero byte");
    if (rows < 1 || cols < 1)
        throw Error("h158: tensor " + name + " has an empty shape (" + std::to_string(rows) + ", " +
                    std::to_string(cols) + ")");
}

}  // namespace

// ---- five-level packing ----------------------------------------------------------------------

void packFiveLevel(std::span<const int8_t> codes, std::span<uint8_t> out) {
    packDigits(codes, 5, kFiveLevelPerByte, out, "packFiveLevel");
}

void unpackFiveLevel(std::span<const uint8_t> packed, std::span<int8_t> out) {
    const int64_t n = int64_t(out.size());
    if (int64_t(packed.size()) != packedFiveLevelSize(n))
        throw Error("unpackFiveLevel: expected " + std::to_string(packedFiveLevelSize(n)) +
                    " bytes, got " + std::to_string(packed.size()));
    for (int64_t j = 0; j < int64_t(packed.size()); ++j) {
        int b = packed[size_t(j)];
        if (b >= kFiveLevelByteValues)
            throw Error("unpackFiveLevel: byte " + std::to_string(b) + " at offset " +
                        std::to_string(j) + " is not a packed five-level byte (0..124)");
        for (int64_t i = 0; i < kFiveLevelPerByte; ++i, b /= 5) {
            const int64_t k = j * kFiveLevelPerByte + i;
            if (k < n) out[size_t(k)] = int8_t(b % 5 - 2);
        }
    }
}

// ---- tensors -----------------------------------------------------------------------------------

const char* h158KindName(H158Kind k) {
    switch (k) {
        case H158Kind::Fp32:
            return "fp32";
        case H158Kind::Ternary:
            return "ternary";
        case H158Kind::FiveLevel:
            return "five_level";
        case H158Kind::Int8:
            return "int8";
    }
    return "?";
}

H158Kind h158KindOf(QuantLevels l) {
    switch (l) {
        case QuantLevels::Ternary:
            return H158Kind::Ternary;
        case QuantLevels::FiveLevel:
            return H158Kind::FiveLevel;
        case QuantLevels::Int8:
            return H158Kind::Int8;
        case QuantLevels::None:
            break;
    }
    return H158Kind::Fp32;
}

QuantLevels quantLevelsOf(H158Kind k) {
    switch (k) {
        case H158Kind::Ternary:
            return QuantLevels::Ternary;
        case H158Kind::FiveLevel:
            return QuantLevels::FiveLevel;
        case H158Kind::Int8:
            return QuantLevels::Int8;
        case H158Kind::Fp32:
            break;
    }
    return QuantLevels::None;
}

int64_t H158Tensor::rowStride() const {
    return strideOf(kind, cols);
}

int64_t H158Tensor::payloadBytes() const {
    return h158PayloadBytes(H158TensorPlan{kind, scales, rows, cols});
}

VecF H158Tensor::rowScale() const {
    if (kind == H158Kind::Fp32) throw Error("h158: tensor " + name + " is fp32 (no scales)");
    if (scales == H158Scales::PerTensor) return VecF::Constant(rows, scale.at(0));
    return CMapVec<float>(scale.data(), rows);
}

std::vector<int8_t> H158Tensor::codes() const {
    if (kind == H158Kind::Fp32) throw Error("h158: tensor " + name + " is fp32 (no codes)");
    std::vector<int8_t> out(static_cast<size_t>(rows * cols)), row(static_cast<size_t>(cols));
    const int64_t stride = rowStride();
    for (int64_t r = 0; r < rows; ++r) {
        const std::span<const uint8_t> bytes(packed.data() + r * stride, size_t(stride));
        if (kind == H158Kind::Ternary)
            unpackTrits(bytes, row);
        else if (kind == H158Kind::FiveLevel)
            unpackFiveLevel(bytes, row);
        else
            std::transform(bytes.begin(), bytes.end(), row.begin(),
                           [](uint8_t b) { return int8_t(b); });
        for (int64_t c = 0; c < cols; ++c) out[size_t(c * rows + r)] = row[size_t(c)];
    }
    return out;
}

MatF H158Tensor::dequantized() const {
    if (kind == H158Kind::Fp32) return CMapMat<float>(values.data(), rows, cols);
    const std::vector<int8_t> c = codes();
    const VecF s = rowScale();
    MatF w(rows, cols);
    for (int64_t j = 0; j < cols; ++j)
        for (int64_t r = 0; r < rows; ++r) w(r, j) = float(c[size_t(j * rows + r)]) * s(r);
    return w;
}

PackedTernaryMatrix H158Tensor::packedTernary() const {
    if (kind != H158Kind::Ternary) throw Error("h158: tensor " + name + " is not ternary");
    PackedTernaryMatrix p;
    p.rows = rows;
    p.cols = cols;
    p.rowStride = packedSize(cols);
    p.bytes = packed;
    p.rowScale = rowScale();
    return p;
}

H158Tensor h158Fp32(std::string name, const float* w, int64_t rows, int64_t cols) {
    checkTensorShape(name, rows, cols);
    H158Tensor t;
    t.name = std::move(name);
    t.rows = rows;
    t.cols = cols;
    t.values.assign(w, w + rows * cols);
    return t;
}

H158Tensor h158Quantized(std::string name, const QuantizedTensor& q, H158Scales scales) {
    checkTensorShape(name, q.rows, q.cols);
    if (q.levels == QuantLevels::None)
        throw Error("h158: tensor " + name + " is not quantized (levels none)");
    if (int64_t(q.codes.size()) != q.rows * q.cols || q.rowScale.size() != q.rows)
        throw Error("h158: tensor " + name + ": codes or row scales do not match its shape");
    if (scales == H158Scales::None) throw Error("h158: quantized tensor " + name + " needs scales");
    H158Tensor t;
    t.name = std::move(name);
    t.kind = h158KindOf(q.levels);
    t.scales = scales;
    t.rows = q.rows;
    t.cols = q.cols;
    if (scales == H158Scales::PerTensor) {
        for (int64_t r = 1; r < q.rows; ++r)
            if (q.rowScale(r) != q.rowScale(0))
                throw Error("h158: tensor " + t.name +
                            " has different row scales; it needs per-row scales");
        t.scale = {q.rowScale(0)};
    } else {
        t.scale.assign(q.rowScale.data(), q.rowScale.data() + q.rows);
    }
    const int64_t stride = t.rowStride();
    t.packed.resize(size_t(q.rows * stride));
    std::vector<int8_t> row(size_t(q.cols));
    for (int64_t r = 0; r < q.rows; ++r) {
        for (int64_t c = 0; c < q.cols; ++c) row[size_t(c)] = q.codes[size_t(c * q.rows + r)];
        const std::span<uint8_t> out(t.packed.data() + r * stride, size_t(stride));
        if (t.kind == H158Kind::Ternary) {
            packTrits(row, out);
        } else if (t.kind == H158Kind::FiveLevel) {
            packFiveLevel(row, out);
        } else {
            const int limit = codeLimit(QuantLevels::Int8);
            for (int64_t c = 0; c < q.cols; ++c) {
                const int8_t v = row[size_t(c)];
                if (v < -limit || v > limit)
                    throw Error("h158: tensor " + t.name + ": int8 code " + std::to_string(v) +
                                " at (" + std::to_string(r) + ", " + std::to_string(c) +
                                ") is outside -127..127");
                out[size_t(c)] = uint8_t(v);
            }
        }
    }
    return t;
}

const H158Tensor* H158Model::find(const std::string& name) const {
    for (const auto& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

// ---- sizes -------------------------------------------------------------------------------------

int64_t h158PayloadBytes(const H158TensorPlan& t) {
    if (t.kind == H158Kind::Fp32) return 4 * t.rows * t.cols;
    return 4 * scaleCount(t.scales, t.rows) + t.rows * strideOf(t.kind, t.cols);
}

namespace {

struct FileLayout {
    int64_t tableOffset = 0, payloadOffset = 0, fileBytes = 0;
    std::vector<int64_t> offsets;
};

FileLayout layoutOf(int64_t headerBytes, std::span<const H158TensorPlan> tensors) {
    FileLayout L;
    const int64_t n = int64_t(tensors.size());
    L.tableOffset = alignUp(kH158FixedHeaderBytes + headerBytes, 8);
    L.payloadOffset = alignUp(L.tableOffset + kH158TableEntryBytes * n, kH158PayloadAlign);
    int64_t end = L.payloadOffset;
    for (const auto& t : tensors) {
        const int64_t off = alignUp(end, kH158PayloadAlign);
        L.offsets.push_back(off);
        end = off + h158PayloadBytes(t);
    }
    L.fileBytes = end;
    return L;
}

}  // namespace

int64_t h158FileBytes(int64_t headerBytes, std::span<const H158TensorPlan> tensors) {
    return layoutOf(headerBytes, tensors).fileBytes;
}

// ---- writing -----------------------------------------------------------------------------------

std::vector<uint8_t> serializeH158(const H158Model& m) {
    const std::string header = m.header.dump();
    std::vector<H158TensorPlan> plans;
    std::set<std::string> names;
    for (const auto& t : m.tensors) {
        checkTensorShape(t.name, t.rows, t.cols);
        if (!names.insert(t.name).second) throw Error("h158: tensor " + t.name + " appears twice");
        const bool fp32 = t.kind == H158Kind::Fp32;
        const bool ok =
            fp32 ? t.scales == H158Scales::None && int64_t(t.values.size()) == t.rows * t.cols
                 : t.scales != H158Scales::None &&
                       int64_t(t.scale.size()) == scaleCount(t.scales, t.rows) &&
                       int64_t(t.packed.size()) == t.rows * t.rowStride();
        if (!ok) throw Error("h158: tensor " + t.name + ": data does not match its kind and shape");
        plans.push_back({t.kind, t.scales, t.rows, t.cols});
    }
    const FileLayout L = layoutOf(int64_t(header.size()), plans);
    std::vector<uint8_t> out(size_t(L.fileBytes), 0);
    uint8_t* p = out.data();
    std::memcpy(p, kH158Magic, 4);
    putU32(p + 4, kH158Version);
    putU64(p + 16, uint64_t(L.fileBytes));
    putU64(p + 24, uint64_t(kH158FixedHeaderBytes));
    putU64(p + 32, uint64_t(header.size()));
    putU64(p + 40, uint64_t(L.tableOffset));
    putU64(p + 48, uint64_t(m.tensors.size()));
    putU64(p + 56, uint64_t(L.payloadOffset));
    std::memcpy(p + kH158FixedHeaderBytes, header.data(), header.size());
    for (size_t i = 0; i < m.tensors.size(); ++i) {
        const H158Tensor& t = m.tensors[i];
        uint8_t* e = p + L.tableOffset + int64_t(i) * kH158TableEntryBytes;
        std::memcpy(e, t.name.data(), t.name.size());
        putU32(e + 48, uint32_t(t.kind));
        putU32(e + 52, uint32_t(t.scales));
        putU64(e + 56, uint64_t(t.rows));
        putU64(e + 64, uint64_t(t.cols));
        putU64(e + 72, uint64_t(L.offsets[i]));
        putU64(e + 80, uint64_t(t.payloadBytes()));
        uint8_t* d = p + L.offsets[i];
        if (t.kind == H158Kind::Fp32) {
            std::memcpy(d, t.values.data(), t.values.size() * 4);
        } else {
            std::memcpy(d, t.scale.data(), t.scale.size() * 4);
            std::memcpy(d + t.scale.size() * 4, t.packed.data(), t.packed.size());
        }
    }
    putU64(p + 8, fnv1a64(std::span<const uint8_t>(out).subspan(16)));
    return out;
}

void writeH158(const H158Model& m, const std::string& path) {
    const std::vector<uint8_t> bytes = serializeH158(m);
    writeFileAtomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()),
                                               bytes.size()));
}

// ---- reading -----------------------------------------------------------------------------------

namespace {

// Throws FileError "where: what".
[[noreturn]] void refuse(const std::string& where, const std::string& what) {
    throw FileError(where + ": " + what);
}

// The fixed header, checked against the real size (nothing is allocated from its fields).
void checkFixedHeader(std::span<const uint8_t> b, uint64_t realSize, const std::string& where) {
    if (realSize == 0) refuse(where, "empty file, not an H158 model");
    const size_t m = std::min<size_t>(4, b.size());
    if (std::memcmp(b.data(), kH158Magic, m) != 0)
        refuse(where, "not an H158 model file (no \"H158\" magic; " + describeStart(b) + ")");
    if (realSize < uint64_t(kH158FixedHeaderBytes))
        refuse(where, "truncated: " + std::to_string(realSize) + " bytes, shorter than the " +
                          std::to_string(kH158FixedHeaderBytes) + "-byte header");
    const uint32_t version = getU32(b.data() + 4);
    if (version != kH158Version)
        refuse(where, "unsupported format version " + std::to_string(version) +
                          " (this build reads version " + std::to_string(kH158Version) + ")");
    const uint64_t fileBytes = getU64(b.data() + 16);
    if (fileBytes > realSize)
        refuse(where, "truncated: the header says " + std::to_string(fileBytes) +
                          " bytes, the file has " + std::to_string(realSize));
    if (fileBytes < realSize)
        refuse(where, "the file has " + std::to_string(realSize) + " bytes but its header says " +
                          std::to_string(fileBytes) + " (trailing data or a corrupt header)");
}

// Expected payload bytes of a table entry, or false when a size overflows.
bool entryBytes(H158Kind kind, H158Scales scales, uint64_t rows, uint64_t cols, uint64_t& out) {
    uint64_t n = 0;
    if (kind == H158Kind::Fp32)
        return !__builtin_mul_overflow(rows, cols, &n) &&
               !__builtin_mul_overflow(n, uint64_t(4), &out);
    const uint64_t per = kind == H158Kind::Ternary ? 5 : kind == H158Kind::FiveLevel ? 3 : 1;
    const uint64_t stride = cols / per + (cols % per != 0);
    const uint64_t nScales = scales == H158Scales::PerTensor ? 1 : rows;
    uint64_t s = 0;
    return !__builtin_mul_overflow(rows, stride, &n) &&
           !__builtin_mul_overflow(nScales, uint64_t(4), &s) && !__builtin_add_overflow(n, s, &out);
}

H158Tensor readEntry(std::span<const uint8_t> b, uint64_t entryOffset, uint64_t& prevEnd,
                     std::set<std::string>& names, const std::string& where, size_t index) {
    const uint8_t* e = b.data() + entryOffset;
    const std::string at = "tensor " + std::to_string(index);
    const void* nul = std::memchr(e, 0, size_t(kH158NameBytes));
    if (!nul) refuse(where, at + ": name is not zero-terminated");
    H158Tensor t;
    t.name.assign(reinterpret_cast<const char*>(e), size_t(static_cast<const uint8_t*>(nul) - e));
    if (t.name.empty()) refuse(where, at + ": empty name");
    if (!names.insert(t.name).second) refuse(where, at + ": duplicate name " + t.name);
    const std::string tn = "tensor " + t.name;
    const uint32_t kind = getU32(e + 48), scales = getU32(e + 52);
    if (kind < 1 || kind > 4) refuse(where, tn + ": unknown kind " + std::to_string(kind));
    t.kind = H158Kind(kind);
    const bool fp32 = t.kind == H158Kind::Fp32;
    if (fp32 ? scales != 0 : (scales != 1 && scales != 2))
        refuse(where, tn + ": scale layout " + std::to_string(scales) + " is invalid for kind " +
                          h158KindName(t.kind));
    t.scales = H158Scales(scales);
    const uint64_t rows = getU64(e + 56), cols = getU64(e + 64);
    const uint64_t off = getU64(e + 72), bytes = getU64(e + 80);
    const std::string shape = "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
    if (rows < 1 || cols < 1 || rows > (uint64_t(1) << 62) || cols > (uint64_t(1) << 62))
        refuse(where, tn + ": invalid shape " + shape);
    uint64_t need = 0;
    if (!entryBytes(t.kind, t.scales, rows, cols, need))
        refuse(where, tn + ": shape " + shape + " overflows");
    if (need != bytes)
        refuse(where, tn + ": " + std::to_string(bytes) + " payload bytes, but a " +
                          h158KindName(t.kind) + " tensor of shape " + shape + " needs " +
                          std::to_string(need));
    if (off % uint64_t(kH158PayloadAlign) != 0 || off < prevEnd)
        refuse(where, tn + ": payload offset " + std::to_string(off) +
                          " is misaligned or overlaps the data before it");
    if (off > b.size() || bytes > b.size() - off)
        refuse(where, tn + ": payload [" + std::to_string(off) + ", +" + std::to_string(bytes) +
                          ") runs past the end of the file (" + std::to_string(b.size()) +
                          " bytes)");
    prevEnd = off + bytes;
    t.rows = int64_t(rows);
    t.cols = int64_t(cols);
    // Every size below is bounded by the bytes present in the file.
    const uint8_t* d = b.data() + off;
    if (fp32) {
        t.values.resize(size_t(rows * cols));
        std::memcpy(t.values.data(), d, size_t(bytes));
        return t;
    }
    const size_t ns = size_t(scaleCount(t.scales, t.rows));
    t.scale.resize(ns);
    std::memcpy(t.scale.data(), d, ns * 4);
    for (size_t i = 0; i < ns; ++i)
        if (!std::isfinite(t.scale[i]))
            refuse(where, tn + ": scale " + std::to_string(i) + " is not finite");
    t.packed.assign(d + ns * 4, d + bytes);
    const uint64_t codesAt = off + ns * 4;  // file offset of the first packed byte
    if (t.kind == H158Kind::Int8) {
        const auto bad = std::find(t.packed.begin(), t.packed.end(), kInt8Refused);
        if (bad != t.packed.end()) {
            const size_t i = size_t(bad - t.packed.begin());
            refuse(where, tn + ": int8 code byte 0x80 (-128) at file offset " +
                              std::to_string(codesAt + i) + " (row " +
                              std::to_string(int64_t(i) / t.cols) + ", column " +
                              std::to_string(int64_t(i) % t.cols) + ") is outside -127..127");
        }
        return t;
    }
    const int limit = t.kind == H158Kind::Ternary ? kPackedByteValues : kFiveLevelByteValues;
    for (size_t i = 0; i < t.packed.size(); ++i)
        if (t.packed[i] >= limit)
            refuse(where, tn + ": packed byte " + std::to_string(t.packed[i]) + " at file offset " +
                              std::to_string(codesAt + i) + " is outside 0.." +
                              std::to_string(limit - 1));
    return t;
}

}  // namespace

H158Model parseH158(std::span<const uint8_t> b, const std::string& where) {
    checkFixedHeader(b, b.size(), where);
    const uint64_t stored = getU64(b.data() + 8);
    const uint64_t computed = fnv1a64(b.subspan(16));
    if (stored != computed) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "checksum mismatch (stored %016llx, computed %016llx)",
                      (unsigned long long)stored, (unsigned long long)computed);
        refuse(where, std::string(buf) + ": the file is corrupt");
    }
    const uint64_t size = b.size();
    const uint64_t headerOffset = getU64(b.data() + 24), headerBytes = getU64(b.data() + 32);
    const uint64_t tableOffset = getU64(b.data() + 40), count = getU64(b.data() + 48);
    const uint64_t payloadOffset = getU64(b.data() + 56);
    if (headerOffset != uint64_t(kH158FixedHeaderBytes))
        refuse(where, "header offset " + std::to_string(headerOffset) + " is not 64");
    if (headerBytes > size - headerOffset)
        refuse(where,
               "JSON header of " + std::to_string(headerBytes) + " bytes does not fit in the file");
    if (tableOffset != uint64_t(alignUp(int64_t(headerOffset + headerBytes), 8)) ||
        tableOffset > size)
        refuse(where, "tensor table offset " + std::to_string(tableOffset) + " is invalid");
    if (count > (size - tableOffset) / uint64_t(kH158TableEntryBytes))
        refuse(where, "tensor count " + std::to_string(count) + " does not fit in the file");
    const uint64_t tableEnd = tableOffset + count * uint64_t(kH158TableEntryBytes);
    if (payloadOffset != uint64_t(alignUp(int64_t(tableEnd), kH158PayloadAlign)) ||
        payloadOffset > size)
        refuse(where, "payload offset " + std::to_string(payloadOffset) + " is invalid");

    H158Model m;
    const std::string text(reinterpret_cast<const char*>(b.data() + headerOffset),
                           size_t(headerBytes));
    try {
        m.header = nlohmann::json::parse(text);
    } catch (const std::exception& e) {
        refuse(where, std::string("malformed JSON header: ") + e.what());
    }
    // value() with a json default: a "format" of another type is refused, not a type_error.
    if (!m.header.is_object() || m.header.value("format", nlohmann::json()) != kH158FormatName)
        refuse(where, std::string("JSON header is not a ") + kH158FormatName + " header");

    std::set<std::string> names;
    uint64_t prevEnd = payloadOffset;
    m.tensors.reserve(size_t(count));
    for (uint64_t i = 0; i < count; ++i)
        m.tensors.push_back(readEntry(b, tableOffset + i * uint64_t(kH158TableEntryBytes), prevEnd,
                                      names, where, size_t(i)));
    if (prevEnd != size)
        refuse(where, std::to_string(size - prevEnd) + " bytes after the last tensor");
    return m;
}

H158Model readH158(const std::string& path) {
    namespace fs = std::filesystem;
    checkFileToRead(path, {}, FileNeed::Regular);  // the size is read first
    std::error_code ec;
    const uint64_t size = fs::file_size(path, ec);
    if (ec) refuse(path, "cannot read its size: " + ec.message());
    std::ifstream in(path, std::ios::binary);
    if (!in) refuse(path, "cannot open");
    // The fixed header first: the full read below is sized by the real file size only after the
    // header agrees with it.
    uint8_t head[kH158FixedHeaderBytes] = {};
    in.read(reinterpret_cast<char*>(head), std::streamsize(std::min<uint64_t>(size, sizeof head)));
    checkFixedHeader(std::span<const uint8_t>(head, size_t(std::min<uint64_t>(size, sizeof head))),
                     size, path);
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size));
    if (uint64_t(in.gcount()) != size) refuse(path, "read failed");
    return parseH158(bytes, path);
}

}  // namespace h158
