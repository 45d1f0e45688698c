// Tests of the 2-D PCA projection: known directions, the sign rule, projecting other points with
// the same map, the F <= 2 pass-through, and bad input.
#include <QtTest>
#include <functional>

#include "core/cluster/pca.h"
#include "core/base/errors.h"
#include "core/base/rng.h"

using namespace h158;

namespace {

QString errorOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

// Points m + s * u + t * v + noise for s ~ N(0, 5^2), t ~ N(0, 1) in F dimensions; (F, n).
MatF planeData(const VecF& m, const VecF& u, const VecF& v, double noise, int64_t n, uint64_t seed,
               VecF* sOut = nullptr) {
    Rng rng(seed);
    MatF x(m.size(), n);
    if (sOut) sOut->resize(n);
    for (int64_t j = 0; j < n; ++j) {
        const float s = float(5.0 * rng.normal()), t = float(rng.normal());
        if (sOut) (*sOut)[j] = s;
        x.col(j) = m + s * u + t * v;
        for (int64_t q = 0; q < x.rows(); ++q) x(q, j) += float(noise * rng.normal());
    }
    return x;
}

}  // namespace

class TestPca : public QObject {
    Q_OBJECT

  private slots:
    void recoversALine_data() {
        QTest::addColumn<int>("f");
        QTest::addColumn<double>("offset");
        QTest::newRow("3-D") << 3 << 0.0;
        QTest::newRow("10-D far from the origin") << 10 << 500.0;
    }
    void recoversALine() {
        QFETCH(int, f);
        QFETCH(double, offset);
        // Points on the line m + s u (tiny noise): the first component is +-u, and the first
        // coordinate is s - mean(s) up to that sign.
        VecF u = VecF::LinSpaced(f, 1.0f, 2.0f);
        u.normalize();
        const VecF m = VecF::Constant(f, float(offset));
        VecF s;
        const MatF x = planeData(m, u, VecF::Zero(f), 1e-3, 2000, 4, &s);
        const Pca2d p = fitPca2d(x);
        QCOMPARE(p.coords.rows(), int64_t(2));
        QCOMPARE(p.coords.cols(), int64_t(2000));
        const float dot = p.components.col(0).dot(u);
        QVERIFY2(std::abs(dot) > 0.99999f, qPrintable(QString::number(dot)));
        QVERIFY(dot > 0);  // u's largest entry is positive, and so must the component's be
        QVERIFY(std::abs(p.components.col(0).norm() - 1.0f) < 1e-5f);
        QVERIFY(std::abs(p.components.col(0).dot(p.components.col(1))) < 1e-5f);
        const float meanS = s.mean();
        for (int64_t j = 0; j < x.cols(); ++j)
            QVERIFY(std::abs(p.coords(0, j) - (s[j] - meanS)) < 0.01f);
        QVERIFY(p.variance[0] > 20.0 && p.variance[0] < 30.0);  // var(s) = 25
        QVERIFY(p.variance[1] < 1e-4);
    }

    void recoversAPlaneInOrder() {
        // Variance 25 along u and 1 along v: components in that order.
        VecF u(4), v(4);
        u << 0, 0.6f, 0, -0.8f;
        v << 0, -0.8f, 0, -0.6f;
        const MatF x = planeData(VecF::Constant(4, 3.0f), u, v, 1e-3, 4000, 9);
        const Pca2d p = fitPca2d(x);
        QVERIFY(std::abs(std::abs(p.components.col(0).dot(u)) - 1.0f) < 1e-4f);
        QVERIFY(std::abs(std::abs(p.components.col(1).dot(v)) - 1.0f) < 1e-4f);
        QVERIFY(p.variance[0] > p.variance[1]);
        // Sign rule: each component's largest-magnitude entry is positive.
        for (int c = 0; c < 2; ++c) {
            Eigen::Index at = 0;
            p.components.col(c).cwiseAbs().maxCoeff(&at);
            QVERIFY(p.components(at, c) > 0);
        }
        // Flipping the data's orientation does not flip the picture's axes.
        const Pca2d q = fitPca2d(-x);
        QVERIFY((q.components - p.components).cwiseAbs().maxCoeff() < 1e-4f);
    }

    void projectUsesTheSameMap() {
        VecF u(3), v(3);
        u << 1, 0, 0;
        v << 0, 0, 1;
        const MatF x = planeData(VecF::Constant(3, 1.0f), u, v, 0.1, 500, 2);
        const Pca2d p = fitPca2d(x);
        QVERIFY((p.project(x) - p.coords).cwiseAbs().maxCoeff() < 1e-4f);
        // The data mean lands on the origin; a centroid lands where its members' mean does.
        const MatF mean = x.rowwise().mean();
        QVERIFY(p.project(mean).cwiseAbs().maxCoeff() < 1e-4f);
        const MatF firstTen = x.leftCols(10);
        const MatF c = firstTen.rowwise().mean();
        QVERIFY((p.project(c) - p.coords.leftCols(10).rowwise().mean()).cwiseAbs().maxCoeff() <
                1e-4f);
        const QString msg = errorOf([&] { p.project(MatF::Zero(2, 1)); });
        QVERIFY2(msg.contains("2 features") && msg.contains("fitted on 3"), qPrintable(msg));
    }

    void twoOrFewerFeaturesPassThrough() {
        MatF x2(2, 3);
        x2 << 1, 2, 3, 4, 5, 6;
        const Pca2d p2 = fitPca2d(x2);
        QVERIFY(p2.coords == x2);
        QVERIFY(p2.project(x2) == x2);
        MatF x1(1, 3);
        x1 << 7, 8, 9;
        const Pca2d p1 = fitPca2d(x1);
        QCOMPARE(p1.coords.rows(), int64_t(2));
        QVERIFY(p1.coords.row(0) == x1.row(0));
        QVERIFY(p1.coords.row(1).isZero());
        QVERIFY(p1.project(x1) == p1.coords);
        QVERIFY(std::abs(p1.variance[0] - 2.0 / 3.0) < 1e-9);
    }

    void rejectsBadInput() {
        QVERIFY(errorOf([] { fitPca2d(MatF(3, 0)); }).contains("empty"));
        MatF x = MatF::Ones(3, 4);
        x(1, 2) = std::numeric_limits<float>::quiet_NaN();
        QVERIFY(errorOf([&] { fitPca2d(x); }).contains("non-finite"));
    }
};

QTEST_APPLESS_MAIN(TestPca)
#include "test_pca.moc"
