// x86 SIMD kernels behind bit_kernels.h: the int8 x ternary GEMM micro-kernels (AVX-512 VNNI,
// AVX2) and the packed-trit GEMV decoders. Each function carries its own target attribute, so
// this file builds without -march=native; bit_kernels.cpp calls them only on a capable CPU.
#include "core/bit_kernels_x86.h"

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
    int lastLanes;        // valid outputs in the tile's last group (1..16)
};

inline int32_t load4(const uint8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// acc(t, b) += sum over input groups of vpdpbusd(broadcast 4 activation bytes, 64 weight bytes):
// each 32-bit lane j of group b gets sum_{i<4} u(4g + i, t) * W(16b + j, 4g + i).
template <int NB, int NT>
H158_TARGET_AVX512 void tileAvx512(TileArgs a) {
    __m512i acc[NT][NB];
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t)
#pragma GCC unroll 4
        for (int b = 0; b < NB; ++b) acc[t][b] = _mm512_setzero_si512();
    const int8_t* wp = a.w;
    const uint8_t* xp = a.x;
    for (int64_t g = 0; g < a.kGroups; ++g, wp += 64, xp += 4) {
        __m512i wv[NB];
#pragma GCC unroll 4
        for (int b = 0; b < NB; ++b) wv[b] = _mm512_load_si512(wp + b * a.groupStride);
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) {
            const __m512i xv = _mm512_set1_epi32(load4(xp + t * a.ldx));
#pragma GCC unroll 4
            for (int b = 0; b < NB; ++b) acc[t][b] = _mm512_dpbusd_epi32(acc[t][b], xv, wv[b]);
        }
    }
    // y = (float(acc - 128 rowSum) * rowScale) * invScale, the order fixed in bit_kernels.h.
#pragma GCC unroll 4
    for (int b = 0; b < NB; ++b) {
        const __m512i corr = _mm512_load_si512(a.corr + 16 * b);
        const __m512 scale = _mm512_load_ps(a.scale + 16 * b);
        const __mmask16 mask =
            b == NB - 1 ? __mmask16((1u << a.lastLanes) - 1u) : __mmask16(0xffff);
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) {
            __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[t][b], corr));
            v = _mm512_mul_ps(_mm512_mul_ps(v, scale), _mm512_set1_ps(a.inv[t]));
            _mm512_mask_storeu_ps(a.y + t * a.ldy + 16 * b, mask, v);
        }
    }
}

// The same with 256-bit vectors and no VNNI: one group of 16 outputs (two ymm halves) x NT
// tokens; vpmaddubsw forms u8 x s8 pair sums in int16 (|.| <= 1020, exact), vpmaddwd by 1
// widens them to int32 pairs.
template <int NT>
H158_TARGET_AVX2 void tileAvx2(TileArgs a) {
    __m256i acc[NT][2];
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1);
    const int8_t* wp = a.w;
    const uint8_t* xp = a.x;
    for (int64_t g = 0; g < a.kGroups; ++g, wp += 64, xp += 4) {
        const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(wp));
        const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(wp + 32));
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) {
            const __m256i xv = _mm256_set1_epi32(load4(xp + t * a.ldx));
            acc[t][0] =
                _mm256_add_epi32(acc[t][0], _mm256_madd_epi16(_mm256_maddubs_epi16(xv, w0), ones));
            acc[t][1] =
                _mm256_add_epi32(acc[t][1], _mm256_madd_epi16(_mm256_maddubs_epi16(xv, w1), ones));
        }
    }
    for (int h = 0; h < 2; ++h) {
        const int lanes = std::min(8, a.lastLanes - 8 * h);
        if (lanes <= 0) break;
        const __m256i corr = _mm256_load_si256(reinterpret_cast<const __m256i*>(a.corr + 8 * h));
        const __m256 scale = _mm256_load_ps(a.scale + 8 * h);
        const __m256i mask =
            _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#pragma GCC unroll 8
        for (int t = 0; t < NT; ++t) {
            __m256 v = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc[t][h], corr));
            v = _mm256_mul_ps(_mm256_mul_ps(v, scale), _mm256_set1_ps(a.inv[t]));
            if (lanes == 8)
                _mm256_storeu_ps(a.y + t * a.ldy + 8 * h, v);
            else
                _mm256_maskstore_ps(a.y + t * a.ldy + 8 * h, mask, v);
        }
    }
}

using TileFn = void (*)(TileArgs);  // by value: stores through y cannot alias the fields

constexpr int kTileGroupsAvx512 = 4;  // 64 outputs
// 16 accumulators: GCC 12 spills larger tiles (6 tokens x 4 groups = 24) to the stack.
constexpr int kTileTokensAvx512 = 4;
constexpr int kTileTokensAvx2 = 4;  // 8 accumulators of 16 ymm

template <int NB, int... NT>
constexpr auto avx512Row(std::integer_sequence<int, NT...>) {
    return std::array<TileFn, sizeof...(NT)>{&tileAvx512<NB, NT + 1>...};
}
const std::array<std::array<TileFn, kTileTokensAvx512>, kTileGroupsAvx512> kAvx512Tiles = {
    avx512Row<1>(std::make_integer_sequence<int, kTileTokensAvx512>()),
    avx512Row<2>(std::make_integer_sequence<int, kTileTokensAvx512>()),
    avx512Row<3>(std::make_integer_sequence<int, kTileTokensAvx512>()),
    avx512Row<4>(std::make_integer_sequence<int, kTileTokensAvx512>())};
const std::array<TileFn, kTileTokensAvx2> kAvx2Tiles = {&tileAvx2<1>, &tileAvx2<2>, &tileAvx2<3>,
                                                        &tileAvx2<4>};

// Walks the chunk: output blocks outside (their weight panel stays in L1), token tiles inside.
template <typename Pick>
void runTiles(const PreparedBitWeights& w, const uint8_t* xu, const float* inv, int64_t cnt,
              float* y, int groupsPerTile, int tokensPerTile, Pick pick) {
    const int64_t groupStride = w.inPad * 16;
    for (int64_t s0 = 0; s0 < w.groups; s0 += groupsPerTile) {
        const int nb = int(std::min<int64_t>(groupsPerTile, w.groups - s0));
        const bool last = s0 + nb == w.groups;
        TileArgs a;
        a.w = w.packed.data() + s0 * groupStride;
        a.groupStride = groupStride;
        a.kGroups = w.inPad / 4;
        a.ldx = w.inPad;
        a.corr = w.rowSum128.data() + 16 * s0;
        a.scale = w.rowScale.data() + 16 * s0;
        a.ldy = w.out;
        a.lastLanes = last ? int(w.out - 16 * (w.groups - 1)) : 16;
        for (int64_t t = 0; t < cnt; t += tokensPerTile) {
            const int nt = int(std::min<int64_t>(tokensPerTile, cnt - t));
            a.x = xu + t * w.inPad;
            a.inv = inv + t;
            a.y = y + t * w.out + 16 * s0;
            pick(nb, nt)(a);
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
    // [q > 17], q - 9 d4 in [0, 8] gives d2, d3. int16 sums of the 5 digit products stay
    // within 5 * 2 * 2 * 128.
    H158_TARGET_AVX2 __m256i dot(__m256i acc, __m256i b, const int8_t* x) const {
        const __m256i qLo = _mm256_mulhi_epu16(_mm256_and_si256(b, lowByte), magic);
        const __m256i qHi = _mm256_mulhi_epu16(_mm256_srli_epi16(b, 8), magic);
        const __m256i q = _mm256_or_si256(qLo, _mm256_slli_epi16(qHi, 8));
        const __m256i r = _mm256_sub_epi8(b, _mm256_mullo_epi16(q, nine));
        const __m256i gt8 = _mm256_cmpgt_epi8(q, eight), gt17 = _mm256_cmpgt_epi8(q, seventeen);
        const __m256i d4 = _mm256_sub_epi8(_mm256_setzero_si256(), _mm256_add_epi8(gt8, gt17));
        const __m256i r2 = _mm256_sub_epi8(q, _mm256_add_epi8(_mm256_and_si256(gt8, nineBytes),
                                                              _mm256_and_si256(gt17, nineBytes)));
        __m256i s = _mm256_maddubs_epi16(_mm256_shuffle_epi8(mod3, r), load256(x));
        s = _mm256_add_epi16(s,
                             _mm256_maddubs_epi16(_mm256_shuffle_epi8(div3, r), load256(x + 32)));
        s = _mm256_add_epi16(s,
                             _mm256_maddubs_epi16(_mm256_shuffle_epi8(mod3, r2), load256(x + 64)));
        s = _mm256_add_epi16(s,
                             _mm256_maddubs_epi16(_mm256_shuffle_epi8(div3, r2), load256(x + 96)));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(d4, load256(x + 128)));
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

}  // namespace

H158_TARGET_AVX512 void bitGemmChunkAvx512(const PreparedBitWeights& w, const uint8_t* xu,
                                           const float* inv, int64_t cnt, float* y) {
    runTiles(w, xu, inv, cnt, y, kTileGroupsAvx512, kTileTokensAvx512,
             [](int nb, int nt) { return kAvx512Tiles[size_t(nb - 1)][size_t(nt - 1)]; });
}

H158_TARGET_AVX2 void bitGemmChunkAvx2(const PreparedBitWeights& w, const uint8_t* xu,
                                       const float* inv, int64_t cnt, float* y) {
    runTiles(w, xu, inv, cnt, y, 1, kTileTokensAvx2,
             [](int, int nt) { return kAvx2Tiles[size_t(nt - 1)]; });
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

void bitGemmChunkAvx512(const PreparedBitWeights&, const uint8_t*, const float*, int64_t, float*) {}
void bitGemmChunkAvx2(const PreparedBitWeights&, const uint8_t*, const float*, int64_t, float*) {}
void packedGemvRowsAvx512(const PackedTernaryMatrix&, const int8_t*, int64_t, int64_t, int32_t*) {}
void packedGemvRowsAvx2(const PackedTernaryMatrix&, const int8_t*, int64_t, int64_t, int32_t*) {}

#endif

}  // namespace h158::detail
