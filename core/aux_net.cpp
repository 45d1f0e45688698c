// The auxiliary network: training-state features, forward/backward in double, its own Adam,
// and the hypergradient / trust-region-ratio learning signals (spec in aux_net.h).
#include "core/aux_net.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <string>

#include "core/rng.h"

namespace h158 {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kRatioFloor = 1e-30;
constexpr double kAdamBeta1 = 0.9, kAdamBeta2 = 0.999, kAdamEps = 1e-8;
constexpr uint64_t kInitStream = 0xa0c5;  // Rng stream of the initial weights

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

void requireFinite(const char* what, double v) {
    if (!std::isfinite(v)) throw Error(std::string("AuxNet::signal: ") + what + " is " + num(v));
}

double logRatio(double a, double b) {
    return std::log((a + kRatioFloor) / (b + kRatioFloor));
}

}  // namespace

AuxFeatures TrainingState::observe(double loss, double gradNorm, int cluster, int clusterCount,
                                   int64_t step, int64_t totalSteps, bool lastConstrained) {
    if (!(std::isfinite(loss) && loss >= 0))
        throw Error("TrainingState: loss must be finite and >= 0, got " + num(loss));
    if (!(std::isfinite(gradNorm) && gradNorm >= 0))
        throw Error("TrainingState: gradient norm must be finite and >= 0, got " + num(gradNorm));
    if (clusterCount > 0 && cluster >= clusterCount)
        throw Error("TrainingState: cluster " + std::to_string(cluster) + " out of range for " +
                    std::to_string(clusterCount) + " clusters");

    m_lossShort.add(loss);
    m_lossLong.add(loss);
    m_grad.add(gradNorm);
    m_constrained.add(lastConstrained ? 1.0 : 0.0);
    ++m_count;

    const double lossLong = m_lossLong.value();
    AuxFeatures& x = m_features;
    x[0] = std::clamp(logRatio(loss, lossLong), -3.0, 3.0);
    x[1] = std::clamp((m_lossShort.value() - lossLong) / (lossLong + kRatioFloor), -1.0, 1.0);
    x[2] = std::clamp(logRatio(gradNorm, m_grad.value()), -3.0, 3.0);
    x[3] = (clusterCount > 1 && cluster >= 0) ? 2.0 * cluster / (clusterCount - 1) - 1.0 : 0.0;
    x[4] = totalSteps > 1 ? std::clamp(double(step) / double(totalSteps - 1), 0.0, 1.0) : 0.0;
    x[5] = m_constrained.value();
    return x;
}

AuxNet::AuxNet(const AuxConfig& cfg, double r0, uint64_t seed)
    : m_hidden(int(cfg.hidden)), m_r0(r0), m_lr(cfg.lr) {
    if (cfg.hidden < 1 || cfg.hidden > 4096)
        throw ConfigError("aux.hidden must be in [1, 4096], got " + std::to_string(cfg.hidden));
    if (!(cfg.lr > 0 && std::isfinite(cfg.lr)))
        throw ConfigError("aux.lr must be > 0, got " + num(cfg.lr));
    if (!(cfg.max_multiplier >= 1 && std::isfinite(cfg.max_multiplier)))
        throw ConfigError("aux.max_multiplier must be >= 1, got " + num(cfg.max_multiplier));
    if (!(cfg.radius_range >= 1 && std::isfinite(cfg.radius_range)))
        throw ConfigError("aux.radius_range must be >= 1, got " + num(cfg.radius_range));
    if (!(r0 > 0 && std::isfinite(r0)))
        throw ConfigError("trust.radius must be > 0, got " + num(r0));
    m_logMaxMult = std::log(cfg.max_multiplier);
    m_logRange = std::log(cfg.radius_range);

    const int H = m_hidden;
    m_params.assign(size_t(9 * H + 2), 0.0);
    Rng rng(seed, kInitStream);
    const double std1 = 1.0 / std::sqrt(double(kAuxInputs));
    for (int i = 0; i < kAuxInputs * H; ++i) m_params[size_t(i)] = rng.normal(0.0, std1);
    // b1, W2, b2 stay 0: the network starts exactly at m = 1, r = r0.
    m_adamM.assign(m_params.size(), 0.0);
    m_adamV.assign(m_params.size(), 0.0);
}

// a = W1 x + b1 (H);  h = tanh(a) (H);  o = W2 h + b2 (2);  then the output maps.
AuxNet::Output AuxNet::forward(const AuxFeatures& x, Cache& cache) const {
    const int H = m_hidden;
    const double* W1 = m_params.data();      // (H, 6)
    const double* b1 = W1 + kAuxInputs * H;  // (H)
    const double* W2 = b1 + H;               // (2, H)
    const double* b2 = W2 + 2 * H;           // (2)
    cache.h.resize(size_t(H));
    for (int j = 0; j < H; ++j) {
        double a = b1[j];
        for (int i = 0; i < kAuxInputs; ++i) a += W1[i * H + j] * x[size_t(i)];
        cache.h[size_t(j)] = std::tanh(a);
    }
    double o1 = b2[0], o2 = b2[1];
    for (int j = 0; j < H; ++j) {
        o1 += W2[2 * j] * cache.h[size_t(j)];
        o2 += W2[2 * j + 1] * cache.h[size_t(j)];
    }
    cache.u1 = std::tanh(o1);
    cache.u2 = std::tanh(o2);

    Output out;
    out.logMultiplier = m_logMaxMult * cache.u1;
    out.multiplier = std::exp(out.logMultiplier);
    out.radiusParam = std::sqrt(m_r0) * std::exp(0.5 * m_logRange * cache.u2);
    out.radius = out.radiusParam * out.radiusParam;
    out.logRadius = std::log(m_r0) + m_logRange * cache.u2;
    return out;
}

AuxNet::Output AuxNet::evaluate(const AuxFeatures& x) const {
    Cache cache;
    return forward(x, cache);
}

AuxNet::Output AuxNet::predict(const AuxFeatures& x) {
    const Output out = evaluate(x);
    ++m_predictions;
    m_sumMultiplier += out.multiplier;
    m_sumRadius += out.radius;
    m_prevLogM = m_lastLogM;
    m_lastLogM = out.logMultiplier;
    return out;
}

double AuxNet::loss(const AuxFeatures& x, double dLogM, double targetLogRadius) const {
    const Output out = evaluate(x);
    double j = dLogM * out.logMultiplier;
    if (!std::isnan(targetLogRadius)) {
        const double e = out.logRadius - targetLogRadius;
        j += 0.5 * e * e;
    }
    return j;
}

// Backward of J = γ·log m + ½(log r − τ)², by the chain rule from the outputs in:
//   log m = log M · tanh(o₁)        ⇒ ∂J/∂o₁ = γ · log M · (1 − u₁²)
//   log r = log r0 + log R·tanh(o₂) ⇒ ∂J/∂o₂ = (log r − τ) · log R · (1 − u₂²)   (0 if τ NaN)
//   o = W2 h + b2                   ⇒ ∂J/∂W2 = δo hᵀ,  ∂J/∂b2 = δo,  ∂J/∂h = W2ᵀ δo
//   h = tanh(a)                     ⇒ δa = ∂J/∂h ⊙ (1 − h²)
//   a = W1 x + b1                   ⇒ ∂J/∂W1 = δa xᵀ,  ∂J/∂b1 = δa
void AuxNet::gradient(const AuxFeatures& x, double dLogM, double targetLogRadius,
                      std::vector<double>& grad) const {
    Cache cache;
    const Output out = forward(x, cache);
    const int H = m_hidden;
    const double do1 = dLogM * m_logMaxMult * (1.0 - cache.u1 * cache.u1);
    const double do2 = std::isnan(targetLogRadius) ? 0.0
                                                   : (out.logRadius - targetLogRadius) *
                                                         m_logRange * (1.0 - cache.u2 * cache.u2);

    grad.assign(m_params.size(), 0.0);
    double* dW1 = grad.data();           // (H, 6)
    double* db1 = dW1 + kAuxInputs * H;  // (H)
    double* dW2 = db1 + H;               // (2, H)
    double* db2 = dW2 + 2 * H;           // (2)
    const double* W2 = m_params.data() + 7 * H;
    db2[0] = do1;
    db2[1] = do2;
    for (int j = 0; j < H; ++j) {
        const double hj = cache.h[size_t(j)];
        dW2[2 * j] = do1 * hj;
        dW2[2 * j + 1] = do2 * hj;
        const double dh = W2[2 * j] * do1 + W2[2 * j + 1] * do2;
        const double da = dh * (1.0 - hj * hj);
        db1[j] = da;
        for (int i = 0; i < kAuxInputs; ++i) dW1[i * H + j] = da * x[size_t(i)];
    }
}

// Adam with bias correction (Kingma & Ba 2015) on the flat parameters.
void AuxNet::learn(const AuxFeatures& x, double dLogM, double targetLogRadius) {
    if (!std::isfinite(dLogM)) throw Error("AuxNet::learn: multiplier signal is " + num(dLogM));
    if (std::isinf(targetLogRadius))
        throw Error("AuxNet::learn: radius target is " + num(targetLogRadius));
    std::vector<double> g;
    gradient(x, dLogM, targetLogRadius, g);
    ++m_adamT;
    const double bc1 = 1.0 - std::pow(kAdamBeta1, double(m_adamT));
    const double bc2 = 1.0 - std::pow(kAdamBeta2, double(m_adamT));
    for (size_t i = 0; i < m_params.size(); ++i) {
        m_adamM[i] = kAdamBeta1 * m_adamM[i] + (1.0 - kAdamBeta1) * g[i];
        m_adamV[i] = kAdamBeta2 * m_adamV[i] + (1.0 - kAdamBeta2) * g[i] * g[i];
        m_params[i] -= m_lr * (m_adamM[i] / bc1) / (std::sqrt(m_adamV[i] / bc2) + kAdamEps);
    }
    ++m_updates;
}

AuxNet::Signal AuxNet::signal(const Feedback& f) const {
    requireFinite("g_t . delta_t", f.gDotDelta);
    requireFinite("g_{t+1} . delta_t", f.gNextDotDelta);
    requireFinite("|g_{t+1}|", f.gNextNorm);
    requireFinite("|delta_t|", f.deltaNorm);
    requireFinite("the radius used", f.radiusUsed);

    Signal s;
    if (!f.constrained && f.gNextNorm > 0 && f.deltaNorm > 0)
        s.hypergradient = std::clamp(f.gNextDotDelta / (f.gNextNorm * f.deltaNorm), -1.0, 1.0);

    s.rho = kNaN;
    if (f.gDotDelta < 0) {
        const double rho = 0.5 + 0.5 * f.gNextDotDelta / f.gDotDelta;
        if (std::isfinite(rho)) s.rho = rho;
    }

    s.targetLogRadius = kNaN;
    if (f.radiusUsed > 0 && !std::isnan(s.rho)) {
        const double logR = std::log(f.radiusUsed);
        double target = logR;
        if (s.rho < 0.25)
            target = logR - std::log(4.0);
        else if (s.rho > 0.75 && f.constrained)
            target = logR + std::numbers::ln2;
        const double logR0 = std::log(m_r0);
        s.targetLogRadius = std::clamp(target, logR0 - m_logRange, logR0 + m_logRange);
    }
    return s;
}

AuxNet::Signal AuxNet::feedback(const AuxFeatures& xt, const Feedback& f) {
    const Signal s = signal(f);
    if (s.hypergradient != 0) {
        m_sumHypergradient += s.hypergradient;
        ++m_hypergradientSamples;
        const double change = m_lastLogM - m_prevLogM;
        if (m_predictions >= 2 && change != 0) {
            ++m_predictionSamples;
            if (change * s.hypergradient < 0) ++m_agree;
        }
    }
    if (!std::isnan(s.rho)) {
        ++m_ratioSamples;
        if (s.rho >= 0.25) ++m_goodSteps;
        if (!std::isnan(s.targetLogRadius)) {
            if (s.rho < 0.25) ++m_shrinks;
            if (s.rho > 0.75 && f.constrained) ++m_expansions;
        }
    }
    learn(xt, s.hypergradient, s.targetLogRadius);
    return s;
}

AuxNet::Stats AuxNet::stats() const {
    auto ratio = [](double a, int64_t n) { return n > 0 ? a / double(n) : kNaN; };
    Stats s;
    s.predictions = m_predictions;
    s.updates = m_updates;
    s.meanMultiplier = ratio(m_sumMultiplier, m_predictions);
    s.meanRadius = ratio(m_sumRadius, m_predictions);
    s.meanHypergradient = ratio(m_sumHypergradient, m_hypergradientSamples);
    s.hypergradientSamples = m_hypergradientSamples;
    s.predictionSuccessRate = ratio(double(m_agree), m_predictionSamples);
    s.predictionSamples = m_predictionSamples;
    s.successfulStepRate = ratio(double(m_goodSteps), m_ratioSamples);
    s.ratioSamples = m_ratioSamples;
    s.radiusExpansions = m_expansions;
    s.radiusShrinks = m_shrinks;
    return s;
}

}  // namespace h158
