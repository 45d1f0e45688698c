// Integer BitLinear kernels (see bit_kernels.h): path selection, weight preparation, the naive
// references, the portable plain path, and the drivers that cut work into fixed chunks.
#include "core/quant/bit_kernels.h"

#include <algorithm>
#include <cstring>

#include "core/base/cpu_features.h"
#include "core/base/errors.h"
#include "core/quant/bit_kernels_x86.h"
#include "core/base/parallel.h"
#include "core/quant/activation_quantizer.h"
#include "core/quant/weight_quantizer.h"

namespace h158 {
namespace {

// Tokens per parallel chunk: a multiple of every tile width (6 and 4 tokens); its u8
// activations (48 x in bytes) stay in L1 while all output blocks pass over them.
constexpr int64_t kGemmChunkTokens = 48;
// Rows per parallel chunk of the packed GEMV.
constexpr int64_t kGemvChunkRows = 128;

// The paths this CPU runs: AVX2, and AVX-512 with the VNNI and VBMI parts the kernel uses.
bool hasAvx2() {
    return cpuFeatures().avx2;
}

bool hasAvx512Vnni() {
    const CpuFeatures& f = cpuFeatures();
    return f.avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni && f.avx512vbmi;
}

void checkShape(const char* fn, int64_t out, int64_t in, int64_t n) {
    if (out < 0 || in < 0 || n < 0)
        throw Error(std::string(fn) + ": negative size (out " + std::to_string(out) + ", in " +
                    std::to_string(in) + ", n " + std::to_string(n) + ")");
    // |acc| <= 2 * 128 * in must stay exact in float: in < 2^16 (int32 holds far more).
    if (in >= (int64_t(1) << 16))
        throw Error(std::string(fn) + ": input width " + std::to_string(in) +
                    " exceeds 65535 (accumulators must stay exact in float)");
}

// The one output formula every path uses (bit_kernels.h).
inline float scaleOut(int32_t acc, float rowScale, float invScale) {
    return (float(acc) * rowScale) * invScale;
}

// Portable path: per token, int32 accumulators over all outputs, adding W(:, k) * x(k) column
// by column (W is column-major, so the inner loop is contiguous and vectorizes).
// Not instrumented by AddressSanitizer and UBSan (their checks in the inner loop keep it from
// vectorizing, and the reference kernel's golden run then takes minutes instead of a second):
// test_bit_kernels checks its results against the float product on every shape it runs, and its
// int32 sums cannot overflow below 2^31 / 127 (16.9 million) inputs per row.
#if defined(__clang__) || defined(__GNUC__)
__attribute__((no_sanitize("address", "undefined")))
#endif
void plainChunk(const PreparedBitWeights& w, const int8_t* x, const float* inv, int64_t cnt,
                float* y) {
    std::vector<int32_t> acc(size_t(w.out));
    for (int64_t t = 0; t < cnt; ++t) {
        std::fill(acc.begin(), acc.end(), 0);
        const int8_t* xt = x + t * w.in;
        for (int64_t k = 0; k < w.in; ++k) {
            const int32_t xk = xt[k];
            const int8_t* wk = w.codes.data() + k * w.out;
            for (int64_t o = 0; o < w.out; ++o) acc[size_t(o)] += int32_t(wk[o]) * xk;
        }
        float* yt = y + t * w.out;
        for (int64_t o = 0; o < w.out; ++o)
            yt[o] = scaleOut(acc[size_t(o)], w.rowScale[size_t(o)], inv[t]);
    }
}

// Activations as u = x + 128 (bitwise x XOR 0x80) in (inPad, cnt); padding rows hold 128 (x = 0).
void toUnsigned(const int8_t* x, int64_t in, int64_t inPad, int64_t cnt, uint8_t* u) {
    for (int64_t t = 0; t < cnt; ++t) {
        const int8_t* xt = x + t * in;
        uint8_t* ut = u + t * inPad;
        for (int64_t k = 0; k < in; ++k) ut[k] = uint8_t(xt[k]) ^ 0x80u;
        for (int64_t k = in; k < inPad; ++k) ut[k] = 0x80u;
    }
}

// Runs the GEMM over token chunks. With xFloat non-null each chunk first quantizes its columns
// into codesOut / invOut, which it then multiplies; otherwise it reads codesIn / invIn.
struct GemmInput {
    const float* xFloat = nullptr;
    int8_t* codesOut = nullptr;
    float* invOut = nullptr;
    const int8_t* codesIn = nullptr;
    const float* invIn = nullptr;
};

void runGemm(const PreparedBitWeights& w, const GemmInput& in, int64_t n, float* y,
             BitKernelPath path) {
    checkShape("bitGemm", w.out, w.in, n);
    if (int64_t(w.codes.size()) != w.out * w.in || w.groups != (w.out + 15) / 16)
        throw Error("bitGemm: weights were not prepared (call prepareBitWeights)");
    path = resolveBitKernelPath(path);
    if (n == 0) return;
    parallelFor(n, kGemmChunkTokens, [&](int64_t t0, int64_t t1) {
        const int64_t cnt = t1 - t0;
        const int8_t* x = in.codesIn ? in.codesIn + t0 * w.in : in.codesOut + t0 * w.in;
        const float* inv = in.invIn ? in.invIn + t0 : in.invOut + t0;
        if (in.xFloat)
            quantizeActivations(in.xFloat + t0 * w.in, w.in, cnt, in.codesOut + t0 * w.in,
                                in.invOut + t0);
        if (w.out == 0) return;
        float* yc = y + t0 * w.out;
        if (path == BitKernelPath::Plain) {
            plainChunk(w, x, inv, cnt, yc);
            return;
        }
        thread_local std::vector<uint8_t, AlignedAllocator<uint8_t>> u;  // this thread's buffer
        u.resize(size_t(cnt * w.inPad));
        toUnsigned(x, w.in, w.inPad, cnt, u.data());
        detail::Int8Panel panel;
        panel.codes = w.packed.data();
        panel.rowSum128 = w.rowSum128.data();
        panel.rowScale = w.rowScale.data();
        panel.out = w.out;
        panel.inPad = w.inPad;
        panel.groups = w.groups;
        if (path == BitKernelPath::Avx512Vnni)
            detail::bitGemmChunkAvx512(panel, u.data(), inv, cnt, yc, w.out);
        else
            detail::bitGemmChunkAvx2(panel, u.data(), inv, cnt, yc, w.out);
    });
}

}  // namespace

const char* bitKernelPathName(BitKernelPath p) {
    switch (p) {
        case BitKernelPath::Auto:
            return "auto";
        case BitKernelPath::Plain:
            return "plain";
        case BitKernelPath::Avx2:
            return "avx2";
        case BitKernelPath::Avx512Vnni:
            return "avx512_vnni";
    }
    return "?";
}

BitKernelPath parseBitKernelPath(const std::string& s) {
    for (auto p : {BitKernelPath::Auto, BitKernelPath::Plain, BitKernelPath::Avx2,
                   BitKernelPath::Avx512Vnni})
        if (s == bitKernelPathName(p)) return p;
    throw Error("kernel path must be auto, plain, avx2 or avx512_vnni, got '" + s + "'");
}

bool bitKernelPathSupported(BitKernelPath p) {
    switch (p) {
        case BitKernelPath::Auto:
        case BitKernelPath::Plain:
            return true;
        case BitKernelPath::Avx2:
            return hasAvx2();
        case BitKernelPath::Avx512Vnni:
            return hasAvx512Vnni();
    }
    return false;
}

BitKernelPath bestBitKernelPath() {
    if (hasAvx512Vnni()) return BitKernelPath::Avx512Vnni;
    if (hasAvx2()) return BitKernelPath::Avx2;
    return BitKernelPath::Plain;
}

BitKernelPath resolveBitKernelPath(BitKernelPath p) {
    if (p == BitKernelPath::Auto) return bestBitKernelPath();
    if (!bitKernelPathSupported(p))
        throw Error(std::string("kernel path ") + bitKernelPathName(p) +
                    " is not supported by this CPU");
    return p;
}

void prepareBitWeights(const QuantizedTensor& q, PreparedBitWeights& p) {
    if (q.levels == QuantLevels::None)
        throw Error("prepareBitWeights: the tensor is not quantized (levels none)");
    if (int64_t(q.codes.size()) != q.rows * q.cols || q.rowScale.size() != q.rows)
        throw Error("prepareBitWeights: codes or row scales do not match the shape (" +
                    std::to_string(q.rows) + ", " + std::to_string(q.cols) + ")");
    prepareBitWeights(q.codes.data(), q.rowScale.data(), q.rows, q.cols, p);
}

void prepareBitWeights(const int8_t* codes, const float* rowScale, int64_t out, int64_t in,
                       PreparedBitWeights& p) {
    checkShape("prepareBitWeights", out, in, 0);
    const int64_t n = out * in;
    int lo = 0, hi = 0;  // a vectorizable range check first; the message search only on failure
    for (int64_t i = 0; i < n; ++i) {
        lo = std::min<int>(lo, codes[i]);
        hi = std::max<int>(hi, codes[i]);
    }
    if (lo < -2 || hi > 2)
        for (int64_t i = 0; i < n; ++i)
            if (codes[i] < -2 || codes[i] > 2)
                throw Error("prepareBitWeights: code " + std::to_string(codes[i]) + " at (" +
                            std::to_string(i % out) + ", " + std::to_string(i / out) +
                            ") is outside [-2, 2]");
    p.out = out;
    p.in = in;
    p.inPad = (in + 3) / 4 * 4;
    p.groups = (out + 15) / 16;
    p.codes.assign(codes, codes + n);
    const int64_t groupsPad = (p.groups + 3) / 4 * 4;  // the AVX-512 tile reads 4 groups
    p.packed.assign(size_t(groupsPad * 16 * p.inPad), 0);
    p.rowSum128.assign(size_t(groupsPad * 16), 0);
    p.rowScale.assign(size_t(groupsPad * 16), 0.0f);
    std::copy(rowScale, rowScale + out, p.rowScale.begin());
    // Output groups are independent: each fills its own (inPad/4, 16, 4) panel and row sums.
    parallelFor(p.groups, 8, [&](int64_t s0, int64_t s1) {
        for (int64_t s = s0; s < s1; ++s) {
            const int64_t o0 = 16 * s, width = std::min<int64_t>(16, out - o0);
            int8_t* panel = p.packed.data() + s * p.inPad * 16;
            int32_t* sum = p.rowSum128.data() + o0;
            for (int64_t k = 0; k < in; ++k) {
                const int8_t* col = codes + k * out + o0;
                int8_t* dst = panel + (k / 4) * 64 + k % 4;
                for (int64_t j = 0; j < width; ++j) {
                    dst[4 * j] = col[j];
                    sum[j] += 128 * col[j];
                }
            }
        }
    });
}

void bitGemmReference(const int8_t* wCodes, const float* rowScale, int64_t out, int64_t in,
                      const int8_t* xCodes, const float* invScale, int64_t n, float* y) {
    checkShape("bitGemmReference", out, in, n);
    for (int64_t t = 0; t < n; ++t)
        for (int64_t o = 0; o < out; ++o) {
            int32_t acc = 0;
            for (int64_t k = 0; k < in; ++k)
                acc += int32_t(wCodes[k * out + o]) * int32_t(xCodes[t * in + k]);
            y[t * out + o] = scaleOut(acc, rowScale[o], invScale[t]);
        }
}

void bitGemm(const PreparedBitWeights& w, const int8_t* xCodes, const float* invScale, int64_t n,
             float* y, BitKernelPath path) {
    GemmInput in;
    in.codesIn = xCodes;
    in.invIn = invScale;
    runGemm(w, in, n, y, path);
}

void quantizeAndBitGemm(const PreparedBitWeights& w, const float* x, int64_t n, int8_t* xCodes,
                        float* invScale, float* y, BitKernelPath path) {
    GemmInput in;
    in.xFloat = x;
    in.codesOut = xCodes;
    in.invOut = invScale;
    runGemm(w, in, n, y, path);
}

// ---- packed GEMV ----------------------------------------------------------------------------

namespace {

void checkPacked(const char* fn, const PackedTernaryMatrix& w, int64_t n) {
    if (w.rows < 0 || w.cols < 0 || w.rowStride != packedSize(w.cols) ||
        int64_t(w.bytes.size()) != w.rows * w.rowStride || w.rowScale.size() != w.rows)
        throw Error(std::string(fn) + ": packed matrix (" + std::to_string(w.rows) + ", " +
                    std::to_string(w.cols) + ") has inconsistent sizes");
    checkShape(fn, w.rows, w.cols, n);
}

// x quantized as one activation column; returns its inverse scale.
float quantizeVector(const float* x, int64_t n, std::vector<int8_t>& codes) {
    codes.resize(size_t(n));
    float inv = 0;
    quantizeActivations(x, n, 1, codes.data(), &inv);
    return inv;
}

// Digits of all 256 byte values, 8 per entry so one 8-byte copy decodes a byte (t + 1 of each
// trit in the first five; bytes > 242 decode to garbage, never out of bounds).
struct DigitLut {
    int8_t d[256][8] = {};
    DigitLut() {
        for (int b = 0; b < 256; ++b)
            for (int i = 0, v = b; i < kTritsPerByte; ++i, v /= 3)
                d[b][i] = int8_t(i < 4 ? v % 3 : v);
    }
};

// Plain path: decode a row into digits (overlapping 8-byte copies, 5 bytes apart), then an
// int8 dot product the compiler vectorizes. xPad is x zero-padded to 5 * rowStride.
void packedGemvRowsPlain(const PackedTernaryMatrix& w, const int8_t* xPad, int64_t r0, int64_t r1,
                         int32_t* acc) {
    static const DigitLut lut;
    const int64_t n = w.rowStride * kTritsPerByte;
    std::vector<int8_t> digits(size_t(n + 8));
    for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* row = w.bytes.data() + r * w.rowStride;
        for (int64_t j = 0; j < w.rowStride; ++j)
            std::memcpy(digits.data() + j * kTritsPerByte, lut.d[row[j]], 8);
        int32_t a = 0;
        for (int64_t c = 0; c < n; ++c) a += int32_t(digits[size_t(c)]) * int32_t(xPad[c]);
        acc[r] = a;
    }
}

}  // namespace

void packedGemvReference(const PackedTernaryMatrix& w, const float* x, float* y) {
    checkPacked("packedGemv", w, 1);
    std::vector<int8_t> xc;
    const float inv = quantizeVector(x, w.cols, xc);
    for (int64_t r = 0; r < w.rows; ++r) {
        const std::vector<int8_t> trits = unpackTrits(
            std::span<const uint8_t>(w.bytes.data() + r * w.rowStride, size_t(w.rowStride)),
            w.cols);
        int32_t acc = 0;
        for (int64_t c = 0; c < w.cols; ++c)
            acc += int32_t(trits[size_t(c)]) * int32_t(xc[size_t(c)]);
        y[r] = scaleOut(acc, w.rowScale(r), inv);
    }
}

void packedGemv(const PackedTernaryMatrix& w, const float* x, float* y, BitKernelPath path) {
    checkPacked("packedGemv", w, 1);
    path = resolveBitKernelPath(path);
    std::vector<int8_t> xc;
    const float inv = quantizeVector(x, w.cols, xc);
    int32_t xSum = 0;  // the digits are t + 1: sum_c t x = sum_c d x - sum_c x
    for (int8_t v : xc) xSum += v;

    // x in the kernel's digit order, zero past cols: block c, digit i, lane j = x(5(W c + j) + i).
    const int64_t width = path == BitKernelPath::Avx512Vnni ? detail::kGemvChunkAvx512
                          : path == BitKernelPath::Avx2     ? detail::kGemvChunkAvx2
                                                            : 1;
    const int64_t blocks = (w.rowStride + width - 1) / width;
    std::vector<int8_t, AlignedAllocator<int8_t>> xperm(size_t(blocks * kTritsPerByte * width), 0);
    for (int64_t k = 0; k < w.cols; ++k) {
        const int64_t j = k / kTritsPerByte, i = k % kTritsPerByte;
        xperm[size_t(((j / width) * kTritsPerByte + i) * width + j % width)] = xc[size_t(k)];
    }

    std::vector<int32_t> acc(size_t(w.rows));
    parallelFor(w.rows, kGemvChunkRows, [&](int64_t r0, int64_t r1) {
        if (path == BitKernelPath::Avx512Vnni)
            detail::packedGemvRowsAvx512(w, xperm.data(), r0, r1, acc.data());
        else if (path == BitKernelPath::Avx2)
            detail::packedGemvRowsAvx2(w, xperm.data(), r0, r1, acc.data());
        else  // width 1: xperm is x zero-padded to 5 per byte
            packedGemvRowsPlain(w, xperm.data(), r0, r1, acc.data());
    });
    for (int64_t r = 0; r < w.rows; ++r) y[r] = scaleOut(acc[size_t(r)] - xSum, w.rowScale(r), inv);
}

// ---- packed GEMM ----------------------------------------------------------------------------

namespace {

// Tokens per pass over one decoded panel: their u8 activations (96 x inPad bytes, 200 KB at
// in 2048) and the panel (64 x inPad) stay in L2 while the panel's 4 groups pass over them.
constexpr int64_t kPackedGemmTokens = 96;

// x (cols, n) float -> u (inPad, n): each token's codes (quantizeActivations) as u = x + 128 in
// the panel's digit order (element k = 5 j + i at 160 (j / 32) + 32 i + j % 32), 128 past cols.
void quantizeToDigitOrder(const float* x, int64_t cols, int64_t n, int64_t inPad, uint8_t* u,
                          float* inv) {
    thread_local std::vector<int8_t> codes;  // (cols, n)
    codes.resize(size_t(cols * n));
    quantizeActivations(x, cols, n, codes.data(), inv);
    const int64_t fullBytes = cols / kTritsPerByte;
    for (int64_t t = 0; t < n; ++t) {
        const int8_t* xt = codes.data() + t * cols;
        uint8_t* ut = u + t * inPad;
        std::fill(ut, ut + inPad, uint8_t(0x80));
        for (int64_t j = 0; j < fullBytes; ++j) {
            uint8_t* dst = ut + (j / 32) * 160 + j % 32;
            for (int64_t i = 0; i < kTritsPerByte; ++i)
                dst[32 * i] = uint8_t(xt[kTritsPerByte * j + i]) ^ 0x80u;
        }
        for (int64_t k = fullBytes * kTritsPerByte; k < cols; ++k) {
            const int64_t j = k / kTritsPerByte, i = k % kTritsPerByte;
            ut[(j / 32) * 160 + 32 * i + j % 32] = uint8_t(xt[k]) ^ 0x80u;
        }
    }
}

// One thread's decoded panel (detail::kPanelRows outputs).
struct PanelBuffers {
    std::vector<int8_t, AlignedAllocator<int8_t>> codes;        // (4, inPad/4, 16, 4)
    std::vector<int32_t, AlignedAllocator<int32_t>> rowSum128;  // (kPanelRows)
    std::vector<float, AlignedAllocator<float>> rowScale;       // (kPanelRows), zero-padded
};

}  // namespace

void packedGemm(const PackedTernaryMatrix& w, const float* x, int64_t n, float* y,
                BitKernelPath path) {
    checkPacked("packedGemm", w, n);
    path = resolveBitKernelPath(path);
    if (n == 0 || w.rows == 0) return;
    if (path == BitKernelPath::Plain || n == 1) {  // one token: no panel is worth building
        for (int64_t t = 0; t < n; ++t) packedGemv(w, x + t * w.cols, y + t * w.rows, path);
        return;
    }
    constexpr int64_t kBlock = detail::kGemvChunkAvx2;  // packed bytes per decoder step
    const int64_t inPad = kTritsPerByte * kBlock * ((w.rowStride + kBlock - 1) / kBlock);
    std::vector<uint8_t, AlignedAllocator<uint8_t>> u(size_t(inPad * n));  // (inPad, n)
    std::vector<float> inv(static_cast<size_t>(n));
    parallelFor(n, kGemmChunkTokens, [&](int64_t t0, int64_t t1) {
        quantizeToDigitOrder(x + t0 * w.cols, w.cols, t1 - t0, inPad, u.data() + t0 * inPad,
                             inv.data() + t0);
    });
    parallelFor(w.rows, detail::kPanelRows, [&](int64_t r0, int64_t r1) {
        thread_local PanelBuffers b;
        b.codes.resize(size_t(detail::kPanelRows * inPad));
        b.rowSum128.resize(size_t(detail::kPanelRows));
        b.rowScale.assign(size_t(detail::kPanelRows), 0.0f);
        std::copy(w.rowScale.data() + r0, w.rowScale.data() + r1, b.rowScale.begin());
        detail::decodePackedPanelAvx2(w, r0, r1 - r0, inPad, b.codes.data(), b.rowSum128.data());
        detail::Int8Panel panel;
        panel.codes = b.codes.data();
        panel.rowSum128 = b.rowSum128.data();
        panel.rowScale = b.rowScale.data();
        panel.out = r1 - r0;
        panel.inPad = inPad;
        panel.groups = (panel.out + 15) / 16;
        for (int64_t t0 = 0; t0 < n; t0 += kPackedGemmTokens) {
            const int64_t cnt = std::min(kPackedGemmTokens, n - t0);
            const uint8_t* ut = u.data() + t0 * inPad;
            float* yt = y + t0 * w.rows + r0;
            if (path == BitKernelPath::Avx512Vnni)
                detail::bitGemmChunkAvx512(panel, ut, inv.data() + t0, cnt, yt, w.rows);
            else
                detail::bitGemmChunkAvx2(panel, ut, inv.data() + t0, cnt, yt, w.rows);
        }
    });
}

}  // namespace h158
