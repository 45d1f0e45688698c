// Tests of the weight and activation quantizers: level sets, absmean scales per tensor / row /
// cluster, round-half-even codes, the five-level scale, the error formula, level fractions.
#include <QTest>
#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "core/base/errors.h"
#include "core/base/rng.h"
#include "core/quant/activation_quantizer.h"
#include "core/quant/weight_quantizer.h"

using namespace h158;

Q_DECLARE_METATYPE(h158::QuantLevels)
Q_DECLARE_METATYPE(h158::QuantGranularity)

namespace {

std::vector<float> gaussian(int64_t n, uint64_t seed, double sd = 1.0) {
    Rng rng(seed);
    std::vector<float> w(static_cast<size_t>(n));
    for (auto& v : w) v = float(rng.normal(0.0, sd));
    return w;
}

// Mean |W| over the rows of (rows, cols) column-major W that `take` accepts, in long double.
template <typename Take>
double meanAbsRows(const std::vector<float>& w, int64_t rows, int64_t cols, Take take) {
    long double s = 0;
    int64_t n = 0;
    for (int64_t c = 0; c < cols; ++c)
        for (int64_t r = 0; r < rows; ++r)
            if (take(r)) {
                s += std::fabs(w[size_t(c * rows + r)]);
                ++n;
            }
    return double(s / n);
}

void expectRel(double got, double want, double tol, const char* what) {
    if (std::abs(got - want) > tol * std::abs(want))
        QFAIL(qPrintable(QString("%1: got %2, expected %3")
                             .arg(what)
                             .arg(got, 0, 'g', 10)
                             .arg(want, 0, 'g', 10)));
}

}  // namespace

class TestQuantizer : public QObject {
    Q_OBJECT
  private slots:
    void levelSets_data();
    void levelSets();
    void tensorScaleIsAbsmean();
    void roundsHalfToEven();
    void fiveLevelHandCase();
    void gaussianErrors();
    void perRowScales();
    void perClusterScales();
    void clusterErrors();
    void zeroWeightsUseFloor();
    void noneIsPassThrough();
    void quantErrorParts_data();
    void quantErrorParts();
    void levelFractionsCount();
    void activationsHandCase();
    void activationsClampAndRange();
    void parseNames();
};

void TestQuantizer::levelSets_data() {
    QTest::addColumn<QuantLevels>("levels");
    QTest::addColumn<QuantGranularity>("granularity");
    QTest::addColumn<int>("maxCode");
    QTest::newRow("ternary/tensor") << QuantLevels::Ternary << QuantGranularity::Tensor << 1;
    QTest::newRow("ternary/row") << QuantLevels::Ternary << QuantGranularity::Row << 1;
    QTest::newRow("ternary/cluster") << QuantLevels::Ternary << QuantGranularity::Cluster << 1;
    QTest::newRow("five/tensor") << QuantLevels::FiveLevel << QuantGranularity::Tensor << 2;
    QTest::newRow("five/row") << QuantLevels::FiveLevel << QuantGranularity::Row << 2;
    QTest::newRow("five/cluster") << QuantLevels::FiveLevel << QuantGranularity::Cluster << 2;
}

// Codes lie in [-maxCode, maxCode] with every level used, and value = code * rowScale exactly.
void TestQuantizer::levelSets() {
    QFETCH(QuantLevels, levels);
    QFETCH(QuantGranularity, granularity);
    QFETCH(int, maxCode);
    const int64_t rows = 37, cols = 53;
    const auto w = gaussian(rows * cols, 1);
    std::vector<int> cluster(rows);
    for (int64_t r = 0; r < rows; ++r) cluster[size_t(r)] = int(r % 3);
    QuantizedTensor q;
    std::vector<float> out(w.size());
    quantizeWeights(w.data(), rows, cols, levels, granularity, cluster, q, out.data());
    QCOMPARE(q.levels, levels);
    QCOMPARE(int64_t(q.codes.size()), rows * cols);
    QCOMPARE(q.rowScale.size(), rows);
    std::set<int> seen;
    for (int64_t c = 0; c < cols; ++c)
        for (int64_t r = 0; r < rows; ++r) {
            const int code = q.codes[size_t(c * rows + r)];
            QVERIFY2(std::abs(code) <= maxCode, "code out of range");
            seen.insert(code);
            QCOMPARE(out[size_t(c * rows + r)], float(code) * q.rowScale(r));
        }
    QCOMPARE(int(seen.size()), 2 * maxCode + 1);
}

void TestQuantizer::tensorScaleIsAbsmean() {
    const int64_t rows = 31, cols = 17;
    const auto w = gaussian(rows * cols, 2, 0.03);
    QuantizedTensor q;
    quantizeWeights(w.data(), rows, cols, QuantLevels::Ternary, QuantGranularity::Tensor, {}, q,
                    nullptr);
    const double mean = meanAbsRows(w, rows, cols, [](int64_t) { return true; });
    for (int64_t r = 0; r < rows; ++r) expectRel(q.rowScale(r), mean, 1e-7, "gamma = mean|W|");

    // A case whose mean is exact: |W| sums to 8 over 8 entries, so gamma = 1 exactly.
    const std::vector<float> e = {0.5f, -0.5f, 1.5f, -2.5f, 0.0f, 0.25f, -0.75f, 2.0f};
    quantizeWeights(e.data(), 2, 4, QuantLevels::Ternary, QuantGranularity::Tensor, {}, q, nullptr);
    QCOMPARE(q.rowScale(0), 1.0f);
    QCOMPARE(q.rowScale(1), 1.0f);
}

// With gamma = 1, W/gamma = W: 0.5 and -0.5 round to 0 (half to even, as torch.round), 1.5 -> 2
// and -2.5 -> -2 clip to +-1, -0.75 -> -1, 2 -> 1 (clip), 0.25 -> 0.
void TestQuantizer::roundsHalfToEven() {
    const std::vector<float> e = {0.5f, -0.5f, 1.5f, -2.5f, 0.0f, 0.25f, -0.75f, 2.0f};
    QuantizedTensor q;
    std::vector<float> out(e.size());
    quantizeWeights(e.data(), 8, 1, QuantLevels::Ternary, QuantGranularity::Tensor, {}, q,
                    out.data());
    const std::vector<int8_t> want = {0, 0, 1, -1, 0, 0, -1, 1};
    QCOMPARE(q.codes, want);
    for (size_t i = 0; i < e.size(); ++i) QCOMPARE(out[i], float(want[i]));
}

// mean|W| = 9.4 / 8 = 1.175, gamma = 2.11 * 1.175 = 2.47925, step gamma/2 = 1.239625;
// W / step = 0.16, -0.48, 0.97, -1.37, 2.42, 0, -0.65, 1.53 -> 0, 0, 1, -1, 2(clip), 0, -1, 2.
void TestQuantizer::fiveLevelHandCase() {
    const std::vector<float> w = {0.2f, -0.6f, 1.2f, -1.7f, 3.0f, 0.0f, -0.8f, 1.9f};
    QuantizedTensor q;
    std::vector<float> out(w.size());
    quantizeWeights(w.data(), 1, 8, QuantLevels::FiveLevel, QuantGranularity::Tensor, {}, q,
                    out.data());
    const std::vector<int8_t> want = {0, 0, 1, -1, 2, 0, -1, 2};
    QCOMPARE(q.codes, want);
    expectRel(q.rowScale(0), 2.11 * 1.175 / 2, 1e-6, "five-level rowScale = gamma/2");
    const std::set<float> levels = {-2 * q.rowScale(0), -q.rowScale(0), 0.0f, q.rowScale(0),
                                    2 * q.rowScale(0)};
    for (float v : out) QVERIFY(levels.count(v) == 1);
}

// The documented relative errors for Gaussian weights: ternary absmean 0.513, five-level with
// gamma = 2.11 mean|W| 0.287 (the minimum over gamma multiples).
void TestQuantizer::gaussianErrors() {
    const int64_t n = 200000;
    const auto w = gaussian(n, 3, 0.02);
    std::vector<float> out(static_cast<size_t>(n));
    QuantizedTensor q;
    quantizeWeights(w.data(), n, 1, QuantLevels::Ternary, QuantGranularity::Tensor, {}, q,
                    out.data());
    auto p = h158::quantErrorParts(w.data(), out.data(), n);
    const double ternary = std::sqrt(p.diff2 / p.norm2);
    QVERIFY2(std::abs(ternary - 0.513) < 0.005, qPrintable(QString::number(ternary)));
    quantizeWeights(w.data(), n, 1, QuantLevels::FiveLevel, QuantGranularity::Tensor, {}, q,
                    out.data());
    p = h158::quantErrorParts(w.data(), out.data(), n);
    const double five = std::sqrt(p.diff2 / p.norm2);
    QVERIFY2(std::abs(five - 0.2867) < 0.005, qPrintable(QString::number(five)));
}

void TestQuantizer::perRowScales() {
    const int64_t rows = 6, cols = 41;
    auto w = gaussian(rows * cols, 4);
    for (int64_t c = 0; c < cols; ++c)  // rows of very different magnitudes
        for (int64_t r = 0; r < rows; ++r)
            w[size_t(c * rows + r)] *= float(std::pow(10.0, double(r) - 3));
    QuantizedTensor q;
    quantizeWeights(w.data(), rows, cols, QuantLevels::Ternary, QuantGranularity::Row, {}, q,
                    nullptr);
    for (int64_t r = 0; r < rows; ++r)
        expectRel(q.rowScale(r), meanAbsRows(w, rows, cols, [r](int64_t i) { return i == r; }),
                  1e-6, "row gamma");
    quantizeWeights(w.data(), rows, cols, QuantLevels::FiveLevel, QuantGranularity::Row, {}, q,
                    nullptr);
    for (int64_t r = 0; r < rows; ++r)
        expectRel(q.rowScale(r),
                  2.11 / 2 * meanAbsRows(w, rows, cols, [r](int64_t i) { return i == r; }), 1e-6,
                  "five-level row gamma/2");
}

// One gamma per cluster, over all of its rows together (not the mean of row means).
void TestQuantizer::perClusterScales() {
    const int64_t rows = 7, cols = 9;
    auto w = gaussian(rows * cols, 5);
    for (int64_t c = 0; c < cols; ++c) w[size_t(c * rows + 3)] *= 50.0f;  // a loud row
    const std::vector<int> cluster = {0, 1, 0, 2, 1, 0, 2};
    QuantizedTensor q;
    quantizeWeights(w.data(), rows, cols, QuantLevels::Ternary, QuantGranularity::Cluster, cluster,
                    q, nullptr);
    for (int64_t r = 0; r < rows; ++r) {
        const int k = cluster[size_t(r)];
        const double want =
            meanAbsRows(w, rows, cols, [&](int64_t i) { return cluster[size_t(i)] == k; });
        expectRel(q.rowScale(r), want, 1e-6, "cluster gamma");
    }
    QCOMPARE(q.rowScale(0), q.rowScale(2));
    QCOMPARE(q.rowScale(3), q.rowScale(6));
    QVERIFY(q.rowScale(3) > 10 * q.rowScale(0));
}

void TestQuantizer::clusterErrors() {
    const auto w = gaussian(12, 6);
    QuantizedTensor q;
    const std::vector<int> shortList = {0, 1};
    QVERIFY_THROWS_EXCEPTION(
        Error, quantizeWeights(w.data(), 3, 4, QuantLevels::Ternary, QuantGranularity::Cluster,
                               shortList, q, nullptr));
    const std::vector<int> negative = {0, -1, 0};
    QVERIFY_THROWS_EXCEPTION(
        Error, quantizeWeights(w.data(), 3, 4, QuantLevels::Ternary, QuantGranularity::Cluster,
                               negative, q, nullptr));
}

void TestQuantizer::zeroWeightsUseFloor() {
    const std::vector<float> w(10, 0.0f);
    QuantizedTensor q;
    std::vector<float> out(10, 1.0f);
    quantizeWeights(w.data(), 5, 2, QuantLevels::Ternary, QuantGranularity::Row, {}, q, out.data());
    for (int r = 0; r < 5; ++r) QCOMPARE(q.rowScale(r), 1e-5f);
    for (int8_t c : q.codes) QCOMPARE(int(c), 0);
    for (float v : out) QCOMPARE(v, 0.0f);
}

void TestQuantizer::noneIsPassThrough() {
    const auto w = gaussian(6, 7);
    QuantizedTensor q;
    std::vector<float> out(6);
    quantizeWeights(w.data(), 2, 3, QuantLevels::None, QuantGranularity::Tensor, {}, q, out.data());
    QCOMPARE(out, w);
    QVERIFY(q.codes.empty());
}

void TestQuantizer::quantErrorParts_data() {
    QTest::addColumn<int>("n");
    for (int n : {0, 1, 3, 8, 11, 64, 1001}) QTest::newRow(qPrintable(QString("n=%1").arg(n))) << n;
}

// Hand case (1, -2, 0.5) vs (1, -1, 0): diff2 = 0 + 1 + 0.25, norm2 = 1 + 4 + 0.25; other
// lengths against a plain double loop.
void TestQuantizer::quantErrorParts() {
    QFETCH(int, n);
    const std::vector<float> w3 = {1.0f, -2.0f, 0.5f}, q3 = {1.0f, -1.0f, 0.0f};
    const auto hand = h158::quantErrorParts(w3.data(), q3.data(), 3);
    QCOMPARE(hand.diff2, 1.25);
    QCOMPARE(hand.norm2, 5.25);
    const auto w = gaussian(n, 8), q = gaussian(n, 9);
    double d = 0, s = 0;
    for (int i = 0; i < n; ++i) {
        d += (double(q[size_t(i)]) - w[size_t(i)]) * (double(q[size_t(i)]) - w[size_t(i)]);
        s += double(w[size_t(i)]) * w[size_t(i)];
    }
    const auto p = h158::quantErrorParts(w.data(), q.data(), n);
    QVERIFY(std::abs(p.diff2 - d) <= 1e-12 * std::max(1.0, d));
    QVERIFY(std::abs(p.norm2 - s) <= 1e-12 * std::max(1.0, s));
}

void TestQuantizer::levelFractionsCount() {
    const std::vector<int8_t> codes = {-1, 0, 0, 1, 1, 1};
    const auto f = levelFractions(codes);
    QCOMPARE(f.neg, 1.0 / 6);
    QCOMPARE(f.zero, 2.0 / 6);
    QCOMPARE(f.pos, 3.0 / 6);
    const auto e = levelFractions({});
    QCOMPARE(e.neg + e.zero + e.pos, 0.0);
}

// Column 0: max|x| = 127 so s = 1: 2.5 -> 2 and -3.5 -> -4 (half to even), 0.4 -> 0.
// Column 1: max|x| = 63.5, s = 2: 0.75 -> 1.5 -> 2, -0.25 -> -0.5 -> -0 = 0, 63.5 -> 127.
void TestQuantizer::activationsHandCase() {
    const std::vector<float> x = {127.0f, 2.5f,   -3.5f, 0.4f,   -127.0f,
                                  0.75f,  -0.25f, 63.5f, -63.5f, 1.25f};
    std::vector<int8_t> codes(10);
    float inv[2];
    quantizeActivations(x.data(), 5, 2, codes.data(), inv);
    const std::vector<int8_t> want = {127, 2, -4, 0, -127, 2, 0, 127, -127, 2};
    QCOMPARE(codes, want);
    QCOMPARE(inv[0], 1.0f);
    QCOMPARE(inv[1], 0.5f);
}

// max|x| below 1e-5 is clamped: s = 127 / 1e-5, so 2e-6 -> 25.4 -> 25, -4e-6 -> -50.8 -> -51;
// a zero column gives zero codes. The absmax scale keeps codes within [-127, 127] (the clip to
// [-128, 127] never binds for finite input), and each column reaches +-127.
void TestQuantizer::activationsClampAndRange() {
    const std::vector<float> tiny = {2e-6f, -4e-6f, 0.0f, 0.0f, 0.0f, 0.0f};
    std::vector<int8_t> codes(6);
    float inv[2];
    quantizeActivations(tiny.data(), 3, 2, codes.data(), inv);
    const std::vector<int8_t> want = {25, -51, 0, 0, 0, 0};
    QCOMPARE(codes, want);
    QCOMPARE(inv[0], 1.0f / (127.0f / 1e-5f));
    QCOMPARE(inv[1], inv[0]);

    const int64_t rows = 300, cols = 70;
    auto x = gaussian(rows * cols, 10, 3.0);
    std::vector<int8_t> c(size_t(rows * cols));
    std::vector<float> invs(static_cast<size_t>(cols));
    quantizeActivations(x.data(), rows, cols, c.data(), invs.data());
    for (int64_t j = 0; j < cols; ++j) {
        int maxCode = 0;
        float maxAbs = 0;
        for (int64_t r = 0; r < rows; ++r) {
            const int code = c[size_t(j * rows + r)];
            QVERIFY(code >= -127 && code <= 127);
            maxCode = std::max(maxCode, std::abs(code));
            maxAbs = std::max(maxAbs, std::fabs(x[size_t(j * rows + r)]));
        }
        QCOMPARE(maxCode, 127);
        const float s = 127.0f / maxAbs;  // the reference formula, element by element
        QCOMPARE(invs[size_t(j)], 1.0f / s);
        for (int64_t r = 0; r < rows; ++r)
            QCOMPARE(int(c[size_t(j * rows + r)]),
                     int(std::clamp(std::nearbyint(x[size_t(j * rows + r)] * s), -128.0f, 127.0f)));
    }
}

void TestQuantizer::parseNames() {
    QCOMPARE(parseQuantLevels("ternary"), QuantLevels::Ternary);
    QCOMPARE(parseQuantLevels("five_level"), QuantLevels::FiveLevel);
    QCOMPARE(parseQuantLevels("none"), QuantLevels::None);
    QCOMPARE(parseQuantGranularity("cluster"), QuantGranularity::Cluster);
    QVERIFY_THROWS_EXCEPTION(Error, parseQuantLevels("binary"));
    QVERIFY_THROWS_EXCEPTION(Error, parseQuantGranularity("column"));
    QCOMPARE(bitsPerWeight(QuantLevels::Ternary), std::log2(3.0));
    QCOMPARE(bitsPerWeight(QuantLevels::FiveLevel), std::log2(5.0));
    QCOMPARE(bitsPerWeight(QuantLevels::None), 32.0);
}

QTEST_APPLESS_MAIN(TestQuantizer)
#include "test_quantizer.moc"
