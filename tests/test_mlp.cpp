// Linear and MLP models: finite-difference gradient checks in double for every activation and
// both losses, the straight-through rule for quantized layers, and known answers.
#include <QtTest>

#include "core/config/config.h"
#include "core/data/dataset.h"
#include "core/model/mlp_model.h"
#include "core/base/rng.h"

using namespace h158;

namespace {

Batch makeBatch(int64_t in, int64_t out, int64_t n, bool classification, Rng& rng) {
    Batch b;
    b.size = n;
    b.x.resize(in, n);
    for (auto& v : b.x.reshaped()) v = float(rng.normal());
    if (classification) {
        for (int64_t j = 0; j < n; ++j) b.labels.push_back(int32_t(rng.below(uint64_t(out))));
    } else {
        b.y.resize(out, n);
        for (auto& v : b.y.reshaped()) v = float(rng.normal());
    }
    return b;
}

// Largest relative difference between the analytic gradient and central differences.
double gradCheck(const MlpModel& m, const Batch& b, uint64_t seed) {
    Rng rng(seed);
    std::vector<double> w(size_t(m.layout().size()));
    for (auto& v : w) v = rng.normal(0.0, 0.5);
    std::vector<double> g(w.size());
    m.run<double>(w.data(), b, g.data(), false);
    double worst = 0;
    const double h = 1e-6;
    for (size_t i = 0; i < w.size(); ++i) {
        const double keep = w[i];
        w[i] = keep + h;
        const double lp = m.run<double>(w.data(), b, nullptr, false).loss;
        w[i] = keep - h;
        const double lm = m.run<double>(w.data(), b, nullptr, false).loss;
        w[i] = keep;
        const double fd = (lp - lm) / (2 * h);
        worst =
            std::max(worst, std::abs(fd - g[i]) / std::max(1e-6, std::abs(fd) + std::abs(g[i])));
    }
    return worst;
}

}  // namespace

class TestMlp : public QObject {
    Q_OBJECT
  private slots:
    void gradientMatchesFiniteDifferences_data() {
        QTest::addColumn<int>("activation");
        QTest::addColumn<bool>("classification");
        QTest::addColumn<int>("depth");
        QTest::newRow("linear mse") << int(Activation::Relu) << false << 0;
        QTest::newRow("linear xent") << int(Activation::Relu) << true << 0;
        QTest::newRow("relu mse") << int(Activation::Relu) << false << 2;
        QTest::newRow("tanh xent") << int(Activation::Tanh) << true << 2;
        QTest::newRow("gelu xent") << int(Activation::Gelu) << true << 3;
        QTest::newRow("gelu mse") << int(Activation::Gelu) << false << 1;
    }
    void gradientMatchesFiniteDifferences() {
        QFETCH(int, activation);
        QFETCH(bool, classification);
        QFETCH(int, depth);
        MlpShape s;
        s.activation = Activation(activation);
        s.classification = classification;
        s.widths = {3};
        for (int i = 0; i < depth; ++i) s.widths.push_back(5);
        s.widths.push_back(classification ? 4 : 2);
        MlpModel m(s, std::vector<bool>(s.widths.size() - 1, false));
        Rng rng(7);
        const Batch b = makeBatch(3, s.widths.back(), 6, classification, rng);
        const double err = gradCheck(m, b, 11);
        QVERIFY2(err < 1e-4, qPrintable(QString("max relative error %1").arg(err)));
    }

    void knownAnswerLinearMse() {
        // y = W x + b with W = [1 2], b = 0.5, x = (1, 1), target 4: prediction 3.5,
        // L = (3.5 - 4)^2 = 0.25, dL/dW = 2 (3.5 - 4) x = (-1, -1), dL/db = -1.
        MlpShape s;
        s.widths = {2, 1};
        MlpModel m(s, {false});
        Batch b;
        b.size = 1;
        b.x = MatF::Ones(2, 1);
        b.y = MatF::Constant(1, 1, 4.0f);
        const double w[3] = {1.0, 2.0, 0.5};
        double g[3];
        QCOMPARE(m.run<double>(w, b, g, false).loss, 0.25);
        QCOMPARE(g[0], -1.0);
        QCOMPARE(g[1], -1.0);
        QCOMPARE(g[2], -1.0);
    }

    void knownAnswerCrossEntropy() {
        // Equal logits over 4 classes: loss = log 4, accuracy counts argmax ties to class 0.
        MlpShape s;
        s.widths = {1, 4};
        s.classification = true;
        MlpModel m(s, {false});
        Batch b;
        b.size = 2;
        b.x = MatF::Zero(1, 2);
        b.labels = {0, 3};
        std::vector<double> w(size_t(m.layout().size()), 0.0);
        const LossInfo li = m.run<double>(w.data(), b, nullptr, false);
        QVERIFY(std::abs(li.loss - std::log(4.0)) < 1e-12);
        QCOMPARE(li.accuracy, 0.5);
    }

    void int8ActivationsAreStraightThrough() {
        // With 8-bit inputs the forward sees x~ = q(x) but backward passes dL/dx~ to x: the
        // weight gradient equals the one computed on the quantized inputs without quantization.
        MlpShape s;
        s.widths = {4, 3};
        s.actQuant = {true};
        MlpModel q(s, {true});
        MlpShape plain = s;
        plain.actQuant = {false};
        MlpModel p(plain, {true});
        Rng rng(3);
        Batch b = makeBatch(4, 3, 5, false, rng);
        std::vector<double> w(size_t(q.layout().size()));
        for (auto& v : w) v = rng.normal();
        std::vector<double> gq(w.size()), gp(w.size());
        const double lq = q.run<double>(w.data(), b, gq.data(), false).loss;
        Batch bq = b;
        for (Eigen::Index j = 0; j < bq.x.cols(); ++j) {
            const double sc = 127.0 / std::max(1e-5, double(bq.x.col(j).cwiseAbs().maxCoeff()));
            for (Eigen::Index i = 0; i < bq.x.rows(); ++i)
                bq.x(i, j) = float(std::clamp(std::nearbyint(bq.x(i, j) * sc), -128.0, 127.0) / sc);
        }
        const double lp = p.run<double>(w.data(), bq, gp.data(), false).loss;
        QVERIFY(std::abs(lq - lp) < 1e-6);
        for (size_t i = 0; i < w.size(); ++i) QVERIFY(std::abs(gq[i] - gp[i]) < 1e-6);
        // and quantization changed something
        QVERIFY((b.x - bq.x).cwiseAbs().maxCoeff() > 0);
    }

    // The shape a model is built from without data equals the generated data's.
    void dataShapeMatchesTheData() {
        for (const char* kind : {"regression", "spirals", "moons", "xor", "blobs", "text"}) {
            Config c = presetConfig(std::string(kind) == "text" ? "gpt-s" : "spirals");
            c.data.kind = kind;
            c.data.modes = 5;
            const DataShape a = dataShape(c), b = makeDataset(c)->shape();
            QVERIFY2(a.task == b.task && a.inputDim == b.inputDim && a.outputDim == b.outputDim,
                     kind);
        }
    }

    void factoryShapes() {
        Config c = presetConfig("spirals");
        // spirals: 2 -> 32 -> 32 -> 2 with io layers in full precision
        const DataShape data{Task::Classification, 2, 2};
        auto model = makeMlpModel(c, data);
        const auto& L = model->layout();
        QCOMPARE(L.count(), 6);
        QCOMPARE(L.size(), int64_t(2 * 32 + 32 + 32 * 32 + 32 + 32 * 2 + 2));
        QVERIFY(!L[0].quantized && L[2].quantized && !L[4].quantized);
        QVERIFY(!L[1].decay);
    }
};

QTEST_APPLESS_MAIN(TestMlp)
#include "test_mlp.moc"
