// The tiny byte-level GPT (vocabulary 256), the architecture of the PyTorch reference in
// shared/peers/torch_tinygpt.py, with BitLinear block projections when weights are quantized.
//
// x = tok(bytes) + pos(t); per block: x += proj(attn(qkv(ln1(x)))); x += out(gelu(fc(ln2(x))));
// logits = head(lnf(x)). Block linears have no bias; LayerNorms have weight and bias; the head is
// untied and full precision. quant.weights = none: block linears are plain Linear (the
// reference's fp32 mode). ternary / five_level: they are BitLinear (gpt_layers.h) and marked
// `quantized` in the layout; embeddings, LayerNorms and the head stay fp32.
//
// Parameters (flat, in this order; names as the reference's state_dict):
//   tok.weight (C, 256)  pos.weight (C, context)
//   per block l: blocks.l.ln1.weight/bias (C, 1), blocks.l.qkv.weight (3C, C),
//                blocks.l.proj.weight (C, C), blocks.l.ln2.weight/bias (C, 1),
//                blocks.l.fc.weight (4C, C), blocks.l.out.weight (C, 4C)
//   lnf.weight/bias (C, 1)  head.weight (256, C)
// count = 2*256*C + context*C + layers*(12 C^2 + 4C) + 2C.
// Init (model.init), LayerNorm weight 1 and bias 0 in both:
//   gpt2:  N(0, 0.02) for embeddings and linears, proj/out N(0, 0.02/sqrt(2 layers));
//   torch: PyTorch's module defaults: embeddings N(0, 1), every linear (head included)
//          U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt 5).
// Weight decay (ParamTensor::decay): on every matrix (embeddings,
// block linears, head), not on LayerNorm weights and biases (GPT-2 / nanoGPT practice; the
// reference decays everything, which only pulls the LayerNorm gains towards zero).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/quant/bit_kernels.h"
#include "core/model/model.h"

namespace h158 {

struct Config;
class Dataset;
struct DataShape;

enum class GptInit { Gpt2, Torch };
GptInit parseGptInit(const std::string& s);  // "gpt2" | "torch"; throws ConfigError otherwise

struct GptShape {
    int64_t layers = 4;
    int64_t dModel = 128;
    int64_t heads = 4;
    int64_t context = 128;
};

class GptModel : public Model {
  public:
    static constexpr int64_t kVocab = 256;

    // bitLinear: block linears are BitLinear (quantized weights) instead of plain Linear.
    GptModel(const GptShape& shape, bool bitLinear, GptInit init = GptInit::Torch);
    ~GptModel() override;

    std::string describe() const override;
    void init(float* w, Rng& rng) const override;
    LossInfo forwardBackward(const float* w, const QuantState* q, const Batch& b, float* grad,
                             bool wantSampleLoss = false) override;

    // The same forward/backward in either precision (double for gradient checks). BitLinear
    // inputs are int8-quantized when q->activationsInt8; the integer kernel (bit_kernels.h) runs
    // the BitLinear forward in float when q->kernel is auto or reference and the q tensors hold
    // codes; with kernel = float (or in double) the product is the float one on w.
    template <typename T>
    LossInfo run(const T* w, const QuantState* q, const Batch& b, T* grad, bool wantSampleLoss);

    // Logits (256, T) of one sequence of byte values (T <= context), the full forward pass in
    // precision T: column t predicts the byte after tokens[t].
    template <typename T>
    Mat<T> logitsOf(const T* w, const QuantState* q, std::span<const int32_t> tokens);
    MatF logits(const float* w, const QuantState* q, std::span<const int32_t> tokens) {
        return logitsOf<float>(w, q, tokens);
    }

    // Data re-clustering features, (C, n): for each window, the mean over its T positions of the
    // first block's LayerNorm output ln1(tok(x_t) + pos(t)). It is what block 0's attention
    // reads, moves as the embeddings and ln1 train, and costs one embedding + LayerNorm per byte
    // (no attention or MLP), so it stays cheap for all windows (thousands) every refresh.
    MatF representation(const float* w, const QuantState* q, const Dataset& data,
                        std::span<const int64_t> indices) override;

    // Not a classifier: throws h158::Error.
    MatF predictProba(const float* w, const QuantState* q, const MatF& x) override;

    // The int8 codes of every BitLinear input of the last forward pass in precision T, in the
    // reference's order: per block the inputs of qkv, proj, fc and out, each (in, N) column-major
    // (= (B, T, in) row-major). Recovered from the cached x~ = code / s per column. Empty unless
    // the blocks are BitLinear with int8 activations.
    template <typename T>
    std::vector<int8_t> activationCodes() const;

    const GptShape& shape() const { return m_shape; }
    bool bitLinear() const { return m_bit; }
    // 6 x non-embedding parameters (blocks, final LayerNorm, head) + 12 x layers x context x C.
    int64_t flopsPerToken() const;
    // How the BitLinear forward multiplies under q: "vnni" | "avx2" | "plain" (integer kernel),
    // "float" (float product on the dequantized weights). With mixed levels (quant.weights=
    // adaptive) the integer kernel serves the ternary and five-level tensors and the float
    // product the int8 and fp32 ones; this names the integer kernel when any tensor takes it.
    std::string kernelPath(const QuantState* q) const;

    // Layout indices of one block's tensors.
    struct BlockParams {
        int ln1w, ln1b, qkv, proj, ln2w, ln2b, fc, out;
    };

  private:
    template <typename T>
    struct Acts;
    struct IntKernel;
    template <typename T>
    Acts<T>& acts(int64_t B, int64_t Tlen);
    // Forward over Acts::inputs (B*T) up to the logits, left in Acts::probs.
    template <typename T>
    void forwardPass(const T* w, const QuantState* q, int64_t B, int64_t Tlen);
    template <typename T>
    void blockLinearForward(int idx, T* out, T* xq, T* rstd, const T* inp, const T* w,
                            const QuantState* q, int64_t N, int64_t C, int64_t OC,
                            const T* residual, T* geluOut);
    template <typename T>
    void blockLinearBackward(int idx, const QuantState* q, T* dinp, T* dweight, const T* dout,
                             const T* inp, const T* xq,
                             const T* rstd, const T* weight, int64_t N, int64_t C, int64_t OC,
                             const T* geluInp);
    // Whether layout tensor idx multiplies by the integer kernel: int8 activations, a kernel
    // other than float, and ternary or five-level codes (the kernels' exactness bound assumes
    // |code| <= 2, bit_kernels.h; int8 and fp32 weights take the float product).
    bool useIntKernel(const QuantState* q, int idx) const;
    static BitKernelPath bitPath(const QuantState* q);

    GptShape m_shape;
    bool m_bit = false;
    GptInit m_init = GptInit::Torch;
    int m_tok = 0, m_pos = 0, m_lnfW = 0, m_lnfB = 0, m_head = 0;
    std::vector<BlockParams> m_blocks;
    std::unique_ptr<Acts<float>> m_actsF;
    std::unique_ptr<Acts<double>> m_actsD;
    std::unique_ptr<IntKernel> m_int;
};

// cfg.model (layers, d_model, heads, context) and cfg.quant.weights; the data must be bytes
// (inputDim 256). Throws ConfigError naming the field for a bad shape.
std::unique_ptr<Model> makeGptModel(const Config& cfg, const DataShape& data);

}  // namespace h158
