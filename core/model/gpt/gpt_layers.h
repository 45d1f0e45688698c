// The GPT's layers as llm.c-style pairs of free functions `xForward` / `xBackward`, templated on
// the scalar (float for training, double for the finite-difference tests).
//
// Layout (core/base/types.h): a token is a column. Activations are (C, N) column-major with N = B*T,
// token (b, t) in column b*T + t; a weight of y = W x is (out, in). Argument order everywhere:
// outputs, caches, inputs, weights, sizes.
//
// Gradient rule: parameter gradients are ACCUMULATED (+=) — the model zeroes the flat gradient
// once per step. Input gradients are OVERWRITTEN (=), except layernormBackward, which adds its
// input gradient into `dinp` because its input is the residual stream (whose gradient is the sum
// of the residual path and the branch). `dinp` may alias `dout` only where a function says so.
//
// Work is split over both cores with parallelFor in chunks fixed by the shapes only (never by the
// thread count), so every result is bit-identical for any number of threads. Matrix products go
// through gemm<T> (core/base/sgemm.h): the packed AVX-512 kernel in float, Eigen in double.
#pragma once

#include <cstdint>
#include <functional>

#include "core/base/types.h"

namespace h158 {

// Chunk widths (in columns) used to split work; part of the determinism contract above.
inline constexpr int64_t kGemmChunk = 256;  // columns per GEMM chunk (dW: 64-row chunks)
inline constexpr int64_t kColChunk = 64;    // columns per elementwise / per-token chunk

// ---- embedding: out(:, b*T+t) = wte(:, tokens[b*T+t]) + wpe(:, t) ---------------------------
template <typename T>
void embeddingForward(T* out, const int32_t* tokens, const T* wte, const T* wpe, int64_t B,
                      int64_t Tlen, int64_t C);
template <typename T>
void embeddingBackward(T* dwte, T* dwpe, const T* dout, const int32_t* tokens, int64_t B,
                       int64_t Tlen, int64_t C);

// ---- LayerNorm over the C rows of each column, eps 1e-5 (PyTorch's default) -----------------
template <typename T>
void layernormForward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias,
                      int64_t N, int64_t C);
template <typename T>
void layernormBackward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                       const T* mean, const T* rstd, int64_t N, int64_t C);

// ---- parameter-free RMSNorm, eps 1e-6: out = inp * rstd, rstd = (mean(inp^2) + eps)^-1/2 ----
template <typename T>
void rmsnormForward(T* out, T* rstd, const T* inp, int64_t N, int64_t C);
// dinp may alias dout.
template <typename T>
void rmsnormBackward(T* dinp, const T* dout, const T* inp, const T* rstd, int64_t N, int64_t C);

// ---- GELU, exact: gelu(x) = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) (F.gelu's default) ------
template <typename T>
void geluForward(T* out, const T* inp, int64_t n);
// dinp may alias dout.
template <typename T>
void geluBackward(T* dinp, const T* dout, const T* inp, int64_t n);

// ---- Linear without bias: out = W inp (+ residual) -------------------------------------------
// residual (OC, N), when non-null, is added: out = residual + W inp, the residual connection
// folded into the GEMM (residual may alias out). geluOut (OC, N), when non-null, also receives
// gelu(out), computed chunk by chunk while the chunk is in cache (the MLP's activation).
template <typename T>
void linearForward(T* out, const T* inp, const T* weight, int64_t N, int64_t C, int64_t OC,
                   const T* residual = nullptr, T* geluOut = nullptr);
// dinp may be null (not wanted). geluInp (C, N), when non-null, says inp = gelu(geluInp): dinp
// then receives the gradient w.r.t. geluInp (GELU's backward fused in, chunk by chunk).
template <typename T>
void linearBackward(T* dinp, T* dweight, const T* dout, const T* inp, const T* weight, int64_t N,
                    int64_t C, int64_t OC, const T* geluInp = nullptr);

// ---- BitLinear (BitNet b1.58): RMSNorm -> int8 absmax activations (optional) -> W~ x~ -------
// weightQ holds the already quantized weights W~ = code * rowScale as floats (the trainer
// writes them into the flat weight vector). Per token (column) c, with xn = rmsnorm(x):
//   s_c = 127 / max(max_r |xn(r,c)|, 1e-5);   x~(r,c) = clip(rint(xn(r,c) s_c), -128, 127) / s_c
// (computed as the code times 1/s_c, the factor the integer kernel applies too)
// (rint = round half to even, as torch.round). Without int8 activations x~ = xn.
// Caches: xq (C, N) = x~, rstd (N). If codes/invScale are non-null they receive the int8 codes
// (C, N) and 1/s_c (N) for an integer kernel (int8 activations only).
template <typename T>
void bitActQuantForward(T* xq, T* rstd, int8_t* codes, float* invScale, const T* inp, bool int8Acts,
                        int64_t N, int64_t C);
// residual and geluOut as for linearForward.
template <typename T>
void bitLinearForward(T* out, T* xq, T* rstd, const T* inp, const T* weightQ, bool int8Acts,
                      int64_t N, int64_t C, int64_t OC, const T* residual = nullptr,
                      T* geluOut = nullptr);
// geluInp as for linearBackward (after the RMSNorm backward).
template <typename T>
void bitLinearBackward(T* dinp, T* dweight, const T* dout, const T* inp, const T* xq, const T* rstd,
                       const T* weightQ, int64_t N, int64_t C, int64_t OC,
                       const T* geluInp = nullptr);
// The input-gradient product of one chunk of nc token columns, dx (C, nc) = W~ᵀ dy, with dy
// (OC, nc) column-major: another arithmetic for bitLinearBackward's dX (the integer kernel of
// quant.backward=int8, gpt_model.cpp). Called from inside a parallel task.
using BitDxProduct = std::function<void(float* dx, const float* dy, int64_t nc)>;
// bitLinearBackward with dX = dxProduct(dY) chunk by chunk (then the RMSNorm and GELU backward
// as there); dW as there, in fp32.
void bitLinearBackwardWith(const BitDxProduct& dxProduct, float* dinp, float* dweight,
                           const float* dout, const float* inp, const float* xq, const float* rstd,
                           int64_t N, int64_t C, int64_t OC, const float* geluInp = nullptr);

// ---- causal multi-head self-attention -----------------------------------------------------
// qkv (3C, N): rows [0, C) queries, [C, 2C) keys, [2C, 3C) values; head h uses rows
// h*hd .. h*hd+hd-1 of each (hd = C / H), as PyTorch's view(B, T, 3, H, hd). out (C, N) holds the
// heads stacked the same way. att (B, H, T, T): per (b, h) a T x T column-major matrix of
// probabilities P(k, q) (column q = query, rows k <= q; entries k > q are zero or never read).
template <typename T>
void attentionForward(T* out, T* att, const T* qkv, int64_t B, int64_t Tlen, int64_t C, int64_t H);
template <typename T>
void attentionBackward(T* dqkv, const T* dout, const T* qkv, const T* att, int64_t B, int64_t Tlen,
                       int64_t C, int64_t H);

// ---- softmax cross-entropy over V rows per column, loss = mean over the N tokens ------------
// Writes per-token losses (N) and probabilities (V, N) (probs may alias logits); returns the
// mean loss. `argmax`, when non-null, receives each column's most likely class (N).
template <typename T>
double crossEntropyForward(T* losses, T* probs, const T* logits, const int32_t* targets, int64_t N,
                           int64_t V, int32_t* argmax = nullptr);
// dlogits may alias probs. dloss = dL/d(mean loss), 1 for training.
template <typename T>
void crossEntropyBackward(T* dlogits, const T* probs, const int32_t* targets, T dloss, int64_t N,
                          int64_t V);

// out = a + b (n values); the residual connection. Its backward is the identity on both inputs.
template <typename T>
void residualForward(T* out, const T* a, const T* b, int64_t n);

}  // namespace h158
