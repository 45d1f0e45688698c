// Tests of the trust-region projection ‖Δ‖₂ ≤ r and of the double reductions behind it
// (dot, l2Norm): the bound, the flag, the direction, untouched inside steps, determinism.
#include <QTest>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/base/errors.h"
#include "core/base/types.h"
#include "core/base/rng.h"
#include "core/optim/trust_region.h"
#include "core/base/vector_ops.h"

using namespace h158;

namespace {

std::vector<float> randomVector(size_t n, uint64_t seed, double stddev = 1.0) {
    Rng rng(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = float(rng.normal(0.0, stddev));
    return v;
}

long double referenceDot(const std::vector<float>& a, const std::vector<float>& b) {
    long double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += (long double)a[i] * (long double)b[i];
    return s;
}

}  // namespace

class TestTrustRegion : public QObject {
    Q_OBJECT

  private slots:
    // Steps longer than r come back with norm ≤ r (as measured), within 2⁻²¹ of r, flagged,
    // and with every element scaled by the same factor (direction preserved).
    void longStepIsProjected_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<double>("radius");
        QTest::addColumn<double>("excess");  // ‖Δ‖ / r before projection
        QTest::newRow("n=1") << 1 << 0.05 << 3.0;
        QTest::newRow("n=7 barely outside") << 7 << 0.05 << 1.0001;
        QTest::newRow("n=64 far outside") << 64 << 1e-3 << 1e6;
        QTest::newRow("n=1001 large radius") << 1001 << 10.0 << 2.0;
        QTest::newRow("n=100003") << 100003 << 0.05 << 40.0;
        QTest::newRow("n=100003 tiny radius") << 100003 << 1e-8 << 1e5;
    }
    void longStepIsProjected() {
        QFETCH(int, n);
        QFETCH(double, radius);
        QFETCH(double, excess);
        std::vector<float> delta = randomVector(size_t(n), uint64_t(n));
        const double scale = excess * radius / l2Norm(delta);
        for (auto& x : delta) x = float(x * scale);
        const std::vector<float> original = delta;
        const double before = l2Norm(original);
        QVERIFY(before > radius);

        const Projection p = projectToBall(delta, radius);
        QVERIFY(p.constrained);
        QVERIFY(p.normBefore == before);
        QVERIFY(p.normAfter == l2Norm(delta));
        QVERIFY2(p.normAfter <= radius, qPrintable(QString("norm %1 > radius %2")
                                                       .arg(p.normAfter, 0, 'g', 17)
                                                       .arg(radius, 0, 'g', 17)));
        QVERIFY(p.normAfter >= radius * (1 - std::ldexp(1.0, -21)));

        // Same direction: one common factor, so the ratio of every non-tiny element matches
        // and the cosine is 1 to double rounding.
        const double cosine = dot(delta, original) / (l2Norm(delta) * l2Norm(original));
        QVERIFY(cosine > 1 - 1e-12);
        const double factor = p.normAfter / p.normBefore;
        for (size_t i = 0; i < delta.size(); ++i) {
            if (std::abs(original[i]) < 1e-30f) continue;
            const double r = double(delta[i]) / double(original[i]);
            QVERIFY2(std::abs(r - factor) <= 1e-6 * factor,
                     qPrintable(QString("element %1 ratio %2 vs %3").arg(i).arg(r).arg(factor)));
        }
    }

    // The bound is exact as measured, not just up to rounding: over many small random steps
    // (where rounding s·Δᵢ up would otherwise push about half of them a hair past r), every
    // projected norm is ≤ r.
    void boundHoldsOverManyTrials() {
        Rng rng(2024);
        int exceeded = 0;
        for (int trial = 0; trial < 20000; ++trial) {
            const size_t n = 1 + rng.below(24);
            std::vector<float> delta(n);
            for (auto& x : delta) x = float(rng.normal(0.0, std::exp(rng.uniform(-5.0, 5.0))));
            const double radius = l2Norm(delta) * rng.uniform(0.01, 0.999);
            if (!(radius > 0)) continue;
            const Projection p = projectToBall(delta, radius);
            QVERIFY(p.constrained);
            if (p.normAfter > radius) ++exceeded;
        }
        QCOMPARE(exceeded, 0);
    }

    // Steps with ‖Δ‖ ≤ r (including exactly on the sphere, and zero) are not touched at all.
    void shortStepIsUntouched_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<double>("fraction");  // ‖Δ‖ / r; 1 = exactly on the boundary
        QTest::newRow("half") << 1000 << 0.5;
        QTest::newRow("boundary") << 1000 << 1.0;
        QTest::newRow("tiny") << 17 << 1e-6;
        QTest::newRow("zero") << 33 << 0.0;
    }
    void shortStepIsUntouched() {
        QFETCH(int, n);
        QFETCH(double, fraction);
        std::vector<float> delta = randomVector(size_t(n), 77);
        if (fraction == 0) std::fill(delta.begin(), delta.end(), 0.0f);
        const double norm = l2Norm(delta);
        // The boundary row uses the measured norm itself as the radius.
        const double radius = fraction == 0 ? 1.0 : (fraction == 1 ? norm : norm / fraction);
        const std::vector<float> original = delta;
        const Projection p = projectToBall(delta, radius);
        QVERIFY(!p.constrained);
        QVERIFY(p.normBefore == norm);
        QVERIFY(p.normAfter == norm);
        QVERIFY(std::memcmp(delta.data(), original.data(), delta.size() * sizeof(float)) == 0);
    }

    void infiniteRadiusNeverConstrains() {
        std::vector<float> delta = randomVector(100, 5, 1e30);
        const std::vector<float> original = delta;
        const Projection p = projectToBall(delta, std::numeric_limits<double>::infinity());
        QVERIFY(!p.constrained);
        QVERIFY(delta == original);
    }

    // A non-finite step is reported (normBefore not finite), left alone, and not flagged.
    void nonFiniteStepIsReportedNotProjected() {
        std::vector<float> delta = randomVector(10, 6);
        delta[3] = std::numeric_limits<float>::infinity();
        const Projection p = projectToBall(delta, 0.1);
        QVERIFY(!std::isfinite(p.normBefore));
        QVERIFY(!p.constrained);
        QVERIFY(std::isinf(delta[3]));
    }

    void rejectsBadRadius_data() {
        QTest::addColumn<double>("radius");
        QTest::newRow("zero") << 0.0;
        QTest::newRow("negative") << -1.0;
        QTest::newRow("nan") << std::numeric_limits<double>::quiet_NaN();
    }
    void rejectsBadRadius() {
        QFETCH(double, radius);
        std::vector<float> delta(4, 1.0f);
        QVERIFY_THROWS_EXCEPTION(Error, projectToBall(delta, radius));
    }

    void reductionsKnownAnswers() {
        const std::vector<float> a{3, 4};
        QCOMPARE(l2Norm(a), 5.0);
        QCOMPARE(squaredNorm(a), 25.0);
        const std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};  // lanes and a tail
        const std::vector<float> y{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1};
        QCOMPARE(dot(x, y), 55.0 - 11.0);
        QCOMPARE(l2Norm(std::vector<float>{}), 0.0);
        QVERIFY_THROWS_EXCEPTION(Error, dot(a, x));
    }

    // Against a long-double reference on a large vector of mixed magnitudes.
    void reductionsMatchReference() {
        std::vector<float> a = randomVector(100003, 1), b = randomVector(100003, 2);
        for (size_t i = 0; i < a.size(); i += 7) a[i] *= 1000.0f;
        const long double refDot = referenceDot(a, b);
        const long double refSq = referenceDot(a, a);
        QVERIFY(std::abs(dot(a, b) - double(refDot)) <=
                1e-12 * std::sqrt(double(refSq)) * l2Norm(b));
        QVERIFY(std::abs(squaredNorm(a) - double(refSq)) <= 1e-13 * double(refSq));
    }

    // The same values at any alignment (and so any SIMD peeling) give the same bits.
    void reductionsIndependentOfAlignment() {
        const std::vector<float> a = randomVector(4099, 3), b = randomVector(4099, 4);
        const double d0 = dot(a, b), n0 = l2Norm(a);
        for (size_t offset = 1; offset < 16; ++offset) {
            std::vector<float> bufA(a.size() + 16), bufB(b.size() + 16);
            std::copy(a.begin(), a.end(), bufA.begin() + long(offset));
            std::copy(b.begin(), b.end(), bufB.begin() + long(15 - offset));
            const std::span<const float> sa(bufA.data() + offset, a.size());
            const std::span<const float> sb(bufB.data() + 15 - offset, b.size());
            QVERIFY(dot(sa, sb) == d0);
            QVERIFY(l2Norm(sa) == n0);
        }
    }
};

QTEST_APPLESS_MAIN(TestTrustRegion)
#include "test_trust_region.moc"
