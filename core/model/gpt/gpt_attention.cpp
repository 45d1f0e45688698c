// Causal multi-head self-attention, forward and backward, as matrix products on (head_dim, T)
// blocks per (batch, head). Queries go in blocks of kQueryBlock so that each block only meets the
// keys it may see (0 .. last query of the block): about 5/8 of a full T x T product at T = 256.
// GCC 12's AVX-512 intrinsic headers trip these inside Eigen's kernels (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "core/model/gpt/gpt_layers.h"
#include "core/base/parallel.h"
#include "core/base/sgemm.h"
#include "core/base/vector_math.h"

namespace h158 {
namespace {

constexpr int64_t kQueryBlock = 64;

// dst (T, hd) = transpose of the (hd, T) block at src with column stride ld.
template <typename T>
void transposeHead(T* dst, const T* src, int64_t hd, int64_t Tlen, int64_t ld) {
    for (int64_t t = 0; t < Tlen; ++t)
        for (int64_t d = 0; d < hd; ++d) dst[t + d * Tlen] = src[d + t * ld];
}

}  // namespace

// Per (b, h), with Q, K, V (hd, T) (column stride 3C in qkv) and s = 1/sqrt(hd):
//   S = s Kᵀ Q (T_k, T_q);  P(:, q) = softmax over k <= q of S(:, q);  Y = V P (hd, T_q)
// Kᵀ is formed once per (b, h) so every product reads its operands column by column.
template <typename T>
void attentionForward(T* out, T* att, const T* qkv, int64_t B, int64_t Tlen, int64_t C, int64_t H) {
    // out (C, B*T); att (B, H, T, T); qkv (3C, B*T)
    const int64_t hd = C / H, ld = 3 * C;
    const T scale = T(1) / std::sqrt(T(hd));
    parallelFor(B * H, 1, [&](int64_t bh, int64_t) {
        thread_local AlignedVector<T> ktStore;
        if (ktStore.size() < size_t(Tlen * hd)) ktStore.resize(size_t(Tlen * hd));
        T* Kt = ktStore.data();  // (T, hd)
        const int64_t b = bh / H, h = bh % H;
        const T* Q = qkv + b * Tlen * ld + h * hd;  // (hd, T), stride 3C
        const T* K = Q + C;
        const T* V = Q + 2 * C;
        T* Y = out + b * Tlen * C + h * hd;  // (hd, T), stride C
        T* P = att + bh * Tlen * Tlen;       // (T_k, T_q)
        transposeHead(Kt, K, hd, Tlen, ld);
        for (int64_t q0 = 0; q0 < Tlen; q0 += kQueryBlock) {
            const int64_t q1 = std::min(Tlen, q0 + kQueryBlock), nq = q1 - q0;
            // keys 0 .. q1-1 against queries q0 .. q1-1
            gemm<T>(q1, nq, hd, scale, Kt, Tlen, Q + q0 * ld, ld, false, P + q0 * Tlen, Tlen,
                    false);
            for (int64_t q = q0; q < q1; ++q) {
                auto p = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(P + q * Tlen, q + 1);
                if constexpr (kDispatchVectorMath && std::is_same_v<T, float>)  // same exp, wider
                    vectorMath().expShifted(p.data(), p.data(), p.maxCoeff(), q + 1);
                else
                    p = (p - p.maxCoeff()).exp();
                p *= T(1) / p.sum();
                std::fill(P + q * Tlen + q + 1, P + q * Tlen + q1, T(0));  // the causal mask
            }
            gemm<T>(hd, nq, q1, T(1), V, ld, P + q0 * Tlen, Tlen, false, Y + q0 * C, C, false);
        }
    });
}

// Y = V P:            dV = dY Pᵀ,  dP = Vᵀ dY
// softmax (column q): dS(k, q) = P(k, q) (dP(k, q) - Σ_i P(i, q) dP(i, q))   (masked P = 0)
// S = s Kᵀ Q:         dQ = s K dS,  dK = s Q dSᵀ
// dqkv is overwritten: each (b, h) task owns its rows and columns of it.
template <typename T>
void attentionBackward(T* dqkv, const T* dout, const T* qkv, const T* att, int64_t B, int64_t Tlen,
                       int64_t C, int64_t H) {
    const int64_t hd = C / H, ld = 3 * C;
    const T scale = T(1) / std::sqrt(T(hd));
    parallelFor(B * H, 1, [&](int64_t bh, int64_t) {
        thread_local AlignedVector<T> scratch;
        const size_t need = size_t(Tlen * kQueryBlock + Tlen * hd);
        if (scratch.size() < need) scratch.resize(need);
        T* dS = scratch.data();           // (q1, nq): dP, then dS
        T* Vt = dS + Tlen * kQueryBlock;  // (T, hd)
        const int64_t b = bh / H, h = bh % H;
        const int64_t off = b * Tlen * ld + h * hd;
        const T *Q = qkv + off, *K = Q + C, *V = Q + 2 * C;  // (hd, T), stride 3C
        T *dQ = dqkv + off, *dK = dQ + C, *dV = dQ + 2 * C;  // (hd, T), stride 3C
        const T* dY = dout + b * Tlen * C + h * hd;          // (hd, T), stride C
        const T* P = att + bh * Tlen * Tlen;                 // (T_k, T_q)
        transposeHead(Vt, V, hd, Tlen, ld);
        for (int64_t t = 0; t < Tlen; ++t) {  // dK, dV accumulate over the query blocks
            std::fill(dK + t * ld, dK + t * ld + hd, T(0));
            std::fill(dV + t * ld, dV + t * ld + hd, T(0));
        }
        for (int64_t q0 = 0; q0 < Tlen; q0 += kQueryBlock) {
            const int64_t q1 = std::min(Tlen, q0 + kQueryBlock), nq = q1 - q0;
            const T* Pb = P + q0 * Tlen;  // (q1, nq), column stride T
            gemm<T>(hd, q1, nq, T(1), dY + q0 * C, C, Pb, Tlen, true, dV, ld, true);
            gemm<T>(q1, nq, hd, T(1), Vt, Tlen, dY + q0 * C, C, false, dS, q1, false);
            for (int64_t c = 0; c < nq; ++c) {
                auto p = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(Pb + c * Tlen, q1);
                auto d = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(dS + c * q1, q1);
                const T dot = (p * d).sum();
                d = p * (d - dot);
            }
            gemm<T>(hd, nq, q1, scale, K, ld, dS, q1, false, dQ + q0 * ld, ld, false);
            gemm<T>(hd, q1, nq, scale, Q + q0 * ld, ld, dS, q1, true, dK, ld, true);
        }
    });
}

template void attentionForward<float>(float*, float*, const float*, int64_t, int64_t, int64_t,
                                      int64_t);
template void attentionForward<double>(double*, double*, const double*, int64_t, int64_t, int64_t,
                                       int64_t);
template void attentionBackward<float>(float*, const float*, const float*, const float*, int64_t,
                                       int64_t, int64_t, int64_t);
template void attentionBackward<double>(double*, const double*, const double*, const double*,
                                        int64_t, int64_t, int64_t, int64_t);

}  // namespace h158
