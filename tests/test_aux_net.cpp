// Tests of the auxiliary network: finite-difference check of its backward, its learning signals
// (hypergradient on a quadratic with a known best step, the radius learning from the tensors the
// trust region shortened, the longer horizon on a noisy problem), the training-state features,
// output ranges, statistics and determinism by seed.
#include <QTest>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <vector>

#include "core/optim/aux_net.h"
#include "core/base/errors.h"
#include "core/base/rng.h"

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
    double x = 1.0, prevDelta = 0;
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
            fb.free = {g * prevDelta, std::abs(g), std::abs(prevDelta)};
            net.feedback(prevFeatures, fb);
        }
        const AuxNet::Output out = net.predict(features);
        const double delta = -lr * out.multiplier * g;
        x += delta;
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
    // Central differences of J(θ) = γ_m·log m + γ_r·log r against gradient(), in double, at
    // random parameters (not the zero-W2 start, where W1's gradient vanishes) and inputs.
    void gradientMatchesFiniteDifferences_data() {
        QTest::addColumn<int>("hidden");
        QTest::addColumn<double>("dLogM");
        QTest::addColumn<double>("dLogR");
        QTest::newRow("multiplier term") << 16 << 0.7 << 0.0;
        QTest::newRow("radius term") << 16 << 0.0 << 0.9;
        QTest::newRow("both terms") << 16 << -0.4 << -0.5;
        QTest::newRow("both terms, H=3") << 3 << 1.0 << 1.2;
    }
    void gradientMatchesFiniteDifferences() {
        QFETCH(int, hidden);
        QFETCH(double, dLogM);
        QFETCH(double, dLogR);
        AuxNet net(auxConfig(hidden), kR0, 1);
        QCOMPARE(net.params().size(), size_t(9 * hidden + 2));
        Rng rng(123);
        for (double& p : net.params()) p = rng.normal(0.0, 0.7);
        const AuxFeatures x = randomFeatures(rng);

        std::vector<double> analytic;
        net.gradient(x, dLogM, dLogR, analytic);
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
            const double up = net.loss(x, dLogM, dLogR);
            p = saved - h;
            const double down = net.loss(x, dLogM, dLogR);
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

    // The learning signals for given measurements (formulas in aux_net.h): the cosine of each
    // group, 0 for an empty or zero group.
    void signalValues_data() {
        QTest::addColumn<double>("freeDot");
        QTest::addColumn<double>("freeTrace");  // ‖D‖ of the free group (‖g‖ = 2)
        QTest::addColumn<double>("heldDot");
        QTest::addColumn<double>("heldTrace");  // (‖g‖ = 0.5)
        QTest::addColumn<double>("gammaM");
        QTest::addColumn<double>("gammaR");
        QTest::newRow("free only, too short") << -1.0 << 1.0 << 0.0 << 0.0 << -0.5 << 0.0;
        QTest::newRow("free only, overshoot") << 3.0 << 2.0 << 0.0 << 0.0 << 0.75 << 0.0;
        QTest::newRow("held only") << 0.0 << 0.0 << -0.2 << 1.0 << 0.0 << -0.4;
        QTest::newRow("both") << 1.0 << 4.0 << 0.25 << 2.0 << 0.125 << 0.25;
        QTest::newRow("clamped to a cosine") << 2.1 << 1.0 << -1.1 << 2.0 << 1.0 << -1.0;
        QTest::newRow("nothing moved") << 0.0 << 0.0 << 0.0 << 0.0 << 0.0 << 0.0;
    }
    void signalValues() {
        QFETCH(double, freeDot);
        QFETCH(double, freeTrace);
        QFETCH(double, heldDot);
        QFETCH(double, heldTrace);
        QFETCH(double, gammaM);
        QFETCH(double, gammaR);
        AuxNet net(auxConfig(), kR0, 1);
        AuxNet::Feedback f;
        f.free = {freeDot, 2.0, freeTrace};
        f.held = {heldDot, heldTrace > 0 ? 0.5 : 0.0, heldTrace};
        const AuxNet::Signal s = net.signal(f);
        QVERIFY2(std::abs(s.multiplier - gammaM) < 1e-12,
                 qPrintable(QString("gamma_m %1").arg(s.multiplier)));
        QVERIFY2(std::abs(s.radius - gammaR) < 1e-12,
                 qPrintable(QString("gamma_r %1").arg(s.radius)));
    }

    void signalRejectsNonFinite() {
        AuxNet net(auxConfig(), kR0, 1);
        AuxNet::Feedback f;
        f.free.dot = kNaN;
        QVERIFY_THROWS_EXCEPTION(Error, net.signal(f));
        f.free.dot = 0;
        f.held.traceNorm = std::numeric_limits<double>::infinity();
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

    // The radius learns from the held tensors only: a held step that was too short (γ_r < 0)
    // grows it, an overshooting one shrinks it; signals from free tensors leave it alone (and
    // move the multiplier instead).
    void radiusLearnsFromHeldTensors_data() {
        QTest::addColumn<double>("heldCos");
        QTest::addColumn<double>("freeCos");
        QTest::addColumn<int>("radiusDirection");  // +1 grow, −1 shrink, 0 stay
        QTest::addColumn<int>("multiplierDirection");
        QTest::newRow("held too short") << -0.5 << 0.0 << 1 << 0;
        QTest::newRow("held overshoot") << 0.5 << 0.0 << -1 << 0;
        QTest::newRow("free too short, none held") << 0.0 << -0.5 << 0 << 1;
        QTest::newRow("held overshoot, free too short") << 0.5 << -0.5 << -1 << 1;
    }
    void radiusLearnsFromHeldTensors() {
        QFETCH(double, heldCos);
        QFETCH(double, freeCos);
        QFETCH(int, radiusDirection);
        QFETCH(int, multiplierDirection);
        AuxNet net(auxConfig(), kR0, 5);
        const AuxFeatures x{0.1, -0.2, 0.3, 0.0, 0.5, 0.2};
        for (int i = 0; i < 60; ++i) {
            net.predict(x);
            AuxNet::Feedback f;
            f.free = {freeCos, 1.0, 1.0};
            f.held = {heldCos, 1.0, 1.0};
            net.feedback(x, f);
        }
        const AuxNet::Output out = net.evaluate(x);
        const double r = std::log(out.radius / kR0), m = out.logMultiplier;
        auto check = [](double change, int direction, const char* what) {
            const QString msg = QString("log %1 change %2").arg(what).arg(change);
            if (direction > 0) QVERIFY2(change > std::log(1.5), qPrintable(msg));
            if (direction < 0) QVERIFY2(change < -std::log(1.5), qPrintable(msg));
            if (direction == 0) QVERIFY2(std::abs(change) < 1e-12, qPrintable(msg));
        };
        check(r, radiusDirection, "radius");
        check(m, multiplierDirection, "multiplier");
        const AuxNet::Stats st = net.stats();
        QCOMPARE(st.radiusExpansions, heldCos < 0 ? int64_t(60) : int64_t(0));
        QCOMPARE(st.radiusShrinks, heldCos > 0 ? int64_t(60) : int64_t(0));
        QCOMPARE(st.radiusSamples, heldCos != 0 ? int64_t(60) : int64_t(0));
    }

    // The reason for the trace (aux_net.h): on a noisy ill-conditioned quadratic started far
    // from its minimum, the one-step signal mostly sees the last step's noise and shrinks the
    // multiplier while larger steps would still pay; the signal over a 10-step trace keeps it
    // larger and ends at a lower loss. (SGD, 50 dimensions, curvatures 0.02..1, lr 0.5,
    // gradient noise 1 per coordinate; mean of 5 seeds.)
    void horizonBeatsShortHorizonBias() {
        auto run = [](int horizon, uint64_t seed) {
            const int n = 50, steps = 300;
            AuxConfig c = auxConfig();
            c.lr = 0.02;
            AuxNet net(c, kR0, seed);
            TrainingState state;
            Rng rng(seed, 9);
            std::vector<double> x(n, 10.0), a(n), trace(n, 0.0);
            for (int i = 0; i < n; ++i) a[size_t(i)] = 0.02 + 0.98 * i / (n - 1);
            const double lambda = 1.0 - 1.0 / horizon;
            AuxFeatures prev{};
            double loss = 0, sumM = 0;
            for (int t = 0; t < steps; ++t) {
                std::vector<double> g(n);
                double gn = 0;
                loss = 0;
                for (int i = 0; i < n; ++i) {
                    g[size_t(i)] = a[size_t(i)] * x[size_t(i)] + rng.normal();
                    gn += g[size_t(i)] * g[size_t(i)];
                    loss += 0.5 * a[size_t(i)] * x[size_t(i)] * x[size_t(i)];
                }
                const AuxFeatures f = state.observe(loss, std::sqrt(gn), -1, 0, t, steps, 0.0);
                if (t > 0) {
                    double d = 0, tn = 0;
                    for (int i = 0; i < n; ++i) {
                        d += g[size_t(i)] * trace[size_t(i)];
                        tn += trace[size_t(i)] * trace[size_t(i)];
                    }
                    AuxNet::Feedback fb;
                    fb.free = {d, std::sqrt(gn), std::sqrt(tn)};
                    net.feedback(prev, fb);
                }
                const double m = net.predict(f).multiplier;
                sumM += m;
                for (int i = 0; i < n; ++i) {
                    const double step = -0.5 * m * g[size_t(i)];
                    x[size_t(i)] += step;
                    trace[size_t(i)] = lambda * trace[size_t(i)] + step;
                }
                prev = f;
            }
            return std::pair{loss, sumM / steps};
        };
        double loss1 = 0, loss10 = 0, m1 = 0, m10 = 0;
        for (uint64_t seed = 1; seed <= 5; ++seed) {
            const auto [l1, mm1] = run(1, seed);
            const auto [l10, mm10] = run(10, seed);
            loss1 += l1 / 5, loss10 += l10 / 5, m1 += mm1 / 5, m10 += mm10 / 5;
        }
        qInfo("horizon 1: loss %.3f, mean multiplier %.3f; horizon 10: loss %.3f, multiplier %.3f",
              loss1, m1, loss10, m10);
        QVERIFY2(m10 > m1, "the trace should keep the multiplier larger");
        QVERIFY2(loss10 < loss1, "and reach a lower loss");
    }

    // Summary statistics on the "lr too small" run: the multiplier rose, the hypergradient
    // said "longer" on average, the net's adjustments mostly agreed with the next signal, and
    // the radius (trust region off: nothing held) got no signal.
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
        QCOMPARE(st.radiusSamples, int64_t(0));
        QVERIFY(std::isnan(st.meanRadiusSignal));
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
        QVERIFY_THROWS_EXCEPTION(Error, s.observe(1.0, 1.0, -1, 0, 0, 10, 1.5));  // a fraction
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
