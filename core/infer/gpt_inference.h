// GPT inference from a .h158 file: one token at a time with a key/value cache, the block linears
// computed on the packed weights as stored (no dequantized copy of a ternary matrix is made).
//
// Per block linear, by the tensor's own kind (a mixed-precision model, quant.weights=adaptive,
// has several), as BitLinear in gpt_layers.h (the model's training forward):
//   fp32 model (quant.weights = none):  y = W x                      float GEMV (Eigen)
//   ternary, int8 activations:           y = packedGemv(W, rmsnorm(x))
//       packedGemv quantizes its input exactly as bitActQuantForward does after the RMSNorm
//       (s = 127 / max(max|xn|, 1e-5), code = clip(rint(xn s), -128, 127), 1/s) and returns
//       (float(sum trit * code) * rowScale) * (1/s): the integer kernel's formula, bit_kernels.h.
//   five-level, int8 activations:        the int8 GEMM of bit_kernels.h on the unpacked codes
//       (n = 1 column): five-level codes do not fit the 5-trit packing of the GEMV.
//   int8 weights, or fp32 ones that a BitLinear model keeps at full precision, and any quantized
//   tensor under float activations:      y = W~ x~, W~ dequantized once at load, x~ = rmsnorm(x)
//       quantized as bitActQuantForward does (int8 activations) or not. Int8 weights never take
//       the integer kernels: their exactness bound assumes |code| <= 2 (bit_kernels.h), and the
//       training forward multiplies them in float too (GptModel::useIntKernel).
// Embeddings, LayerNorms, attention, GELU and the head run in fp32 (gpt_layers.h functions).
// The logits equal GptModel::logits on the same quantized weights up to float rounding: the
// training forward multiplies whole sequences (GEMM) where this multiplies one column (GEMV).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/model/gpt/gpt_model.h"
#include "core/io/h158_export.h"
#include "core/base/rng.h"

namespace h158 {

// The byte drawn from softmax(logits / temperature) over the topK most likely bytes (ties to the
// lower index); temperature <= 0 takes the most likely byte, topK <= 0 or >= V keeps all. Uses one
// rng.uniform() per sampled byte (none when greedy).
int32_t sampleToken(std::span<const float> logits, double temperature, int64_t topK, Rng& rng);

class GptInference {
  public:
    // Rebuilds the GPT described by the file's configuration and takes its tensors. Throws
    // h158::FileError "<where>: ..." when the file holds another model kind, or a tensor is
    // missing or has the wrong shape or kind.
    explicit GptInference(const H158Model& file, const std::string& where = "model");
    ~GptInference();
    GptInference(const GptInference&) = delete;
    GptInference& operator=(const GptInference&) = delete;

    const GptShape& shape() const { return m_shape; }
    std::string describe() const;
    // How the block linears multiply: "packed_ternary_gemv (avx512_vnni)",
    // "five_level_gemv (...)" (int8 activations x five-level codes), "float (dequantized)" or
    // "fp32"; a mixed model's "mixed: 4 packed_ternary_gemv (...), 2 float (dequantized)".
    std::string linearKernel() const;

    int64_t position() const { return m_pos; }  // tokens in the cache
    void reset() { m_pos = 0; }
    // Runs `token` (0..255) at position() and returns the logits (256) of the next byte.
    // Throws h158::Error when the cache is full (position() == context).
    std::span<const float> append(int32_t token);
    // Logits (256, T) of a sequence from an empty cache (T <= context): column t predicts the
    // byte after tokens[t], as GptModel::logits. Leaves the sequence in the cache.
    MatF logits(std::span<const int32_t> tokens);
    // n bytes after `prompt` (an empty prompt starts from "\n"; a long one keeps its last
    // `context` bytes). When the cache fills, the last context/2 bytes are re-encoded. The
    // trainer's live text samples come from here too.
    std::string generate(const std::string& prompt, int64_t n, double temperature, int64_t topK,
                         Rng& rng);

  private:
    struct Linear;
    struct Block;

    // bit: the block linears are BitLinear (any quantized model, whatever this tensor's kind).
    static Linear linearFrom(const H158Tensor& t, bool bit, bool int8Acts);
    void linear(const Linear& l, const float* x, float* y);
    static void product(const MatF& w, const float* x, float* y);  // y = w x

    GptShape m_shape;
    bool m_bit = false;       // block linears are BitLinear
    bool m_int8Acts = false;  // BitLinear inputs quantized to int8
    MatF m_tok, m_posEmb;     // (C, 256), (C, context)
    VecF m_lnfW, m_lnfB;      // (C)
    MatF m_head;              // (256, C)
    std::vector<Block> m_blocks;
    int64_t m_pos = 0;
    // One token's activations.
    VecF m_x, m_ln, m_qkv, m_att, m_fc, m_gelu, m_xn, m_scores;  // (C | 3C | 4C | context)
    VecF m_logits;                                               // (256)
    std::vector<int8_t> m_codes;                                 // (4C) int8 activations
};

}  // namespace h158
