// GptModel: parameter layout, init, and the whole forward/backward pass top to bottom over the
// layers of gpt_layers.h; text generation is GptInference's (core/infer/gpt_inference.h).
// GCC 12's AVX-512 intrinsic headers trip these inside Eigen's kernels (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "core/model/gpt/gpt_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/base/errors.h"
#include "core/quant/activation_quantizer.h"
#include "core/quant/bit_kernels.h"
#include "core/config/config.h"
#include "core/data/dataset.h"
#include "core/model/gpt/gpt_layers.h"
#include "core/base/parallel.h"
#include "core/base/profile.h"

namespace h158 {

// Activations of one forward pass, kept for backward, allocated once per (B, T) capacity.
template <typename T>
struct GptModel::Acts {
    struct Layer {
        AlignedVector<T> ln1, ln1Mean, ln1Rstd;  // (C, N), (N), (N)
        AlignedVector<T> xq1, r1;                // BitLinear qkv: x~ (C, N), rstd (N)
        AlignedVector<T> qkv;                    // (3C, N)
        AlignedVector<T> att;                    // (B, H, T, T) attention probabilities
        AlignedVector<T> atty;                   // (C, N) attention output, heads stacked
        AlignedVector<T> xq2, r2;                // BitLinear proj: (C, N), (N)
        AlignedVector<T> res1;                   // (C, N) x + proj(...)
        AlignedVector<T> ln2, ln2Mean, ln2Rstd;  // (C, N), (N), (N)
        AlignedVector<T> xq3, r3;                // BitLinear fc: (C, N), (N)
        AlignedVector<T> fc, gelu;               // (4C, N) pre- and post-activation
        AlignedVector<T> xq4, r4;                // BitLinear out: (4C, N), (N)
        AlignedVector<T> res2;                   // (C, N) block output
    };
    int64_t capN = 0, capAtt = 0;
    int64_t n = 0;      // columns of the last forward pass
    bool int8 = false;  // its BitLinear inputs were int8-quantized
    std::vector<int32_t> inputs, targets, argmax;  // (N)
    AlignedVector<T> res0;                           // (C, N) embeddings
    std::vector<Layer> layers;
    AlignedVector<T> lnf, lnfMean, lnfRstd;  // (C, N), (N), (N)
    AlignedVector<T> probs, losses;          // (V, N) logits then probabilities, (N)
    // gradient scratch, reused by every layer
    AlignedVector<T> dres;        // (C, N) gradient of the residual stream
    AlignedVector<T> dln, datty;  // (C, N)
    AlignedVector<T> dqkv;        // (3C, N)
    AlignedVector<T> dfc;         // (4C, N)
};

// The integer BitLinear forward: weights repacked for bit_kernels, activation codes.
struct GptModel::IntKernel {
    std::vector<PreparedBitWeights> prepared;  // by layout index (quantized tensors only)
    std::vector<int8_t> codes;                 // (4C, N) int8 activation codes
    std::vector<float> invScale;               // (N)
    // quant.backward=int8: the codes transposed, W~ = code * rowScale as (in, out) codes with
    // scale 1 (dY is scaled by rowScale before it is quantized), by layout index; rebuilt when
    // the forward's `prepared` was (generation counts).
    std::vector<PreparedBitWeights> preparedT;
    std::vector<uint64_t> generation, generationT;
};

GptInit parseGptInit(const std::string& s) {
    if (s == "gpt2") return GptInit::Gpt2;
    if (s == "torch") return GptInit::Torch;
    throw ConfigError("model.init must be gpt2 or torch, got '" + s + "'");
}

GptModel::GptModel(const GptShape& s, bool bitLinear, GptInit init)
    : m_shape(s), m_bit(bitLinear), m_init(init) {
    const int64_t C = s.dModel;
    if (s.layers < 1 || C < 1 || s.heads < 1 || C % s.heads != 0 || s.context < 1)
        throw ConfigError(
            "gpt: need layers >= 1, context >= 1 and d_model divisible by heads (got layers " +
            std::to_string(s.layers) + ", d_model " + std::to_string(C) + ", heads " +
            std::to_string(s.heads) + ")");
    auto& L = m_layout;
    m_tok = L.add("tok.weight", C, kVocab, false, true, true);
    m_pos = L.add("pos.weight", C, s.context, false, true, true);
    for (int64_t l = 0; l < s.layers; ++l) {
        const std::string p = "blocks." + std::to_string(l) + ".";
        BlockParams b;
        b.ln1w = L.add(p + "ln1.weight", C, 1, false, false);
        b.ln1b = L.add(p + "ln1.bias", C, 1, false, false);
        b.qkv = L.add(p + "qkv.weight", 3 * C, C, bitLinear, true);
        b.proj = L.add(p + "proj.weight", C, C, bitLinear, true);
        b.ln2w = L.add(p + "ln2.weight", C, 1, false, false);
        b.ln2b = L.add(p + "ln2.bias", C, 1, false, false);
        b.fc = L.add(p + "fc.weight", 4 * C, C, bitLinear, true);
        b.out = L.add(p + "out.weight", C, 4 * C, bitLinear, true);
        m_blocks.push_back(b);
    }
    m_lnfW = L.add("lnf.weight", C, 1, false, false);
    m_lnfB = L.add("lnf.bias", C, 1, false, false);
    m_head = L.add("head.weight", kVocab, C, false, true);
}

GptModel::~GptModel() = default;

std::string GptModel::describe() const {
    return "gpt: " + std::to_string(m_shape.layers) + " layers, d_model " +
           std::to_string(m_shape.dModel) + ", " + std::to_string(m_shape.heads) +
           " heads, context " + std::to_string(m_shape.context) + ", byte vocabulary, " +
           (m_bit ? "BitLinear" : "fp32 Linear") + " blocks, " + std::to_string(m_layout.size()) +
           " parameters";
}

void GptModel::init(float* w, Rng& rng) const {
    const double resid = 0.02 / std::sqrt(2.0 * double(m_shape.layers));
    for (int i = 0; i < m_layout.count(); ++i) {
        const ParamTensor& t = m_layout[i];
        float* p = w + t.offset;
        const bool isLn = t.cols == 1;  // LayerNorm weight or bias
        if (isLn) {
            const bool isWeight = t.name.ends_with(".weight");
            std::fill(p, p + t.size(), isWeight ? 1.0f : 0.0f);
            continue;
        }
        if (m_init == GptInit::Torch) {
            if (t.embedding) {
                for (int64_t k = 0; k < t.size(); ++k) p[k] = float(rng.normal(0.0, 1.0));
            } else {
                const double bound = 1.0 / std::sqrt(double(t.cols));  // fan_in = cols
                for (int64_t k = 0; k < t.size(); ++k)
                    p[k] = float(rng.uniform(-bound, bound));
            }
            continue;
        }
        const bool residual = t.name.ends_with("proj.weight") || t.name.ends_with("out.weight");
        const double sd = residual ? resid : 0.02;
        for (int64_t k = 0; k < t.size(); ++k) p[k] = float(rng.normal(0.0, sd));
    }
}

int64_t GptModel::flopsPerToken() const {
    const int64_t C = m_shape.dModel;
    const int64_t nonEmbedding = m_layout.size() - m_layout[m_tok].size() - m_layout[m_pos].size();
    return 6 * nonEmbedding + 12 * m_shape.layers * m_shape.context * C;
}

bool GptModel::useIntKernel(const QuantState* q, int idx) const {
    if (!m_bit || !q || !q->activationsInt8 || q->kernel == "float") return false;
    if (int(q->tensors.size()) != m_layout.count()) return false;
    const QuantizedTensor& t = q->tensors[size_t(idx)];
    return !t.codes.empty() &&
           (t.levels == QuantLevels::Ternary || t.levels == QuantLevels::FiveLevel);
}

// quant.kernel -> the integer kernel: reference = plain; auto, avx2, avx512_vnni as named.
BitKernelPath GptModel::bitPath(const QuantState* q) {
    return q->kernel == "reference" ? BitKernelPath::Plain : parseBitKernelPath(q->kernel);
}

std::string GptModel::kernelPath(const QuantState* q) const {
    bool any = false;
    for (const BlockParams& b : m_blocks)
        for (int idx : {b.qkv, b.proj, b.fc, b.out}) any = any || useIntKernel(q, idx);
    if (!any) return "float";
    switch (resolveBitKernelPath(bitPath(q))) {
        case BitKernelPath::Avx512Vnni:
            return "vnni";
        case BitKernelPath::Avx2:
            return "avx2";
        default:
            return "plain";
    }
}

template <typename T>
GptModel::Acts<T>& GptModel::acts(int64_t B, int64_t Tlen) {
    auto& slot = [this]() -> std::unique_ptr<Acts<T>>& {
        if constexpr (std::is_same_v<T, float>)
            return m_actsF;
        else
            return m_actsD;
    }();
    if (!slot) slot = std::make_unique<Acts<T>>();
    Acts<T>& A = *slot;
    const int64_t N = B * Tlen, C = m_shape.dModel, H = m_shape.heads;
    if (N <= A.capN && B * H * Tlen * Tlen <= A.capAtt) return A;
    // Grow to this shape (and keep any larger capacity): no allocation while shapes repeat.
    const int64_t n = std::max(N, A.capN), att = std::max(B * H * Tlen * Tlen, A.capAtt);
    A.capN = n;
    A.capAtt = att;
    auto sz = [](AlignedVector<T>& v, int64_t count) { v.assign(size_t(count), T(0)); };
    A.inputs.assign(size_t(n), 0);
    A.targets.assign(size_t(n), 0);
    A.argmax.assign(size_t(n), 0);
    sz(A.res0, C * n);
    A.layers.resize(size_t(m_shape.layers));
    const int64_t bitC = m_bit ? C : 0, bitN = m_bit ? n : 0;
    for (auto& L : A.layers) {
        sz(L.ln1, C * n), sz(L.ln1Mean, n), sz(L.ln1Rstd, n);
        sz(L.xq1, bitC * n), sz(L.r1, bitN);
        sz(L.qkv, 3 * C * n), sz(L.att, att), sz(L.atty, C * n);
        sz(L.xq2, bitC * n), sz(L.r2, bitN), sz(L.res1, C * n);
        sz(L.ln2, C * n), sz(L.ln2Mean, n), sz(L.ln2Rstd, n);
        sz(L.xq3, bitC * n), sz(L.r3, bitN);
        sz(L.fc, 4 * C * n), sz(L.gelu, 4 * C * n);
        sz(L.xq4, 4 * bitC * n), sz(L.r4, bitN), sz(L.res2, C * n);
    }
    sz(A.lnf, C * n), sz(A.lnfMean, n), sz(A.lnfRstd, n);
    sz(A.probs, kVocab * n), sz(A.losses, n);
    sz(A.dres, C * n), sz(A.dln, C * n), sz(A.datty, C * n);
    sz(A.dqkv, 3 * C * n), sz(A.dfc, 4 * C * n);
    if constexpr (std::is_same_v<T, float>) {
        if (m_bit) {
            if (!m_int) m_int = std::make_unique<IntKernel>();
            m_int->codes.assign(size_t(4 * C * n), 0);
            m_int->invScale.assign(size_t(n), 0.0f);
        }
    }
    return A;
}

// out = [residual +] Linear or BitLinear(inp) (and geluOut = gelu(out) when asked). In float
// with int8 activations and a kernel, BitLinear's product is bit_kernels' integer GEMM on the
// weight codes, chunk by chunk right after the chunk's activations are quantized; otherwise the
// float product on the (dequantized) weights in w.
template <typename T>
void GptModel::blockLinearForward(int idx, T* out, T* xq, T* rstd, const T* inp, const T* w,
                                  const QuantState* q, int64_t N, int64_t C, int64_t OC,
                                  const T* residual, T* geluOut) {
    const T* W = w + m_layout[idx].offset;
    const ProfileRegion region(StepPart::GemmFwd);
    if (!m_bit) return linearForward(out, inp, W, N, C, OC, residual, geluOut);
    const bool int8Acts = q && q->activationsInt8;
    if constexpr (std::is_same_v<T, float>) {
        if (useIntKernel(q, idx)) {
            IntKernel& K = *m_int;
            if (K.prepared.size() != size_t(m_layout.count())) {
                K.prepared.resize(size_t(m_layout.count()));
                K.generation.assign(size_t(m_layout.count()), 0);
            }
            PreparedBitWeights& P = K.prepared[size_t(idx)];
            const QuantizedTensor& qt = q->tensors[size_t(idx)];
            // Repack only when the codes or scales changed (evaluation reuses one quantization).
            const bool same =
                P.codes == qt.codes && P.out == qt.rows &&
                std::equal(qt.rowScale.begin(), qt.rowScale.end(), P.rowScale.begin());
            if (!same) {
                const ProfileRegion serial(StepPart::WeightQuant);
                prepareBitWeights(qt, P);
                ++K.generation[size_t(idx)];
            }
            const BitKernelPath path = bitPath(q);
            int8_t* codes = K.codes.data();
            float* inv = K.invScale.data();
            parallelFor(N, kGemmChunk, [&](int64_t c0, int64_t c1) {  // nested calls: serial
                const int64_t n = c1 - c0;
                float* y = out + c0 * OC;
                {
                    const ProfilePart part(StepPart::ActQuant);
                    bitActQuantForward<float>(xq + c0 * C, rstd + c0, codes + c0 * C, inv + c0,
                                              inp + c0 * C, true, n, C);
                }
                {
                    const ProfilePart part(StepPart::GemmInt8);
                    bitGemm(P, codes + c0 * C, inv + c0, n, y, path);
                }
                if (residual) {
                    const ProfilePart part(StepPart::Elementwise);
                    residualForward(y, y, residual + c0 * OC, n * OC);
                }
                if (geluOut) {
                    const ProfilePart part(StepPart::Gelu);
                    geluForward(geluOut + c0 * OC, y, n * OC);
                }
            });
            return;
        }
    }
    bitLinearForward(out, xq, rstd, inp, W, int8Acts, N, C, OC, residual, geluOut);
}

template <typename T>
void GptModel::blockLinearBackward(int idx, const QuantState* q, T* dinp, T* dweight,
                                   const T* dout, const T* inp, const T* xq, const T* rstd,
                                   const T* weight, int64_t N, int64_t C, int64_t OC,
                                   const T* geluInp) {
    const ProfileRegion region(StepPart::GemmDx);
    if constexpr (std::is_same_v<T, float>) {
        if (q && q->int8Backward && useIntKernel(q, idx) && m_int &&
            size_t(idx) < m_int->prepared.size()) {
            IntKernel& K = *m_int;
            if (K.preparedT.size() != K.prepared.size()) {
                K.preparedT.resize(K.prepared.size());
                K.generationT.assign(K.prepared.size(), 0);
            }
            const QuantizedTensor& qt = q->tensors[size_t(idx)];
            PreparedBitWeights& PT = K.preparedT[size_t(idx)];
            if (K.generationT[size_t(idx)] != K.generation[size_t(idx)] || PT.out != C ||
                PT.in != OC) {
                // The forward prepared these codes in this step: transpose them once.
                const ProfileRegion serial(StepPart::WeightQuant);
                thread_local std::vector<int8_t> codesT;
                codesT.resize(size_t(C * OC));
                for (int64_t k = 0; k < C; ++k)
                    for (int64_t o = 0; o < OC; ++o)
                        codesT[size_t(o * C + k)] = qt.codes[size_t(k * OC + o)];
                const std::vector<float> ones(size_t(C), 1.0f);
                prepareBitWeights(codesT.data(), ones.data(), C, OC, PT);
                K.generationT[size_t(idx)] = K.generation[size_t(idx)];
            }
            const BitKernelPath path = bitPath(q);
            const float* rowScale = qt.rowScale.data();
            // dX = W~ᵀ dY = codeᵀ (rowScale ⊙ dY): per token, s ⊙ dy quantized to int8 absmax
            // (quantizeActivations), then the integer GEMM on the transposed codes.
            const BitDxProduct dx = [&](float* out, const float* dy, int64_t nc) {
                thread_local std::vector<int8_t> codes;
                thread_local std::vector<float> inv;
                codes.resize(size_t(OC * nc));
                inv.resize(size_t(nc));
                {
                    const ProfilePart part(StepPart::GradQuant);
                    quantizeScaledColumns(dy, rowScale, OC, nc, codes.data(), inv.data());
                }
                const ProfilePart part(StepPart::GemmDx);
                bitGemm(PT, codes.data(), inv.data(), nc, out, path);
            };
            bitLinearBackwardWith(dx, dinp, dweight, dout, inp, xq, rstd, N, C, OC, geluInp);
            return;
        }
    }
    if (m_bit)
        bitLinearBackward(dinp, dweight, dout, inp, xq, rstd, weight, N, C, OC, geluInp);
    else
        linearBackward(dinp, dweight, dout, inp, weight, N, C, OC, geluInp);
}

template <typename T>
void GptModel::forwardPass(const T* w, const QuantState* q, int64_t B, int64_t Tlen) {
    const int64_t N = B * Tlen, C = m_shape.dModel, H = m_shape.heads;
    Acts<T>& A = acts<T>(B, Tlen);
    A.n = N;
    A.int8 = m_bit && q && q->activationsInt8;
    auto P = [&](int i) { return w + m_layout[i].offset; };
    {
        const ProfileRegion region(StepPart::Elementwise);
        embeddingForward(A.res0.data(), A.inputs.data(), P(m_tok), P(m_pos), B, Tlen, C);
    }
    const T* x = A.res0.data();  // (C, N) residual stream entering the block
    for (int64_t l = 0; l < m_shape.layers; ++l) {
        const BlockParams& bp = m_blocks[size_t(l)];
        auto& L = A.layers[size_t(l)];
        {
            const ProfileRegion region(StepPart::Norm);
            layernormForward(L.ln1.data(), L.ln1Mean.data(), L.ln1Rstd.data(), x, P(bp.ln1w),
                             P(bp.ln1b), N, C);
        }
        blockLinearForward<T>(bp.qkv, L.qkv.data(), L.xq1.data(), L.r1.data(), L.ln1.data(), w, q,
                              N, C, 3 * C, nullptr, nullptr);
        {
            const ProfileRegion region(StepPart::Attention);
            attentionForward(L.atty.data(), L.att.data(), L.qkv.data(), B, Tlen, C, H);
        }
        blockLinearForward<T>(bp.proj, L.res1.data(), L.xq2.data(), L.r2.data(), L.atty.data(), w,
                              q, N, C, C, x, nullptr);
        {
            const ProfileRegion region(StepPart::Norm);
            layernormForward(L.ln2.data(), L.ln2Mean.data(), L.ln2Rstd.data(), L.res1.data(),
                             P(bp.ln2w), P(bp.ln2b), N, C);
        }
        blockLinearForward<T>(bp.fc, L.fc.data(), L.xq3.data(), L.r3.data(), L.ln2.data(), w, q, N,
                              C, 4 * C, nullptr, L.gelu.data());
        blockLinearForward<T>(bp.out, L.res2.data(), L.xq4.data(), L.r4.data(), L.gelu.data(), w, q,
                              N, 4 * C, C, L.res1.data(), nullptr);
        x = L.res2.data();
    }
    {
        const ProfileRegion region(StepPart::Norm);
        layernormForward(A.lnf.data(), A.lnfMean.data(), A.lnfRstd.data(), x, P(m_lnfW),
                         P(m_lnfB), N, C);
    }
    const ProfileRegion region(StepPart::GemmFwd);
    linearForward(A.probs.data(), A.lnf.data(), P(m_head), N, C, kVocab);  // logits (V, N)
}

template <typename T>
Mat<T> GptModel::logitsOf(const T* w, const QuantState* q, std::span<const int32_t> tokens) {
    const int64_t Tlen = int64_t(tokens.size());
    if (Tlen < 1 || Tlen > m_shape.context)
        throw Error("gpt: logits of " + std::to_string(Tlen) + " tokens (context " +
                    std::to_string(m_shape.context) + ")");
    Acts<T>& A = acts<T>(1, Tlen);
    for (int64_t t = 0; t < Tlen; ++t) {
        if (tokens[size_t(t)] < 0 || tokens[size_t(t)] >= kVocab)
            throw Error("gpt: token outside 0..255 at position " + std::to_string(t));
        A.inputs[size_t(t)] = tokens[size_t(t)];
    }
    forwardPass<T>(w, q, 1, Tlen);
    return CMapMat<T>(A.probs.data(), kVocab, Tlen);
}

template MatF GptModel::logitsOf<float>(const float*, const QuantState*, std::span<const int32_t>);
template MatD GptModel::logitsOf<double>(const double*, const QuantState*,
                                         std::span<const int32_t>);

template <typename T>
LossInfo GptModel::run(const T* w, const QuantState* q, const Batch& batch, T* grad,
                       bool wantSampleLoss) {
    const int64_t B = batch.size, Tlen = batch.seqLen, N = B * Tlen;
    const int64_t C = m_shape.dModel, H = m_shape.heads, V = kVocab;
    if (B < 1 || Tlen < 1 || Tlen > m_shape.context ||
        int64_t(batch.tokens.size()) != B * (Tlen + 1))
        throw Error("gpt: batch of " + std::to_string(B) + " x " + std::to_string(Tlen) +
                    " tokens does not fit the model (context " + std::to_string(m_shape.context) +
                    ", tokens " + std::to_string(batch.tokens.size()) + ")");
    Acts<T>& A = acts<T>(B, Tlen);
    for (int64_t b = 0; b < B; ++b) {
        for (int64_t t = 0; t < Tlen; ++t) {
            const int32_t x = batch.tokens[size_t(b * (Tlen + 1) + t)];
            const int32_t y = batch.tokens[size_t(b * (Tlen + 1) + t + 1)];
            if (x < 0 || x >= V || y < 0 || y >= V)
                throw Error("gpt: token outside 0..255 in batch row " + std::to_string(b));
            A.inputs[size_t(b * Tlen + t)] = x;
            A.targets[size_t(b * Tlen + t)] = y;
        }
    }
    auto P = [&](int i) { return w + m_layout[i].offset; };
    forwardPass<T>(w, q, B, Tlen);
    const T* x = A.layers.back().res2.data();  // (C, N) last block's output
    LossInfo info;
    {
        const ProfileRegion region(StepPart::Loss);
        info.loss = crossEntropyForward(A.losses.data(), A.probs.data(), A.probs.data(),
                                        A.targets.data(), N, V, A.argmax.data());
    }
    int64_t correct = 0;
    for (int64_t j = 0; j < N; ++j) correct += A.argmax[size_t(j)] == A.targets[size_t(j)];
    info.accuracy = double(correct) / double(N);
    if (wantSampleLoss) {
        info.sampleLoss.assign(size_t(B), 0.0f);
        for (int64_t b = 0; b < B; ++b) {
            double s = 0;
            for (int64_t t = 0; t < Tlen; ++t) s += double(A.losses[size_t(b * Tlen + t)]);
            info.sampleLoss[size_t(b)] = float(s / double(Tlen));
        }
    }
    if (!grad) return info;

    // ---- backward: parameter gradients accumulate into the zeroed flat vector
    auto G = [&](int i) { return grad + m_layout[i].offset; };
    {
        const ProfileRegion region(StepPart::Elementwise);
        parallelFor(m_layout.size(), int64_t(1) << 16,
                    [&](int64_t i0, int64_t i1) { std::fill(grad + i0, grad + i1, T(0)); });
        std::fill(A.dres.begin(), A.dres.begin() + C * N, T(0));
    }
    {
        const ProfileRegion region(StepPart::Loss);
        crossEntropyBackward(A.probs.data(), A.probs.data(), A.targets.data(), T(1), N, V);
    }
    {
        const ProfileRegion region(StepPart::GemmDx);
        linearBackward(A.dln.data(), G(m_head), A.probs.data(), A.lnf.data(), P(m_head), N, C, V);
    }
    {
        const ProfileRegion region(StepPart::Norm);
        layernormBackward(A.dres.data(), G(m_lnfW), G(m_lnfB), A.dln.data(), x, P(m_lnfW),
                          A.lnfMean.data(), A.lnfRstd.data(), N, C);
    }
    // dres now holds dL/d(block output); each block adds its branches' input gradients into it.
    for (int64_t l = m_shape.layers - 1; l >= 0; --l) {
        const BlockParams& bp = m_blocks[size_t(l)];
        auto& L = A.layers[size_t(l)];
        const T* xin = l == 0 ? A.res0.data() : A.layers[size_t(l - 1)].res2.data();
        // res2 = res1 + out(gelu(fc(ln2(res1)))); dfc = d(fc output), GELU's backward fused
        blockLinearBackward(bp.out, q, A.dfc.data(), G(bp.out), A.dres.data(), L.gelu.data(), L.xq4.data(),
                            L.r4.data(), P(bp.out), N, 4 * C, C, L.fc.data());
        blockLinearBackward(bp.fc, q, A.dln.data(), G(bp.fc), A.dfc.data(), L.ln2.data(), L.xq3.data(),
                            L.r3.data(), P(bp.fc), N, C, 4 * C, (const T*)nullptr);
        {
            const ProfileRegion region(StepPart::Norm);
            layernormBackward(A.dres.data(), G(bp.ln2w), G(bp.ln2b), A.dln.data(),
                              L.res1.data(), P(bp.ln2w), L.ln2Mean.data(), L.ln2Rstd.data(), N,
                              C);
        }
        // res1 = xin + proj(attn(qkv(ln1(xin))))
        blockLinearBackward(bp.proj, q, A.datty.data(), G(bp.proj), A.dres.data(), L.atty.data(), L.xq2.data(),
                            L.r2.data(), P(bp.proj), N, C, C, (const T*)nullptr);
        {
            const ProfileRegion region(StepPart::Attention);
            attentionBackward(A.dqkv.data(), A.datty.data(), L.qkv.data(), L.att.data(), B, Tlen,
                              C, H);
        }
        blockLinearBackward(bp.qkv, q, A.dln.data(), G(bp.qkv), A.dqkv.data(), L.ln1.data(), L.xq1.data(),
                            L.r1.data(), P(bp.qkv), N, C, 3 * C, (const T*)nullptr);
        {
            const ProfileRegion region(StepPart::Norm);
            layernormBackward(A.dres.data(), G(bp.ln1w), G(bp.ln1b), A.dln.data(), xin,
                              P(bp.ln1w), L.ln1Mean.data(), L.ln1Rstd.data(), N, C);
        }
    }
    const ProfileRegion region(StepPart::Elementwise);
    embeddingBackward(G(m_tok), G(m_pos), A.dres.data(), A.inputs.data(), B, Tlen, C);
    return info;
}

LossInfo GptModel::forwardBackward(const float* w, const QuantState* q, const Batch& b, float* grad,
                                   bool wantSampleLoss) {
    return run<float>(w, q, b, grad, wantSampleLoss);
}

MatF GptModel::representation(const float* w, const QuantState*, const Dataset& data,
                              std::span<const int64_t> indices) {
    const int64_t C = m_shape.dModel, n = int64_t(indices.size());
    const BlockParams& b0 = m_blocks[0];
    if (n > 0 && data.trainTokens(indices[0]).size() < 2)
        throw Error("gpt: the representation needs the data's text windows");
    MatF R(C, n);  // (C, n)
    parallelFor(n, 16, [&](int64_t k0, int64_t k1) {
        std::vector<int32_t> tokens;
        FloatBuffer emb, ln, mean, rstd;
        for (int64_t k = k0; k < k1; ++k) {
            tokens = data.trainTokens(indices[size_t(k)]);
            tokens.pop_back();
            const int64_t T = std::min<int64_t>(int64_t(tokens.size()), m_shape.context);
            emb.resize(size_t(C * T)), ln.resize(size_t(C * T));
            mean.resize(size_t(T)), rstd.resize(size_t(T));
            embeddingForward(emb.data(), tokens.data(), w + m_layout[m_tok].offset,
                             w + m_layout[m_pos].offset, 1, T, C);
            layernormForward(ln.data(), mean.data(), rstd.data(), emb.data(),
                             w + m_layout[b0.ln1w].offset, w + m_layout[b0.ln1b].offset, T, C);
            R.col(k) = CMapMat<float>(ln.data(), C, T).rowwise().mean();
        }
    });
    return R;
}

template <typename T>
std::vector<int8_t> GptModel::activationCodes() const {
    const auto& slot = [this]() -> const std::unique_ptr<Acts<T>>& {
        if constexpr (std::is_same_v<T, float>)
            return m_actsF;
        else
            return m_actsD;
    }();
    std::vector<int8_t> out;
    if (!slot || !slot->int8) return out;
    const int64_t N = slot->n, C = m_shape.dModel;
    for (const auto& L : slot->layers) {
        const std::pair<const AlignedVector<T>*, int64_t> inputs[] = {
            {&L.xq1, C}, {&L.xq2, C}, {&L.xq3, C}, {&L.xq4, 4 * C}};
        for (const auto& [xq, rows] : inputs) {
            for (int64_t j = 0; j < N; ++j) {
                // x~ = code / s and the column's largest |code| is 127, so s = 127 / max|x~|
                // up to an ulp, and x~ s lies within ~1e-5 of the code.
                const auto col = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(
                    xq->data() + j * rows, rows);
                const T m = col.abs().maxCoeff();
                for (int64_t r = 0; r < rows; ++r)
                    out.push_back(m > 0 ? int8_t(std::nearbyint(col[r] * (T(127) / m))) : 0);
            }
        }
    }
    return out;
}

template std::vector<int8_t> GptModel::activationCodes<float>() const;
template std::vector<int8_t> GptModel::activationCodes<double>() const;

MatF GptModel::predictProba(const float*, const QuantState*, const MatF&) {
    throw Error("gpt: predictProba is for classifiers; the GPT predicts bytes");
}

template LossInfo GptModel::run<float>(const float*, const QuantState*, const Batch&, float*, bool);
template LossInfo GptModel::run<double>(const double*, const QuantState*, const Batch&, double*,
                                        bool);

std::unique_ptr<Model> makeGptModel(const Config& cfg, const DataShape& data) {
    if (data.inputDim != GptModel::kVocab || data.outputDim != GptModel::kVocab)
        throw ConfigError("model.kind: gpt needs byte data (data.kind=text), got data.kind=" +
                          cfg.data.kind);
    GptShape s;
    s.layers = cfg.model.layers;
    s.dModel = cfg.model.d_model;
    s.heads = cfg.model.heads;
    s.context = cfg.model.context;
    if (s.heads < 1 || s.dModel % s.heads != 0)
        throw ConfigError("model.heads: " + std::to_string(s.heads) +
                          " must divide model.d_model " + std::to_string(s.dModel));
    if (cfg.quant.kernel != "reference" && cfg.quant.kernel != "float" &&
        !bitKernelPathSupported(parseBitKernelPath(cfg.quant.kernel)))
        throw ConfigError("quant.kernel: this CPU cannot run the " + cfg.quant.kernel +
                          " kernel (auto picks the fastest it can)");
    return std::make_unique<GptModel>(s, cfg.quant.weights != "none", parseGptInit(cfg.model.init));
}

}  // namespace h158
