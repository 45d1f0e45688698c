// Tests of the GPT layers (core/model/gpt/gpt_layers.h): every backward against central finite differences
// in double, BitLinear's straight-through rule against its surrogate, a hand-computed BitLinear
// forward, attention against a naive full-matrix version, and float against double.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <QTest>
#include <cmath>
#include <functional>
#include <map>
#include <vector>

#include "core/model/gpt/gpt_layers.h"
#include "core/base/errors.h"
#include "core/base/rng.h"
#include "core/base/sgemm.h"

using namespace h158;
using Vd = std::vector<double>;

namespace {

Vd randn(int64_t n, uint64_t seed, double sd = 1.0) {
    Rng rng(seed, 7);
    Vd v(static_cast<size_t>(n));
    for (auto& x : v) x = rng.normal(0.0, sd);
    return v;
}

double dot(const Vd& a, const Vd& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

// Compares analytic[i] with the central difference of f() in x[i], for every i; fails with the
// worst entry. Error measure |num - an| / max(1, |num|).
void checkGrad(const char* what, Vd& x, const Vd& analytic, const std::function<double()>& f,
               double tol = 1e-6, double h = 1e-5) {
    QCOMPARE(analytic.size(), x.size());
    double worst = 0, worstNum = 0, worstAn = 0;
    size_t worstAt = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double save = x[i];
        x[i] = save + h;
        const double fp = f();
        x[i] = save - h;
        const double fm = f();
        x[i] = save;
        const double num = (fp - fm) / (2 * h);
        const double err = std::abs(num - analytic[i]) / std::max(1.0, std::abs(num));
        if (err > worst) worst = err, worstAt = i, worstNum = num, worstAn = analytic[i];
    }
    if (!(worst <= tol))
        QFAIL(qPrintable(QString("%1: gradient entry %2: analytic %3, numeric %4 (error %5)")
                             .arg(what)
                             .arg(worstAt)
                             .arg(worstAn, 0, 'g', 10)
                             .arg(worstNum, 0, 'g', 10)
                             .arg(worst, 0, 'g', 3)));
}

// Naive causal attention on qkv (3C, B*T), full T x T scores per (b, h).
Vd naiveAttention(const Vd& qkv, int64_t B, int64_t T, int64_t C, int64_t H) {
    const int64_t hd = C / H;
    Vd out(static_cast<size_t>(C * B * T), 0.0);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t q = 0; q < T; ++q) {
                auto at = [&](int64_t part, int64_t t, int64_t d) {
                    return qkv[size_t((b * T + t) * 3 * C + part * C + h * hd + d)];
                };
                Vd s(static_cast<size_t>(q + 1));
                double m = -1e300;
                for (int64_t k = 0; k <= q; ++k) {
                    double v = 0;
                    for (int64_t d = 0; d < hd; ++d) v += at(0, q, d) * at(1, k, d);
                    s[size_t(k)] = v / std::sqrt(double(hd));
                    m = std::max(m, s[size_t(k)]);
                }
                double z = 0;
                for (auto& v : s) z += v = std::exp(v - m);
                for (int64_t d = 0; d < hd; ++d) {
                    double y = 0;
                    for (int64_t k = 0; k <= q; ++k) y += s[size_t(k)] / z * at(2, k, d);
                    out[size_t((b * T + q) * C + h * hd + d)] = y;
                }
            }
    return out;
}

// Ternary absmean of W (the trainer's job; here to build a quantized weight for BitLinear).
Vd ternary(const Vd& w) {
    double g = 0;
    for (double v : w) g += std::abs(v);
    g = std::max(g / double(w.size()), 1e-5);
    Vd q(w.size());
    for (size_t i = 0; i < w.size(); ++i) q[i] = std::clamp(std::rint(w[i] / g), -1.0, 1.0) * g;
    return q;
}

}  // namespace

class TestGptLayers : public QObject {
    Q_OBJECT
  private slots:
    void embeddingGradient();
    void layernormGradient();
    void rmsnormGradient();
    void geluMatchesErfAndGradient();
    void linearGradient();
    void linearMatchesNaiveAcrossChunks();
    void crossEntropyKnownAnswerAndGradient();
    void attentionMatchesNaive_data();
    void attentionMatchesNaive();
    void attentionGradient_data();
    void attentionGradient();
    void attentionIsCausal();
    void bitLinearHandCase();
    void bitLinearGradientWithoutActQuant();
    void bitLinearStraightThrough();
    void floatMatchesDouble();
    void sgemmMatchesReference_data();
    void sgemmMatchesReference();
    void floatLinearMatchesDouble();
};

void TestGptLayers::embeddingGradient() {
    const int64_t B = 2, T = 3, C = 4;
    const std::vector<int32_t> tok = {5, 7, 5, 0, 255, 5};  // repeats must accumulate
    Vd wte = randn(C * 256, 1), wpe = randn(C * T, 2), r = randn(C * B * T, 3);
    Vd out(static_cast<size_t>(C * B * T));
    auto f = [&] {
        embeddingForward(out.data(), tok.data(), wte.data(), wpe.data(), B, T, C);
        return dot(out, r);
    };
    Vd dwte(wte.size(), 0.25), dwpe(wpe.size(), -0.5);  // += onto existing values
    embeddingBackward(dwte.data(), dwpe.data(), r.data(), tok.data(), B, T, C);
    for (auto& v : dwte) v -= 0.25;
    for (auto& v : dwpe) v += 0.5;
    checkGrad("d tok.weight", wte, dwte, f);
    checkGrad("d pos.weight", wpe, dwpe, f);
}

void TestGptLayers::layernormGradient() {
    const int64_t N = 5, C = 7;
    Vd x = randn(C * N, 4, 2.0), w = randn(C, 5), b = randn(C, 6), r = randn(C * N, 7);
    for (int64_t j = 0; j < N; ++j) x[size_t(j * C)] += 3.0;  // a non-zero mean
    Vd out(x.size()), mean(static_cast<size_t>(N)), rstd(static_cast<size_t>(N));
    auto f = [&] {
        layernormForward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C);
        return dot(out, r);
    };
    f();
    for (int64_t j = 0; j < N; ++j) {  // normalised output has mean b̄-ish: check stats directly
        double m = 0;
        for (int64_t i = 0; i < C; ++i) m += x[size_t(j * C + i)];
        QVERIFY(std::abs(mean[size_t(j)] - m / double(C)) < 1e-12);
    }
    Vd dx(x.size(), 1.0), dw(static_cast<size_t>(C), 0.0),
        db(static_cast<size_t>(C), 0.0);  // dx accumulates onto 1
    layernormBackward(dx.data(), dw.data(), db.data(), r.data(), x.data(), w.data(), mean.data(),
                      rstd.data(), N, C);
    for (auto& v : dx) v -= 1.0;
    checkGrad("layernorm dx", x, dx, f);
    checkGrad("layernorm dweight", w, dw, f);
    checkGrad("layernorm dbias", b, db, f);
}

void TestGptLayers::rmsnormGradient() {
    const int64_t N = 4, C = 6;
    Vd x = randn(C * N, 8, 1.5), r = randn(C * N, 9);
    Vd out(x.size()), rstd(static_cast<size_t>(N));
    auto f = [&] {
        rmsnormForward(out.data(), rstd.data(), x.data(), N, C);
        return dot(out, r);
    };
    f();
    double ms = 0;
    for (int64_t i = 0; i < C; ++i) ms += out[size_t(i)] * out[size_t(i)];
    QVERIFY(std::abs(ms / double(C) - 1.0) < 1e-5);  // unit root-mean-square (up to eps)
    Vd dx(x.size(), 99.0);                           // overwritten
    rmsnormBackward(dx.data(), r.data(), x.data(), rstd.data(), N, C);
    checkGrad("rmsnorm dx", x, dx, f);
}

void TestGptLayers::geluMatchesErfAndGradient() {
    const int64_t n = 61;
    Vd x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) x[size_t(i)] = -6.0 + 0.2 * double(i) + 0.013;
    Vd out(x.size());
    geluForward(out.data(), x.data(), n);
    for (int64_t i = 0; i < n; ++i) {
        const double v = x[size_t(i)], want = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
        QVERIFY2(std::abs(out[size_t(i)] - want) < 1e-14, qPrintable(QString::number(v)));
    }
    std::vector<float> xf(x.begin(), x.end()), of(x.size());
    geluForward(of.data(), xf.data(), n);
    for (int64_t i = 0; i < n; ++i) QVERIFY(std::abs(of[size_t(i)] - out[size_t(i)]) < 2e-6);
    const Vd r = randn(n, 10);
    auto f = [&] {
        geluForward(out.data(), x.data(), n);
        return dot(out, r);
    };
    Vd dx(x.size());
    geluBackward(dx.data(), r.data(), x.data(), n);
    checkGrad("gelu dx", x, dx, f);
}

void TestGptLayers::linearGradient() {
    const int64_t N = 5, C = 4, OC = 3;
    Vd x = randn(C * N, 11), W = randn(OC * C, 12), r = randn(OC * N, 13);
    Vd out(static_cast<size_t>(OC * N));
    auto f = [&] {
        linearForward(out.data(), x.data(), W.data(), N, C, OC);
        return dot(out, r);
    };
    Vd dx(x.size(), 7.0), dW(W.size(), 2.0);  // dx overwritten, dW accumulates onto 2
    linearBackward(dx.data(), dW.data(), r.data(), x.data(), W.data(), N, C, OC);
    for (auto& v : dW) v -= 2.0;
    checkGrad("linear dx", x, dx, f);
    checkGrad("linear dW", W, dW, f);
    // GELU fused: forward geluOut = gelu(out); backward through x = gelu(u) gives du
    Vd u = randn(C * N, 37), g(u.size()), yg(out.size()), gy(out.size());
    auto fg = [&] {
        geluForward(g.data(), u.data(), C * N);
        linearForward(out.data(), g.data(), W.data(), N, C, OC, (const double*)nullptr, gy.data());
        return dot(out, r) + dot(gy, r);
    };
    fg();
    for (size_t i = 0; i < out.size(); ++i)
        QVERIFY(std::abs(gy[i] - 0.5 * out[i] * (1 + std::erf(out[i] / std::sqrt(2.0)))) < 1e-14);
    Vd du(u.size()), dW2(W.size(), 0.0), dfc(out.size());
    geluBackward(dfc.data(), r.data(), out.data(), OC * N);  // d(out) from the gy term
    for (size_t i = 0; i < dfc.size(); ++i) dfc[i] += r[i];
    linearBackward(du.data(), dW2.data(), dfc.data(), g.data(), W.data(), N, C, OC, u.data());
    checkGrad("linear+gelu du", u, du, fg);
    // the folded residual: out = res + W x
    Vd res = randn(OC * N, 14), plain(static_cast<size_t>(OC * N));
    linearForward(plain.data(), x.data(), W.data(), N, C, OC);
    linearForward(out.data(), x.data(), W.data(), N, C, OC, res.data());
    for (size_t i = 0; i < out.size(); ++i) QVERIFY(std::abs(out[i] - plain[i] - res[i]) < 1e-12);
}

void TestGptLayers::linearMatchesNaiveAcrossChunks() {
    // N and C cross the GEMM chunk widths (256 columns, 64 weight columns).
    const int64_t N = 2 * kGemmChunk + 37, C = 70, OC = 9;
    Vd x = randn(C * N, 15), W = randn(OC * C, 16), dy = randn(OC * N, 17);
    Vd y(static_cast<size_t>(OC * N)), dx(static_cast<size_t>(C * N)),
        dW(static_cast<size_t>(OC * C), 0.0);
    linearForward(y.data(), x.data(), W.data(), N, C, OC);
    linearBackward(dx.data(), dW.data(), dy.data(), x.data(), W.data(), N, C, OC);
    for (int64_t j = 0; j < N; ++j)
        for (int64_t o = 0; o < OC; ++o) {
            double s = 0;
            for (int64_t k = 0; k < C; ++k) s += W[size_t(k * OC + o)] * x[size_t(j * C + k)];
            QVERIFY(std::abs(y[size_t(j * OC + o)] - s) < 1e-10);
        }
    for (int64_t j = 0; j < N; ++j)
        for (int64_t k = 0; k < C; ++k) {
            double s = 0;
            for (int64_t o = 0; o < OC; ++o) s += W[size_t(k * OC + o)] * dy[size_t(j * OC + o)];
            QVERIFY(std::abs(dx[size_t(j * C + k)] - s) < 1e-10);
        }
    for (int64_t k = 0; k < C; ++k)
        for (int64_t o = 0; o < OC; ++o) {
            double s = 0;
            for (int64_t j = 0; j < N; ++j) s += dy[size_t(j * OC + o)] * x[size_t(j * C + k)];
            QVERIFY(std::abs(dW[size_t(k * OC + o)] - s) < 1e-9);
        }
}

void TestGptLayers::crossEntropyKnownAnswerAndGradient() {
    const int64_t N = 3, V = 256;
    Vd logits(static_cast<size_t>(V * N), 0.25), probs(logits.size()),
        losses(static_cast<size_t>(N));
    const std::vector<int32_t> tgt = {0, 200, 255};
    std::vector<int32_t> arg(static_cast<size_t>(N));
    const double uniform = crossEntropyForward(losses.data(), probs.data(), logits.data(),
                                               tgt.data(), N, V, arg.data());
    QVERIFY(std::abs(uniform - std::log(256.0)) < 1e-12);  // uniform prediction: log V nats
    logits = randn(V * N, 18, 3.0);
    logits[size_t(1 * V + 200)] += 20.0;  // column 1 predicts its target
    auto f = [&] {
        return crossEntropyForward(losses.data(), probs.data(), logits.data(), tgt.data(), N, V,
                                   arg.data());
    };
    f();
    QCOMPARE(arg[1], 200);
    Vd dz(logits.size());
    crossEntropyBackward(dz.data(), probs.data(), tgt.data(), 1.0, N, V);
    checkGrad("cross-entropy dlogits", logits, dz, f);
    // in place over the logits (as the model runs it) gives the same loss
    Vd inPlace = logits;
    const double l2 =
        crossEntropyForward(losses.data(), inPlace.data(), inPlace.data(), tgt.data(), N, V);
    QVERIFY(std::abs(l2 - f()) < 1e-12);
}

void TestGptLayers::attentionMatchesNaive_data() {
    QTest::addColumn<int>("B");
    QTest::addColumn<int>("T");
    QTest::addColumn<int>("C");
    QTest::addColumn<int>("H");
    QTest::newRow("one token") << 1 << 1 << 4 << 1;
    QTest::newRow("small") << 2 << 5 << 8 << 2;
    QTest::newRow("three query blocks") << 2 << 150 << 12 << 3;
}

void TestGptLayers::attentionMatchesNaive() {
    QFETCH(int, B);
    QFETCH(int, T);
    QFETCH(int, C);
    QFETCH(int, H);
    const Vd qkv = randn(3 * C * B * T, 19, 1.5);
    Vd out(static_cast<size_t>(C * B * T)), att(static_cast<size_t>(B * H * T * T));
    attentionForward(out.data(), att.data(), qkv.data(), B, T, C, H);
    const Vd want = naiveAttention(qkv, B, T, C, H);
    for (size_t i = 0; i < out.size(); ++i) QVERIFY(std::abs(out[i] - want[i]) < 1e-12);
}

void TestGptLayers::attentionGradient_data() {
    QTest::addColumn<int>("B");
    QTest::addColumn<int>("T");
    QTest::addColumn<int>("C");
    QTest::addColumn<int>("H");
    QTest::newRow("one token") << 1 << 1 << 4 << 2;
    QTest::newRow("small") << 2 << 5 << 8 << 2;
    QTest::newRow("two query blocks") << 1 << 70 << 4 << 2;
}

void TestGptLayers::attentionGradient() {
    QFETCH(int, B);
    QFETCH(int, T);
    QFETCH(int, C);
    QFETCH(int, H);
    Vd qkv = randn(3 * C * B * T, 20), r = randn(C * B * T, 21);
    Vd out(static_cast<size_t>(C * B * T)), att(static_cast<size_t>(B * H * T * T));
    auto f = [&] {
        attentionForward(out.data(), att.data(), qkv.data(), B, T, C, H);
        return dot(out, r);
    };
    f();
    Vd dqkv(qkv.size(), 5.0);  // overwritten
    attentionBackward(dqkv.data(), r.data(), qkv.data(), att.data(), B, T, C, H);
    checkGrad("attention dqkv", qkv, dqkv, f);
}

void TestGptLayers::attentionIsCausal() {
    const int64_t B = 1, T = 80, C = 8, H = 2;
    Vd qkv = randn(3 * C * B * T, 22);
    Vd a(static_cast<size_t>(C * T)), b(static_cast<size_t>(C * T)),
        att(static_cast<size_t>(H * T * T));
    attentionForward(a.data(), att.data(), qkv.data(), B, T, C, H);
    for (int64_t i = 0; i < 3 * C; ++i) qkv[size_t((T - 1) * 3 * C + i)] += 10.0;  // last token
    attentionForward(b.data(), att.data(), qkv.data(), B, T, C, H);
    for (int64_t i = 0; i < C * (T - 1); ++i) QCOMPARE(b[size_t(i)], a[size_t(i)]);
    QVERIFY(b[size_t(C * (T - 1))] != a[size_t(C * (T - 1))]);
}

// By hand: x = (3, 1, -1, 0), C = 4: mean(x²) = 11/4, r = (2.75 + 1e-6)^-1/2, xn = r x.
// s = 127 / max|xn| = 127 / (3r); xn s = (127, 42.33, -42.33, 0) -> codes (127, 42, -42, 0);
// x~ = codes / s = r (3, 126/127, -126/127, 0).
// W~ = 0.5 [[1, 0, -1, 1], [-1, 1, 1, 0]]:  y0 = 0.5 r (3 + 126/127),  y1 = 0.5 r (-3) = -1.5 r.
void TestGptLayers::bitLinearHandCase() {
    const Vd x = {3, 1, -1, 0};
    const Vd W = {0.5, -0.5, 0, 0.5, -0.5, 0.5, 0.5, 0};  // (2, 4) column-major
    Vd y(2), xq(4), rstd(1);
    bitLinearForward(y.data(), xq.data(), rstd.data(), x.data(), W.data(), true, 1, 4, 2);
    const double r = 1.0 / std::sqrt(2.75 + 1e-6);
    QVERIFY(std::abs(y[0] - 0.5 * r * (3.0 + 126.0 / 127.0)) < 1e-12);
    QVERIFY(std::abs(y[1] + 1.5 * r) < 1e-12);
    std::vector<int8_t> codes(4);
    float inv = 0;
    std::vector<float> xf(x.begin(), x.end()), xqf(4), rf(1);
    bitActQuantForward(xqf.data(), rf.data(), codes.data(), &inv, xf.data(), true, 1, 4);
    QCOMPARE(codes, (std::vector<int8_t>{127, 42, -42, 0}));
    QVERIFY(std::abs(double(inv) - 3.0 * r / 127.0) < 1e-7);
    std::vector<float> Wf(W.begin(), W.end()), yf(2);
    bitLinearForward(yf.data(), xqf.data(), rf.data(), xf.data(), Wf.data(), true, 1, 4, 2);
    QVERIFY(std::abs(yf[0] - y[0]) < 1e-6 && std::abs(yf[1] - y[1]) < 1e-6);
}

void TestGptLayers::bitLinearGradientWithoutActQuant() {
    // Without activation quantization BitLinear is the smooth map W~ rmsnorm(x).
    const int64_t N = 4, C = 6, OC = 5;
    Vd x = randn(C * N, 23), W = randn(OC * C, 24), r = randn(OC * N, 25);
    Vd y(static_cast<size_t>(OC * N)), xq(x.size()), rstd(static_cast<size_t>(N));
    auto f = [&] {
        bitLinearForward(y.data(), xq.data(), rstd.data(), x.data(), W.data(), false, N, C, OC);
        return dot(y, r);
    };
    f();
    Vd dx(x.size()), dW(W.size(), 0.0);
    bitLinearBackward(dx.data(), dW.data(), r.data(), x.data(), xq.data(), rstd.data(), W.data(), N,
                      C, OC);
    checkGrad("bitlinear dx", x, dx, f);
    checkGrad("bitlinear dW", W, dW, f);
}

// Straight-through: the analytic gradient must be that of the surrogate
//   S(x, W) = (W + D) (rmsnorm(x) + c),  D = W~0 - W0,  c = x~0 - rmsnorm(x0)  (both frozen)
// which equals the quantized forward at (x0, W0) and treats both quantizers as the identity.
void TestGptLayers::bitLinearStraightThrough() {
    const int64_t N = 3, C = 8, OC = 4;
    Vd x0 = randn(C * N, 26), W0 = randn(OC * C, 27, 0.1), r = randn(OC * N, 28);
    const Vd Wq = ternary(W0);
    Vd y(static_cast<size_t>(OC * N)), xq(x0.size()), rstd(static_cast<size_t>(N));
    bitLinearForward(y.data(), xq.data(), rstd.data(), x0.data(), Wq.data(), true, N, C, OC);
    Vd xn(x0.size()), r2(static_cast<size_t>(N));
    rmsnormForward(xn.data(), r2.data(), x0.data(), N, C);
    Vd c(x0.size()), D(W0.size());
    bool quantized = false;
    for (size_t i = 0; i < c.size(); ++i) quantized |= std::abs(c[i] = xq[i] - xn[i]) > 1e-6;
    for (size_t i = 0; i < D.size(); ++i) D[i] = Wq[i] - W0[i];
    QVERIFY(quantized);  // the activations really were rounded
    Vd x = x0, W = W0, ys(y.size());
    auto surrogate = [&] {
        Vd n(x.size()), rs(static_cast<size_t>(N)), Weff(W.size());
        rmsnormForward(n.data(), rs.data(), x.data(), N, C);
        for (size_t i = 0; i < n.size(); ++i) n[i] += c[i];
        for (size_t i = 0; i < W.size(); ++i) Weff[i] = W[i] + D[i];
        linearForward(ys.data(), n.data(), Weff.data(), N, C, OC);
        return dot(ys, r);
    };
    QVERIFY(std::abs(surrogate() - dot(y, r)) < 1e-10);  // same value at the base point
    Vd dx(x.size()), dW(W.size(), 0.0);
    bitLinearBackward(dx.data(), dW.data(), r.data(), x0.data(), xq.data(), rstd.data(), Wq.data(),
                      N, C, OC);
    checkGrad("bitlinear STE dx", x, dx, surrogate);
    checkGrad("bitlinear STE dW", W, dW, surrogate);
}

void TestGptLayers::floatMatchesDouble() {
    const int64_t B = 2, T = 70, C = 16, H = 4, N = B * T;
    const Vd qkv = randn(3 * C * N, 29), w = randn(C, 30), b = randn(C, 31);
    std::vector<float> qkvf(qkv.begin(), qkv.end()), wf(w.begin(), w.end()), bf(b.begin(), b.end());
    Vd out(static_cast<size_t>(C * N)), att(static_cast<size_t>(B * H * T * T));
    std::vector<float> outf(out.size()), attf(att.size());
    attentionForward(out.data(), att.data(), qkv.data(), B, T, C, H);
    attentionForward(outf.data(), attf.data(), qkvf.data(), B, T, C, H);
    for (size_t i = 0; i < out.size(); ++i) QVERIFY(std::abs(outf[i] - out[i]) < 1e-5);
    Vd ln(static_cast<size_t>(C * N)), mean(static_cast<size_t>(N)), rstd(static_cast<size_t>(N));
    std::vector<float> lnf(ln.size()), meanf(static_cast<size_t>(N)), rstdf(static_cast<size_t>(N));
    layernormForward(ln.data(), mean.data(), rstd.data(), out.data(), w.data(), b.data(), N, C);
    layernormForward(lnf.data(), meanf.data(), rstdf.data(), outf.data(), wf.data(), bf.data(), N,
                     C);
    for (size_t i = 0; i < ln.size(); ++i) QVERIFY(std::abs(lnf[i] - ln[i]) < 1e-4);
}

void TestGptLayers::sgemmMatchesReference_data() {
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("k");
    QTest::addColumn<bool>("transB");
    QTest::addColumn<bool>("accumulate");
    QTest::newRow("1x1x1") << 1 << 1 << 1 << false << false;
    QTest::newRow("edges in m and n") << 31 << 13 << 5 << false << true;
    QTest::newRow("edges, B transposed") << 45 << 25 << 7 << true << false;
    QTest::newRow("k past one block") << 64 << 12 << 600 << false << true;
    QTest::newRow("m past one block") << 300 << 30 << 40 << true << true;
    QTest::newRow("gpt shape") << 256 << 256 << 256 << false << false;
    QTest::newRow("empty k") << 5 << 3 << 0 << false << false;
}

// Every kernel this CPU runs (AVX-512, AVX2, Eigen) against the naive triple loop, inside larger
// strided buffers (lda, ldb, ldc past the sizes) whose margins must stay untouched; the AVX-512
// and AVX2 kernels agree bit for bit, and sgemm runs the fastest path.
void TestGptLayers::sgemmMatchesReference() {
    QFETCH(int, m);
    QFETCH(int, n);
    QFETCH(int, k);
    QFETCH(bool, transB);
    QFETCH(bool, accumulate);
    const int64_t lda = m + 3, ldb = (transB ? n : k) + 5, ldc = m + 2;
    Rng rng(uint64_t(m * 1000 + n * 10 + k), 1);
    auto fill = [&](int64_t count) {
        std::vector<float> v(static_cast<size_t>(count));
        for (auto& x : v) x = float(rng.normal());
        return v;
    };
    const auto A = fill(lda * std::max(k, 1)), B = fill(ldb * (transB ? std::max(k, 1) : n));
    const auto C0 = fill(ldc * n);
    const float alpha = 0.75f;
    auto want = C0;
    sgemmReference(m, n, k, alpha, A.data(), lda, B.data(), ldb, transB, want.data(), ldc,
                   accumulate);
    std::map<SgemmPath, std::vector<float>> results;
    for (SgemmPath path : {SgemmPath::Avx512, SgemmPath::Avx2, SgemmPath::Eigen}) {
        if (!sgemmPathSupported(path)) {
            QVERIFY_THROWS_EXCEPTION(Error, sgemmOn(path, m, n, k, alpha, A.data(), lda, B.data(),
                                                    ldb, transB, std::vector<float>(C0).data(),
                                                    ldc, accumulate));
            continue;
        }
        auto C = C0;
        sgemmOn(path, m, n, k, alpha, A.data(), lda, B.data(), ldb, transB, C.data(), ldc,
                accumulate);
        for (int64_t j = 0; j < n; ++j)
            for (int64_t i = 0; i < ldc; ++i) {
                const float got = C[size_t(i + j * ldc)], ref = want[size_t(i + j * ldc)];
                if (i >= m)
                    QCOMPARE(got, ref);  // the margin between columns is not written
                else
                    QVERIFY2(std::abs(got - ref) <=
                                 1e-5f * (1.0f + float(k)) * (1.0f + std::abs(ref)),
                             qPrintable(QString("%1: C(%2, %3) = %4, expected %5")
                                            .arg(sgemmPathName(path))
                                            .arg(i)
                                            .arg(j)
                                            .arg(got)
                                            .arg(ref)));
            }
        results[path] = std::move(C);
    }
    if (results.count(SgemmPath::Avx512) && results.count(SgemmPath::Avx2))
        QVERIFY(results[SgemmPath::Avx512] == results[SgemmPath::Avx2]);
    // sgemm itself runs the fastest supported kernel.
    auto C = C0;
    sgemm(m, n, k, alpha, A.data(), lda, B.data(), ldb, transB, C.data(), ldc, accumulate);
    QVERIFY(C == results.begin()->second);
    QCOMPARE(sgemmActivePath(), results.begin()->first);
}

// Linear and attention in float (the fast product) against double, forward and backward.
void TestGptLayers::floatLinearMatchesDouble() {
    const int64_t N = 2 * kGemmChunk + 40, C = 48, OC = 70;
    const Vd x = randn(C * N, 32), W = randn(OC * C, 33, 0.2), dy = randn(OC * N, 34);
    Vd y(static_cast<size_t>(OC * N)), dx(static_cast<size_t>(C * N)), dW(W.size(), 0.0);
    linearForward(y.data(), x.data(), W.data(), N, C, OC);
    linearBackward(dx.data(), dW.data(), dy.data(), x.data(), W.data(), N, C, OC);
    std::vector<float> xf(x.begin(), x.end()), Wf(W.begin(), W.end()), dyf(dy.begin(), dy.end());
    std::vector<float> yf(y.size()), dxf(dx.size()), dWf(W.size(), 0.0f);
    linearForward(yf.data(), xf.data(), Wf.data(), N, C, OC);
    linearBackward(dxf.data(), dWf.data(), dyf.data(), xf.data(), Wf.data(), N, C, OC);
    for (size_t i = 0; i < y.size(); ++i) QVERIFY(std::abs(yf[i] - y[i]) < 1e-4);
    for (size_t i = 0; i < dx.size(); ++i) QVERIFY(std::abs(dxf[i] - dx[i]) < 1e-4);
    for (size_t i = 0; i < dW.size(); ++i) QVERIFY(std::abs(dWf[i] - dW[i]) < 1e-3);
    const int64_t B = 2, T = 130, Ca = 16, H = 2;
    const Vd qkv = randn(3 * Ca * B * T, 35), dout = randn(Ca * B * T, 36);
    Vd out(static_cast<size_t>(Ca * B * T)), att(static_cast<size_t>(B * H * T * T)),
        dqkv(qkv.size());
    attentionForward(out.data(), att.data(), qkv.data(), B, T, Ca, H);
    attentionBackward(dqkv.data(), dout.data(), qkv.data(), att.data(), B, T, Ca, H);
    std::vector<float> qf(qkv.begin(), qkv.end()), df(dout.begin(), dout.end());
    std::vector<float> of(out.size()), af(att.size()), dqf(qkv.size());
    attentionForward(of.data(), af.data(), qf.data(), B, T, Ca, H);
    attentionBackward(dqf.data(), df.data(), qf.data(), af.data(), B, T, Ca, H);
    for (size_t i = 0; i < out.size(); ++i) QVERIFY(std::abs(of[i] - out[i]) < 1e-5);
    for (size_t i = 0; i < dqkv.size(); ++i) QVERIFY(std::abs(dqf[i] - dqkv[i]) < 1e-4);
}

QTEST_APPLESS_MAIN(TestGptLayers)
#include "test_gpt_layers.moc"
