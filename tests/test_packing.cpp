// Tests of 5-trits-per-byte packing: exact round trips for every short length and random data,
// all 243 byte values, hand-computed bytes, refusals, and the row-packed ternary matrix.
#include <QTest>
#include <set>
#include <vector>

#include "core/base/errors.h"
#include "core/quant/packing.h"
#include "core/base/rng.h"
#include "core/quant/weight_quantizer.h"

using namespace h158;

namespace {

std::vector<int8_t> randomTrits(int64_t n, uint64_t seed) {
    Rng rng(seed);
    std::vector<int8_t> t(static_cast<size_t>(n));
    for (auto& v : t) v = int8_t(int(rng.below(3)) - 1);
    return t;
}

}  // namespace

class TestPacking : public QObject {
    Q_OBJECT
  private slots:
    void roundTrip_data();
    void roundTrip();
    void largeRandomRoundTrip();
    void allByteValues();
    void handComputedBytes();
    void refusals();
    void matrixRoundTrip();
};

void TestPacking::roundTrip_data() {
    QTest::addColumn<int>("n");
    for (int n = 0; n <= 50; ++n) QTest::newRow(qPrintable(QString("n=%1").arg(n))) << n;
}

// Every length 0..50 (all residues mod 5) with three data patterns.
void TestPacking::roundTrip() {
    QFETCH(int, n);
    QCOMPARE(packedSize(n), int64_t((n + 4) / 5));
    std::vector<std::vector<int8_t>> cases = {randomTrits(n, uint64_t(n)),
                                              std::vector<int8_t>(size_t(n), -1),
                                              std::vector<int8_t>(size_t(n), 1)};
    for (const auto& t : cases) {
        const auto packed = packTrits(t);
        QCOMPARE(int64_t(packed.size()), packedSize(n));
        for (uint8_t b : packed) QVERIFY(b < 243);
        QCOMPARE(unpackTrits(packed, n), t);
    }
}

void TestPacking::largeRandomRoundTrip() {
    const int64_t n = 100003;
    const auto t = randomTrits(n, 42);
    const auto packed = packTrits(t);
    QCOMPARE(int64_t(packed.size()), int64_t(20001));
    QCOMPARE(unpackTrits(packed, n), t);
}

// The 243 valid bytes decode to 243 distinct 5-trit groups, each repacking to itself, and the
// lookup table agrees; 243..255 are refused.
void TestPacking::allByteValues() {
    std::set<std::vector<int8_t>> groups;
    for (int b = 0; b < 243; ++b) {
        const std::vector<uint8_t> one = {uint8_t(b)};
        const auto t = unpackTrits(one, 5);
        groups.insert(t);
        QCOMPARE(packTrits(t), one);
        for (int i = 0; i < 5; ++i) QCOMPARE(tritTable()[b][i], t[size_t(i)]);
    }
    QCOMPARE(int(groups.size()), 243);
    for (int b = 243; b < 256; ++b) {
        const std::vector<uint8_t> bad = {uint8_t(b)};
        QVERIFY_THROWS_EXCEPTION(Error, unpackTrits(bad, 5));
    }
}

// (1, 0, -1, 1, 0) -> digits (2, 1, 0, 2, 1) -> 2 + 1*3 + 0*9 + 2*27 + 1*81 = 140.
// Seven trits (-1 x5, 1, -1): byte 0 = 0; byte 1 holds (1, -1) then two padding zeros:
// digits (2, 0, 1, 1, 1) -> 2 + 0 + 9 + 27 + 81 = 119. Five zeros -> 121, five +1s -> 242.
void TestPacking::handComputedBytes() {
    QCOMPARE(packTrits(std::vector<int8_t>{1, 0, -1, 1, 0}), (std::vector<uint8_t>{140}));
    QCOMPARE(packTrits(std::vector<int8_t>{-1, -1, -1, -1, -1, 1, -1}),
             (std::vector<uint8_t>{0, 119}));
    QCOMPARE(packTrits(std::vector<int8_t>(5, 0)), (std::vector<uint8_t>{121}));
    QCOMPARE(packTrits(std::vector<int8_t>(5, 1)), (std::vector<uint8_t>{242}));
    QCOMPARE(unpackTrits(std::vector<uint8_t>{140}, 5), (std::vector<int8_t>{1, 0, -1, 1, 0}));
}

void TestPacking::refusals() {
    QVERIFY_THROWS_EXCEPTION(Error, packTrits(std::vector<int8_t>{0, 2, 0}));
    QVERIFY_THROWS_EXCEPTION(Error, packTrits(std::vector<int8_t>{-2}));
    std::vector<uint8_t> tooSmall(1);
    QVERIFY_THROWS_EXCEPTION(Error, packTrits(std::vector<int8_t>(6, 0), tooSmall));
    QVERIFY_THROWS_EXCEPTION(Error, unpackTrits(std::vector<uint8_t>{121}, 6));
    QVERIFY_THROWS_EXCEPTION(Error, unpackTrits(std::vector<uint8_t>{121, 121}, 5));
}

// A column-major ternary tensor packs row by row (ceil(cols/5) bytes per row) and unpacks to
// the same codes; a five-level tensor is refused.
void TestPacking::matrixRoundTrip() {
    const int64_t rows = 9, cols = 23;
    Rng rng(7);
    std::vector<float> w(static_cast<size_t>(rows * cols));
    for (auto& v : w) v = float(rng.normal());
    QuantizedTensor q;
    quantizeWeights(w.data(), rows, cols, QuantLevels::Ternary, QuantGranularity::Row, {}, q,
                    nullptr);
    const auto p = packTernaryMatrix(q);
    QCOMPARE(p.rowStride, int64_t(5));
    QCOMPARE(int64_t(p.bytes.size()), rows * 5);
    QCOMPARE(p.rowScale, q.rowScale);
    QCOMPARE(unpackTernaryMatrix(p), q.codes);
    // row 2 is the packed sequence W(2, 0..cols-1)
    std::vector<int8_t> row2(static_cast<size_t>(cols));
    for (int64_t c = 0; c < cols; ++c) row2[size_t(c)] = q.codes[size_t(c * rows + 2)];
    QCOMPARE(std::vector<uint8_t>(p.bytes.begin() + 10, p.bytes.begin() + 15), packTrits(row2));

    quantizeWeights(w.data(), rows, cols, QuantLevels::FiveLevel, QuantGranularity::Row, {}, q,
                    nullptr);
    QVERIFY_THROWS_EXCEPTION(Error, packTernaryMatrix(q));
}

QTEST_APPLESS_MAIN(TestPacking)
#include "test_packing.moc"
