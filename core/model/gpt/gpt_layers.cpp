// The GPT's per-token layers (embedding, LayerNorm, RMSNorm, GELU, Linear, BitLinear, softmax
// cross-entropy); attention is in gpt_attention.cpp. Conventions are in gpt_layers.h.
// GCC 12's AVX-512 intrinsic headers trip these inside Eigen's kernels (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "core/model/gpt/gpt_layers.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <type_traits>
#include <unsupported/Eigen/SpecialFunctions>
#include <vector>

#include "core/base/parallel.h"
#include "core/base/profile.h"
#include "core/base/sgemm.h"
#include "core/base/vector_clones.h"
#include "core/base/vector_math.h"
#include "core/quant/activation_quantizer.h"

namespace h158 {

// ---- embedding ---------------------------------------------------------------------------------

template <typename T>
void embeddingForward(T* out, const int32_t* tokens, const T* wte, const T* wpe, int64_t B,
                      int64_t Tlen, int64_t C) {
    // out (C, B*T), wte (C, V), wpe (C, >= T)
    parallelFor(B * Tlen, kColChunk * 4, [&](int64_t c0, int64_t c1) {
        for (int64_t j = c0; j < c1; ++j) {
            MapArr<T>(out + j * C, C) =
                CMapArr<T>(wte + int64_t(tokens[j]) * C, C) + CMapArr<T>(wpe + (j % Tlen) * C, C);
        }
    });
}

// d wte(:, v) = sum over columns j with tokens[j] = v of dout(:, j); d wpe(:, t) = sum_b dout(:,
// bT+t). Tasks own disjoint vocabulary ranges / positions and sum in column order: deterministic.
template <typename T>
void embeddingBackward(T* dwte, T* dwpe, const T* dout, const int32_t* tokens, int64_t B,
                       int64_t Tlen, int64_t C) {
    const int64_t N = B * Tlen;
    constexpr int64_t kVocabChunk = 32;
    const int64_t vocabTasks = (256 + kVocabChunk - 1) / kVocabChunk;
    const int64_t posTasks = (Tlen + kColChunk - 1) / kColChunk;
    parallelFor(vocabTasks + posTasks, 1, [&](int64_t task, int64_t) {
        if (task < vocabTasks) {
            const int32_t v0 = int32_t(task * kVocabChunk), v1 = v0 + int32_t(kVocabChunk);
            for (int64_t j = 0; j < N; ++j) {
                const int32_t v = tokens[j];
                if (v >= v0 && v < v1)
                    MapArr<T>(dwte + int64_t(v) * C, C) += CMapArr<T>(dout + j * C, C);
            }
        } else {
            const int64_t t0 = (task - vocabTasks) * kColChunk;
            const int64_t t1 = std::min(Tlen, t0 + kColChunk);
            for (int64_t t = t0; t < t1; ++t) {
                MapArr<T> d(dwpe + t * C, C);
                for (int64_t b = 0; b < B; ++b) d += CMapArr<T>(dout + (b * Tlen + t) * C, C);
            }
        }
    });
}

// ---- LayerNorm ---------------------------------------------------------------------------------

template <typename T>
void layernormForward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias,
                      int64_t N, int64_t C) {
    // out, inp (C, N); mean, rstd (N); weight, bias (C)
    if constexpr (kDispatchVectorMath && std::is_same_v<T, float>) {  // vector_math.h
        const VectorMathKernels& vm = vectorMath();
        parallelFor(N, kColChunk, [&](int64_t c0, int64_t c1) {
            vm.layernormForward(out + c0 * C, mean + c0, rstd + c0, inp + c0 * C, weight, bias,
                                c1 - c0, C);
        });
        return;
    }
    const T eps = T(1e-5);
    CMapArr<T> w(weight, C), b(bias, C);
    parallelFor(N, kColChunk, [&](int64_t c0, int64_t c1) {
        for (int64_t j = c0; j < c1; ++j) {
            CMapArr<T> x(inp + j * C, C);
            const T m = x.sum() / T(C);
            const T v = (x - m).square().sum() / T(C);  // biased variance, as PyTorch
            const T s = T(1) / std::sqrt(v + eps);
            MapArr<T>(out + j * C, C) = (x - m) * s * w + b;
            mean[j] = m;
            rstd[j] = s;
        }
    });
}

// y = w ⊙ n + b, n = (x - μ) r, r = (var + eps)^-1/2. With g = w ⊙ dy:
//   dx = r (g - mean(g) - n · mean(g ⊙ n))      (μ and var depend on every x_i of the column)
//   dw = Σ_j dy ⊙ n,  db = Σ_j dy
// One pass per column chunk computes dx and the chunk's partial dw, db; the partials are then
// added in chunk order (so the sums do not depend on the thread count).
template <typename T>
void layernormBackward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                       const T* mean, const T* rstd, int64_t N, int64_t C) {
    CMapArr<T> w(weight, C);
    const int64_t chunks = (N + kColChunk - 1) / kColChunk;
    thread_local AlignedVector<T> partial;  // (2C, chunks): dw then db per chunk
    if (partial.size() < size_t(2 * C * chunks)) partial.resize(size_t(2 * C * chunks));
    T* part = partial.data();
    parallelFor(N, kColChunk, [&](int64_t c0, int64_t c1) {
        MapArr<T> pw(part + (c0 / kColChunk) * 2 * C, C),
            pb(part + (c0 / kColChunk) * 2 * C + C, C);
        pw.setZero();
        pb.setZero();
        if constexpr (kDispatchVectorMath && std::is_same_v<T, float>) {  // vector_math.h
            vectorMath().layernormBackward(dinp + c0 * C, pw.data(), pb.data(), dout + c0 * C,
                                           inp + c0 * C, weight, mean + c0, rstd + c0, c1 - c0, C);
            return;
        }
        for (int64_t j = c0; j < c1; ++j) {
            CMapArr<T> x(inp + j * C, C), dy(dout + j * C, C);
            const T m = mean[j], r = rstd[j];
            auto n = (x - m) * r;  // expressions, evaluated in the loops below
            auto g = w * dy;
            const T gMean = g.sum() / T(C);
            const T gnMean = (g * n).sum() / T(C);
            MapArr<T>(dinp + j * C, C) += (g - gMean - n * gnMean) * r;
            pw += dy * n;
            pb += dy;
        }
    });
    MapArr<T> dw(dweight, C), db(dbias, C);
    for (int64_t c = 0; c < chunks; ++c) {
        dw += CMapArr<T>(part + c * 2 * C, C);
        db += CMapArr<T>(part + c * 2 * C + C, C);
    }
}

// ---- RMSNorm -----------------------------------------------------------------------------------

template <typename T>
void rmsnormForward(T* out, T* rstd, const T* inp, int64_t N, int64_t C) {
    // out, inp (C, N); rstd (N)
    parallelFor(N, kColChunk, [&](int64_t c0, int64_t c1) {
        if constexpr (kDispatchVectorMath && std::is_same_v<T, float>) {  // vector_math.h
            vectorMath().rmsnormForward(out + c0 * C, rstd + c0, inp + c0 * C, c1 - c0, C);
            return;
        }
        for (int64_t j = c0; j < c1; ++j) {
            CMapArr<T> x(inp + j * C, C);
            const T r = T(1) / std::sqrt(x.square().sum() / T(C) + T(1e-6));
            MapArr<T>(out + j * C, C) = x * r;
            rstd[j] = r;
        }
    });
}

// n = x r, r = (mean(x²) + eps)^-1/2, ∂r/∂x_i = -r³ x_i / C. So
//   dx = r dn - r³ x (Σ_i dn_i x_i) / C = r (dn - n · mean(dn ⊙ n)).
template <typename T>
void rmsnormBackward(T* dinp, const T* dout, const T* inp, const T* rstd, int64_t N, int64_t C) {
    parallelFor(N, kColChunk, [&](int64_t c0, int64_t c1) {
        if constexpr (kDispatchVectorMath && std::is_same_v<T, float>) {  // vector_math.h
            vectorMath().rmsnormBackward(dinp + c0 * C, dout + c0 * C, inp + c0 * C, rstd + c0,
                                         c1 - c0, C);
            return;
        }
        for (int64_t j = c0; j < c1; ++j) {
            CMapArr<T> x(inp + j * C, C), dn(dout + j * C, C);
            const T r = rstd[j];
            const T dnn = (dn * x).sum() * r / T(C);  // mean(dn ⊙ n)
            MapArr<T>(dinp + j * C, C) = (dn - x * (r * dnn)) * r;
        }
    });
}

// ---- GELU --------------------------------------------------------------------------------------

// In a build without AVX2 the float GELU runs vectorMath()'s kernels: the same operations as the
// Eigen expressions below, at the CPU's vector width (vector_math.h).
template <typename T>
void geluForward(T* out, const T* inp, int64_t n) {
    if constexpr (kDispatchVectorMath && std::is_same_v<T, float>) {
        const VectorMathKernels& vm = vectorMath();
        parallelFor(n, kColChunk * 1024,
                    [&](int64_t i0, int64_t i1) { vm.gelu(out + i0, inp + i0, i1 - i0); });
        return;
    }
    const T invSqrt2 = T(1) / std::numbers::sqrt2_v<T>;
    parallelFor(n, kColChunk * 1024, [&](int64_t i0, int64_t i1) {
        CMapArr<T> x(inp + i0, i1 - i0);
        MapArr<T>(out + i0, i1 - i0) = T(0.5) * x * (T(1) + (x * invSqrt2).erf());
    });
}

// d/dx [x Φ(x)] = Φ(x) + x φ(x), φ(x) = exp(-x²/2) / sqrt(2π).
template <typename T>
void geluBackward(T* dinp, const T* dout, const T* inp, int64_t n) {
    if constexpr (kDispatchVectorMath && std::is_same_v<T, float>) {
        const VectorMathKernels& vm = vectorMath();
        parallelFor(n, kColChunk * 1024, [&](int64_t i0, int64_t i1) {
            vm.geluBackward(dinp + i0, dout + i0, inp + i0, i1 - i0);
        });
        return;
    }
    const T invSqrt2 = T(1) / std::numbers::sqrt2_v<T>;
    const T invSqrt2Pi = std::numbers::inv_sqrtpi_v<T> * invSqrt2;
    parallelFor(n, kColChunk * 1024, [&](int64_t i0, int64_t i1) {
        CMapArr<T> x(inp + i0, i1 - i0), dy(dout + i0, i1 - i0);
        MapArr<T>(dinp + i0, i1 - i0) = dy * (T(0.5) * (T(1) + (x * invSqrt2).erf()) +
                                              x * invSqrt2Pi * (T(-0.5) * x.square()).exp());
    });
}

// ---- Linear ------------------------------------------------------------------------------------

template <typename T>
void linearForward(T* out, const T* inp, const T* weight, int64_t N, int64_t C, int64_t OC,
                   const T* residual, T* geluOut) {
    // out, residual, geluOut (OC, N); inp (C, N); weight (OC, C); chunks of kGemmChunk columns.
    parallelFor(N, kGemmChunk, [&](int64_t c0, int64_t c1) {
        T* Y = out + c0 * OC;
        {
            const ProfilePart part(StepPart::GemmFwd);
            if (residual && residual != out) std::copy(residual + c0 * OC, residual + c1 * OC, Y);
            gemm<T>(OC, c1 - c0, C, T(1), weight, OC, inp + c0 * C, C, false, Y, OC, residual);
        }
        if (geluOut) {
            const ProfilePart part(StepPart::Gelu);
            geluForward(geluOut + c0 * OC, Y, (c1 - c0) * OC);  // nested: serial
        }
    });
}

// y = W x:  dx = Wᵀ dy (per column chunk, with Wᵀ transposed once into a scratch),
// dW += dy xᵀ (per chunk of kDwRowChunk rows of W, the sum over all N tokens inside one GEMM).
// Both kinds of task go into one parallelFor, the long dW tasks first so the dx chunks fill in
// around them. Each dx chunk then runs, while in cache, the backward of what produced x:
// RMSNorm (BitLinear: rmsInp, rmsRstd) and/or GELU (x = gelu(geluInp)).
namespace {
template <typename T>
void linearBackwardFused(T* dinp, T* dweight, const T* dout, const T* inp, const T* weight,
                         int64_t N, int64_t C, int64_t OC, const T* rmsInp, const T* rmsRstd,
                         const T* geluInp,
                         const std::function<void(T*, const T*, int64_t)>* dxProduct = nullptr) {
    thread_local AlignedVector<T> wtStore;  // (C, OC) = Wᵀ, grown once
    if (dinp && !dxProduct) {
        if (wtStore.size() < size_t(C * OC)) wtStore.resize(size_t(C * OC));
        MapMat<T> Wt(wtStore.data(), C, OC);
        CMapMat<T> W(weight, OC, C);
        parallelFor(C, kColChunk, [&](int64_t r0, int64_t r1) {
            const ProfilePart part(StepPart::GemmDx);
            Wt.middleRows(r0, r1 - r0) = W.middleCols(r0, r1 - r0).transpose();
        });
    }
    const T* wt = wtStore.data();
    // dW in chunks of 64 rows: with 256 a 128-row weight (attention out, MLP down at d 128) was one
    // task, which one thread ran while the other finished every dX chunk and waited. Each element
    // of dW still sums its N products in the same order (sgemm's result depends only on k), so
    // the chunking changes no bit.
    constexpr int64_t kDwRowChunk = 64;
    const int64_t wTasks = (OC + kDwRowChunk - 1) / kDwRowChunk;
    const int64_t xTasks = dinp ? (N + kGemmChunk - 1) / kGemmChunk : 0;
    parallelFor(wTasks + xTasks, 1, [&](int64_t task, int64_t) {
        if (task < wTasks) {
            const ProfilePart part(StepPart::GemmDw);
            const int64_t r0 = task * kDwRowChunk, nr = std::min(OC, r0 + kDwRowChunk) - r0;
            gemm<T>(nr, C, N, T(1), dout + r0, OC, inp, C, true, dweight + r0, OC, true);
            return;
        }
        const int64_t c0 = (task - wTasks) * kGemmChunk, nc = std::min(N, c0 + kGemmChunk) - c0;
        T* dx = dinp + c0 * C;
        if (dxProduct) {
            (*dxProduct)(dx, dout + c0 * OC, nc);  // profiles its own parts
        } else {
            const ProfilePart part(StepPart::GemmDx);
            gemm<T>(C, nc, OC, T(1), wt, C, dout + c0 * OC, OC, false, dx, C, false);
        }
        if (rmsInp) {
            const ProfilePart part(StepPart::Norm);
            rmsnormBackward(dx, dx, rmsInp + c0 * C, rmsRstd + c0, nc, C);  // serial
        }
        if (geluInp) {
            const ProfilePart part(StepPart::Gelu);
            geluBackward(dx, dx, geluInp + c0 * C, nc * C);
        }
    });
}
}  // namespace

template <typename T>
void linearBackward(T* dinp, T* dweight, const T* dout, const T* inp, const T* weight, int64_t N,
                    int64_t C, int64_t OC, const T* geluInp) {
    linearBackwardFused(dinp, dweight, dout, inp, weight, N, C, OC, (const T*)nullptr,
                        (const T*)nullptr, geluInp);
}

// ---- BitLinear ---------------------------------------------------------------------------------

namespace {

// One token's column of bitActQuantForward: q = rmsnorm(x) (and, with int8Acts, its int8
// absmax fake-quantization); returns rstd. The float overload is cloned for AVX-512, AVX2 and
// plain x86-64 (H158_VECTOR_CLONES): in a portable build the rounding is otherwise a libm call
// per element. Every clone computes the same bits.
template <typename T>
__attribute__((always_inline)) inline T actQuantColumnImpl(T* q, int8_t* codes, float* invScale, const T* inp, bool int8Acts,
                            int64_t C) {
    if constexpr (kDispatchVectorMath && std::is_same_v<T, float>) {
        // The same steps as plain loops, which each clone vectorizes at its width (Eigen's would
        // stay SSE2 in every clone); the sum of squares in sumFixedOrder (vector_math.h).
        const float r =
            1.0f /
            std::sqrt(sumFixedOrder(C, [&](int64_t i) { return inp[i] * inp[i]; }) / float(C) +
                      1e-6f);
        for (int64_t i = 0; i < C; ++i) q[i] = inp[i] * r;
        if (!int8Acts) return r;
        const float s = int8AbsmaxCodes(q, C, q);
        if (codes) {
            for (int64_t i = 0; i < C; ++i) codes[i] = int8_t(q[i]);
            *invScale = 1.0f / s;
        }
        const float inv = 1.0f / s;
        for (int64_t i = 0; i < C; ++i) q[i] *= inv;
        return r;
    }
    CMapArr<T> x(inp, C);
    MapArr<T> qa(q, C);
    const T r = T(1) / std::sqrt(x.square().sum() / T(C) + T(1e-6));
    qa = x * r;
    if (!int8Acts) return r;
    // The reference's order of operations: xn = x r first, then t = xn s (rounding x (r s)
    // instead flips codes that sit near a rounding boundary).
    const T s = int8AbsmaxCodes(q, C, q);
    if (codes) {
        Eigen::Map<Eigen::Array<int8_t, Eigen::Dynamic, 1>>(codes, C) =
            qa.template cast<int8_t>();  // exact: q holds integers in [-128, 127]
        *invScale = float(T(1) / s);
    }
    qa *= T(1) / s;
    return r;
}

H158_VECTOR_CLONES
float actQuantColumn(float* q, int8_t* codes, float* invScale, const float* inp, bool int8Acts,
                     int64_t C) {
    return actQuantColumnImpl(q, codes, invScale, inp, int8Acts, C);
}

double actQuantColumn(double* q, int8_t* codes, float* invScale, const double* inp,
                      bool int8Acts, int64_t C) {
    return actQuantColumnImpl(q, codes, invScale, inp, int8Acts, C);
}

}  // namespace

template <typename T>
void bitActQuantForward(T* xq, T* rstd, int8_t* codes, float* invScale, const T* inp, bool int8Acts,
                        int64_t N, int64_t C) {
    // xq, inp, codes (C, N); rstd, invScale (N)
    parallelFor(N, kColChunk, [&](int64_t c0, int64_t c1) {
        for (int64_t j = c0; j < c1; ++j)
            rstd[j] = actQuantColumn(xq + j * C, codes ? codes + j * C : nullptr,
                                     codes ? invScale + j : nullptr, inp + j * C, int8Acts, C);
    });
}

template <typename T>
void bitLinearForward(T* out, T* xq, T* rstd, const T* inp, const T* weightQ, bool int8Acts,
                      int64_t N, int64_t C, int64_t OC, const T* residual, T* geluOut) {
    // out, residual, geluOut (OC, N); xq (C, N) cache; rstd (N) cache; inp (C, N);
    // weightQ (OC, C) = W~. Per chunk: quantize its activations, then its product (nested
    // calls run serially inside the chunk).
    parallelFor(N, kGemmChunk, [&](int64_t c0, int64_t c1) {
        {
            const ProfilePart part(StepPart::ActQuant);
            bitActQuantForward<T>(xq + c0 * C, rstd + c0, nullptr, nullptr, inp + c0 * C,
                                  int8Acts, c1 - c0, C);
        }
        linearForward(out + c0 * OC, xq + c0 * C, weightQ, c1 - c0, C, OC,
                      residual ? residual + c0 * OC : nullptr,
                      geluOut ? geluOut + c0 * OC : nullptr);
    });
}

// y = W~ x~, x~ = Qa(rmsnorm(x)), W~ = Qw(W). Straight-through: both quantizers are the identity
// in backward, so with xn = rmsnorm(x):
//   dxn = dx~ = W~ᵀ dy;  dW := dW~ = dy x~ᵀ;  dx = rmsnormBackward(dxn)
// (dinp first holds dxn, then is overwritten in place by dx.)
template <typename T>
void bitLinearBackward(T* dinp, T* dweight, const T* dout, const T* inp, const T* xq, const T* rstd,
                       const T* weightQ, int64_t N, int64_t C, int64_t OC, const T* geluInp) {
    linearBackwardFused(dinp, dweight, dout, xq, weightQ, N, C, OC, inp, rstd, geluInp);
}

void bitLinearBackwardWith(const BitDxProduct& dxProduct, float* dinp, float* dweight,
                           const float* dout, const float* inp, const float* xq, const float* rstd,
                           int64_t N, int64_t C, int64_t OC, const float* geluInp) {
    linearBackwardFused<float>(dinp, dweight, dout, xq, nullptr, N, C, OC, inp, rstd, geluInp,
                               &dxProduct);
}

// ---- softmax cross-entropy ---------------------------------------------------------------------

template <typename T>
double crossEntropyForward(T* losses, T* probs, const T* logits, const int32_t* targets, int64_t N,
                           int64_t V, int32_t* argmax) {
    // losses (N); probs, logits (V, N); targets, argmax (N)
    parallelFor(N, kColChunk, [&](int64_t c0, int64_t c1) {
        for (int64_t j = c0; j < c1; ++j) {
            CMapArr<T> z(logits + j * V, V);
            MapArr<T> p(probs + j * V, V);
            Eigen::Index arg = 0;
            const T m = z.maxCoeff(&arg);
            const T zt = z[targets[j]] - m;  // read before p (which may alias z) is written
            if constexpr (kDispatchVectorMath && std::is_same_v<T, float>)
                vectorMath().expShifted(p.data(), z.data(), m, V);  // (z - m).exp(), wider
            else
                p = (z - m).exp();
            const T sum = p.sum();
            p /= sum;
            // -log p_t = log Σ exp(z - m) - (z_t - m), accurate even when p_t underflows
            losses[j] = std::log(sum) - zt;
            if (argmax) argmax[j] = int32_t(arg);
        }
    });
    double total = 0;
    for (int64_t j = 0; j < N; ++j) total += double(losses[j]);
    return total / double(N);
}

// L = (1/N) Σ_j -log p_{t_j}(j):  dL/dz(:, j) = (p(:, j) - onehot(t_j)) / N.
template <typename T>
void crossEntropyBackward(T* dlogits, const T* probs, const int32_t* targets, T dloss, int64_t N,
                          int64_t V) {
    const T scale = dloss / T(N);
    parallelFor(N, kColChunk, [&](int64_t c0, int64_t c1) {
        for (int64_t j = c0; j < c1; ++j) {
            MapArr<T>(dlogits + j * V, V) = CMapArr<T>(probs + j * V, V) * scale;
            dlogits[j * V + targets[j]] -= scale;
        }
    });
}

template <typename T>
void residualForward(T* out, const T* a, const T* b, int64_t n) {
    parallelFor(n, kColChunk * 1024, [&](int64_t i0, int64_t i1) {
        MapArr<T>(out + i0, i1 - i0) = CMapArr<T>(a + i0, i1 - i0) + CMapArr<T>(b + i0, i1 - i0);
    });
}

#define H158_INSTANTIATE_LAYERS(T)                                                                 \
    template void embeddingForward<T>(T*, const int32_t*, const T*, const T*, int64_t, int64_t,    \
                                      int64_t);                                                    \
    template void embeddingBackward<T>(T*, T*, const T*, const int32_t*, int64_t, int64_t,         \
                                       int64_t);                                                   \
    template void layernormForward<T>(T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t); \
    template void layernormBackward<T>(T*, T*, T*, const T*, const T*, const T*, const T*,         \
                                       const T*, int64_t, int64_t);                                \
    template void rmsnormForward<T>(T*, T*, const T*, int64_t, int64_t);                           \
    template void rmsnormBackward<T>(T*, const T*, const T*, const T*, int64_t, int64_t);          \
    template void geluForward<T>(T*, const T*, int64_t);                                           \
    template void geluBackward<T>(T*, const T*, const T*, int64_t);                                \
    template void linearForward<T>(T*, const T*, const T*, int64_t, int64_t, int64_t, const T*,    \
                                   T*);                                                            \
    template void linearBackward<T>(T*, T*, const T*, const T*, const T*, int64_t, int64_t,        \
                                    int64_t, const T*);                                            \
    template void bitActQuantForward<T>(T*, T*, int8_t*, float*, const T*, bool, int64_t,          \
                                        int64_t);                                                  \
    template void bitLinearForward<T>(T*, T*, T*, const T*, const T*, bool, int64_t, int64_t,      \
                                      int64_t, const T*, T*);                                      \
    template void bitLinearBackward<T>(T*, T*, const T*, const T*, const T*, const T*, const T*,   \
                                       int64_t, int64_t, int64_t, const T*);                       \
    template double crossEntropyForward<T>(T*, T*, const T*, const int32_t*, int64_t, int64_t,     \
                                           int32_t*);                                              \
    template void crossEntropyBackward<T>(T*, const T*, const int32_t*, T, int64_t, int64_t);      \
    template void residualForward<T>(T*, const T*, const T*, int64_t);

H158_INSTANTIATE_LAYERS(float)
H158_INSTANTIATE_LAYERS(double)

}  // namespace h158
