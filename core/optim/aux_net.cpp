// The auxiliary network: training-state features, forward/backward in double, its own Adam,
// and the hypergradient learning signals of both outputs (spec in aux_net.h).
#include "core/optim/aux_net.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "core/base/errors.h"
#include "core/base/rng.h"

namespace h158 {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kRatioFloor = 1e-30;
constexpr double kAdamBeta1 = 0.9, kAdamBeta2 = 0.999, kAdamEps = 1e-8;
constexpr uint64_t kInitStream = 0xa0c5;  // Rng stream of the initial weights

void requireFinite(const char* what, double v) {
    if (!std::isfinite(v)) throw Error(std::string("AuxNet::signal: ") + what + " is " + formatNumber(v));
}

double logRatio(double a, double b) {
    return std::log((a + kRatioFloor) / (b + kRatioFloor));
}

}  // namespace

AuxFeatures TrainingState::observe(double loss, double gradNorm, int cluster, int clusterCount,
                                   int64_t step, int64_t totalSteps, double lastConstrained) {
    if (!(std::isfinite(loss) && loss >= 0))
        throw Error("TrainingState: loss must be finite and >= 0, got " + formatNumber(loss));
    if (!(std::isfinite(gradNorm) && gradNorm >= 0))
        throw Error("TrainingState: gradient norm must be finite and >= 0, got " + formatNumber(gradNorm));
    if (clusterCount > 0 && cluster >= clusterCount)
        throw Error("TrainingState: cluster " + std::to_string(cluster) + " out of range for " +
                    std::to_string(clusterCount) + " clusters");

    m_lossShort.add(loss);
    m_lossLong.add(loss);
    m_grad.add(gradNorm);
    if (!(lastConstrained >= 0 && lastConstrained <= 1))
        throw Error("TrainingState: constrained fraction must be in [0, 1], got " +
                    formatNumber(lastConstrained));
    m_constrained.add(lastConstrained);
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
    validate(cfg);  // the schema's ranges (config.h)
    TrustConfig trust;
    trust.radius = r0;
    validate(trust);
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

void AuxNet::reconfigure(const AuxConfig& cfg, double r0) {
    validate(cfg);
    TrustConfig trust;
    trust.radius = r0;
    validate(trust);
    if (cfg.hidden != m_hidden)
        throw ConfigError("aux.hidden: the network has " + std::to_string(m_hidden) +
                          " hidden units; it cannot change during a run");
    m_r0 = r0;
    m_lr = cfg.lr;
    m_logMaxMult = std::log(cfg.max_multiplier);
    m_logRange = std::log(cfg.radius_range);
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
    m_prevLogR = m_lastLogR;
    m_lastLogR = out.logRadius;
    return out;
}

double AuxNet::loss(const AuxFeatures& x, double dLogM, double dLogR) const {
    const Output out = evaluate(x);
    return dLogM * out.logMultiplier + dLogR * out.logRadius;
}

// Backward of J = γ_m·log m + γ_r·log r, by the chain rule from the outputs in:
//   log m = log M · tanh(o₁)        ⇒ ∂J/∂o₁ = γ_m · log M · (1 − u₁²)
//   log r = log r0 + log R·tanh(o₂) ⇒ ∂J/∂o₂ = γ_r · log R · (1 − u₂²)
//   o = W2 h + b2                   ⇒ ∂J/∂W2 = δo hᵀ,  ∂J/∂b2 = δo,  ∂J/∂h = W2ᵀ δo
//   h = tanh(a)                     ⇒ δa = ∂J/∂h ⊙ (1 − h²)
//   a = W1 x + b1                   ⇒ ∂J/∂W1 = δa xᵀ,  ∂J/∂b1 = δa
void AuxNet::gradient(const AuxFeatures& x, double dLogM, double dLogR,
                      std::vector<double>& grad) const {
    Cache cache;
    forward(x, cache);
    const int H = m_hidden;
    const double do1 = dLogM * m_logMaxMult * (1.0 - cache.u1 * cache.u1);
    const double do2 = dLogR * m_logRange * (1.0 - cache.u2 * cache.u2);

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
void AuxNet::learn(const AuxFeatures& x, double dLogM, double dLogR) {
    if (!std::isfinite(dLogM)) throw Error("AuxNet::learn: multiplier signal is " + formatNumber(dLogM));
    if (!std::isfinite(dLogR)) throw Error("AuxNet::learn: radius signal is " + formatNumber(dLogR));
    std::vector<double> g;
    gradient(x, dLogM, dLogR, g);
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
    auto cosine = [](const char* group, const Group& g) {
        requireFinite(group, g.dot);
        requireFinite(group, g.gradNorm);
        requireFinite(group, g.traceNorm);
        if (!(g.gradNorm > 0 && g.traceNorm > 0)) return 0.0;
        return std::clamp(g.dot / (g.gradNorm * g.traceNorm), -1.0, 1.0);
    };
    Signal s;
    s.multiplier = cosine("the free tensors' measurement", f.free);
    s.radius = cosine("the held tensors' measurement", f.held);
    return s;
}

AuxNet::Signal AuxNet::feedback(const AuxFeatures& xt, const Feedback& f) {
    const Signal s = signal(f);
    // Did the output move the way this signal asks (up when γ < 0, down when γ > 0)?
    auto judge = [&](double gamma, double change) {
        if (gamma == 0 || change == 0 || m_predictions < 2) return;
        ++m_predictionSamples;
        if (change * gamma < 0) ++m_agree;
    };
    if (s.multiplier != 0) {
        m_sumHypergradient += s.multiplier;
        ++m_hypergradientSamples;
        judge(s.multiplier, m_lastLogM - m_prevLogM);
    }
    if (s.radius != 0) {
        m_sumRadiusSignal += s.radius;
        ++m_radiusSamples;
        ++(s.radius < 0 ? m_expansions : m_shrinks);
        judge(s.radius, m_lastLogR - m_prevLogR);
    }
    learn(xt, s.multiplier, s.radius);
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
    s.meanRadiusSignal = ratio(m_sumRadiusSignal, m_radiusSamples);
    s.radiusSamples = m_radiusSamples;
    s.predictionSuccessRate = ratio(double(m_agree), m_predictionSamples);
    s.predictionSamples = m_predictionSamples;
    s.radiusExpansions = m_expansions;
    s.radiusShrinks = m_shrinks;
    return s;
}

void TrainingState::save(StateArchive& a, const std::string& prefix) const {
    std::vector<double> ema;
    for (const Ema* e : {&m_lossShort, &m_lossLong, &m_grad, &m_constrained}) {
        ema.push_back(e->sum);
        ema.push_back(e->weight);
    }
    a.put(prefix + ".ema", ema);
    a.put(prefix + ".features", std::span<const double>(m_features));
    a.putInteger(prefix + ".count", m_count);
}

void TrainingState::load(const StateArchive& a, const std::string& prefix) {
    const auto& ema = a.doubles(prefix + ".ema", 8);
    const auto& features = a.doubles(prefix + ".features", kAuxInputs);
    size_t i = 0;
    for (Ema* e : {&m_lossShort, &m_lossLong, &m_grad, &m_constrained}) {
        e->sum = ema[i++];
        e->weight = ema[i++];
    }
    std::copy(features.begin(), features.end(), m_features.begin());
    m_count = a.integer(prefix + ".count");
}

void AuxNet::save(StateArchive& a, const std::string& prefix) const {
    a.put(prefix + ".params", m_params);
    a.put(prefix + ".adam_m", m_adamM);
    a.put(prefix + ".adam_v", m_adamV);
    a.put(prefix + ".sums", std::vector<double>{m_sumMultiplier, m_sumRadius, m_lastLogM, m_prevLogM,
                                                m_lastLogR, m_prevLogR, m_sumHypergradient,
                                                m_sumRadiusSignal});
    a.put(prefix + ".counts",
          std::vector<int64_t>{m_adamT, m_predictions, m_updates, m_hypergradientSamples,
                               m_radiusSamples, m_agree, m_predictionSamples, m_expansions,
                               m_shrinks});
}

void AuxNet::load(const StateArchive& a, const std::string& prefix) {
    const int64_t n = int64_t(m_params.size());
    const auto& sums = a.doubles(prefix + ".sums", 8);
    const auto& counts = a.integers(prefix + ".counts", 9);
    m_params = a.doubles(prefix + ".params", n);
    m_adamM = a.doubles(prefix + ".adam_m", n);
    m_adamV = a.doubles(prefix + ".adam_v", n);
    size_t i = 0;
    for (double* v : {&m_sumMultiplier, &m_sumRadius, &m_lastLogM, &m_prevLogM, &m_lastLogR,
                      &m_prevLogR, &m_sumHypergradient, &m_sumRadiusSignal})
        *v = sums[i++];
    i = 0;
    for (int64_t* v : {&m_adamT, &m_predictions, &m_updates, &m_hypergradientSamples,
                       &m_radiusSamples, &m_agree, &m_predictionSamples, &m_expansions, &m_shrinks})
        *v = counts[i++];
}

}  // namespace h158
