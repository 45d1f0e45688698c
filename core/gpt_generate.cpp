// GptModel::generateText: byte sampling (temperature, top-k) with a per-layer key/value cache, so
// each new byte costs one column through the model instead of the whole context.
// GCC 12's AVX-512 intrinsic headers trip these inside Eigen's kernels (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/gpt_inference.h"
#include "core/gpt_layers.h"
#include "core/gpt_model.h"

namespace h158 {
// Runs tokens at positions p0 .. p0+n-1 through the model, given the cache of positions
// 0 .. p0-1, appends their keys/values to the cache and writes the last position's logits.
void GptModel::inferAppend(const float* w, const QuantState* q, const int32_t* tokens, int64_t p0,
                           int64_t n, float* logits) {
    const int64_t C = m_shape.dModel, H = m_shape.heads, hd = C / H, ctx = m_shape.context;
    const bool int8Acts = q && q->activationsInt8;
    Infer& I = m_infer;
    auto P = [&](int i) { return w + m_layout[i].offset; };
    // out (OC, n) = [residual +] Linear or BitLinear(inp (Cin, n)), the float product
    auto lin = [&](int idx, float* out, const float* inp, int64_t Cin, int64_t OC,
                   const float* residual, float* geluOut) {
        if (m_bit)
            bitLinearForward(out, I.xq.data(), I.xrstd.data(), inp, P(idx), int8Acts, n, Cin, OC,
                             residual, geluOut);
        else
            linearForward(out, inp, P(idx), n, Cin, OC, residual, geluOut);
    };
    float* x = I.x.data();  // (C, n) residual stream of the new positions
    for (int64_t i = 0; i < n; ++i)
        MapVec<float>(x + i * C, C) = CMapVec<float>(P(m_tok) + int64_t(tokens[i]) * C, C) +
                                      CMapVec<float>(P(m_pos) + (p0 + i) * C, C);
    const float scale = 1.0f / std::sqrt(float(hd));
    for (int64_t l = 0; l < m_shape.layers; ++l) {
        const BlockParams& bp = m_blocks[size_t(l)];
        float* kv = I.qkv.data() + l * 3 * C * ctx;  // (3C, ctx)
        layernormForward(I.ln.data(), I.mean.data(), I.rstd.data(), x, P(bp.ln1w), P(bp.ln1b), n,
                         C);
        lin(bp.qkv, kv + p0 * 3 * C, I.ln.data(), C, 3 * C, nullptr, nullptr);
        for (int64_t i = 0; i < n; ++i) {
            const int64_t p = p0 + i;  // query position; it sees keys 0 .. p
            for (int64_t h = 0; h < H; ++h) {
                const Eigen::OuterStride<> s3(3 * C);
                Eigen::Map<const MatF, 0, Eigen::OuterStride<>> K(kv + C + h * hd, hd, p + 1, s3);
                Eigen::Map<const MatF, 0, Eigen::OuterStride<>> V(kv + 2 * C + h * hd, hd, p + 1,
                                                                  s3);
                VecF s = scale * (K.transpose() * CMapVec<float>(kv + p * 3 * C + h * hd, hd));
                s = (s.array() - s.maxCoeff()).exp();
                s /= s.sum();
                MapVec<float>(I.atty.data() + i * C + h * hd, hd).noalias() = V * s;
            }
        }
        lin(bp.proj, x, I.atty.data(), C, C, x, nullptr);
        layernormForward(I.ln.data(), I.mean.data(), I.rstd.data(), x, P(bp.ln2w), P(bp.ln2b), n,
                         C);
        lin(bp.fc, I.fc.data(), I.ln.data(), C, 4 * C, nullptr, I.gelu.data());
        lin(bp.out, x, I.gelu.data(), 4 * C, C, x, nullptr);
    }
    layernormForward(I.ln.data(), I.mean.data(), I.rstd.data(), x + (n - 1) * C, P(m_lnfW),
                     P(m_lnfB), 1, C);
    linearForward(logits, I.ln.data(), P(m_head), 1, C, kVocab);
}

std::string GptModel::generateText(const float* w, const QuantState* q, const std::string& prompt,
                                   int64_t n, double temperature, int64_t topK, Rng& rng) {
    const int64_t C = m_shape.dModel, ctx = m_shape.context;
    Infer& I = m_infer;
    if (I.qkv.size() != size_t(m_shape.layers * 3 * C * ctx)) {
        I.qkv.assign(size_t(m_shape.layers * 3 * C * ctx), 0.0f);
        for (auto* v : {&I.x, &I.ln, &I.atty}) v->assign(size_t(C * ctx), 0.0f);
        for (auto* v : {&I.fc, &I.gelu, &I.xq}) v->assign(size_t(4 * C * ctx), 0.0f);
        for (auto* v : {&I.mean, &I.rstd, &I.xrstd}) v->assign(size_t(ctx), 0.0f);
        I.logits.assign(size_t(kVocab), 0.0f);
    }
    std::vector<int32_t> seq;
    for (unsigned char c : prompt) seq.push_back(int32_t(c));
    if (seq.empty()) seq.push_back('\n');
    std::string out;
    if (n <= 0) return out;
    // The cache holds seq[start, start + len) at positions 0 .. len-1.
    int64_t start = std::max<int64_t>(0, int64_t(seq.size()) - ctx);
    int64_t len = int64_t(seq.size()) - start;
    inferAppend(w, q, seq.data() + start, 0, len, I.logits.data());
    for (int64_t i = 0; i < n; ++i) {
        const int32_t next = sampleToken(I.logits, temperature, topK, rng);
        out.push_back(char(next));
        seq.push_back(next);
        if (i + 1 == n) break;
        if (len == ctx) {  // full: positions shift, so re-encode the last half of the context
            len = std::max<int64_t>(1, ctx / 2);
            start = int64_t(seq.size()) - len;
            inferAppend(w, q, seq.data() + start, 0, len, I.logits.data());
        } else {
            inferAppend(w, q, seq.data() + int64_t(seq.size()) - 1, len, 1, I.logits.data());
            ++len;
        }
    }
    return out;
}

}  // namespace h158
