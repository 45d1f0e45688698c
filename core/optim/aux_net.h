// The auxiliary network (meta-learner): a 6 → H → 2 MLP that reads a normalised training state
// and predicts the learning-rate multiplier m_t and the trust-radius parameter w_t (r_t = w_t²),
// learning online from what each step did. Its inputs, outputs and learning signals are below.
//
// Inputs x ∈ ℝ⁶ (TrainingState builds them; each is O(1)). EMAs are bias-corrected as in Adam,
// ema_β(n) = Σ β^(n−i) (1−β) v_i / (1 − βⁿ), so the first value is the EMA itself:
//   x₁ = clip(log(loss_t / ema_0.99(loss)), ±3)          loss relative to its long-run level
//   x₂ = clip((ema_0.9(loss) − ema_0.99(loss)) / ema_0.99(loss), ±1)   trend (< 0: falling)
//   x₃ = clip(log(‖g_t‖ / ema_0.99(‖g‖)), ±3)            gradient norm relative to its level
//   x₄ = 2c/(k−1) − 1 for data cluster c of k > 1 clusters; 0 when mixed (c < 0) or k ≤ 1
//   x₅ = t/(T−1) ∈ [0, 1]                                 progress (0-based step t of T)
//   x₆ = ema_0.9(constrained fraction) ∈ [0, 1]           recent trust-region activation: the
//        fraction of the matrices' parameters whose step was shortened (0 or 1 when global)
// (ratios use a floor of 1e-30 in numerator and denominator so a zero loss or gradient is 0.)
//
// Network (parameters flat, column-major, in this order; H = aux.hidden):
//   W1 (H, 6), b1 (H), W2 (2, H), b2 (2)            size 9H + 2
//   a = W1 x + b1;  h = tanh(a);  o = W2 h + b2
// Outputs, with M = aux.max_multiplier, R = aux.radius_range, r0 = trust.radius:
//   log m = log M · tanh(o₁)                  m ∈ [1/M, M]
//   w = √r0 · exp(½ log R · tanh(o₂))         r = w² = r0 · exp(log R · tanh(o₂)) ∈ [r0/R, r0·R]
// Init (from the seed): W1 ~ N(0, 1/6) (Xavier for tanh), b1 = 0, and W2 = 0, b2 = 0, so the
// network starts exactly at m = 1, r = r0; the first update breaks the zero (W2's gradient is
// δo hᵀ ≠ 0), after which W1 learns too.
//
// Learning signals. Both outputs set step lengths: the multiplier scales the step of every tensor
// the trust region leaves alone ("free" tensors), the radius sets the length of every tensor it
// shortens ("held" tensors; all or none under trust.mode=global). So both learn by the same
// rule, hypergradient descent in log space (Baydin et al. 2018, "Online learning rate adaptation
// with hypergradient descent"): with Δ_t ∝ m_t on free tensors and ∝ r_t on held ones,
//   dL_{t+1}/d(log m_t) = g_{t+1}·Δ_t over the free tensors,  dL_{t+1}/d(log r_t) = the same over
//   the held tensors,
// where g_{t+1} is the next step's gradient, on a batch drawn independently of Δ_t, so the dot
// product is an unbiased estimate of the full loss's slope along the step (a ratio measured on
// the step's own batch is not: Δ_t follows that batch's noise). One step is a short horizon:
// consecutive steps' noise is independent, and the one-step signal mostly says "the last step
// overshot along its own noise", which shrinks the step size greedily (Wu et al. 2018,
// "Understanding short-horizon bias in stochastic meta-optimization"). So the signal uses the
// trace of recent steps instead of Δ_t alone,
//   D_t = λ D_{t−1} + Δ_t,  λ = 1 − 1/aux.horizon  (aux.horizon = 1: D_t = Δ_t),
// the derivative of L_{t+1} w.r.t. a log-multiplier held over the last ~horizon steps, in which
// the consistent direction of progress accumulates and the noise of single steps averages out.
// Each is normalised to a cosine so its scale does not depend on the model:
//   γ_m = cos(g_{t+1}, D_t) over the free tensors,  γ_r = cos(g_{t+1}, D_t) over the held ones
// (0 where the group is empty). γ < 0: the loss still falls along the recent steps, longer steps
// would have helped. Both become one loss on the network, minimised by Adam at aux.lr
// (β = 0.9, 0.999, ε = 1e-8):  J(θ) = γ_m · log m(x_t; θ) + γ_r · log r(x_t; θ),
// with γ_m and γ_r held fixed (so ∂J/∂log m = γ_m, ∂J/∂log r = γ_r).
//
// What the signal does, measured (README, "The auxiliary NN"). On the GPT presets the cosines
// are small (|γ| ≈ 0.001–0.03 over 1–6 M parameters) but of a steady sign, and the network's Adam
// takes away their size, so a steady lean moves the outputs at full speed. The lean is towards
// shorter steps, even over a long trace: in a stiff direction the parameters oscillate about the
// valley floor, the position after a step is correlated with the steps that led there, and
// Σ_k g_{t+1}·Δ_{t−k} ≈ h·Var(x) > 0 there whatever the horizon. So the network anneals. Where the
// schedule is constant that is a learned decay, and it helps (gpt-s, spirals). Where the schedule
// already decays, it anneals a second time, and on gpt-m it does so while a tuned run is leaving
// its plateau. A request for longer steps (γ < 0) is made against that lean, so it is evidence;
// a request for shorter ones may be the lean alone. Hence aux.keep_decay: on a decaying schedule
// the trainer applies max(m_t, 1) (trainer.cpp, consultAux), and the network still learns from
// every signal as if nothing were clamped. The multiplier's range [1/M, M] is M = 4 by default so
// that a base rate 4× too small or too large can be undone (aux.max_multiplier).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/base/state_archive.h"
#include "core/config/config.h"

namespace h158 {

inline constexpr int kAuxInputs = 6;
using AuxFeatures = std::array<double, kAuxInputs>;

// Maintains the EMAs behind the six inputs from one observation per step.
class TrainingState {
  public:
    // Call once per step, before predicting for it. step is 0-based of totalSteps; cluster is
    // the batch's data cluster (-1 when mixed) of clusterCount (0 when clustering is off);
    // lastConstrained is the fraction in [0, 1] of the previous step that the projection
    // shortened. Throws Error when loss or gradNorm is negative or not finite, or cluster ≥
    // clusterCount.
    AuxFeatures observe(double loss, double gradNorm, int cluster, int clusterCount, int64_t step,
                        int64_t totalSteps, double lastConstrained);
    const AuxFeatures& features() const { return m_features; }
    int64_t observations() const { return m_count; }
    // The EMAs, features and count under prefix + "." (checkpoints).
    void save(StateArchive& a, const std::string& prefix) const;
    void load(const StateArchive& a, const std::string& prefix);

  private:
    struct Ema {
        double beta, sum = 0, weight = 0;  // weight = 1 − βⁿ
        void add(double v) {
            sum = beta * sum + (1 - beta) * v;
            weight = beta * weight + (1 - beta);
        }
        double value() const { return sum / weight; }
    };
    Ema m_lossShort{0.9}, m_lossLong{0.99}, m_grad{0.99}, m_constrained{0.9};
    AuxFeatures m_features{};
    int64_t m_count = 0;
};

class AuxNet {
  public:
    // Throws ConfigError naming aux.hidden, aux.lr, aux.max_multiplier, aux.radius_range or
    // trust.radius when out of range (hidden in [1, 4096], lr > 0, max_multiplier ≥ 1,
    // radius_range ≥ 1, r0 > 0).
    AuxNet(const AuxConfig& cfg, double r0, uint64_t seed);
    // New bounds and learning rate between steps (a run's edit, core/exp/events.h): the weights,
    // moments and statistics stay. Throws ConfigError as the constructor does; aux.hidden must
    // be the one the network was built with.
    void reconfigure(const AuxConfig& cfg, double r0);

    struct Output {
        double multiplier = 1;   // m_t
        double radius = 0;       // r_t = w_t²
        double radiusParam = 0;  // w_t
        double logMultiplier = 0;
        double logRadius = 0;
    };
    // The network's outputs at x; records them for stats() (evaluate() does not).
    Output predict(const AuxFeatures& x);
    Output evaluate(const AuxFeatures& x) const;

    // What step t measured, known once g_{t+1} is, over the free tensors (the trust region left
    // their step as proposed) and over the held ones (it shortened them). D_t is the trace of
    // steps as applied (after update quantization and projection); g is the loss gradient
    // before any clipping (dot and norm must come from the same vector or γ is not a cosine).
    struct Group {
        double dot = 0;        // g_{t+1} · D_t
        double gradNorm = 0;   // ‖g_{t+1}‖₂
        double traceNorm = 0;  // ‖D_t‖₂
    };
    struct Feedback {
        Group free, held;
    };
    struct Signal {
        double multiplier = 0;  // γ_m: cosine over the free tensors (0 when none or undefined)
        double radius = 0;      // γ_r: cosine over the held tensors (0 when none or undefined)
    };
    // The learning signals from one step's measurements (pure; formulas in the file comment).
    // Throws Error when a measurement is not finite.
    Signal signal(const Feedback& f) const;
    // signal(f), then learn(x_t, γ_m, γ_r), and statistics. x_t is the input that predicted
    // step t. Per step the order is: observe → feedback(x_{t−1}, step t−1's measurements) →
    // predict(x_t) (the prediction success rate compares the last two predictions with this
    // feedback).
    Signal feedback(const AuxFeatures& xt, const Feedback& f);

    // One Adam step on J(θ) at x (see the file comment): dLogM = γ_m, dLogR = γ_r.
    void learn(const AuxFeatures& x, double dLogM, double dLogR);
    // J(θ) and its gradient (size params().size()), for the finite-difference check.
    double loss(const AuxFeatures& x, double dLogM, double dLogR) const;
    void gradient(const AuxFeatures& x, double dLogM, double dLogR,
                  std::vector<double>& grad) const;

    // Flat parameters [W1, b1, W2, b2] (layout in the file comment); writable for checks.
    // Weights, Adam moments and every running statistic under prefix + "." (checkpoints); load()
    // throws Error naming the entry when its size does not fit aux.hidden.
    void save(StateArchive& a, const std::string& prefix) const;
    void load(const StateArchive& a, const std::string& prefix);

    std::vector<double>& params() { return m_params; }
    const std::vector<double>& params() const { return m_params; }
    int hidden() const { return m_hidden; }

    struct Stats {
        int64_t predictions = 0;       // predict() calls
        int64_t updates = 0;           // learn() calls (feedback() included)
        double meanMultiplier = 0;     // over predict() calls (NaN when none)
        double meanRadius = 0;         // over predict() calls (NaN when none)
        double meanHypergradient = 0;  // mean γ_m over feedbacks with γ_m ≠ 0 (< 0: too short)
        int64_t hypergradientSamples = 0;
        double meanRadiusSignal = 0;   // mean γ_r over feedbacks with γ_r ≠ 0
        int64_t radiusSamples = 0;
        // Prediction success rate: among signals (γ_m and γ_r) ≠ 0 whose output had changed
        // since the previous prediction, the fraction whose change had the sign the subsequent
        // signal recommends (log m or log r went up and γ < 0, or down and γ > 0). 0.5 is
        // chance; near an equilibrium it tends to 0.5 or below, since the outputs then oscillate
        // around the best value. A first-order judgement, not a re-run of the step.
        double predictionSuccessRate = 0;  // NaN when no samples
        int64_t predictionSamples = 0;
        int64_t radiusExpansions = 0;  // radius signals asking to grow (γ_r < 0)
        int64_t radiusShrinks = 0;     // radius signals asking to shrink (γ_r > 0)
    };
    Stats stats() const;

  private:
    // Forward pass with what backward needs.
    struct Cache {
        std::vector<double> h;  // (H) tanh(W1 x + b1)
        double u1 = 0, u2 = 0;  // tanh(o₁), tanh(o₂)
    };
    Output forward(const AuxFeatures& x, Cache& cache) const;

    int m_hidden;
    double m_r0, m_logMaxMult, m_logRange, m_lr;
    std::vector<double> m_params;          // (9H + 2)
    std::vector<double> m_adamM, m_adamV;  // (9H + 2) Adam moments
    int64_t m_adamT = 0;

    // statistics
    int64_t m_predictions = 0, m_updates = 0;
    double m_sumMultiplier = 0, m_sumRadius = 0;
    double m_lastLogM = 0, m_prevLogM = 0;
    double m_lastLogR = 0, m_prevLogR = 0;
    double m_sumHypergradient = 0, m_sumRadiusSignal = 0;
    int64_t m_hypergradientSamples = 0, m_radiusSamples = 0;
    int64_t m_agree = 0, m_predictionSamples = 0;
    int64_t m_expansions = 0, m_shrinks = 0;
};

}  // namespace h158
