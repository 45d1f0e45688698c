// Causal multi-head self-attention, forward and backward, as Eigen products on (head_dim, T)
// blocks per (batch, head). Queries go in blocks of kQueryBlock so that each block only meets the
// keys it may see (0 .. last query of the block): about half the work of a full T x T product.
// GCC 12's AVX-512 intrinsic headers trip these inside Eigen's kernels (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/gpt_layers.h"
#include "core/parallel.h"

namespace h158 {
namespace {

constexpr int64_t kQueryBlock = 64;

template <typename T>
using StridedMat = Eigen::Map<Mat<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using CStridedMat = Eigen::Map<const Mat<T>, 0, Eigen::OuterStride<>>;

}  // namespace

// Per (b, h), with Q, K, V (hd, T) and s = 1/sqrt(hd):
//   S = s Kᵀ Q (T_k, T_q);  P(:, q) = softmax over k <= q of S(:, q);  Y = V P (hd, T_q)
template <typename T>
void attentionForward(T* out, T* att, const T* qkv, int64_t B, int64_t Tlen, int64_t C,
                      int64_t H) {
    // out (C, B*T); att (B, H, T, T); qkv (3C, B*T)
    const int64_t hd = C / H;
    const T scale = T(1) / std::sqrt(T(hd));
    parallelFor(B * H, 1, [&](int64_t bh, int64_t) {
        const int64_t b = bh / H, h = bh % H;
        const T* base = qkv + b * Tlen * 3 * C + h * hd;
        CStridedMat<T> Q(base, hd, Tlen, Eigen::OuterStride<>(3 * C));          // (hd, T)
        CStridedMat<T> K(base + C, hd, Tlen, Eigen::OuterStride<>(3 * C));      // (hd, T)
        CStridedMat<T> V(base + 2 * C, hd, Tlen, Eigen::OuterStride<>(3 * C));  // (hd, T)
        StridedMat<T> Y(out + b * Tlen * C + h * hd, hd, Tlen, Eigen::OuterStride<>(C));
        MapMat<T> P(att + bh * Tlen * Tlen, Tlen, Tlen);  // (T_k, T_q)
        for (int64_t q0 = 0; q0 < Tlen; q0 += kQueryBlock) {
            const int64_t q1 = std::min(Tlen, q0 + kQueryBlock), nq = q1 - q0;
            auto Pb = P.block(0, q0, q1, nq);  // keys 0 .. q1-1 for queries q0 .. q1-1
            Pb.noalias() = scale * (K.leftCols(q1).transpose() * Q.middleCols(q0, nq));
            for (int64_t q = q0; q < q1; ++q) {
                auto p = P.col(q).head(q + 1).array();
                p = (p - p.maxCoeff()).exp();
                p /= p.sum();
                P.col(q).segment(q + 1, q1 - q - 1).setZero();  // the causal mask
            }
            Y.middleCols(q0, nq).noalias() = V.leftCols(q1) * Pb;
        }
    });
}

// Y = V P:            dV = dY Pᵀ,  dP = Vᵀ dY
// softmax (column q): dS(k, q) = P(k, q) (dP(k, q) - Σ_i P(i, q) dP(i, q))   (masked P = 0)
// S = s Kᵀ Q:         dQ = s K dS,  dK = s Q dSᵀ
// dqkv is overwritten: each (b, h) task owns its rows and columns of it.
template <typename T>
void attentionBackward(T* dqkv, const T* dout, const T* qkv, const T* att, int64_t B,
                       int64_t Tlen, int64_t C, int64_t H) {
    const int64_t hd = C / H;
    const T scale = T(1) / std::sqrt(T(hd));
    parallelFor(B * H, 1, [&](int64_t bh, int64_t) {
        thread_local std::vector<T> scratch;
        if (scratch.size() < size_t(Tlen * kQueryBlock)) scratch.resize(size_t(Tlen * kQueryBlock));
        const int64_t b = bh / H, h = bh % H;
        const int64_t off = b * Tlen * 3 * C + h * hd;
        const Eigen::OuterStride<> s3(3 * C);
        CStridedMat<T> Q(qkv + off, hd, Tlen, s3), K(qkv + off + C, hd, Tlen, s3),
            V(qkv + off + 2 * C, hd, Tlen, s3);                                   // (hd, T)
        StridedMat<T> dQ(dqkv + off, hd, Tlen, s3), dK(dqkv + off + C, hd, Tlen, s3),
            dV(dqkv + off + 2 * C, hd, Tlen, s3);                                 // (hd, T)
        CStridedMat<T> dY(dout + b * Tlen * C + h * hd, hd, Tlen, Eigen::OuterStride<>(C));
        CMapMat<T> P(att + bh * Tlen * Tlen, Tlen, Tlen);                         // (T_k, T_q)
        dK.setZero();
        dV.setZero();
        for (int64_t q0 = 0; q0 < Tlen; q0 += kQueryBlock) {
            const int64_t q1 = std::min(Tlen, q0 + kQueryBlock), nq = q1 - q0;
            auto Pb = P.block(0, q0, q1, nq);
            MapMat<T> dS(scratch.data(), q1, nq);  // (T_k, nq): first dP, then dS in place
            dV.leftCols(q1).noalias() += dY.middleCols(q0, nq) * Pb.transpose();
            dS.noalias() = V.leftCols(q1).transpose() * dY.middleCols(q0, nq);
            for (int64_t c = 0; c < nq; ++c) {
                const T dot = Pb.col(c).dot(dS.col(c));
                dS.col(c).array() = Pb.col(c).array() * (dS.col(c).array() - dot);
            }
            dQ.middleCols(q0, nq).noalias() = scale * (K.leftCols(q1) * dS);
            dK.leftCols(q1).noalias() += scale * (Q.middleCols(q0, nq) * dS.transpose());
        }
    });
}

template void attentionForward<float>(float*, float*, const float*, int64_t, int64_t, int64_t,
                                      int64_t);
template void attentionForward<double>(double*, double*, const double*, int64_t, int64_t,
                                       int64_t, int64_t);
template void attentionBackward<float>(float*, const float*, const float*, const float*, int64_t,
                                       int64_t, int64_t, int64_t);
template void attentionBackward<double>(double*, const double*, const double*, const double*,
                                        int64_t, int64_t, int64_t, int64_t);

}  // namespace h158
