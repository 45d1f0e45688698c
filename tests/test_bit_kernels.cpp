// Tests of the integer BitLinear kernels: every CPU path equals the naive reference bit for bit
// on odd shapes, equals the simulated float product up to rounding, does not depend on the
// thread count; the packed GEMV equals its reference and the packed GEMM equals the GEMV column
// by column.
#include <QTest>
#include <cmath>
#include <vector>

#include "core/base/errors.h"
#include "core/quant/bit_kernels.h"
#include "core/base/parallel.h"
#include "core/base/rng.h"
#include "core/quant/activation_quantizer.h"
#include "core/quant/weight_quantizer.h"

using namespace h158;

Q_DECLARE_METATYPE(h158::QuantLevels)

namespace {

std::vector<float> gaussian(int64_t n, uint64_t seed, double sd = 1.0) {
    Rng rng(seed);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = float(rng.normal(0.0, sd));
    return v;
}

std::vector<BitKernelPath> supportedPaths() {
    std::vector<BitKernelPath> p;
    for (auto k : {BitKernelPath::Plain, BitKernelPath::Avx2, BitKernelPath::Avx512Vnni})
        if (bitKernelPathSupported(k)) p.push_back(k);
    return p;
}

// A quantized layer: weights (out, in), activations (in, n) quantized per column.
struct Case {
    QuantizedTensor q;
    std::vector<int8_t> x;
    std::vector<float> xFloat, inv;
};

Case makeCase(int64_t out, int64_t in, int64_t n, QuantLevels levels, uint64_t seed) {
    Case c;
    const auto w = gaussian(out * in, seed);
    quantizeWeights(w.data(), out, in, levels, QuantGranularity::Row, {}, c.q, nullptr);
    c.xFloat = gaussian(in * n, seed + 1, 2.0);
    c.x.resize(size_t(in * n));
    c.inv.resize(size_t(n));
    quantizeActivations(c.xFloat.data(), in, n, c.x.data(), c.inv.data());
    return c;
}

// Bitwise float equality with the first mismatch named.
void compareExact(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
    QCOMPARE(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
        if (got[i] != want[i])
            QFAIL(qPrintable(QString("%1: element %2 is %3, reference %4")
                                 .arg(what)
                                 .arg(i)
                                 .arg(got[i], 0, 'g', 9)
                                 .arg(want[i], 0, 'g', 9)));
}

}  // namespace

class TestBitKernels : public QObject {
    Q_OBJECT
  private slots:
    void gemmMatchesReference_data();
    void gemmMatchesReference();
    void gemmEqualsSimulated();
    void independentOfThreadCount();
    void gemvMatchesReference_data();
    void gemvMatchesReference();
    void gemvEqualsSimulated();
    void packedGemmMatchesGemv_data();
    void packedGemmMatchesGemv();
    void packedGemmIndependentOfThreadCount();
    void packedGemmSeesEveryTrit();
    void refusals();
};

void TestBitKernels::gemmMatchesReference_data() {
    QTest::addColumn<int>("out");
    QTest::addColumn<int>("in");
    QTest::addColumn<int>("n");
    QTest::addColumn<QuantLevels>("levels");
    const int shapes[][3] = {{1, 1, 1},      {3, 5, 7},     {16, 4, 6},    {17, 13, 11},
                             {7, 1, 3},      {100, 3, 2},   {33, 67, 49},  {64, 128, 48},
                             {65, 130, 97},  {15, 255, 13}, {130, 9, 101}, {384, 128, 100},
                             {128, 512, 50}, {48, 31, 200}};
    for (const auto& s : shapes)
        for (auto l : {QuantLevels::Ternary, QuantLevels::FiveLevel})
            QTest::newRow(qPrintable(QString("%1x%2 n=%3 %4")
                                         .arg(s[0])
                                         .arg(s[1])
                                         .arg(s[2])
                                         .arg(l == QuantLevels::Ternary ? "ternary" : "five")))
                << s[0] << s[1] << s[2] << l;
}

// Each supported path (plain, avx2, avx512_vnni) and the fused quantize+GEMM equal the
// reference exactly, including outputs not a multiple of 16 and inputs not a multiple of 4.
void TestBitKernels::gemmMatchesReference() {
    QFETCH(int, out);
    QFETCH(int, in);
    QFETCH(int, n);
    QFETCH(QuantLevels, levels);
    const Case c = makeCase(out, in, n, levels, uint64_t(out * 1000 + in));
    std::vector<float> ref(static_cast<size_t>(out * n));
    bitGemmReference(c.q.codes.data(), c.q.rowScale.data(), out, in, c.x.data(), c.inv.data(), n,
                     ref.data());
    PreparedBitWeights p;
    prepareBitWeights(c.q, p);
    const auto paths = supportedPaths();
    QVERIFY(!paths.empty());
    for (auto path : paths) {
        std::vector<float> y(static_cast<size_t>(out * n), -1.0f);
        bitGemm(p, c.x.data(), c.inv.data(), n, y.data(), path);
        compareExact(y, ref, bitKernelPathName(path));

        std::vector<float> yf(static_cast<size_t>(out * n), -1.0f), invF(static_cast<size_t>(n));
        std::vector<int8_t> xF(static_cast<size_t>(in * n));
        quantizeAndBitGemm(p, c.xFloat.data(), n, xF.data(), invF.data(), yf.data(), path);
        QCOMPARE(xF, c.x);
        compareExact(invF, c.inv, "fused invScale");
        compareExact(yf, ref, "fused forward");
    }
}

// The integer result equals dequantized W times dequantized X summed in double, up to float
// rounding of the scales and the output (a few ulps of the sum of |terms|).
void TestBitKernels::gemmEqualsSimulated() {
    const int64_t out = 45, in = 77, n = 23;
    const Case c = makeCase(out, in, n, QuantLevels::Ternary, 11);
    PreparedBitWeights p;
    prepareBitWeights(c.q, p);
    std::vector<float> y(static_cast<size_t>(out * n));
    bitGemm(p, c.x.data(), c.inv.data(), n, y.data());
    for (int64_t t = 0; t < n; ++t)
        for (int64_t o = 0; o < out; ++o) {
            double sim = 0, mag = 0;
            for (int64_t k = 0; k < in; ++k) {
                const double wv = double(c.q.codes[size_t(k * out + o)]) * c.q.rowScale(o);
                const double xv = double(c.x[size_t(t * in + k)]) * c.inv[size_t(t)];
                sim += wv * xv;
                mag += std::fabs(wv * xv);
            }
            const double err = std::fabs(double(y[size_t(t * out + o)]) - sim);
            QVERIFY2(err <= 4e-7 * mag + 1e-30, qPrintable(QString("(%1, %2): %3 vs %4")
                                                               .arg(o)
                                                               .arg(t)
                                                               .arg(y[size_t(t * out + o)])
                                                               .arg(sim)));
        }
}

void TestBitKernels::independentOfThreadCount() {
    const Case c = makeCase(130, 96, 500, QuantLevels::Ternary, 21);
    PreparedBitWeights p;
    prepareBitWeights(c.q, p);
    const int before = threadCount();
    for (auto path : supportedPaths()) {
        std::vector<float> y1(static_cast<size_t>(130 * 500)), y2(y1.size());
        setThreadCount(1);
        bitGemm(p, c.x.data(), c.inv.data(), 500, y1.data(), path);
        setThreadCount(2);
        bitGemm(p, c.x.data(), c.inv.data(), 500, y2.data(), path);
        compareExact(y2, y1, bitKernelPathName(path));
    }
    setThreadCount(before);
}

void TestBitKernels::gemvMatchesReference_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    const int shapes[][2] = {{1, 1},    {5, 7},    {13, 320},   {37, 321}, {4, 160},
                             {3, 1000}, {64, 999}, {130, 4096}, {9, 0},    {257, 65}};
    for (const auto& s : shapes)
        QTest::newRow(qPrintable(QString("%1x%2").arg(s[0]).arg(s[1]))) << s[0] << s[1];
}

// Every path equals the reference (unpack, quantize x, integer dot) exactly; shapes cover row
// tails of every kind for 64- and 32-byte blocks and row counts not a multiple of 4.
void TestBitKernels::gemvMatchesReference() {
    QFETCH(int, rows);
    QFETCH(int, cols);
    const auto w = gaussian(int64_t(rows) * cols, uint64_t(rows + cols));
    QuantizedTensor q;
    quantizeWeights(w.data(), rows, cols, QuantLevels::Ternary, QuantGranularity::Row, {}, q,
                    nullptr);
    const PackedTernaryMatrix m = packTernaryMatrix(q);
    const auto x = gaussian(cols, 99, 0.5);
    std::vector<float> ref(static_cast<size_t>(rows));
    packedGemvReference(m, x.data(), ref.data());
    for (auto path : supportedPaths()) {
        std::vector<float> y(static_cast<size_t>(rows), -1.0f);
        packedGemv(m, x.data(), y.data(), path);
        compareExact(y, ref, bitKernelPathName(path));
    }
    // and the reference is the GEMM reference on one column
    std::vector<int8_t> xc(static_cast<size_t>(cols));
    float inv = 0;
    quantizeActivations(x.data(), cols, 1, xc.data(), &inv);
    std::vector<float> g(static_cast<size_t>(rows));
    bitGemmReference(q.codes.data(), q.rowScale.data(), rows, cols, xc.data(), &inv, 1, g.data());
    compareExact(ref, g, "GEMV reference vs GEMM reference");
}

// The packed GEMV at 512 x 4096 against the float product of the dequantized matrix and the
// quantized-dequantized x in double.
void TestBitKernels::gemvEqualsSimulated() {
    const int64_t rows = 512, cols = 4096;
    const auto w = gaussian(rows * cols, 5, 0.02);
    QuantizedTensor q;
    std::vector<float> deq(w.size());
    quantizeWeights(w.data(), rows, cols, QuantLevels::Ternary, QuantGranularity::Tensor, {}, q,
                    deq.data());
    const PackedTernaryMatrix m = packTernaryMatrix(q);
    const auto x = gaussian(cols, 6);
    std::vector<int8_t> xc(static_cast<size_t>(cols));
    float inv = 0;
    quantizeActivations(x.data(), cols, 1, xc.data(), &inv);
    std::vector<float> y(static_cast<size_t>(rows));
    packedGemv(m, x.data(), y.data());
    for (int64_t r = 0; r < rows; ++r) {
        double sim = 0, mag = 0;
        for (int64_t c = 0; c < cols; ++c) {
            const double term = double(deq[size_t(c * rows + r)]) * (double(xc[size_t(c)]) * inv);
            sim += term;
            mag += std::fabs(term);
        }
        QVERIFY(std::fabs(y[size_t(r)] - sim) <= 4e-7 * mag);
    }
}

void TestBitKernels::packedGemmMatchesGemv_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("n");
    // rows around the 16-row groups and 64-row panels, cols not a multiple of 4 or 5 and around
    // the 160-input decoder block (32 packed bytes), n = 1, 7 and past the 96-token pass.
    const int shapes[][3] = {{1, 1, 1},      {5, 7, 7},      {17, 13, 130}, {63, 159, 7},
                             {64, 160, 1},   {65, 161, 130}, {100, 321, 7}, {129, 999, 130},
                             {33, 4, 97},    {200, 2048, 7}, {9, 0, 3},     {70, 803, 1},
                             {130, 642, 200}};
    for (const auto& s : shapes)
        QTest::newRow(qPrintable(QString("%1x%2 n=%3").arg(s[0]).arg(s[1]).arg(s[2])))
            << s[0] << s[1] << s[2];
}

// Every path's packed GEMM equals packedGemv (auto path) column by column and the GEMV reference,
// bit for bit, with the weights quantized per row (different scales per row).
void TestBitKernels::packedGemmMatchesGemv() {
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(int, n);
    const auto w = gaussian(int64_t(rows) * cols, uint64_t(rows * 31 + cols));
    QuantizedTensor q;
    quantizeWeights(w.data(), rows, cols, QuantLevels::Ternary, QuantGranularity::Row, {}, q,
                    nullptr);
    const PackedTernaryMatrix m = packTernaryMatrix(q);
    const auto x = gaussian(int64_t(cols) * n, uint64_t(n + 7), 1.5);  // (cols, n)
    std::vector<float> gemv(static_cast<size_t>(rows) * n), ref(gemv.size());
    for (int t = 0; t < n; ++t) {
        packedGemv(m, x.data() + int64_t(t) * cols, gemv.data() + int64_t(t) * rows);
        packedGemvReference(m, x.data() + int64_t(t) * cols, ref.data() + int64_t(t) * rows);
    }
    compareExact(gemv, ref, "GEMV vs reference");
    for (auto path : supportedPaths()) {
        std::vector<float> y(gemv.size(), -1.0f);
        packedGemm(m, x.data(), n, y.data(), path);
        compareExact(y, gemv, bitKernelPathName(path));
    }
}

// 2 threads split the 64-row panels differently from 1; the result does not change.
void TestBitKernels::packedGemmIndependentOfThreadCount() {
    const int64_t rows = 300, cols = 517, n = 101;
    const auto w = gaussian(rows * cols, 41);
    QuantizedTensor q;
    quantizeWeights(w.data(), rows, cols, QuantLevels::Ternary, QuantGranularity::Row, {}, q,
                    nullptr);
    const PackedTernaryMatrix m = packTernaryMatrix(q);
    const auto x = gaussian(cols * n, 42);
    const int before = threadCount();
    for (auto path : supportedPaths()) {
        std::vector<float> y1(static_cast<size_t>(rows * n)), y2(y1.size());
        setThreadCount(1);
        packedGemm(m, x.data(), n, y1.data(), path);
        setThreadCount(2);
        packedGemm(m, x.data(), n, y2.data(), path);
        compareExact(y2, y1, bitKernelPathName(path));
    }
    setThreadCount(before);
}

// Known answers: W with a single +1 at (r, c) and x = e_c (quantized to code 127, inverse scale
// 1/127) gives y(r) = 127 * rowScale(r) / 127 and zero elsewhere, for every (r, c) of a panel
// edge and decoder block edge, so a misplaced digit or row would show as a wrong position.
void TestBitKernels::packedGemmSeesEveryTrit() {
    const int64_t rows = 67, cols = 163;
    std::vector<float> scale(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) scale[size_t(r)] = 1.0f + 0.25f * float(r);
    for (auto path : supportedPaths())
        for (int64_t r : {0, 1, 15, 16, 63, 64, 66})
            for (int64_t c : {0, 1, 4, 5, 159, 160, 162}) {
                std::vector<int8_t> codes(static_cast<size_t>(rows * cols), 0);
                codes[size_t(c * rows + r)] = 1;
                const PackedTernaryMatrix m =
                    packTernaryMatrix(codes.data(), scale.data(), rows, cols);
                std::vector<float> x(static_cast<size_t>(cols * 2), 0.0f);
                x[size_t(c)] = 1.0f;          // token 0: e_c
                x[size_t(cols + c)] = -3.0f;  // token 1: -3 e_c, code -127
                std::vector<float> y(static_cast<size_t>(rows * 2), -1.0f);
                packedGemm(m, x.data(), 2, y.data(), path);
                const float inv0 = 1.0f / (127.0f / 1.0f), inv1 = 1.0f / (127.0f / 3.0f);
                for (int64_t o = 0; o < rows; ++o) {
                    const float want0 = o == r ? (127.0f * scale[size_t(o)]) * inv0 : 0.0f;
                    const float want1 = o == r ? (-127.0f * scale[size_t(o)]) * inv1 : 0.0f;
                    QVERIFY2(y[size_t(o)] == want0 && y[size_t(rows + o)] == want1,
                             qPrintable(QString("%1: W(%2, %3) = 1, y(%4) = %5, %6")
                                            .arg(bitKernelPathName(path))
                                            .arg(r)
                                            .arg(c)
                                            .arg(o)
                                            .arg(y[size_t(o)])
                                            .arg(y[size_t(rows + o)])));
                }
            }
}

void TestBitKernels::refusals() {
    PreparedBitWeights p;
    const std::vector<int8_t> bad = {0, 3, 1, -1};
    const std::vector<float> scale = {1.0f, 1.0f};
    QVERIFY_THROWS_EXCEPTION(Error, prepareBitWeights(bad.data(), scale.data(), 2, 2, p));
    QuantizedTensor none;
    QVERIFY_THROWS_EXCEPTION(Error, prepareBitWeights(none, p));
    PreparedBitWeights unprepared;
    unprepared.out = 4;
    unprepared.in = 4;
    std::vector<float> y(4);
    QVERIFY_THROWS_EXCEPTION(Error, bitGemm(unprepared, nullptr, nullptr, 1, y.data()));
    PackedTernaryMatrix m;
    m.rows = 2;
    m.cols = 6;
    m.rowStride = 2;
    m.bytes.resize(3);  // should be 4
    m.rowScale = VecF::Ones(2);
    QVERIFY_THROWS_EXCEPTION(Error, packedGemv(m, y.data(), y.data()));
    QVERIFY_THROWS_EXCEPTION(Error, packedGemm(m, y.data(), 1, y.data()));
    m.bytes.resize(4);
    QVERIFY_THROWS_EXCEPTION(Error, packedGemm(m, y.data(), -1, y.data()));
    QCOMPARE(parseBitKernelPath("avx512_vnni"), BitKernelPath::Avx512Vnni);
    QVERIFY_THROWS_EXCEPTION(Error, parseBitKernelPath("neon"));
    QVERIFY(bitKernelPathSupported(BitKernelPath::Plain));
    QVERIFY(bitKernelPathSupported(bestBitKernelPath()));
}

QTEST_APPLESS_MAIN(TestBitKernels)
#include "test_bit_kernels.moc"
