// First-order optimizers over the flat parameter vector: SGD with momentum and AdamW. Each turns
// a gradient into a proposed step Δ (the amount to add to the parameters); the trainer then
// quantizes and projects Δ (trust_region.h) before applying it.
//
// With η the learning rate given to propose() (base × schedule × auxiliary multiplier), s its
// weight-decay factor (the schedule's wd), λ = optim.weight_decay, and λ applied only to tensors
// with ParamTensor::decay (λ = 0 elsewhere):
//   sgd:   v ← μ v + g;                         Δ = −η (v + λ s θ)
//          (PyTorch's momentum buffer without dampening; weight decay decoupled as in SGDW,
//          Loshchilov & Hutter 2019, so both optimizers read optim.weight_decay the same way)
//   adamw: t ← t + 1;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
//          Δ = −η [ m̂ / (√v̂ + ε) + λ s θ ],  m̂ = m/(1 − β1ᵗ),  v̂ = v/(1 − β2ᵗ)
//          (torch.optim.AdamW: decay scaled by η, ε added to √v̂)
// The moments do not depend on η, so Δ is exactly proportional to η; the auxiliary network's
// hypergradient (aux_net.h) relies on that. Gradient clipping (optim.grad_clip) is the caller's:
// clip g before propose(), e.g. with projectToBall(g, grad_clip).
//
// Arithmetic: per element in float, in one contiguous loop per tensor that the compiler
// vectorises; bias corrections in double. The order of operations per element is fixed, so the
// result does not depend on buffer alignment: same inputs, same bits.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/model/params.h"

namespace h158 {

class Optimizer {
  public:
    virtual ~Optimizer() = default;

    // optim.kind "sgd" or "adamw". Throws ConfigError naming the field for an unknown kind or a
    // coefficient out of range (momentum, beta1, beta2 in [0, 1); eps > 0; weight_decay >= 0).
    static std::unique_ptr<Optimizer> make(const OptimConfig& cfg, const ParamLayout& layout);

    // Computes the proposed step Δ from grad at learning rate lr and weight-decay factor
    // wdScale, updating the moments. params, grad and delta each hold layout.size() floats;
    // delta must not overlap params or grad. Throws Error when lr or wdScale is negative or
    // not finite.
    virtual void propose(const float* params, const float* grad, double lr, double wdScale,
                         float* delta) = 0;
    virtual std::string name() const = 0;  // "sgd" | "adamw"

    // The moments, flat: sgd [v], adamw [m, v] (each layout.size()). For determinism checks
    // and export; setState() restores them with the step count (for resuming).
    virtual std::vector<float> state() const { return m_state; }
    void setState(std::span<const float> state, int64_t steps);
    // optim.weight_decay changed between steps (core/exp/events.h). Throws ConfigError when < 0
    // or not finite.
    void setWeightDecay(double weightDecay);
    int64_t steps() const { return m_steps; }  // propose() calls so far

  protected:
    Optimizer(const ParamLayout& layout, double weightDecay, int moments);

    // A maximal run of consecutive tensors that share the decay flag.
    struct Segment {
        int64_t begin = 0, end = 0;
        bool decay = false;
    };
    static void checkStepArgs(const char* who, double lr, double wdScale);
    float decayFactor(const Segment& s, double lr, double wdScale) const {
        return s.decay ? float(lr * m_weightDecay * wdScale) : 0.0f;
    }

    std::vector<Segment> m_segments;
    int64_t m_size = 0;
    double m_weightDecay = 0;
    std::vector<float> m_state;  // (moments * size): the moment vectors back to back
    int64_t m_steps = 0;
};

}  // namespace h158
