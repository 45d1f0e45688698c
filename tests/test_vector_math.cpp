// Tests of the run-time dispatched kernels (core/base/vector_math.h): every instruction set this
// CPU runs computes the same bits as the scalar functions element by element (at every length,
// offset, in place or not) and as a column-by-column reference of the norms; the polynomials are
// close to std::exp / std::erf; in a build that dispatches (no AVX2 at compile time) the kernels
// equal Eigen's own expressions on whole packets.
#include <Eigen/Core>
#include <QTest>
#include <bit>
#include <cmath>
#include <cstring>
#include <numbers>
#include <unsupported/Eigen/SpecialFunctions>
#include <vector>

#include "core/base/errors.h"
#include "core/base/rng.h"
#include "core/base/vector_math.h"

using namespace h158;
using Vf = std::vector<float>;

namespace {

// One element per call (noinline), so the reference is plain scalar code, never vectorized.
__attribute__((noinline)) float expOne(float x, float shift) {
    return expPolynomial(x - shift);
}
__attribute__((noinline)) float geluOne(float x) {
    constexpr float invSqrt2 = 1.0f / std::numbers::sqrt2_v<float>;
    return 0.5f * x * (1.0f + erfPolynomial(x * invSqrt2));
}
__attribute__((noinline)) float geluGradOne(float dy, float x) {
    constexpr float invSqrt2 = 1.0f / std::numbers::sqrt2_v<float>;
    constexpr float invSqrt2Pi = std::numbers::inv_sqrtpi_v<float> * invSqrt2;
    return dy * (0.5f * (1.0f + erfPolynomial(x * invSqrt2)) +
                 x * invSqrt2Pi * expPolynomial(-0.5f * (x * x)));
}

// Inputs that reach every branch: normal values at several scales, the clamps (±4 for erf,
// ±88.723 for exp) and beyond, ±0, ±inf, subnormals, and exp's floor boundaries (x log2 e + 1/2
// near an integer).
Vf inputs() {
    Vf v;
    Rng rng(11, 3);
    for (double sd : {0.1, 1.0, 3.0, 10.0, 60.0})
        for (int i = 0; i < 400; ++i) v.push_back(float(rng.normal(0.0, sd)));
    for (float x : {0.0f,
                    -0.0f,
                    1e-40f,
                    -1e-40f,
                    1e-30f,
                    3.9999f,
                    4.0f,
                    4.5f,
                    -4.0f,
                    -5.0f,
                    88.72f,
                    88.723f,
                    88.8f,
                    100.0f,
                    -88.72f,
                    -88.723f,
                    -88.8f,
                    -100.0f,
                    -87.5f,
                    std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()})
        v.push_back(x);
    for (int k = -130; k <= 130; ++k) {
        const float edge = (float(k) - 0.5f) * std::numbers::ln2_v<float>;
        v.push_back(edge);
        v.push_back(std::nextafter(edge, 1e9f));
        v.push_back(std::nextafter(edge, -1e9f));
    }
    return v;
}

bool sameBits(float a, float b) {
    return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}

// Fails at the first element where got and want differ in any bit.
void compareBits(const char* what, const float* got, const float* want, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        if (!sameBits(got[i], want[i]))
            QFAIL(qPrintable(QString("%1: element %2 of %3 is %4, the scalar function gives %5")
                                 .arg(what)
                                 .arg(i)
                                 .arg(n)
                                 .arg(double(got[i]), 0, 'g', 9)
                                 .arg(double(want[i]), 0, 'g', 9)));
}

std::vector<VectorIsa> supportedIsas() {
    std::vector<VectorIsa> isas;
    for (VectorIsa isa : {VectorIsa::Baseline, VectorIsa::Avx2, VectorIsa::Avx512})
        if (vectorIsaSupported(isa)) isas.push_back(isa);
    return isas;
}

}  // namespace

class TestVectorMath : public QObject {
    Q_OBJECT
  private slots:
    // The polynomials are Eigen's approximations: within a few ulps of libm in their range.
    void polynomialsCloseToLibm() {
        for (float x : inputs()) {
            if (!std::isfinite(x)) continue;
            const double e = std::exp(double(x));
            if (x > -87.0f && x < 88.0f)
                QVERIFY2(std::abs(expPolynomial(x) - e) <= 4e-7 * e,
                         qPrintable(QString::number(x)));
            QVERIFY2(std::abs(erfPolynomial(x) - std::erf(double(x))) <= 4e-7,
                     qPrintable(QString::number(x)));
        }
        QCOMPARE(expPolynomial(std::numeric_limits<float>::infinity()),
                 std::numeric_limits<float>::infinity());
        QCOMPARE(expPolynomial(0.0f), 1.0f);
        QCOMPARE(erfPolynomial(10.0f), 1.0f);
        QCOMPARE(erfPolynomial(-10.0f), -1.0f);
    }

    // Each instruction set's kernels give the scalar functions' bits at every length 0..70 (the
    // vector bodies, the padded tail), at unaligned offsets, out of place and in place.
    void everyIsaMatchesScalar() {
        const Vf x = inputs();
        const int64_t total = int64_t(x.size());
        Vf dy(x.size());
        Rng rng(5, 1);
        for (float& d : dy) d = float(rng.normal(0.0, 1.0));
        Vf wantExp(x.size()), wantGelu(x.size()), wantGrad(x.size());
        const float shift = 0.75f;
        for (int64_t i = 0; i < total; ++i) {
            wantExp[size_t(i)] = expOne(x[size_t(i)], shift);
            wantGelu[size_t(i)] = geluOne(x[size_t(i)]);
            wantGrad[size_t(i)] = geluGradOne(dy[size_t(i)], x[size_t(i)]);
        }
        const std::vector<VectorIsa> isas = supportedIsas();
        QVERIFY(isas.size() >= 1);
        for (VectorIsa isa : isas) {
            const VectorMathKernels& k = vectorMathOn(isa);
            const QByteArray name = vectorIsaName(isa);
            Vf out(x.size()), work(x.size());
            // the whole array, then every length up to 70 at offsets 0..3
            std::vector<std::pair<int64_t, int64_t>> spans{{0, total}};
            for (int64_t off = 0; off < 4; ++off)
                for (int64_t n = 0; n <= 70; ++n) spans.push_back({off * 37 + off, n});
            for (auto [off, n] : spans) {
                const float* xs = x.data() + off;
                k.expShifted(out.data(), xs, shift, n);
                compareBits(name + " expShifted", out.data(), wantExp.data() + off, n);
                std::copy(xs, xs + n, work.begin());
                k.expShifted(work.data(), work.data(), shift, n);
                compareBits(name + " expShifted in place", work.data(), wantExp.data() + off, n);
                k.gelu(out.data(), xs, n);
                compareBits(name + " gelu", out.data(), wantGelu.data() + off, n);
                std::copy(xs, xs + n, work.begin());
                k.gelu(work.data(), work.data(), n);
                compareBits(name + " gelu in place", work.data(), wantGelu.data() + off, n);
                k.geluBackward(out.data(), dy.data() + off, xs, n);
                compareBits(name + " geluBackward", out.data(), wantGrad.data() + off, n);
                std::copy(dy.begin() + off, dy.begin() + off + n, work.begin());
                k.geluBackward(work.data(), work.data(), xs, n);
                compareBits(name + " geluBackward in place", work.data(), wantGrad.data() + off, n);
            }
        }
        // the dispatched table is one of them
        const VectorMathKernels& best = vectorMath();
        bool found = false;
        for (VectorIsa isa : isas) found = found || &vectorMathOn(isa) == &best;
        QVERIFY(found);
    }

    // The column norms of every instruction set give the bits of the scalar reference below
    // (sums in sumFixedOrder), at column lengths around the 16 lanes and the tail.
    void normsMatchScalar_data() {
        QTest::addColumn<int>("C");
        for (int c : {1, 7, 16, 33, 128, 200}) QTest::newRow(qPrintable(QString::number(c))) << c;
    }
    void normsMatchScalar() {
        QFETCH(int, C);
        const int64_t N = 5, n = N * C;
        Rng rng(uint64_t(C), 2);
        const auto un = static_cast<size_t>(n), uN = static_cast<size_t>(N),
                   uC = static_cast<size_t>(C);
        Vf x(un), dy(un), w(uC), b(uC);
        for (float& v : x) v = float(rng.normal(0.5, 2.0));
        for (float& v : dy) v = float(rng.normal(0.0, 1.0));
        for (float& v : w) v = float(rng.normal(1.0, 0.3));
        for (float& v : b) v = float(rng.normal(0.0, 0.3));
        // the reference: one column at a time, element by element
        Vf lnOut(un), lnMean(uN), lnRstd(uN), lnDx(un, 0.25f), pw(uC, 0.5f), pb(uC, -0.5f),
            rmsOut(un), rmsRstd(uN), rmsDx(un);
        for (int64_t j = 0; j < N; ++j) {
            const float* xc = x.data() + j * C;
            const float* dc = dy.data() + j * C;
            const float m = sumFixedOrder(C, [&](int64_t i) { return xc[i]; }) / float(C);
            const float v =
                sumFixedOrder(C, [&](int64_t i) { return (xc[i] - m) * (xc[i] - m); }) / float(C);
            const float s = 1.0f / std::sqrt(v + 1e-5f);
            for (int64_t i = 0; i < C; ++i)
                lnOut[size_t(j * C + i)] = (xc[i] - m) * s * w[size_t(i)] + b[size_t(i)];
            lnMean[size_t(j)] = m;
            lnRstd[size_t(j)] = s;
            const float gMean =
                sumFixedOrder(C, [&](int64_t i) { return w[size_t(i)] * dc[i]; }) / float(C);
            const float gnMean =
                sumFixedOrder(C,
                              [&](int64_t i) { return w[size_t(i)] * dc[i] * ((xc[i] - m) * s); }) /
                float(C);
            for (int64_t i = 0; i < C; ++i) {
                const float nn = (xc[i] - m) * s;
                lnDx[size_t(j * C + i)] += (w[size_t(i)] * dc[i] - gMean - nn * gnMean) * s;
                pw[size_t(i)] += dc[i] * nn;
                pb[size_t(i)] += dc[i];
            }
            const float r =
                1.0f /
                std::sqrt(sumFixedOrder(C, [&](int64_t i) { return xc[i] * xc[i]; }) / float(C) +
                          1e-6f);
            for (int64_t i = 0; i < C; ++i) rmsOut[size_t(j * C + i)] = xc[i] * r;
            rmsRstd[size_t(j)] = r;
            const float dnn =
                sumFixedOrder(C, [&](int64_t i) { return dc[i] * xc[i]; }) * r / float(C);
            for (int64_t i = 0; i < C; ++i)
                rmsDx[size_t(j * C + i)] = (dc[i] - xc[i] * (r * dnn)) * r;
        }
        for (VectorIsa isa : supportedIsas()) {
            const VectorMathKernels& k = vectorMathOn(isa);
            const QByteArray name = vectorIsaName(isa);
            Vf out(un), mean(uN), rstd(uN), dx(un, 0.25f), gw(uC, 0.5f), gb(uC, -0.5f);
            k.layernormForward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(),
                               N, C);
            compareBits(name + " layernormForward", out.data(), lnOut.data(), n);
            compareBits(name + " layernorm mean", mean.data(), lnMean.data(), N);
            compareBits(name + " layernorm rstd", rstd.data(), lnRstd.data(), N);
            k.layernormBackward(dx.data(), gw.data(), gb.data(), dy.data(), x.data(), w.data(),
                                mean.data(), rstd.data(), N, C);
            compareBits(name + " layernormBackward dx", dx.data(), lnDx.data(), n);
            compareBits(name + " layernormBackward dw", gw.data(), pw.data(), C);
            compareBits(name + " layernormBackward db", gb.data(), pb.data(), C);
            k.rmsnormForward(out.data(), rstd.data(), x.data(), N, C);
            compareBits(name + " rmsnormForward", out.data(), rmsOut.data(), n);
            compareBits(name + " rmsnorm rstd", rstd.data(), rmsRstd.data(), N);
            k.rmsnormBackward(dx.data(), dy.data(), x.data(), rstd.data(), N, C);
            compareBits(name + " rmsnormBackward", dx.data(), rmsDx.data(), n);
            Vf inPlace = dy;
            k.rmsnormBackward(inPlace.data(), inPlace.data(), x.data(), rstd.data(), N, C);
            compareBits(name + " rmsnormBackward in place", inPlace.data(), rmsDx.data(), n);
        }
    }

    // y = W x of every instruction set gives the bits of the plain column-by-column sum, at
    // shapes around the vector widths and the four-column passes, with a column stride > rows.
    void gemvMatchesScalar() {
        Rng rng(9, 4);
        for (int64_t rows : {1, 5, 8, 17, 128, 256})
            for (int64_t cols : {1, 3, 4, 9, 128}) {
                const int64_t ld = rows + 3;
                Vf W(static_cast<size_t>(ld * cols)), x(static_cast<size_t>(cols));
                for (float& v : W) v = float(rng.normal(0.0, 1.0));
                for (float& v : x) v = float(rng.normal(0.0, 1.0));
                Vf want(static_cast<size_t>(rows), 0.0f);
                for (int64_t j = 0; j < cols; ++j)
                    for (int64_t i = 0; i < rows; ++i)
                        want[size_t(i)] = want[size_t(i)] + W[size_t(j * ld + i)] * x[size_t(j)];
                for (VectorIsa isa : supportedIsas()) {
                    Vf y(static_cast<size_t>(rows), 7.0f);
                    vectorMathOn(isa).gemv(y.data(), W.data(), rows, cols, ld, x.data());
                    compareBits(QByteArray(vectorIsaName(isa)) + " gemv " +
                                    QByteArray::number(qlonglong(rows)) + "x" +
                                    QByteArray::number(qlonglong(cols)),
                                y.data(), want.data(), rows);
                }
            }
    }

    void unsupportedIsaThrows() {
        for (VectorIsa isa : {VectorIsa::Avx2, VectorIsa::Avx512})
            if (!vectorIsaSupported(isa)) QVERIFY_THROWS_EXCEPTION(Error, vectorMathOn(isa));
        QVERIFY(vectorIsaSupported(VectorIsa::Baseline));
    }

    // Where the layers dispatch (a build without AVX2), the kernels replace Eigen's expressions:
    // on whole packets they must be the same operations, so the same bits. (With AVX2 Eigen
    // fuses its multiply-adds, and the layers keep Eigen's expressions.)
    void equalsEigenWhereDispatched() {
        if (!kDispatchVectorMath)
            QSKIP("this build keeps Eigen's expressions (AVX2 at compile time)");
        const Vf v = inputs();
        const int64_t n = int64_t(v.size()) / 16 * 16;  // whole packets, aligned below
        Eigen::ArrayXf x = Eigen::Map<const Eigen::ArrayXf>(v.data(), n);
        Eigen::ArrayXf dy = x * 0.37f - 0.1f;
        const float invSqrt2 = 1.0f / std::numbers::sqrt2_v<float>;
        const float invSqrt2Pi = std::numbers::inv_sqrtpi_v<float> * invSqrt2;
        Eigen::ArrayXf want(n), got(n);
        for (VectorIsa isa : supportedIsas()) {
            const VectorMathKernels& k = vectorMathOn(isa);
            want = (x - 0.75f).exp();
            k.expShifted(got.data(), x.data(), 0.75f, n);
            compareBits("exp vs Eigen", got.data(), want.data(), n);
            want = 0.5f * x * (1.0f + (x * invSqrt2).erf());
            k.gelu(got.data(), x.data(), n);
            compareBits("gelu vs Eigen", got.data(), want.data(), n);
            want = dy * (0.5f * (1.0f + (x * invSqrt2).erf()) +
                         x * invSqrt2Pi * (-0.5f * x.square()).exp());
            k.geluBackward(got.data(), dy.data(), x.data(), n);
            compareBits("geluBackward vs Eigen", got.data(), want.data(), n);
        }
    }
};

QTEST_APPLESS_MAIN(TestVectorMath)
#include "test_vector_math.moc"
