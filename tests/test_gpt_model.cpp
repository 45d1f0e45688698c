// Tests of the whole GPT (core/model/gpt/gpt_model.h) and its text data (core/data/text_data.h, corpus.h):
// whole-model gradient check in double, parameter count, determinism over seeds and thread
// counts, integer kernel against the float product, learning the generated corpus, generation
// with the key/value cache against full recomputation, and refused text files.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <QTemporaryDir>
#include <QTest>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/base/errors.h"
#include "core/config/config.h"
#include "core/data/corpus.h"
#include "core/model/gpt/gpt_model.h"
#include "core/optim/optimizer.h"
#include "core/base/parallel.h"
#include "core/base/profile.h"
#include "core/data/text_data.h"

using namespace h158;

namespace {

Batch randomBatch(int64_t B, int64_t T, uint64_t seed) {
    Batch b;
    b.size = B;
    b.seqLen = T;
    Rng rng(seed, 3);
    for (int64_t i = 0; i < B * (T + 1); ++i) b.tokens.push_back(int32_t(rng.below(256)));
    return b;
}

// Latent weights -> ternary effective weights and codes, as the trainer does.
QuantState quantize(const GptModel& m, const std::vector<float>& w, std::vector<float>& eff,
                    bool int8, const std::string& kernel) {
    QuantState q;
    q.activationsInt8 = int8;
    q.kernel = kernel;
    q.tensors.resize(size_t(m.layout().count()));
    eff = w;
    for (int i = 0; i < m.layout().count(); ++i) {
        const ParamTensor& t = m.layout()[i];
        if (t.quantized)
            quantizeWeights(w.data() + t.offset, t.rows, t.cols, QuantLevels::Ternary,
                            QuantGranularity::Tensor, {}, q.tensors[size_t(i)],
                            eff.data() + t.offset);
    }
    return q;
}

std::vector<float> initWeights(const GptModel& m, uint64_t seed) {
    std::vector<float> w(size_t(m.layout().size()));
    Rng rng(seed);
    m.init(w.data(), rng);
    return w;
}

Config textConfig(const std::string& file, int64_t context) {
    Config c;
    c.data.kind = "text";
    c.data.text_file = file;
    c.data.val_fraction = 0.1;
    c.model.kind = "gpt";
    c.model.context = context;
    return c;
}

}  // namespace

class TestGptModel : public QObject {
    Q_OBJECT
  private slots:
    void parameterCount();
    void gradientCheck_data();
    void gradientCheck();
    void sameSeedSameLoss();
    void threadCountIndependence_data();
    void threadCountIndependence();
    void integerKernelMatchesFloat();
    void profileSplitsTheStepWithoutChangingIt();
    void int8BackwardIsCloseToFp32();
    void shortRunLowersLoss_data();
    void shortRunLowersLoss();
    void representationShape();
    void corpusIsDeterministicAndCorrect();
    void textWindowsAndSplit();
    void textFileErrorsNameTheFile_data();
    void textFileErrorsNameTheFile();
};

void TestGptModel::parameterCount() {
    for (auto [s, want] : {std::pair{GptShape{4, 128, 4, 128}, int64_t(870656)},
                           std::pair{GptShape{6, 256, 8, 256}, int64_t(4921856)},
                           std::pair{GptShape{2, 24, 3, 10}, int64_t(-1)}}) {
        const GptModel m(s, true);
        const int64_t C = s.dModel;
        const int64_t formula =
            2 * 256 * C + s.context * C + s.layers * (12 * C * C + 4 * C) + 2 * C;
        QCOMPARE(m.layout().size(), formula);
        if (want > 0) QCOMPARE(m.layout().size(), want);  // the reference's params_total
        QCOMPARE(m.layout().quantizedSize(), s.layers * 12 * C * C);
    }
    QVERIFY_THROWS_EXCEPTION(ConfigError, GptModel(GptShape{2, 10, 3, 8}, false));
}

void TestGptModel::gradientCheck_data() {
    QTest::addColumn<bool>("bitLinear");
    QTest::newRow("fp32 linear") << false;
    QTest::newRow("bitlinear (rmsnorm, no activation rounding)") << true;
}

// Every parameter's derivative against central differences, in double.
void TestGptModel::gradientCheck() {
    QFETCH(bool, bitLinear);
    GptModel m(GptShape{2, 8, 2, 6}, bitLinear);
    std::vector<float> wf = initWeights(m, 1);
    std::vector<double> w(wf.begin(), wf.end());
    Rng rng(2);
    for (auto& v : w) v += 0.05 * rng.normal();  // LayerNorm gains off 1, biases off 0
    const Batch b = randomBatch(2, 6, 3);
    std::vector<double> g(w.size());
    m.run<double>(w.data(), nullptr, b, g.data(), false);
    double worst = 0;
    std::string where;
    const double h = 1e-5;
    for (const ParamTensor& t : m.layout().tensors()) {
        for (int64_t k = 0; k < t.size(); ++k) {
            double& x = w[size_t(t.offset + k)];
            const double save = x;
            x = save + h;
            const double fp = m.run<double>(w.data(), nullptr, b, nullptr, false).loss;
            x = save - h;
            const double fm = m.run<double>(w.data(), nullptr, b, nullptr, false).loss;
            x = save;
            const double num = (fp - fm) / (2 * h);
            const double err =
                std::abs(num - g[size_t(t.offset + k)]) / std::max(1e-2, std::abs(num));
            if (err > worst) {
                worst = err;
                where = t.name + "[" + std::to_string(k) + "] analytic " +
                        std::to_string(g[size_t(t.offset + k)]) + " numeric " + std::to_string(num);
            }
        }
    }
    QVERIFY2(worst < 1e-5, where.c_str());
}

void TestGptModel::sameSeedSameLoss() {
    GptModel m(GptShape{2, 32, 4, 32}, false);
    const Batch b = randomBatch(4, 32, 4);
    const auto w1 = initWeights(m, 7), w2 = initWeights(m, 7), w3 = initWeights(m, 8);
    QVERIFY(w1 == w2);
    std::vector<float> g1(w1.size()), g2(w1.size());
    const double l1 = m.forwardBackward(w1.data(), nullptr, b, g1.data()).loss;
    const double l2 = m.forwardBackward(w2.data(), nullptr, b, g2.data()).loss;
    QCOMPARE(l1, l2);
    QVERIFY(std::memcmp(g1.data(), g2.data(), g1.size() * sizeof(float)) == 0);
    QVERIFY(m.forwardBackward(w3.data(), nullptr, b, nullptr).loss != l1);
}

void TestGptModel::threadCountIndependence_data() {
    QTest::addColumn<bool>("ternary");
    QTest::newRow("fp32") << false;
    QTest::newRow("ternary int8 kernel") << true;
}

void TestGptModel::threadCountIndependence() {
    QFETCH(bool, ternary);
    GptModel m(GptShape{2, 64, 4, 128}, ternary);
    const auto w = initWeights(m, 9);
    std::vector<float> eff;
    QuantState q = quantize(m, w, eff, true, "auto");
    const QuantState* qp = ternary ? &q : nullptr;
    const float* wp = ternary ? eff.data() : w.data();
    const Batch b = randomBatch(5, 128, 10);  // 640 tokens: several chunks of every kind
    std::vector<float> g1(w.size()), g2(w.size());
    setThreadCount(1);
    const LossInfo a = m.forwardBackward(wp, qp, b, g1.data(), true);
    setThreadCount(2);
    const LossInfo c = m.forwardBackward(wp, qp, b, g2.data(), true);
    setThreadCount(0);
    QCOMPARE(a.loss, c.loss);
    QCOMPARE(a.sampleLoss, c.sampleLoss);
    QVERIFY(std::memcmp(g1.data(), g2.data(), g1.size() * sizeof(float)) == 0);
}

void TestGptModel::integerKernelMatchesFloat() {
    GptModel m(GptShape{2, 64, 4, 64}, true);
    const auto w = initWeights(m, 11);
    const Batch b = randomBatch(3, 64, 12);
    std::vector<float> eff;
    double loss[3];
    std::vector<float> g[3];
    const char* kernels[3] = {"auto", "reference", "float"};
    for (int i = 0; i < 3; ++i) {
        QuantState q = quantize(m, w, eff, true, kernels[i]);
        g[i].resize(w.size());
        loss[i] = m.forwardBackward(eff.data(), &q, b, g[i].data()).loss;
        if (i == 2)
            QCOMPARE(m.kernelPath(&q), std::string("float"));
        else
            QVERIFY(m.kernelPath(&q) != "float");
    }
    QCOMPARE(loss[0], loss[1]);  // every integer path gives the same bits
    QVERIFY(std::abs(loss[0] - loss[2]) < 1e-5 * loss[2]);
    double diff = 0, norm = 0;
    for (size_t k = 0; k < w.size(); ++k) {
        diff += double(g[0][k] - g[2][k]) * double(g[0][k] - g[2][k]);
        norm += double(g[2][k]) * double(g[2][k]);
    }
    // Rounding-level differences in one layer can move an activation across a rounding boundary
    // in the next (a different int8 code): the gradients agree closely, not exactly.
    QVERIFY2(std::sqrt(diff / norm) < 1e-2, qPrintable(QString::number(std::sqrt(diff / norm))));
}

// bench gpt --profile: the parts add up to the step's wall time, each kind of model spends time
// in its own parts (the integer GEMM only in the ternary one), and profiling changes no bit.
void TestGptModel::profileSplitsTheStepWithoutChangingIt() {
    for (bool ternary : {false, true}) {
        GptModel m(GptShape{2, 64, 4, 64}, ternary);
        const auto w = initWeights(m, 13);
        std::vector<float> eff;
        QuantState q = quantize(m, w, eff, true, "auto");
        const QuantState* qp = ternary ? &q : nullptr;
        const float* wp = ternary ? eff.data() : w.data();
        const Batch b = randomBatch(4, 64, 14);
        std::vector<float> plain(w.size()), profiled(w.size());
        const double plainLoss = m.forwardBackward(wp, qp, b, plain.data()).loss;
        std::array<double, kStepParts> ms{};
        double wallMs = 0;
        {
            StepProfiler prof;
            QVERIFY_THROWS_EXCEPTION(Error, StepProfiler{});  // one at a time
            const auto t0 = std::chrono::steady_clock::now();
            double loss = 0;
            {
                const ProfileRegion whole(StepPart::Bookkeeping);
                loss = m.forwardBackward(wp, qp, b, profiled.data()).loss;
            }
            wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                               t0)
                         .count();
            ms = prof.ms();
            QCOMPARE(loss, plainLoss);
        }
        QVERIFY(std::memcmp(plain.data(), profiled.data(), plain.size() * sizeof(float)) == 0);
        double sum = 0;
        for (double v : ms) {
            QVERIFY(v >= 0);
            sum += v;
        }
        QVERIFY2(sum <= wallMs && sum > 0.9 * wallMs,
                 qPrintable(QString("parts %1 ms, wall %2 ms").arg(sum).arg(wallMs)));
        auto at = [&](StepPart p) { return ms[size_t(p)]; };
        for (StepPart p : {StepPart::GemmDx, StepPart::GemmDw, StepPart::Attention,
                           StepPart::Norm, StepPart::Gelu, StepPart::Loss})
            QVERIFY2(at(p) > 0, stepPartKey(p));
        QCOMPARE(at(StepPart::GemmInt8) > 0, ternary);
        QCOMPARE(at(StepPart::ActQuant) > 0, ternary);
        QVERIFY(at(StepPart::GemmFwd) > 0);  // the head is fp32 in both
        QCOMPARE(at(StepPart::Optimizer), 0.0);  // no optimizer ran
    }
    // No profiler: scopes record nothing, and a new profiler starts from zero.
    StepProfiler prof;
    for (double v : prof.ms()) QCOMPARE(v, 0.0);
}

// quant.backward=int8: the forward is the same (the loss bit for bit), the gradient differs by
// the int8 rounding of dY only (a few percent, not zero), every integer path and thread count
// gives the same bits, and without int8 activations (no integer forward) it is the fp32 backward.
void TestGptModel::int8BackwardIsCloseToFp32() {
    GptModel m(GptShape{2, 64, 4, 64}, true);
    const auto w = initWeights(m, 15);
    const Batch b = randomBatch(5, 64, 16);  // 320 tokens: two chunks of 256, one partial
    std::vector<float> eff;
    auto gradient = [&](bool int8Backward, const std::string& kernel, bool int8Acts,
                        double* loss) {
        QuantState q = quantize(m, w, eff, int8Acts, kernel);
        q.int8Backward = int8Backward;
        std::vector<float> g(w.size());
        *loss = m.forwardBackward(eff.data(), &q, b, g.data()).loss;
        return g;
    };
    double lf = 0, li = 0, lr = 0, l1 = 0;
    const auto fp32 = gradient(false, "auto", true, &lf);
    const auto int8 = gradient(true, "auto", true, &li);
    QCOMPARE(li, lf);
    double diff = 0, norm = 0;
    for (size_t k = 0; k < w.size(); ++k) {
        diff += double(int8[k] - fp32[k]) * double(int8[k] - fp32[k]);
        norm += double(fp32[k]) * double(fp32[k]);
    }
    const double rel = std::sqrt(diff / norm);
    qInfo("int8 backward: gradient rel. difference from fp32 backward %.2e", rel);
    QVERIFY2(rel > 1e-4 && rel < 1.5e-2, qPrintable(QString::number(rel)));
    // The plain reference kernel and one thread: the same bits.
    const auto plain = gradient(true, "reference", true, &lr);
    QVERIFY(std::memcmp(plain.data(), int8.data(), int8.size() * sizeof(float)) == 0);
    setThreadCount(1);
    const auto serial = gradient(true, "auto", true, &l1);
    setThreadCount(0);
    QVERIFY(std::memcmp(serial.data(), int8.data(), int8.size() * sizeof(float)) == 0);
    // Float activations: no integer forward, so the option does not apply.
    double a = 0, c = 0;
    const auto floatActs = gradient(false, "auto", false, &a);
    const auto floatActsInt8 = gradient(true, "auto", false, &c);
    QVERIFY(std::memcmp(floatActs.data(), floatActsInt8.data(), w.size() * sizeof(float)) == 0);
}

void TestGptModel::shortRunLowersLoss_data() {
    QTest::addColumn<bool>("ternary");
    QTest::addColumn<int>("steps");
    QTest::addColumn<double>("lr");
    QTest::newRow("fp32") << false << 100 << 3e-3;
    // Ternary sits at the unigram plateau for 100-200 steps before it learns context (so does the
    // PyTorch reference on this corpus: 3.22 nats at step 100, 2.61 at step 200 with lr 3e-3);
    // a larger step and 300 steps leave a wide margin (about 2.1 nats here).
    QTest::newRow("ternary") << true << 300 << 5e-3;
}

// AdamW steps of a tiny model on the generated corpus: the validation loss must fall from the
// uniform log(256) = 5.55 nats to clearly below the unigram entropy of the text (which a model
// that ignores the context cannot beat).
void TestGptModel::shortRunLowersLoss() {
    QFETCH(bool, ternary);
    QFETCH(int, steps);
    QFETCH(double, lr);
    Config cfg = textConfig("", 64);
    const auto data = makeTextDataset(cfg);
    GptModel m(GptShape{2, 64, 4, 64}, ternary);
    auto w = initWeights(m, 13);
    OptimConfig oc;
    oc.kind = "adamw";
    oc.lr = lr;
    oc.weight_decay = 0.1;
    auto opt = Optimizer::make(oc, m.layout());
    std::vector<float> eff, g(w.size()), delta(w.size());
    Rng rng(14);
    auto valLoss = [&] {
        QuantState q = quantize(m, w, eff, true, "auto");
        const Batch vb = data->valBatch(0, 32);
        return m
            .forwardBackward(ternary ? eff.data() : w.data(), ternary ? &q : nullptr, vb, nullptr)
            .loss;
    };
    const double before = valLoss();
    for (int step = 0; step < steps; ++step) {
        std::vector<int64_t> idx;
        for (int i = 0; i < 16; ++i) idx.push_back(int64_t(rng.below(uint64_t(data->trainSize()))));
        const Batch b = data->trainBatch(idx, rng);
        QuantState q = quantize(m, w, eff, true, "auto");
        m.forwardBackward(ternary ? eff.data() : w.data(), ternary ? &q : nullptr, b, g.data());
        opt->propose(w.data(), g.data(), lr, 1.0, delta.data());
        for (size_t k = 0; k < w.size(); ++k) w[k] += delta[k];
    }
    const double after = valLoss();
    // unigram entropy of the validation text: what a model without context reaches at best
    const auto& text = dynamic_cast<const TextDataset&>(*data).text();
    std::vector<double> count(256, 0.0);
    for (unsigned char c : text) count[c] += 1;
    double unigram = 0;
    for (double c : count)
        if (c > 0) unigram -= c / double(text.size()) * std::log(c / double(text.size()));
    qInfo("validation loss %.3f -> %.3f nats/byte (unigram entropy %.3f)", before, after, unigram);
    QVERIFY2(before > 5.0, qPrintable(QString::number(before)));
    QVERIFY2(after < unigram - 0.2,
             qPrintable(
                 QString("loss %1 -> %2, unigram entropy %3").arg(before).arg(after).arg(unigram)));
}

void TestGptModel::representationShape() {
    const auto data = makeTextDataset(textConfig("", 32));
    GptModel m(GptShape{1, 16, 2, 32}, false);
    auto w = initWeights(m, 18);
    const std::vector<int64_t> idx = {0, 5, data->trainSize() - 1};
    const MatF r = m.representation(w.data(), nullptr, *data, idx);
    QCOMPARE(r.rows(), 16);
    QCOMPARE(r.cols(), 3);
    QVERIFY(r.allFinite());
    QVERIFY((r.col(0) - r.col(1)).norm() > 0);
    for (auto& v : w) v *= 1.5f;  // the embeddings change -> so does the representation
    QVERIFY((m.representation(w.data(), nullptr, *data, idx) - r).norm() > 1e-3);
}

void TestGptModel::corpusIsDeterministicAndCorrect() {
    const std::string a = generateCorpus(), b = generateCorpus();
    QCOMPARE(a, b);
    QVERIFY(int64_t(a.size()) >= kDefaultCorpusBytes);
    QVERIFY(a != generateCorpus(kDefaultCorpusBytes, 99));
    QCOMPARE(a.back(), '\n');
    // every arithmetic line is a true statement
    std::istringstream in(a);
    std::string line;
    const std::regex eq(R"(^(\d+) ([-+*]) (\d+) = (\d+)\.$)");
    int checked = 0;
    while (std::getline(in, line)) {
        std::smatch mt;
        if (!std::regex_match(line, mt, eq)) continue;
        const long x = std::stol(mt[1]), y = std::stol(mt[3]), z = std::stol(mt[4]);
        const char op = mt[2].str()[0];
        QCOMPARE(op == '+' ? x + y : op == '-' ? x - y : x * y, z);
        if (++checked == 2000) break;
    }
    QCOMPARE(checked, 2000);
}

void TestGptModel::textWindowsAndSplit() {
    QTemporaryDir dir;
    const std::string path = (dir.path() + "/t.txt").toStdString();
    std::string text;
    for (int i = 0; i < 1000; ++i) text += char('a' + i % 26);
    std::ofstream(path, std::ios::binary) << text;
    const auto data = makeTextDataset(textConfig(path, 16));
    const auto& td = dynamic_cast<const TextDataset&>(*data);
    QCOMPARE(td.trainBytes(), int64_t(900));
    QCOMPARE(data->trainSize(), int64_t((900 - 17) / 16 + 1));
    QCOMPARE(data->valSize(), int64_t((100 - 17) / 16 + 1));
    Rng rng(1);
    const std::vector<int64_t> idx = {0, data->trainSize() - 1};
    const Batch b = data->trainBatch(idx, rng);
    QCOMPARE(int(b.tokens.size()), 2 * 17);
    for (int r = 0; r < 2; ++r)  // consecutive letters: a window of the text
        for (int t = 0; t < 16; ++t)
            QCOMPARE((b.tokens[size_t(r * 17 + t) + 1] - 'a' + 26) % 26,
                     (b.tokens[size_t(r * 17 + t)] - 'a' + 1) % 26);
    const Batch v1 = data->valBatch(0, 3), v2 = data->valBatch(0, 3);
    QCOMPARE(v1.tokens, v2.tokens);
    QCOMPARE(v1.tokens[0], int32_t(text[900]));
    const MatF f = data->clusterFeatures();
    QCOMPARE(f.rows(), int64_t(TextDataset::kFeatures));
    for (int64_t i = 0; i < f.cols(); ++i) QVERIFY(std::abs(f.col(i).sum() - 1.0f) < 1e-5f);
}

void TestGptModel::textFileErrorsNameTheFile_data() {
    QTest::addColumn<QString>("content");
    QTest::addColumn<bool>("create");
    QTest::newRow("missing") << QString() << false;
    QTest::newRow("empty") << QString() << true;
    QTest::newRow("too short") << QString("just a few bytes, far less than a context") << true;
}

void TestGptModel::textFileErrorsNameTheFile() {
    QFETCH(QString, content);
    QFETCH(bool, create);
    QTemporaryDir dir;
    const std::string path = (dir.path() + "/corpus-file.txt").toStdString();
    if (create) std::ofstream(path, std::ios::binary) << content.toStdString();
    try {
        makeTextDataset(textConfig(path, 64));
        QFAIL("no FileError");
    } catch (const FileError& e) {
        QVERIFY2(std::string(e.what()).find(path) != std::string::npos, e.what());
    }
}

QTEST_APPLESS_MAIN(TestGptModel)
#include "test_gpt_model.moc"
