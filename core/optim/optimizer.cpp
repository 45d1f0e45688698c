// SGD with momentum and AdamW over flat float vectors (formulas in optimizer.h).
#include "core/optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <experimental/simd>
#include <string>

#include "core/base/errors.h"
#include "core/base/parallel.h"
#include "core/base/vector_clones.h"

namespace h158 {

namespace {

// Elements per inner pass: small enough that a chunk's moments stay in L1 between the passes.
constexpr int64_t kChunk = 1024;

// The chunk functions are cloned for AVX-512, AVX2 and plain x86-64 (H158_VECTOR_CLONES), so a
// portable build runs their loops at the CPU's width. Element-wise without contraction, so every
// clone computes the same bits.

// v ← μ v + g;  Δ = −η v − (ηλs) θ
H158_VECTOR_CLONES
void sgdChunk(int64_t n, const float* __restrict p, const float* __restrict g, float* __restrict v,
              float* __restrict d, float mu, float lr, float decay) {
    for (int64_t i = 0; i < n; ++i) {
        const float vi = mu * v[i] + g[i];
        v[i] = vi;
        d[i] = -(lr * vi) - decay * p[i];
    }
}

struct AdamCoeffs {
    float beta1, oneMinusBeta1, beta2, oneMinusBeta2;
    float stepSize;    // η/(1 − β1ᵗ)
    float invSqrtBc2;  // 1/√(1 − β2ᵗ):  √v̂ = √v · invSqrtBc2
    float eps;
    float decay;  // ηλs, or 0 on tensors without decay
};

// x ← √x elementwise, correctly rounded (IEEE sqrt) in the SIMD body and the scalar tail
// alike. A plain loop over std::sqrt stays scalar because of errno, and Eigen's SIMD sqrt under
// EIGEN_FAST_MATH is an rsqrt estimate plus a Newton step, not the rounded square root.
void sqrtInPlace(float* x, int64_t n) {
    namespace stdx = std::experimental;
    using V = stdx::simd<float, stdx::simd_abi::deduce_t<float, 8>>;
    constexpr int64_t w = int64_t(V::size());
    int64_t i = 0;
    for (; i + w <= n; i += w)
        stdx::sqrt(V(x + i, stdx::element_aligned)).copy_to(x + i, stdx::element_aligned);
    for (; i < n; ++i) x[i] = std::sqrt(x[i]);
}

// Three passes over one chunk: moments, square roots, step.
H158_VECTOR_CLONES
void adamChunk(int64_t n, const float* __restrict p, const float* __restrict g, float* __restrict m,
               float* __restrict v, float* __restrict root, float* __restrict d,
               const AdamCoeffs& c) {
    for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i];
        m[i] = c.beta1 * m[i] + c.oneMinusBeta1 * gi;
        const float vi = c.beta2 * v[i] + c.oneMinusBeta2 * gi * gi;
        v[i] = vi;
        root[i] = vi;
    }
    sqrtInPlace(root, n);
    for (int64_t i = 0; i < n; ++i)
        d[i] = -(c.stepSize * m[i] / (root[i] * c.invSqrtBc2 + c.eps)) - c.decay * p[i];
}

class Sgd final : public Optimizer {
  public:
    Sgd(const OptimConfig& cfg, const ParamLayout& layout)
        : Optimizer(layout, cfg.weight_decay, 1), m_momentum(cfg.momentum) {
    }
    std::string name() const override { return "sgd"; }

    void propose(const float* params, const float* grad, double lr, double wdScale,
                 float* delta) override {
        checkStepArgs("sgd", lr, wdScale);
        ++m_steps;
        float* v = m_state.data();
        for (const Segment& s : m_segments)
            parallelFor(s.end - s.begin, kChunk * 16, [&](int64_t i0, int64_t i1) {
                const int64_t b = s.begin + i0;
                sgdChunk(i1 - i0, params + b, grad + b, v + b, delta + b, float(m_momentum),
                         float(lr), decayFactor(s, lr, wdScale));
            });
    }

  private:
    double m_momentum;
};

class AdamW final : public Optimizer {
  public:
    AdamW(const OptimConfig& cfg, const ParamLayout& layout)
        : Optimizer(layout, cfg.weight_decay, 2),
          m_beta1(cfg.beta1),
          m_beta2(cfg.beta2),
          m_eps(cfg.eps) {
    }
    std::string name() const override { return "adamw"; }

    void propose(const float* params, const float* grad, double lr, double wdScale,
                 float* delta) override {
        checkStepArgs("adamw", lr, wdScale);
        ++m_steps;
        const double t = double(m_steps);
        AdamCoeffs c;
        c.beta1 = float(m_beta1);
        c.oneMinusBeta1 = float(1.0 - m_beta1);
        c.beta2 = float(m_beta2);
        c.oneMinusBeta2 = float(1.0 - m_beta2);
        c.stepSize = float(lr / (1.0 - std::pow(m_beta1, t)));
        c.invSqrtBc2 = float(1.0 / std::sqrt(1.0 - std::pow(m_beta2, t)));
        c.eps = float(m_eps);
        float* m = m_state.data();
        float* v = m_state.data() + m_size;
        for (const Segment& s : m_segments) {
            c.decay = decayFactor(s, lr, wdScale);
            // elementwise, so splitting over threads cannot change a bit
            parallelFor(s.end - s.begin, kChunk * 16, [&](int64_t i0, int64_t i1) {
                alignas(64) float root[kChunk];
                for (int64_t b = s.begin + i0; b < s.begin + i1; b += kChunk) {
                    const int64_t n = std::min(kChunk, s.begin + i1 - b);
                    adamChunk(n, params + b, grad + b, m + b, v + b, root, delta + b, c);
                }
            });
        }
    }

  private:
    double m_beta1, m_beta2, m_eps;
};

}  // namespace

Optimizer::Optimizer(const ParamLayout& layout, double weightDecay, int moments)
    : m_size(layout.size()), m_weightDecay(weightDecay) {
    for (const ParamTensor& t : layout.tensors()) {
        if (t.size() == 0) continue;
        if (!m_segments.empty() && m_segments.back().decay == t.decay &&
            m_segments.back().end == t.offset)
            m_segments.back().end = t.offset + t.size();
        else
            m_segments.push_back({t.offset, t.offset + t.size(), t.decay});
    }
    m_state.assign(size_t(moments * m_size), 0.0f);
}

std::unique_ptr<Optimizer> Optimizer::make(const OptimConfig& cfg, const ParamLayout& layout) {
    validate(cfg);  // the schema's ranges (config.h)
    if (cfg.kind == "sgd") return std::make_unique<Sgd>(cfg, layout);
    if (cfg.kind == "adamw") return std::make_unique<AdamW>(cfg, layout);
    throw ConfigError("optim.kind must be one of sgd, adamw, got \"" + cfg.kind + "\"");
}

void Optimizer::setState(std::span<const float> state, int64_t steps) {
    if (state.size() != m_state.size())
        throw Error(name() + " optimizer: state has " + std::to_string(state.size()) +
                    " values, expected " + std::to_string(m_state.size()));
    if (steps < 0) throw Error(name() + " optimizer: step count must be >= 0");
    std::copy(state.begin(), state.end(), m_state.begin());
    m_steps = steps;
}

void Optimizer::checkStepArgs(const char* who, double lr, double wdScale) {
    if (!(std::isfinite(lr) && lr >= 0))
        throw Error(std::string(who) + " optimizer: lr must be finite and >= 0, got " + formatNumber(lr));
    if (!(std::isfinite(wdScale) && wdScale >= 0))
        throw Error(std::string(who) +
                    " optimizer: weight-decay factor must be finite and >= 0, got " + formatNumber(wdScale));
}

void Optimizer::setWeightDecay(double weightDecay) {
    if (!(weightDecay >= 0) || !std::isfinite(weightDecay))
        throw ConfigError("optim.weight_decay: must be a finite number >= 0");
    m_weightDecay = weightDecay;
}

}  // namespace h158
