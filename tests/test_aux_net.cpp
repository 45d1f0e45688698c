// Tests of the auxiliary network: finite-difference check of its backward, its learning signals
// (hypergradient on a quadratic with a known best step, the trust-region radius rule), the
// training-state features, output ranges, statistics and determinism by seed.
#include <QTest>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <vector>

#include "core/aux_net.h"
#include "core/rng.h"

using namespace h158;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kR0 = 0.05;

AuxConfig auxConfig(int hidden = 16) {
    AuxConfig c;
    c.hidden = hidden;
    c.lr = 0.01;
    c.max_multiplier = 4.0;
    c.radius_range = 4.0;
    return c;
}

AuxFeatures randomFeatures(Rng& rng) {
    AuxFeatures x;
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    return x;
}

// Gradient descent on f(x) = ½ a x² with step −lr·m_t·f'(x), the multiplier m_t predicted by
// the network and learned from the hypergradient after every step (the trainer's loop in
// miniature). The best multiplier is 1/(lr·a): it lands on the minimum in one step. Every
// `episode` steps x restarts at ±1 (fresh data, so the problem does not vanish); the step
// across a restart gets no feedback since its g_{t+1} belongs to another problem.
struct QuadraticRun {
    double finalMultiplier = 0;
    double meanTailMultiplier = 0;  // mean over the last quarter of the steps
    AuxNet::Stats stats;
    std::vector<double> params;
};

QuadraticRun runQuadratic(double lrTimesCurvature, int steps, int episode, uint64_t seed) {
    const double a = 3.0, lr = lrTimesCurvature / a;
    AuxNet net(auxConfig(), kR0, seed);
    TrainingState state;
    double x = 1.0, prevGradDotDelta = 0, prevDelta = 0;
    AuxFeatures prevFeatures{};
    bool havePrev = false;
    QuadraticRun run;
    double tailSum = 0;
    int tailCount = 0;
    for (int t = 0; t < steps; ++t) {
        if (t % episode == 0) {
            x = (t / episode) % 2 ? -1.0 : 1.0;
            havePrev = false;
        }
        const double g = a * x;
        const AuxFeatures features =
            state.observe(0.5 * a * x * x, std::abs(g), -1, 0, t, steps, false);
        if (havePrev) {
            AuxNet::Feedback fb;
            fb.gDotDelta = prevGradDotDelta;
            fb.gNextDotDelta = g * prevDelta;
            fb.gNextNorm = std::abs(g);
            fb.deltaNorm = std::abs(prevDelta);
            net.feedback(prevFeatures, fb);
        }
        const AuxNet::Output out = net.predict(features);
        const double delta = -lr * out.multiplier * g;
        x += delta;
        prevGradDotDelta = g * delta;
        prevDelta = delta;
        prevFeatures = features;
        havePrev = true;
        run.finalMultiplier = out.multiplier;
        if (t >= steps - steps / 4) {
            tailSum += out.multiplier;
            ++tailCount;
        }
    }
    run.meanTailMultiplier = tailSum / tailCount;
    run.stats = net.stats();
    run.params = net.params();
    return run;
}

}  // namespace

class TestAuxNet : public QObject {
    Q_OBJECT

  private slots:
    // Central differences of J(θ) = γ·log m + ½(log r − τ)² against gradient(), in double, at
    // random parameters (not the zero-W2 start, where W1's gradient vanishes) and inputs.
    void gradientMatchesFiniteDifferences_data() {
        QTest::addColumn<int>("hidden");
        QTest::addColumn<double>("dLogM");
        QTest::addColumn<double>("tauOffset");  // τ − log r0; NaN = no radius term
        QTest::newRow("multiplier term") << 16 << 0.7 << kNaN;
        QTest::newRow("radius term") << 16 << 0.0 << 0.9;
        QTest::newRow("both terms") << 16 << -0.4 << -0.5;
        QTest::newRow("both terms, H=3") << 3 << 1.0 << 1.2;
    }
    void gradientMatchesFiniteDifferences() {
        QFETCH(int, hidden);
        QFETCH(double, dLogM);
        QFETCH(double, tauOffset);
        AuxNet net(auxConfig(hidden), kR0, 1);
        QCOMPARE(net.params().size(), size_t(9 * hidden + 2));
        Rng rng(123);
        for (double& p : net.params()) p = rng.normal(0.0, 0.7);
        const AuxFeatures x = randomFeatures(rng);
        const double tau = std::log(kR0) + tauOffset;

        std::vector<double> analytic;
        net.gradient(x, dLogM, tau, analytic);
        QCOMPARE(analytic.size(), net.params().size());
        double scale = 0;
        for (double g : analytic) scale = std::max(scale, std::abs(g));
        QVERIFY2(scale > 1e-3, "the gradient is (almost) zero: the check would be vacuous");

        const double h = 1e-6;
        double worst = 0;
        for (size_t i = 0; i < net.params().size(); ++i) {
            double& p = net.params()[i];
            const double saved = p;
            p = saved + h;
            const double up = net.loss(x, dLogM, tau);
            p = saved - h;
            const double down = net.loss(x, dLogM, tau);
            p = saved;
            const double numeric = (up - down) / (2 * h);
            worst = std::max(worst, std::abs(numeric - analytic[i]));
        }
        QVERIFY2(
            worst <= 1e-7 * scale,
            qPrintable(QString("max |analytic - numeric| = %1 (scale %2)").arg(worst).arg(scale)));
    }

    // The zero-initialised output layer starts the network at exactly m = 1 and r = r0.
    void startsAtUnitMultiplierAndBaseRadius() {
        AuxNet net(auxConfig(), kR0, 9);
        Rng rng(2);
        for (int i = 0; i < 10; ++i) {
            const AuxNet::Output out = net.evaluate(randomFeatures(rng));
            QCOMPARE(out.multiplier, 1.0);
            QVERIFY(std::abs(out.radius - kR0) <= 1e-15);
            QVERIFY(std::abs(out.radiusParam * out.radiusParam - out.radius) <= 1e-15);
        }
    }

    // Whatever the parameters, m ∈ [1/M, M] and r ∈ [r0/R, r0·R].
    void outputsStayInRange() {
        AuxNet net(auxConfig(), kR0, 3);
        Rng rng(4);
        for (double& p : net.params()) p = rng.normal(0.0, 10.0);
        double lowM = 1, highM = 1;
        for (int i = 0; i < 200; ++i) {
            const AuxNet::Output out = net.evaluate(randomFeatures(rng));
            QVERIFY(out.multiplier >= 0.25 * (1 - 1e-12) && out.multiplier <= 4 * (1 + 1e-12));
            QVERIFY(out.radius >= kR0 / 4 * (1 - 1e-12) && out.radius <= kR0 * 4 * (1 + 1e-12));
            QVERIFY(std::abs(std::log(out.multiplier) - out.logMultiplier) < 1e-12);
            QVERIFY(std::abs(std::log(out.radius) - out.logRadius) < 1e-12);
            lowM = std::min(lowM, out.multiplier);
            highM = std::max(highM, out.multiplier);
        }
        QVERIFY(lowM < 0.5 && highM > 2);  // the range is actually used
    }

    // The learning signals for given measurements (formulas in aux_net.h), r_t = r0 = 0.05.
    void signalValues_data() {
        QTest::addColumn<double>("gDot");
        QTest::addColumn<double>("gNextDot");
        QTest::addColumn<double>("deltaNorm");
        QTest::addColumn<bool>("constrained");
        QTest::addColumn<double>("radiusUsed");
        QTest::addColumn<double>("gamma");
        QTest::addColumn<double>("rho");
        QTest::addColumn<double>("tauMinusLogR");  // NaN = no radius signal
        const double ln2 = std::numbers::ln2, ln4 = 2 * std::numbers::ln2;
        QTest::newRow("too short, middling")
            << -1.0 << -0.5 << 1.0 << false << kR0 << -0.5 << 0.75 << 0.0;
        QTest::newRow("overshoot") << -1.0 << 0.9 << 1.0 << false << kR0 << 0.9 << 0.05 << -ln4;
        QTest::newRow("overshoot at boundary")
            << -1.0 << 0.9 << 1.0 << true << kR0 << 0.0 << 0.05 << -ln4;
        QTest::newRow("good at boundary")
            << -1.0 << -0.8 << 1.0 << true << kR0 << 0.0 << 0.9 << ln2;
        QTest::newRow("good inside") << -1.0 << -0.8 << 1.0 << false << kR0 << -0.8 << 0.9 << 0.0;
        QTest::newRow("good at top of range")
            << -1.0 << -0.8 << 1.0 << true << 4 * kR0 << 0.0 << 0.9 << 0.0;
        QTest::newRow("bad at bottom of range")
            << -1.0 << 0.9 << 1.0 << false << kR0 / 4 << 0.9 << 0.05 << 0.0;
        QTest::newRow("normalised cosine")
            << -2.0 << -1.0 << 4.0 << false << kR0 << -0.25 << 0.75 << 0.0;
        QTest::newRow("not a descent step")
            << 0.1 << -0.3 << 1.0 << false << kR0 << -0.3 << kNaN << kNaN;
        QTest::newRow("trust region off")
            << -1.0 << 0.9 << 1.0 << false << 0.0 << 0.9 << 0.05 << kNaN;
        QTest::newRow("zero step") << 0.0 << 0.0 << 0.0 << false << kR0 << 0.0 << kNaN << kNaN;
    }
    void signalValues() {
        QFETCH(double, gDot);
        QFETCH(double, gNextDot);
        QFETCH(double, deltaNorm);
        QFETCH(bool, constrained);
        QFETCH(double, radiusUsed);
        QFETCH(double, gamma);
        QFETCH(double, rho);
        QFETCH(double, tauMinusLogR);
        AuxNet net(auxConfig(), kR0, 1);
        AuxNet::Feedback f;
        f.gDotDelta = gDot;
        f.gNextDotDelta = gNextDot;
        f.gNextNorm = 1.0;
        f.deltaNorm = deltaNorm;
        f.constrained = constrained;
        f.radiusUsed = radiusUsed;
        const AuxNet::Signal s = net.signal(f);
        QVERIFY2(std::abs(s.hypergradient - gamma) < 1e-12,
                 qPrintable(QString("gamma %1").arg(s.hypergradient)));
        if (std::isnan(rho))
            QVERIFY(std::isnan(s.rho));
        else
            QVERIFY2(std::abs(s.rho - rho) < 1e-12, qPrintable(QString("rho %1").arg(s.rho)));
        if (std::isnan(tauMinusLogR))
            QVERIFY(std::isnan(s.targetLogRadius));
        else
            QVERIFY2(
                std::abs(s.targetLogRadius - (std::log(radiusUsed) + tauMinusLogR)) < 1e-12,
                qPrintable(
                    QString("tau - log r = %1").arg(s.targetLogRadius - std::log(radiusUsed))));
    }

    void signalRejectsNonFinite() {
        AuxNet net(auxConfig(), kR0, 1);
        AuxNet::Feedback f;
        f.gNextDotDelta = kNaN;
        QVERIFY_THROWS_EXCEPTION(Error, net.signal(f));
    }

    // Online hypergradient descent on a quadratic whose best multiplier 1/(lr·a) is known:
    // lr far too small → m grows to its cap; too large (up to 1.9/a, oscillating but stable)
    // → m shrinks below 1; in between, m settles within 10% of the best value.
    void multiplierMovesTowardsBestStep_data() {
        QTest::addColumn<double>("lrTimesCurvature");
        QTest::addColumn<double>("low");  // bounds on the mean multiplier over the last quarter
        QTest::addColumn<double>("high");
        QTest::newRow("lr 100x too small: m hits its cap 4") << 0.01 << 3.5 << 4.0;
        QTest::newRow("lr 1.9x too large: best 0.526") << 1.9 << 0.47 << 0.58;
        QTest::newRow("lr 1.5x too large: best 0.667") << 1.5 << 0.6 << 0.73;
        QTest::newRow("lr half the best: best 2") << 0.5 << 1.8 << 2.2;
        QTest::newRow("lr 0.3x the best: best 3.33") << 0.3 << 3.0 << 3.67;
    }
    void multiplierMovesTowardsBestStep() {
        QFETCH(double, lrTimesCurvature);
        QFETCH(double, low);
        QFETCH(double, high);
        const QuadraticRun run = runQuadratic(lrTimesCurvature, 400, 20, 17);
        QVERIFY2(run.meanTailMultiplier >= low && run.meanTailMultiplier <= high,
                 qPrintable(QString("mean multiplier %1 not in [%2, %3] (best %4)")
                                .arg(run.meanTailMultiplier)
                                .arg(low)
                                .arg(high)
                                .arg(1.0 / lrTimesCurvature)));
        QVERIFY(run.stats.updates > 300);
    }

    // The radius follows the trust-region rule when the network's own radius is applied:
    // good steps at the boundary grow it, bad steps shrink it, other steps leave it about
    // where it is.
    void radiusFollowsTrustRegionRule_data() {
        QTest::addColumn<double>("gNextDot");  // with g_t·Δ_t = −1: ρ = ½ − ½·gNextDot
        QTest::addColumn<bool>("constrained");
        QTest::addColumn<int>("direction");  // +1 grow, −1 shrink, 0 stay
        QTest::newRow("good at boundary") << -0.8 << true << 1;
        QTest::newRow("bad inside") << 0.8 << false << -1;
        QTest::newRow("bad at boundary") << 0.8 << true << -1;
        QTest::newRow("good inside") << -0.8 << false << 0;
        QTest::newRow("middling at boundary") << 0.0 << true << 0;
    }
    void radiusFollowsTrustRegionRule() {
        QFETCH(double, gNextDot);
        QFETCH(bool, constrained);
        QFETCH(int, direction);
        AuxNet net(auxConfig(), kR0, 5);
        const AuxFeatures x{0.1, -0.2, 0.3, 0.0, 0.5, 0.2};
        for (int i = 0; i < 60; ++i) {
            const AuxNet::Output out = net.predict(x);
            AuxNet::Feedback f;
            f.gDotDelta = -1.0;
            f.gNextDotDelta = gNextDot;
            f.gNextNorm = 1.0;
            f.deltaNorm = 1.0;
            f.constrained = constrained;
            f.radiusUsed = out.radius;
            net.feedback(x, f);
        }
        const double change = std::log(net.evaluate(x).radius / kR0);
        const QString msg = QString("log(r / r0) = %1").arg(change);
        if (direction > 0) QVERIFY2(change > std::log(1.5), qPrintable(msg));
        if (direction < 0) QVERIFY2(change < -std::log(1.5), qPrintable(msg));
        if (direction == 0) QVERIFY2(std::abs(change) < 0.1, qPrintable(msg));
        const AuxNet::Stats st = net.stats();
        QCOMPARE(st.radiusExpansions, direction > 0 ? int64_t(60) : int64_t(0));
        QCOMPARE(st.radiusShrinks, direction < 0 ? int64_t(60) : int64_t(0));
    }

    // Summary statistics on the "lr too small" run: the multiplier rose, the hypergradient
    // said "longer" on average, the net's adjustments mostly agreed with the next signal,
    // and every step was a trust-region success (ρ ≈ 1 on a quadratic with small steps).
    void statistics() {
        const QuadraticRun run = runQuadratic(0.01, 200, 50, 3);
        const AuxNet::Stats& st = run.stats;
        QCOMPARE(st.predictions, int64_t(200));
        QCOMPARE(st.updates, int64_t(200 - 4));  // no feedback across the 4 episode starts
        QVERIFY(st.meanMultiplier > 1.5);
        QVERIFY(std::abs(st.meanRadius - kR0) < 1e-12);  // no radius signal: trust region off
        QVERIFY(st.meanHypergradient < -0.9);
        QVERIFY(st.predictionSamples > 150);
        QVERIFY2(st.predictionSuccessRate > 0.8,
                 qPrintable(QString("success rate %1").arg(st.predictionSuccessRate)));
        QCOMPARE(st.ratioSamples, int64_t(196));
        QCOMPARE(st.successfulStepRate, 1.0);
        AuxNet fresh(auxConfig(), kR0, 1);
        QVERIFY(std::isnan(fresh.stats().meanMultiplier));
        QVERIFY(std::isnan(fresh.stats().predictionSuccessRate));
    }

    // Same seed → same initial weights and the same trajectory bit for bit; another seed differs.
    void deterministicBySeed() {
        const QuadraticRun a = runQuadratic(0.3, 100, 25, 42);
        const QuadraticRun b = runQuadratic(0.3, 100, 25, 42);
        const QuadraticRun c = runQuadratic(0.3, 100, 25, 43);
        QCOMPARE(a.params.size(), b.params.size());
        QVERIFY(std::memcmp(a.params.data(), b.params.data(), a.params.size() * 8) == 0);
        QVERIFY(a.finalMultiplier == b.finalMultiplier);
        QVERIFY(a.params != c.params);
        QVERIFY(AuxNet(auxConfig(), kR0, 7).params() == AuxNet(auxConfig(), kR0, 7).params());
        QVERIFY(AuxNet(auxConfig(), kR0, 7).params() != AuxNet(auxConfig(), kR0, 8).params());
    }

    // The six features (definitions in aux_net.h).
    void trainingStateFeatures() {
        TrainingState s;
        AuxFeatures x = s.observe(2.0, 5.0, -1, 4, 0, 101, false);
        QCOMPARE(x[0], 0.0);  // the first value is its own EMA
        QCOMPARE(x[1], 0.0);
        QCOMPARE(x[2], 0.0);
        QCOMPARE(x[3], 0.0);  // mixed batch
        QCOMPARE(x[4], 0.0);
        QCOMPARE(x[5], 0.0);
        for (int t = 1; t < 50; ++t)
            x = s.observe(2.0 * std::pow(0.97, t), 5.0, 0, 4, t, 101, false);
        QVERIFY(x[0] < 0);  // below its long-run level
        QVERIFY(x[1] < 0);  // falling
        QCOMPARE(x[3], -1.0);
        x = s.observe(1.0, 50.0, 3, 4, 50, 101, true);
        QCOMPARE(x[4], 0.5);
        QVERIFY(x[2] > 1);  // a gradient spike
        QCOMPARE(x[3], 1.0);
        QVERIFY(x[5] > 0.09 && x[5] < 0.11);  // EMA 0.9 of one constrained step after 50
        x = s.observe(1e12, 5.0, 1, 3, 100, 101, true);
        QCOMPARE(x[0], 3.0);  // clipped
        QCOMPARE(x[1], 1.0);  // clipped
        QCOMPARE(x[3], 0.0);  // middle of three clusters
        QCOMPARE(x[4], 1.0);
        QVERIFY_THROWS_EXCEPTION(Error, s.observe(kNaN, 1.0, -1, 0, 0, 10, false));
        QVERIFY_THROWS_EXCEPTION(Error, s.observe(-1.0, 1.0, -1, 0, 0, 10, false));
        QVERIFY_THROWS_EXCEPTION(Error, s.observe(1.0, 1.0, 4, 4, 0, 10, false));
        QVERIFY(s.observe(0.0, 0.0, -1, 0, 0, 1, false)[0] <= 0);  // zeros are fine
    }

    void rejectsBadConfig_data() {
        QTest::addColumn<QString>("field");
        QTest::newRow("hidden") << "aux.hidden";
        QTest::newRow("lr") << "aux.lr";
        QTest::newRow("max_multiplier") << "aux.max_multiplier";
        QTest::newRow("radius_range") << "aux.radius_range";
        QTest::newRow("radius") << "trust.radius";
    }
    void rejectsBadConfig() {
        QFETCH(QString, field);
        AuxConfig c = auxConfig();
        double r0 = kR0;
        if (field == "aux.hidden") c.hidden = 0;
        if (field == "aux.lr") c.lr = 0;
        if (field == "aux.max_multiplier") c.max_multiplier = 0.5;
        if (field == "aux.radius_range") c.radius_range = kNaN;
        if (field == "trust.radius") r0 = -1;
        try {
            AuxNet net(c, r0, 1);
            QFAIL("accepted");
        } catch (const ConfigError& e) {
            QVERIFY2(QString(e.what()).contains(field), e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TestAuxNet)
#include "test_aux_net.moc"
