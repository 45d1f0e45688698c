// GptInference (gpt_inference.h): rebuilding the GPT from a .h158 file and running it one token
// at a time over a key/value cache, block linears on the packed weights.
// GCC 12's AVX-512 intrinsic headers trip these inside Eigen's kernels (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "core/infer/gpt_inference.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/base/errors.h"
#include "core/base/vector_math.h"
#include "core/quant/bit_kernels.h"
#include "core/config/config.h"
#include "core/model/gpt/gpt_layers.h"

namespace h158 {

int32_t sampleToken(std::span<const float> logits, double temperature, int64_t topK, Rng& rng) {
    const int V = int(logits.size());
    if (V == 0) throw Error("sampleToken: no logits");
    std::vector<int> order(size_t(V), 0);
    std::iota(order.begin(), order.end(), 0);
    const auto higher = [&](int a, int b) {
        const float la = logits[size_t(a)], lb = logits[size_t(b)];
        return la > lb || (la == lb && a < b);
    };
    if (temperature <= 0) return *std::min_element(order.begin(), order.end(), higher);
    const int k = topK <= 0 || topK >= V ? V : int(topK);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), higher);
    const double top = logits[size_t(order[0])];
    std::vector<double> p(size_t(k), 0.0);
    double sum = 0;
    for (int i = 0; i < k; ++i)
        sum += p[size_t(i)] = std::exp((logits[size_t(order[size_t(i)])] - top) / temperature);
    double u = rng.uniform() * sum;
    for (int i = 0; i < k; ++i) {
        u -= p[size_t(i)];
        if (u < 0) return order[size_t(i)];
    }
    return order[size_t(k - 1)];
}

// One block linear y (out) = f(x (in)), in the form the file and the configuration call for.
struct GptInference::Linear {
    enum class Mode { Fp32, PackedTernary, FiveLevelCodes, Dequantized };
    Mode mode = Mode::Fp32;
    int64_t out = 0, in = 0;
    MatF w;                       // (out, in): Fp32 and Dequantized
    PackedTernaryMatrix packed;   // PackedTernary
    PreparedBitWeights prepared;  // FiveLevelCodes
};

struct GptInference::Block {
    VecF ln1W, ln1B, ln2W, ln2B;  // (C)
    Linear qkv, proj, fc, out;    // (3C, C), (C, C), (4C, C), (C, 4C)
    MatF k, v;                    // (C, context) the cache of keys and values
};

namespace {

[[noreturn]] void refuse(const std::string& where, const std::string& what) {
    throw FileError(where + ": " + what);
}

// The configuration in the file's header; it must describe a gpt.
Config gptConfigOf(const H158Model& file, const std::string& where) {
    if (!file.header.contains("config") || !file.header["config"].is_object())
        refuse(where, "the header has no model configuration");
    Config cfg;
    try {
        cfg = fromJson(file.header["config"], Config{}, where + " (header config)");
    } catch (const std::exception& e) {
        refuse(where, std::string("invalid model configuration: ") + e.what());
    }
    if (cfg.model.kind != "gpt")
        refuse(where,
               "model.kind is " + cfg.model.kind + ", not gpt: only gpt models generate text");
    return cfg;
}

// The kinds and shapes the file must hold: the configuration's (planH158), or for a mixed-
// precision model (quant.weights=adaptive) each quantized tensor's own kind as stored, while the
// tensors the model never quantizes must still be fp32.
std::vector<H158TensorPlan> expectedPlans(const Config& cfg, const H158Model& file,
                                          const ParamLayout& layout, const std::string& where) {
    try {
        if (cfg.quant.weights != "adaptive") return planH158(cfg, layout);
        std::vector<QuantLevels> levels;
        for (const ParamTensor& t : layout.tensors()) {
            const H158Tensor* f = file.find(t.name);
            levels.push_back(f ? quantLevelsOf(f->kind) : QuantLevels::None);
        }
        return planH158(cfg, layout, levels);
    } catch (const Error& e) {
        refuse(where, e.what());
    }
}

// The file's tensors by layout name, each checked against the shape and kind expected
// (expectedPlans).
struct TensorReader {
    const H158Model& file;
    const ParamLayout& layout;
    std::vector<H158TensorPlan> plans;
    const std::string& where;

    const H158Tensor& tensor(const std::string& name) const {
        for (int i = 0; i < layout.count(); ++i) {
            if (layout[i].name != name) continue;
            const H158Tensor* t = file.find(name);
            if (!t) refuse(where, "tensor " + name + " is missing");
            const H158TensorPlan& p = plans[size_t(i)];
            if (t->rows != p.rows || t->cols != p.cols || t->kind != p.kind)
                refuse(where, "tensor " + name + " is " + h158KindName(t->kind) + " (" +
                                  std::to_string(t->rows) + ", " + std::to_string(t->cols) +
                                  "), the model needs " + h158KindName(p.kind) + " (" +
                                  std::to_string(p.rows) + ", " + std::to_string(p.cols) + ")");
            return *t;
        }
        refuse(where, "the gpt layout has no tensor " + name);
    }
    VecF vec(const std::string& name) const {
        const H158Tensor& t = tensor(name);
        return CMapVec<float>(t.values.data(), t.rows * t.cols);
    }
    MatF mat(const std::string& name) const { return tensor(name).dequantized(); }
};

}  // namespace

GptInference::Linear GptInference::linearFrom(const H158Tensor& t, bool bit, bool int8Acts) {
    Linear l;
    l.out = t.rows;
    l.in = t.cols;
    if (!bit) {
        l.mode = Linear::Mode::Fp32;
        l.w = t.dequantized();
    } else if (int8Acts && t.kind == H158Kind::Ternary) {
        l.mode = Linear::Mode::PackedTernary;
        l.packed = t.packedTernary();
    } else if (int8Acts && t.kind == H158Kind::FiveLevel) {
        l.mode = Linear::Mode::FiveLevelCodes;
        const std::vector<int8_t> codes = t.codes();
        const VecF scale = t.rowScale();
        prepareBitWeights(codes.data(), scale.data(), t.rows, t.cols, l.prepared);
    } else {
        l.mode = Linear::Mode::Dequantized;
        l.w = t.dequantized();
    }
    return l;
}

GptInference::GptInference(const H158Model& file, const std::string& where) {
    const Config cfg = gptConfigOf(file, where);
    m_shape = GptShape{cfg.model.layers, cfg.model.d_model, cfg.model.heads, cfg.model.context};
    m_bit = cfg.quant.weights != "none";
    m_int8Acts = m_bit && cfg.quant.activations == "int8";
    std::unique_ptr<GptModel> model;
    try {
        model = std::make_unique<GptModel>(m_shape, m_bit);
    } catch (const std::exception& e) {
        refuse(where, std::string("invalid gpt shape: ") + e.what());
    }
    const ParamLayout& L = model->layout();
    const TensorReader r{file, L, expectedPlans(cfg, file, L, where), where};
    auto vec = [&](const std::string& name) { return r.vec(name); };
    auto mat = [&](const std::string& name) { return r.mat(name); };
    auto lin = [&](const std::string& name) {
        return linearFrom(r.tensor(name), m_bit, m_int8Acts);
    };

    const int64_t C = m_shape.dModel, ctx = m_shape.context;
    m_tok = mat("tok.weight");
    m_posEmb = mat("pos.weight");
    for (int64_t l = 0; l < m_shape.layers; ++l) {
        const std::string p = "blocks." + std::to_string(l) + ".";
        Block b;
        b.ln1W = vec(p + "ln1.weight");
        b.ln1B = vec(p + "ln1.bias");
        b.qkv = lin(p + "qkv.weight");
        b.proj = lin(p + "proj.weight");
        b.ln2W = vec(p + "ln2.weight");
        b.ln2B = vec(p + "ln2.bias");
        b.fc = lin(p + "fc.weight");
        b.out = lin(p + "out.weight");
        b.k = MatF::Zero(C, ctx);
        b.v = MatF::Zero(C, ctx);
        m_blocks.push_back(std::move(b));
    }
    m_lnfW = vec("lnf.weight");
    m_lnfB = vec("lnf.bias");
    m_head = mat("head.weight");
    if (int(file.tensors.size()) != L.count())
        refuse(where, std::to_string(file.tensors.size()) + " tensors, the gpt has " +
                          std::to_string(L.count()));

    m_x = VecF::Zero(C), m_ln = VecF::Zero(C), m_att = VecF::Zero(C), m_xn = VecF::Zero(4 * C);
    m_qkv = VecF::Zero(3 * C), m_fc = VecF::Zero(4 * C), m_gelu = VecF::Zero(4 * C);
    m_scores = VecF::Zero(ctx);
    m_logits = VecF::Zero(GptModel::kVocab);
    m_codes.assign(size_t(4 * C), 0);
}

GptInference::~GptInference() = default;

std::string GptInference::describe() const {
    return "gpt: " + std::to_string(m_shape.layers) + " layers, d_model " +
           std::to_string(m_shape.dModel) + ", " + std::to_string(m_shape.heads) +
           " heads, context " + std::to_string(m_shape.context) + ", block linears " +
           linearKernel();
}

std::string GptInference::linearKernel() const {
    const std::string path = bitKernelPathName(bestBitKernelPath());
    auto name = [&](Linear::Mode m) -> std::string {
        switch (m) {
            case Linear::Mode::Fp32:
                return "fp32";
            case Linear::Mode::PackedTernary:
                return "packed_ternary_gemv (" + path + ")";
            case Linear::Mode::FiveLevelCodes:
                return "five_level_gemv (" + path + ")";
            case Linear::Mode::Dequantized:
                return "float (dequantized)";
        }
        return "?";
    };
    // How many block linears take each kernel, in Mode order.
    std::vector<int> count(size_t(Linear::Mode::Dequantized) + 1, 0);
    for (const Block& b : m_blocks)
        for (const Linear* l : {&b.qkv, &b.proj, &b.fc, &b.out}) ++count[size_t(l->mode)];
    const int used = int(std::count_if(count.begin(), count.end(), [](int n) { return n > 0; }));
    if (used == 1) return name(m_blocks.front().qkv.mode);
    std::string s = "mixed:";
    for (size_t m = 0; m < count.size(); ++m)
        if (count[m] > 0)
            s += (s.size() > 6 ? ", " : " ") + std::to_string(count[m]) + " " +
                 name(Linear::Mode(m));
    return s;
}

// y = W x. Without AVX2 at compile time (the portable build) vectorMath()'s GEMV at the CPU's
// width instead of Eigen's SSE2 one (sums in another order: logits differ in their last bits).
void GptInference::product(const MatF& w, const float* x, float* y) {
    if constexpr (kDispatchVectorMath)
        vectorMath().gemv(y, w.data(), w.rows(), w.cols(), w.rows(), x);
    else
        MapVec<float>(y, w.rows()).noalias() = w * CMapVec<float>(x, w.cols());
}

void GptInference::linear(const Linear& l, const float* x, float* y) {
    if (l.mode == Linear::Mode::Fp32) {
        product(l.w, x, y);
        return;
    }
    float rstd = 0;
    if (l.mode == Linear::Mode::Dequantized) {
        // x~ = the RMSNorm, int8-quantized when the model's activations are: the training
        // forward's own step (bitLinearForward), then its float product.
        bitActQuantForward<float>(m_xn.data(), &rstd, nullptr, nullptr, x, m_int8Acts, 1, l.in);
        product(l.w, m_xn.data(), y);
        return;
    }
    rmsnormForward<float>(m_xn.data(), &rstd, x, 1, l.in);  // BitLinear's parameter-free RMSNorm
    if (l.mode == Linear::Mode::PackedTernary) {
        packedGemv(l.packed, m_xn.data(), y);
    } else {
        float inv = 0;
        quantizeAndBitGemm(l.prepared, m_xn.data(), 1, m_codes.data(), &inv, y);
    }
}

std::span<const float> GptInference::append(int32_t token) {
    const int64_t C = m_shape.dModel, H = m_shape.heads, hd = C / H, p = m_pos;
    if (p >= m_shape.context)
        throw Error("gpt inference: the cache is full (" + std::to_string(m_shape.context) +
                    " tokens)");
    if (token < 0 || token >= GptModel::kVocab)
        throw Error("gpt inference: token " + std::to_string(token) + " outside 0..255");
    float mean = 0, rstd = 0;
    m_x = m_tok.col(token) + m_posEmb.col(p);  // (C)
    const float scale = 1.0f / std::sqrt(float(hd));
    for (Block& b : m_blocks) {
        // x += proj(attention(qkv(ln1(x))))
        layernormForward<float>(m_ln.data(), &mean, &rstd, m_x.data(), b.ln1W.data(), b.ln1B.data(),
                                1, C);
        linear(b.qkv, m_ln.data(), m_qkv.data());
        b.k.col(p) = m_qkv.segment(C, C);
        b.v.col(p) = m_qkv.segment(2 * C, C);
        for (int64_t h = 0; h < H; ++h) {
            // scores over keys 0..p: s = scale K_h^T q_h, softmax, y_h = V_h s
            auto s = m_scores.head(p + 1);
            s.noalias() =
                scale * (b.k.block(h * hd, 0, hd, p + 1).transpose() * m_qkv.segment(h * hd, hd));
            if constexpr (kDispatchVectorMath)  // the same exp at the CPU's vector width
                vectorMath().expShifted(s.data(), s.data(), s.maxCoeff(), p + 1);
            else
                s = (s.array() - s.maxCoeff()).exp();
            s /= s.sum();
            m_att.segment(h * hd, hd).noalias() = b.v.block(h * hd, 0, hd, p + 1) * s;
        }
        linear(b.proj, m_att.data(), m_ln.data());
        m_x += m_ln;
        // x += out(gelu(fc(ln2(x))))
        layernormForward<float>(m_ln.data(), &mean, &rstd, m_x.data(), b.ln2W.data(), b.ln2B.data(),
                                1, C);
        linear(b.fc, m_ln.data(), m_fc.data());
        geluForward<float>(m_gelu.data(), m_fc.data(), 4 * C);
        linear(b.out, m_gelu.data(), m_ln.data());
        m_x += m_ln;
    }
    layernormForward<float>(m_ln.data(), &mean, &rstd, m_x.data(), m_lnfW.data(), m_lnfB.data(), 1,
                            C);
    product(m_head, m_ln.data(), m_logits.data());
    ++m_pos;
    return {m_logits.data(), size_t(m_logits.size())};
}

MatF GptInference::logits(std::span<const int32_t> tokens) {
    const int64_t T = int64_t(tokens.size());
    if (T < 1 || T > m_shape.context)
        throw Error("gpt inference: logits of " + std::to_string(T) + " tokens (context " +
                    std::to_string(m_shape.context) + ")");
    reset();
    MatF out(GptModel::kVocab, T);
    for (int64_t t = 0; t < T; ++t) {
        const std::span<const float> z = append(tokens[size_t(t)]);
        out.col(t) = CMapVec<float>(z.data(), int64_t(z.size()));
    }
    return out;
}

std::string GptInference::generate(const std::string& prompt, int64_t n, double temperature,
                                   int64_t topK, Rng& rng) {
    const int64_t ctx = m_shape.context;
    std::vector<int32_t> seq;
    for (unsigned char c : prompt) seq.push_back(int32_t(c));
    if (seq.empty()) seq.push_back('\n');
    std::string out;
    if (n <= 0) return out;
    // Encodes seq[from, end) into an empty cache; returns the last logits.
    auto encode = [&](int64_t from) {
        reset();
        std::span<const float> z;
        for (int64_t i = from; i < int64_t(seq.size()); ++i) z = append(seq[size_t(i)]);
        return z;
    };
    std::span<const float> z = encode(std::max<int64_t>(0, int64_t(seq.size()) - ctx));
    for (int64_t i = 0; i < n; ++i) {
        const int32_t next = sampleToken(z, temperature, topK, rng);
        out.push_back(char(next));
        seq.push_back(next);
        if (i + 1 == n) break;
        if (m_pos == ctx)  // full: positions shift, so re-encode the last half of the context
            z = encode(int64_t(seq.size()) - std::max<int64_t>(1, ctx / 2));
        else
            z = append(next);
    }
    return out;
}

}  // namespace h158
