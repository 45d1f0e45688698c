// Tests of TernGrad update ternarization: values in {-s, 0, s}, unbiasedness over many draws,
// the expected squared error, determinism by seed and thread count, refusals.
#include <QTest>
#include <cmath>
#include <limits>
#include <vector>

#include "core/base/errors.h"
#include "core/base/types.h"
#include "core/base/parallel.h"
#include "core/quant/terngrad.h"

using namespace h158;

namespace {

// A fixed update with the cases that matter: zero, the maximum (kept always), its negative,
// tiny and mid-sized entries of both signs.
const std::vector<float> kUpdate = {0.0f,  0.8f,   -0.8f,  0.4f, -0.1f,  0.02f, 0.79f, -0.5f,
                                    0.25f, -0.66f, 0.001f, 0.3f, -0.04f, 0.55f, -0.2f, 0.1f};

}  // namespace

class TestTernGrad : public QObject {
    Q_OBJECT
  private slots:
    void valuesAreTernary();
    void unbiasedOverManyDraws();
    void deterministicBySeed();
    void independentOfThreadCount();
    void zeroAndRefusals();
};

void TestTernGrad::valuesAreTernary() {
    Rng rng(1);
    std::vector<float> out(kUpdate.size());
    const auto r = ternGrad(kUpdate, out, rng);
    QCOMPARE(r.scale, 0.8f);
    double diff2 = 0, norm2 = 0;
    for (size_t i = 0; i < kUpdate.size(); ++i) {
        const float o = out[i], d = kUpdate[i];
        QVERIFY(o == 0.0f || o == 0.8f || o == -0.8f);
        if (o != 0.0f) QVERIFY((o > 0) == (d > 0));  // never against the sign of d
        if (d == 0.0f) QCOMPARE(o, 0.0f);
        if (std::fabs(d) == 0.8f) QCOMPARE(o, d);  // p = 1
        diff2 += (double(o) - d) * (double(o) - d);
        norm2 += double(d) * d;
    }
    QCOMPARE(r.diff2, diff2);
    QCOMPARE(r.norm2, norm2);
}

// E[out_i] = d_i: the mean of 20000 draws lies within 5 standard errors, where the per-draw
// variance is |d|(s - |d|). The mean squared error matches its expectation sum |d|(s - |d|).
void TestTernGrad::unbiasedOverManyDraws() {
    const int draws = 20000;
    const double s = double(0.8f);  // max|d| as stored
    Rng rng(2024);
    std::vector<double> sum(kUpdate.size(), 0.0);
    std::vector<float> out(kUpdate.size());
    double diff2 = 0;
    for (int k = 0; k < draws; ++k) {
        diff2 += ternGrad(kUpdate, out, rng).diff2;
        for (size_t i = 0; i < out.size(); ++i) sum[i] += out[i];
    }
    double expectedDiff2 = 0;
    for (size_t i = 0; i < kUpdate.size(); ++i) {
        const double d = kUpdate[i], a = std::fabs(d);
        const double mean = sum[i] / draws;
        const double se = std::sqrt(a * (s - a) / draws);
        expectedDiff2 += a * (s - a);
        if (se == 0)
            QCOMPARE(mean, d);
        else
            QVERIFY2(
                std::fabs(mean - d) <= 5 * se,
                qPrintable(
                    QString("element %1: mean %2 vs %3 (se %4)").arg(i).arg(mean).arg(d).arg(se)));
    }
    QVERIFY(std::fabs(diff2 / draws - expectedDiff2) < 0.03 * expectedDiff2);
}

void TestTernGrad::deterministicBySeed() {
    std::vector<float> a(kUpdate.size()), b(kUpdate.size()), c(kUpdate.size());
    Rng r1(77), r2(77), r3(78);
    bool differs = false;
    for (int k = 0; k < 20; ++k) {
        ternGrad(kUpdate, a, r1);
        ternGrad(kUpdate, b, r2);
        ternGrad(kUpdate, c, r3);
        QCOMPARE(a, b);
        differs = differs || a != c;
    }
    QVERIFY(differs);
}

// Several random-stream chunks (2^15 each), split over 1 or 2 threads: identical results, and
// in-place use (out = d) gives the same values.
void TestTernGrad::independentOfThreadCount() {
    const int64_t n = 200001;
    std::vector<float> d(static_cast<size_t>(n));
    Rng g(5);
    for (auto& v : d) v = float(g.normal());
    std::vector<float> one(d.size()), two(d.size());
    const int before = threadCount();
    setThreadCount(1);
    Rng r1(9);
    const auto p1 = ternGrad(d, one, r1);
    setThreadCount(2);
    Rng r2(9);
    const auto p2 = ternGrad(d, two, r2);
    setThreadCount(before);
    QCOMPARE(one, two);
    QCOMPARE(p1.diff2, p2.diff2);
    QCOMPARE(p1.norm2, p2.norm2);
    Rng r3(9);
    ternGrad(d, d, r3);
    QCOMPARE(d, one);
}

void TestTernGrad::zeroAndRefusals() {
    Rng rng(3);
    std::vector<float> zero(10, 0.0f), out(10, 1.0f);
    const auto r = ternGrad(zero, out, rng);
    QCOMPARE(out, zero);
    QCOMPARE(r.scale, 0.0f);
    QCOMPARE(r.norm2, 0.0);
    std::vector<float> small(3);
    QVERIFY_THROWS_EXCEPTION(Error, ternGrad(zero, small, rng));
    std::vector<float> bad = {1.0f, std::numeric_limits<float>::quiet_NaN()};
    std::vector<float> out2(2);
    QVERIFY_THROWS_EXCEPTION(Error, ternGrad(bad, out2, rng));
    bad[1] = std::numeric_limits<float>::infinity();
    QVERIFY_THROWS_EXCEPTION(Error, ternGrad(bad, out2, rng));
}

QTEST_APPLESS_MAIN(TestTernGrad)
#include "test_terngrad.moc"
