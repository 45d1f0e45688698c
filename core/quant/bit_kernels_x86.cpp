// x86 SIMD kernels behind bit_kernels.h: the int8 x ternary GEMM micro-kernels (AVX-512 VNNI,
// AVX2), the packed-trit GEMV decoders and the packed GEMM's trit-to-panel decoder. Each function
// carries its own target attribute, so this file builds without -march=native; bit_kernels.cpp
// calls them only on a capable CPU.
#include "core/quant/bit_kernels_x86.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define H158_X86 1
// GCC 12.2's AVX-512 headers seed results with a self-initialized "undefined" vector, which
// -Wuninitialized reports once inlined here (GCC bug 105593, fixed in 12.3).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define H158_TARGET_AVX512 \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi,avx2,fma")))
#define H158_TARGET_AVX2 __attribute__((target("avx2,fma")))
#if defined(__clang__)
#define H158_NO_TREE_PRE
#else
#define H158_NO_TREE_PRE __attribute__((optimize("no-tree-pre")))  // see tileAvx512
#endif
#endif

namespace h158::detail {

#ifdef H158_X86
namespace {

// A register tile of the GEMM: NB groups of 16 outputs x NT tokens.
struct TileArgs {
    const int8_t* w;      // packed weights of the tile's first output group
    int64_t groupStride;  // bytes between output groups (inPad * 16)
    int64_t kGroups;      // inPad / 4
    const uint8_t* x;     // u8 column of the tile's first token
    int64_t ldx;          // inPad
    const int32_t* corr;  // 128 * rowSum of the tile's first output
    const float* scale;   // rowScale of the tile's first output
    const float* inv;     // invScale of the tile's first token
    float* y;             // y(first output, first token)
    int64_t ldy;          // out
    int lanes[4];         // valid outputs in each of the tile's groups (0..16)
};

inline int32_t load4(const uint8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// Four groups of 16 outputs for one token, as named members: GCC 12 keeps these in registers,
// where an array of vectors (acc[NT][NB]) is spilled to the stack on every iteration.
struct Acc4 {
    __m512i v0, v1, v2, v3;
};

// acc.v_b += vpdpbusd(broadcast u(4g .. 4g+3, t), 64 weight bytes of group b): each 32-bit lane
// j of group b gets sum_{i<4} u(4g + i, t) * W(16b + j, 4g + i).
H158_TARGET_AVX512 inline void dot4(Acc4& acc, const uint8_t* x, __m512i w0, __m512i w1, __m512i w2,
                                    __m512i w3) {
    const __m512i xv = _mm512_set1_epi32(load4(x));
    acc.v0 = _mm512_dpbusd_epi32(acc.v0, xv, w0);
    acc.v1 = _mm512_dpbusd_epi32(acc.v1, xv, w1);
    acc.v2 = _mm512_dpbusd_epi32(acc.v2, xv, w2);
    acc.v3 = _mm512_dpbusd_epi32(acc.v3, xv, w3);
}

// y = (float(acc - 128 rowSum) * rowScale) * invScale, the order fixed in bit_kernels.h; lanes
// past the layer's outputs are masked off.
H158_TARGET_AVX512 inline void store4(const Acc4& acc, const TileArgs& a, int t) {
    const __m512i v[4] = {acc.v0, acc.v1, acc.v2, acc.v3};
    const __m512 inv = _mm512_set1_ps(a.inv[t]);
    for (int b = 0; b < 4; ++b) {
        const __m512i corr = _mm512_load_si512(a.corr + 16 * b);
        const __m512 scale = _mm512_load_ps(a.scale + 16 * b);
        const __m512 f = _mm512_cvtepi32_ps(_mm512_sub_epi32(v[b], corr));
        _mm512_mask_storeu_ps(a.y + t * a.ldy + 16 * b, __mmask16((1u << a.lanes[b]) - 1u),
                              _mm512_mul_ps(_mm512_mul_ps(f, scale), inv));
    }
}

// The register tile: 4 groups (64 outputs) x NT <= 6 tokens = 24 accumulators, 4 weight
// vectors and a broadcast of the 32 zmm registers; per input group 4 + NT loads feed 4 NT
// vpdpbusd. Without tree-PRE: GCC 12's PRE otherwise makes copies of the 24 accumulators
// around the loop and spills them (that version ran at ~550 GOPS here, this one ~800).
template <int NT>
H158_TARGET_AVX512 H158_NO_TREE_PRE void tileAvx512(TileArgs a) {
    const __m512i z = _mm512_setzero_si512();
    Acc4 r0{z, z, z, z}, r1 = r0, r2 = r0, r3 = r0, r4 = r0, r5 = r0;
    const int8_t* wp = a.w;
    const uint8_t* xp = a.x;
    const int64_t gs = a.groupStride, ldx = a.ldx;
    for (int64_t g = 0; g < a.kGroups; ++g, wp += 64, xp += 4) {
        const __m512i w0 = _mm512_load_si512(wp), w1 = _mm512_load_si512(wp + gs),
                      w2 = _mm512_load_si512(wp + 2 * gs), w3 = _mm512_load_si512(wp + 3 * gs);
        dot4(r0, xp, w0, w1, w2, w3);
        if constexpr (NT > 1) dot4(r1, xp + ldx, w0, w1, w2, w3);
        if constexpr (NT > 2) dot4(r2, xp + 2 * ldx, w0, w1, w2, w3);
        if constexpr (NT > 3) dot4(r3, xp + 3 * ldx, w0, w1, w2, w3);
        if constexpr (NT > 4) dot4(r4, xp + 4 * ldx, w0, w1, w2, w3);
        if constexpr (NT > 5) dot4(r5, xp + 5 * ldx, w0, w1, w2, w3);
    }
    store4(r0, a, 0);
    if constexpr (NT > 1) store4(r1, a, 1);
    if constexpr (NT > 2) store4(r2, a, 2);
    if constexpr (NT > 3) store4(r3, a, 3);
    if constexpr (NT > 4) store4(r4, a, 4);
    if constexpr (NT > 5) store4(r5, a, 5);
}

// The same with 256-bit vectors and no VNNI: one group of 16 outputs (two ymm halves) x NT <= 4
// tokens; vpmaddubsw forms u8 x s8 pair sums in int16 (|.| <= 2 * 255 * 2 = 1020, exact), which
// are added in int16 for up to kInt16Steps input groups (32 * 1020 = 32640 < 2^15, exact) before
// vpmaddwd by 1 widens them into the int32 sums: one multiply per 32 products instead of two.
struct Acc2 {
    __m256i v0, v1;
};

constexpr int64_t kInt16Steps = 32;

H158_TARGET_AVX2 inline void dot2(Acc2& acc, const uint8_t* x, __m256i w0, __m256i w1) {
    const __m256i xv = _mm256_set1_epi32(load4(x));
    acc.v0 = _mm256_add_epi16(acc.v0, _mm256_maddubs_epi16(xv, w0));
    acc.v1 = _mm256_add_epi16(acc.v1, _mm256_maddubs_epi16(xv, w1));
}

H158_TARGET_AVX2 inline void widen2(Acc2& acc, const Acc2& s, __m256i ones) {
    acc.v0 = _mm256_add_epi32(acc.v0, _mm256_madd_epi16(s.v0, ones));
    acc.v1 = _mm256_add_epi32(acc.v1, _mm256_madd_epi16(s.v1, ones));
}

H158_TARGET_AVX2 inline void store2(const Acc2& acc, const TileArgs& a, int t) {
    const __m256i v[2] = {acc.v0, acc.v1};
    const __m256 inv = _mm256_set1_ps(a.inv[t]);
    for (int h = 0; h < 2; ++h) {
        const int lanes = std::min(8, a.lanes[0] - 8 * h);
        if (lanes <= 0) break;
        const __m256i corr = _mm256_load_si256(reinterpret_cast<const __m256i*>(a.corr + 8 * h));
        const __m256 scale = _mm256_load_ps(a.scale + 8 * h);
        const __m256 f = _mm256_cvtepi32_ps(_mm256_sub_epi32(v[h], corr));
        const __m256 y = _mm256_mul_ps(_mm256_mul_ps(f, scale), inv);
        float* dst = a.y + t * a.ldy + 8 * h;
        if (lanes == 8)
            _mm256_storeu_ps(dst, y);
        else
            _mm256_maskstore_ps(dst,
                                _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes),
                                                   _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
                                y);
    }
}

// One stretch of at most kInt16Steps input groups into int16 sums s[0 .. NT). Not inlined: on
// its own GCC keeps the pointers and the 8 sums in registers (inlined into tileAvx2 it spilled
// the activation pointer and copied every sum once per step, about 2x slower).
template <int NT>
__attribute__((noinline)) H158_TARGET_AVX2 void stretchAvx2(const int8_t* wp, const uint8_t* xp,
                                                            int64_t ldx, int64_t steps, Acc2* s) {
    const __m256i z = _mm256_setzero_si256();
    Acc2 s0{z, z}, s1 = s0, s2 = s0, s3 = s0;
    for (int64_t g = 0; g < steps; ++g, wp += 64, xp += 4) {
        const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(wp));
        const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(wp + 32));
        dot2(s0, xp, w0, w1);
        if constexpr (NT > 1) dot2(s1, xp + ldx, w0, w1);
        if constexpr (NT > 2) dot2(s2, xp + 2 * ldx, w0, w1);
        if constexpr (NT > 3) dot2(s3, xp + 3 * ldx, w0, w1);
    }
    s[0] = s0;
    if constexpr (NT > 1) s[1] = s1;
    if constexpr (NT > 2) s[2] = s2;
    if constexpr (NT > 3) s[3] = s3;
}

template <int NT>
H158_TARGET_AVX2 void tileAvx2(TileArgs a) {
    const __m256i z = _mm256_setzero_si256(), ones = _mm256_set1_epi16(1);
    Acc2 r0{z, z}, r1 = r0, r2 = r0, r3 = r0;  // int32 sums
    for (int64_t g0 = 0; g0 < a.kGroups; g0 += kInt16Steps) {
        Acc2 s[4];
        stretchAvx2<NT>(a.w + 64 * g0, a.x + 4 * g0, a.ldx, std::min(kInt16Steps, a.kGroups - g0),
                        s);
        widen2(r0, s[0], ones);
        if constexpr (NT > 1) widen2(r1, s[1], ones);
        if constexpr (NT > 2) widen2(r2, s[2], ones);
        if constexpr (NT > 3) widen2(r3, s[3], ones);
    }
    store2(r0, a, 0);
    if constexpr (NT > 1) store2(r1, a, 1);
    if constexpr (NT > 2) store2(r2, a, 2);
    if constexpr (NT > 3) store2(r3, a, 3);
}

using TileFn = void (*)(TileArgs);  // by value: stores through y cannot alias the fields

constexpr int kTileGroupsAvx512 = 4;  // 64 outputs (prepareBitWeights pads to 4 groups)
constexpr int kTileTokensAvx512 = 6;
constexpr int kTileTokensAvx2 = 4;  // 8 accumulators of 16 ymm

const std::array<TileFn, kTileTokensAvx512> kAvx512Tiles = {
    &tileAvx512<1>, &tileAvx512<2>, &tileAvx512<3>, &tileAvx512<4>, &tileAvx512<5>, &tileAvx512<6>};
const std::array<TileFn, kTileTokensAvx2> kAvx2Tiles = {&tileAvx2<1>, &tileAvx2<2>, &tileAvx2<3>,
                                                        &tileAvx2<4>};

// Walks the chunk: output blocks outside (their weight panel stays in L1), token tiles inside.
template <typename Pick>
void runTiles(const Int8Panel& w, const uint8_t* xu, const float* inv, int64_t cnt, float* y,
              int64_t ldy, int groupsPerTile, int tokensPerTile, Pick pick) {
    const int64_t groupStride = w.inPad * 16;
    for (int64_t s0 = 0; s0 < w.groups; s0 += groupsPerTile) {
        TileArgs a;
        a.w = w.codes + s0 * groupStride;
        a.groupStride = groupStride;
        a.kGroups = w.inPad / 4;
        a.ldx = w.inPad;
        a.corr = w.rowSum128 + 16 * s0;
        a.scale = w.rowScale + 16 * s0;
        a.ldy = ldy;
        for (int b = 0; b < 4; ++b)
            a.lanes[b] =
                b < groupsPerTile ? int(std::clamp<int64_t>(w.out - 16 * (s0 + b), 0, 16)) : 0;
        for (int64_t t = 0; t < cnt; t += tokensPerTile) {
            const int nt = int(std::min<int64_t>(tokensPerTile, cnt - t));
            a.x = xu + t * w.inPad;
            a.inv = inv + t;
            a.y = y + t * ldy + 16 * s0;
            pick(nt)(a);
        }
    }
}

// ---- packed GEMV ----------------------------------------------------------------------------
// Digits of a packed byte b = d0 + 3 d1 + 9 d2 + 27 d3 + 81 d4: with q = b / 9 and r = b - 9q,
// (d0, d1) are the base-3 digits of r in [0, 8] and (d2, d3, d4) those of q in [0, 26].
// q comes from a 16-bit multiply-high on the even and odd bytes: floor(b * 7282 / 2^16) = b / 9
// for every b < 256, and 9q fits a byte, so one 16-bit multiply by 9 gives 9q bytewise.
alignas(64) constexpr int8_t kMod3[16] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0};
alignas(64) constexpr int8_t kDiv3[16] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0};

struct DigitTables {
    alignas(64) int8_t q0[64], q1[64], q2[64];  // digits 2, 3, 4 as functions of q
    DigitTables() {
        for (int q = 0; q < 64; ++q) {
            q0[q] = int8_t(q % 3);
            q1[q] = int8_t(q / 3 % 3);
            q2[q] = int8_t(q / 9);
        }
    }
};
const DigitTables kDigitTables;

struct Avx512Decoder {
    __m512i lowByte, magic, nine, mod3, div3, q0, q1, q2;
    H158_TARGET_AVX512 Avx512Decoder()
        : lowByte(_mm512_set1_epi16(0x00ff)),
          magic(_mm512_set1_epi16(7282)),
          nine(_mm512_set1_epi16(9)),
          mod3(_mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(kMod3)))),
          div3(_mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(kDiv3)))),
          q0(_mm512_load_si512(kDigitTables.q0)),
          q1(_mm512_load_si512(kDigitTables.q1)),
          q2(_mm512_load_si512(kDigitTables.q2)) {}

    // acc += sum_i digit_i(b) . x_i  (x: 5 x 64 bytes)
    H158_TARGET_AVX512 __m512i dot(__m512i acc, __m512i b, const int8_t* x) const {
        const __m512i qLo = _mm512_mulhi_epu16(_mm512_and_si512(b, lowByte), magic);
        const __m512i qHi = _mm512_mulhi_epu16(_mm512_srli_epi16(b, 8), magic);
        const __m512i q = _mm512_or_si512(qLo, _mm512_slli_epi16(qHi, 8));
        const __m512i r = _mm512_sub_epi8(b, _mm512_mullo_epi16(q, nine));
        acc = _mm512_dpbusd_epi32(acc, _mm512_shuffle_epi8(mod3, r), _mm512_load_si512(x));
        acc = _mm512_dpbusd_epi32(acc, _mm512_shuffle_epi8(div3, r), _mm512_load_si512(x + 64));
        acc = _mm512_dpbusd_epi32(acc, _mm512_permutexvar_epi8(q, q0), _mm512_load_si512(x + 128));
        acc = _mm512_dpbusd_epi32(acc, _mm512_permutexvar_epi8(q, q1), _mm512_load_si512(x + 192));
        acc = _mm512_dpbusd_epi32(acc, _mm512_permutexvar_epi8(q, q2), _mm512_load_si512(x + 256));
        return acc;
    }
};

// R rows at once share the x loads; the row tail is a masked (fault-free) load.
template <int R>
H158_TARGET_AVX512 void gemvRowsAvx512(const Avx512Decoder& dec, const uint8_t* rows,
                                       int64_t stride, const int8_t* xperm, int32_t* acc) {
    const int64_t full = stride / 64;
    const int64_t tail = stride - 64 * full;
    const __mmask64 tailMask = tail ? __mmask64(~0ull >> (64 - tail)) : __mmask64(0);
    __m512i sum[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) sum[r] = _mm512_setzero_si512();
    for (int64_t c = 0; c < full; ++c) {
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r)
            sum[r] =
                dec.dot(sum[r], _mm512_loadu_si512(rows + r * stride + 64 * c), xperm + 320 * c);
    }
    if (tailMask) {
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r)
            sum[r] =
                dec.dot(sum[r], _mm512_maskz_loadu_epi8(tailMask, rows + r * stride + 64 * full),
                        xperm + 320 * full);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r] = _mm512_reduce_add_epi32(sum[r]);
}

H158_TARGET_AVX2 inline __m256i load256(const void* p) {
    return _mm256_load_si256(static_cast<const __m256i*>(p));
}

struct Avx2Decoder {
    __m256i lowByte, magic, nine, mod3, div3, eight, seventeen, nineBytes, ones;
    H158_TARGET_AVX2 Avx2Decoder()
        : lowByte(_mm256_set1_epi16(0x00ff)),
          magic(_mm256_set1_epi16(7282)),
          nine(_mm256_set1_epi16(9)),
          mod3(
              _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(kMod3)))),
          div3(
              _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(kDiv3)))),
          eight(_mm256_set1_epi8(8)),
          seventeen(_mm256_set1_epi8(17)),
          nineBytes(_mm256_set1_epi8(9)),
          ones(_mm256_set1_epi16(1)) {}

    // As the AVX-512 decoder, but q in [0, 26] splits by compares (no vpermb): d4 = [q > 8] +
    // [q > 17], q - 9 d4 in [0, 8] gives d2, d3.
    H158_TARGET_AVX2 void digits(__m256i b, __m256i d[5]) const {
        const __m256i qLo = _mm256_mulhi_epu16(_mm256_and_si256(b, lowByte), magic);
        const __m256i qHi = _mm256_mulhi_epu16(_mm256_srli_epi16(b, 8), magic);
        const __m256i q = _mm256_or_si256(qLo, _mm256_slli_epi16(qHi, 8));
        const __m256i r = _mm256_sub_epi8(b, _mm256_mullo_epi16(q, nine));
        const __m256i gt8 = _mm256_cmpgt_epi8(q, eight), gt17 = _mm256_cmpgt_epi8(q, seventeen);
        const __m256i r2 = _mm256_sub_epi8(q, _mm256_add_epi8(_mm256_and_si256(gt8, nineBytes),
                                                              _mm256_and_si256(gt17, nineBytes)));
        d[0] = _mm256_shuffle_epi8(mod3, r);
        d[1] = _mm256_shuffle_epi8(div3, r);
        d[2] = _mm256_shuffle_epi8(mod3, r2);
        d[3] = _mm256_shuffle_epi8(div3, r2);
        d[4] = _mm256_sub_epi8(_mm256_setzero_si256(), _mm256_add_epi8(gt8, gt17));
    }

    // acc += sum_i digit_i(b) . x_i (x: 5 x 32 bytes). int16 sums of the 5 digit products stay
    // within 5 * 2 * 2 * 128.
    H158_TARGET_AVX2 __m256i dot(__m256i acc, __m256i b, const int8_t* x) const {
        __m256i d[5];
        digits(b, d);
        __m256i s = _mm256_maddubs_epi16(d[0], load256(x));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(d[1], load256(x + 32)));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(d[2], load256(x + 64)));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(d[3], load256(x + 96)));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(d[4], load256(x + 128)));
        return _mm256_add_epi32(acc, _mm256_madd_epi16(s, ones));
    }
};

H158_TARGET_AVX2 int32_t reduceAdd(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

template <int R>
H158_TARGET_AVX2 void gemvRowsAvx2(const Avx2Decoder& dec, const uint8_t* rows, int64_t stride,
                                   const int8_t* xperm, int32_t* acc) {
    const int64_t full = stride / 32, tail = stride - 32 * full;
    __m256i sum[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) sum[r] = _mm256_setzero_si256();
    for (int64_t c = 0; c < full; ++c) {
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r)
            sum[r] = dec.dot(
                sum[r],
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows + r * stride + 32 * c)),
                xperm + 160 * c);
    }
    if (tail) {  // zero bytes decode to digit 0 and add nothing
        for (int r = 0; r < R; ++r) {
            alignas(32) uint8_t buf[32] = {};
            std::memcpy(buf, rows + r * stride + 32 * full, size_t(tail));
            sum[r] = dec.dot(sum[r], _mm256_load_si256(reinterpret_cast<const __m256i*>(buf)),
                             xperm + 160 * full);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r] = reduceAdd(sum[r]);
}

// Transposes 8 x 8 32-bit words: row j of the result holds word j of each input, in order.
H158_TARGET_AVX2 void transpose8x32(__m256i v[8]) {
    __m256i t[8], u[8];
    for (int k = 0; k < 4; ++k) {
        t[2 * k] = _mm256_unpacklo_epi32(v[2 * k], v[2 * k + 1]);
        t[2 * k + 1] = _mm256_unpackhi_epi32(v[2 * k], v[2 * k + 1]);
    }
    for (int k = 0; k < 2; ++k) {  // u[4k + m]: word m (and m + 4) of rows 4k .. 4k + 3
        u[4 * k] = _mm256_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
        u[4 * k + 1] = _mm256_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
        u[4 * k + 2] = _mm256_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
        u[4 * k + 3] = _mm256_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
    }
    for (int m = 0; m < 4; ++m) {
        v[m] = _mm256_permute2x128_si256(u[m], u[4 + m], 0x20);
        v[m + 4] = _mm256_permute2x128_si256(u[m], u[4 + m], 0x31);
    }
}

}  // namespace

H158_TARGET_AVX512 void bitGemmChunkAvx512(const Int8Panel& w, const uint8_t* xu, const float* inv,
                                           int64_t cnt, float* y, int64_t ldy) {
    runTiles(w, xu, inv, cnt, y, ldy, kTileGroupsAvx512, kTileTokensAvx512,
             [](int nt) { return kAvx512Tiles[size_t(nt - 1)]; });
}

H158_TARGET_AVX2 void bitGemmChunkAvx2(const Int8Panel& w, const uint8_t* xu, const float* inv,
                                       int64_t cnt, float* y, int64_t ldy) {
    runTiles(w, xu, inv, cnt, y, ldy, 1, kTileTokensAvx2,
             [](int nt) { return kAvx2Tiles[size_t(nt - 1)]; });
}

// Per 8 rows and 32-byte block: decode each row's 5 digit vectors (as trits d - 1) into a
// row-major scratch of 8 x 160 bytes, then transpose 4-byte words so that each panel line
// (kGroup g, 8 rows x 4 codes) is one 32-byte store. Row sums come from vpsadbw on the digits.
H158_TARGET_AVX2 void decodePackedPanelAvx2(const PackedTernaryMatrix& w, int64_t r0, int64_t count,
                                            int64_t inPad, int8_t* codes, int32_t* rowSum128) {
    const Avx2Decoder dec;
    const int64_t stride = w.rowStride, blocks = inPad / 160, groupStride = inPad * 16;
    const __m256i one = _mm256_set1_epi8(1), zero = _mm256_setzero_si256();
    alignas(32) int8_t scratch[8][160];
    for (int64_t h = 0; h < kPanelRows / 8; ++h) {  // 8 rows: half a group of 16
        int8_t* dst = codes + (h / 2) * groupStride + (h % 2) * 32;
        const int64_t rows = std::clamp<int64_t>(count - 8 * h, 0, 8);
        __m256i digitSum[8];
        for (int j = 0; j < 8; ++j) digitSum[j] = zero;
        for (int64_t c = 0; c < blocks; ++c) {
            for (int64_t j = 0; j < 8; ++j) {
                if (j >= rows) {
                    for (int i = 0; i < 5; ++i)
                        _mm256_store_si256(reinterpret_cast<__m256i*>(scratch[j] + 32 * i), zero);
                    continue;
                }
                const uint8_t* src = w.bytes.data() + (r0 + 8 * h + j) * stride + 32 * c;
                __m256i b;
                if (32 * (c + 1) <= stride) {
                    b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
                } else {  // byte 121 = five zero trits past the row
                    alignas(32) uint8_t buf[32];
                    std::memset(buf, 121, sizeof(buf));
                    std::memcpy(buf, src, size_t(stride - 32 * c));
                    b = _mm256_load_si256(reinterpret_cast<const __m256i*>(buf));
                }
                __m256i d[5];
                dec.digits(b, d);
                for (int i = 0; i < 5; ++i) {
                    digitSum[j] = _mm256_add_epi64(digitSum[j], _mm256_sad_epu8(d[i], zero));
                    _mm256_store_si256(reinterpret_cast<__m256i*>(scratch[j] + 32 * i),
                                       _mm256_sub_epi8(d[i], one));
                }
            }
            for (int i = 0; i < 5; ++i) {
                __m256i v[8];
                for (int j = 0; j < 8; ++j)
                    v[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(scratch[j] + 32 * i));
                transpose8x32(v);
                const int64_t g = c * 40 + i * 8;  // first kGroup of these 32 inputs
                for (int m = 0; m < 8; ++m)
                    _mm256_store_si256(reinterpret_cast<__m256i*>(dst + (g + m) * 64), v[m]);
            }
        }
        for (int64_t j = 0; j < 8; ++j) {
            alignas(32) int64_t part[4];
            _mm256_store_si256(reinterpret_cast<__m256i*>(part), digitSum[j]);
            const int64_t sum = j < rows ? part[0] + part[1] + part[2] + part[3] - inPad : 0;
            rowSum128[8 * h + j] = int32_t(128 * sum);
        }
    }
}

H158_TARGET_AVX512 void packedGemvRowsAvx512(const PackedTernaryMatrix& w, const int8_t* xperm,
                                             int64_t r0, int64_t r1, int32_t* acc) {
    const Avx512Decoder dec;
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4)
        gemvRowsAvx512<4>(dec, w.bytes.data() + r * w.rowStride, w.rowStride, xperm, acc + r);
    for (; r < r1; ++r)
        gemvRowsAvx512<1>(dec, w.bytes.data() + r * w.rowStride, w.rowStride, xperm, acc + r);
}

H158_TARGET_AVX2 void packedGemvRowsAvx2(const PackedTernaryMatrix& w, const int8_t* xperm,
                                         int64_t r0, int64_t r1, int32_t* acc) {
    const Avx2Decoder dec;
    int64_t r = r0;
    for (; r + 2 <= r1; r += 2)
        gemvRowsAvx2<2>(dec, w.bytes.data() + r * w.rowStride, w.rowStride, xperm, acc + r);
    for (; r < r1; ++r)
        gemvRowsAvx2<1>(dec, w.bytes.data() + r * w.rowStride, w.rowStride, xperm, acc + r);
}

#else  // not x86: bit_kernels.cpp never selects these paths

void bitGemmChunkAvx512(const Int8Panel&, const uint8_t*, const float*, int64_t, float*, int64_t) {}
void bitGemmChunkAvx2(const Int8Panel&, const uint8_t*, const float*, int64_t, float*, int64_t) {}
void decodePackedPanelAvx2(const PackedTernaryMatrix&, int64_t, int64_t, int64_t, int8_t*,
                           int32_t*) {}
void packedGemvRowsAvx512(const PackedTernaryMatrix&, const int8_t*, int64_t, int64_t, int32_t*) {}
void packedGemvRowsAvx2(const PackedTernaryMatrix&, const int8_t*, int64_t, int64_t, int32_t*) {}

#endif

}  // namespace h158::detail
