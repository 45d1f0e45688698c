// Tests of GPT inference from a .h158 file: a tiny GPT trained a few steps by the Trainer, packed,
// serialized, parsed and run token by token gives the trainer's logits (GptModel::logits on the
// same quantized weights) for every storage kind; so does a mixed-precision GPT (each block linear
// at its own level: ternary, five-level, int8 or fp32), whose planned and counted sizes are its
// file's; generation is deterministic by seed; the file size is the memory table's; files that do
// not hold a GPT are refused.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <QRegularExpression>
#include <QTest>
#include <cmath>
#include <memory>
#include <numeric>

#include "core/base/errors.h"
#include "core/config/config.h"
#include "core/infer/gpt_inference.h"
#include "core/io/memory_table.h"
#include "core/train/trainer.h"

using namespace h158;

namespace {

Config tinyConfig(const QString& settings) {
    Config c = presetConfig("gpt-s");
    for (const char* s : {"model.layers=1", "model.d_model=32", "model.heads=2", "model.context=32",
                          "run.steps=20", "run.batch_size=8", "cluster.data_k=0",
                          "run.eval_every=0", "run.snapshot_every=0", "sample.every=0"})
        applySetting(c, s);
    for (const QString& s : settings.split(' ', Qt::SkipEmptyParts))
        applySetting(c, s.toStdString());
    validate(c);
    return c;
}

std::unique_ptr<Trainer> train(const Config& c) {
    auto tr = std::make_unique<Trainer>(c);
    while (!tr->finished()) tr->step();
    return tr;
}

const QuantState* quantOf(Trainer& tr) {
    return tr.config().quant.weights == "none" ? nullptr : &tr.quantState();
}

H158Model packAndReload(Trainer& tr) {
    const H158Model m =
        packModel(tr.config(), tr.model().layout(), tr.effectiveParameters().data(), quantOf(tr));
    return parseH158(serializeH158(m), "tiny.h158");
}

// A 2-layer GPT whose block linears take these levels in layout order (one per quantized tensor),
// quantized as the trainer does: codes in q, dequantized values in `effective`.
struct MixedGpt {
    Config cfg;
    std::unique_ptr<GptModel> model;
    std::vector<float> effective;
    QuantState q;
    std::vector<QuantLevels> levels;  // one per layout tensor (None for the never-quantized)
};

MixedGpt mixedGpt(const QString& settings, const std::vector<QuantLevels>& blockLevels) {
    MixedGpt g;
    g.cfg = tinyConfig("model.layers=2 quant.weights=adaptive " + settings);
    g.model = std::make_unique<GptModel>(GptShape{2, 32, 2, 32}, true);
    const ParamLayout& L = g.model->layout();
    std::vector<float> w(size_t(L.size()));
    Rng rng(11);
    g.model->init(w.data(), rng);
    g.effective = w;
    g.q.tensors.resize(size_t(L.count()));
    g.q.activationsInt8 = g.cfg.quant.activations == "int8";
    const QuantGranularity gran = parseQuantGranularity(g.cfg.quant.granularity);
    size_t next = 0;
    for (int i = 0; i < L.count(); ++i) {
        const ParamTensor& t = L[i];
        const QuantLevels l = t.quantized ? blockLevels.at(next++) : QuantLevels::None;
        g.levels.push_back(l);
        if (t.quantized)
            quantizeWeights(w.data() + t.offset, t.rows, t.cols, l, gran, {},
                            g.q.tensors[size_t(i)], g.effective.data() + t.offset);
    }
    if (next != blockLevels.size())
        qFatal("mixedGpt: %zu levels for %zu tensors", blockLevels.size(), next);
    return g;
}

// Every level twice, at different places in the two blocks (qkv, proj, fc, out each).
const std::vector<QuantLevels> kMixedLevels = {
    QuantLevels::Ternary, QuantLevels::FiveLevel, QuantLevels::Int8, QuantLevels::None,
    QuantLevels::Int8,    QuantLevels::Ternary,   QuantLevels::None, QuantLevels::FiveLevel};

std::vector<int32_t> textTokens(int64_t n) {
    const std::string s = "12+7=19. 3*4=12. The cat sat on the mat; 9-5=4.\n";
    std::vector<int32_t> t;
    for (int64_t i = 0; i < n; ++i)
        t.push_back(int32_t(static_cast<unsigned char>(s[size_t(i) % s.size()])));
    return t;
}

}  // namespace

class TestGptInference : public QObject {
    Q_OBJECT
  private slots:
    void logitsMatchTrainer_data();
    void logitsMatchTrainer();
    void generateIsDeterministicBySeed();
    void greedyGenerationFollowsAFreshForward();
    void fileSizeIsTheMemoryTables();
    void mixedModelMatchesGptModel_data();
    void mixedModelMatchesGptModel();
    void adaptiveConfigHasNoSizeBeforeTraining();
    void packModelKeepsAUniformModelUniform();
    void refusesNonGptFiles();
    void sampleTokenRule();
};

void TestGptInference::logitsMatchTrainer_data() {
    QTest::addColumn<QString>("settings");
    QTest::addColumn<QString>("kernel");  // GptInference::linearKernel() prefix
    QTest::newRow("ternary, tensor scale, int8") << ""
                                                 << "packed_ternary_gemv";
    QTest::newRow("ternary, row scales, int8") << "quant.granularity=row"
                                               << "packed_ternary_gemv";
    QTest::newRow("ternary, cluster scales, int8") << "quant.granularity=cluster cluster.param_k=3"
                                                   << "packed_ternary_gemv";
    QTest::newRow("ternary, float kernel in training") << "quant.kernel=float"
                                                       << "packed_ternary_gemv";
    QTest::newRow("ternary, float activations") << "quant.activations=none"
                                                << "float";
    QTest::newRow("five-level, int8") << "quant.weights=five_level"
                                      << "five_level_gemv";
    QTest::newRow("five-level, row scales, float activations")
        << "quant.weights=five_level quant.granularity=row quant.activations=none"
        << "float";
    QTest::newRow("int8 weights, int8 activations") << "quant.weights=int8"
                                                    << "float (dequantized)";
    QTest::newRow("int8 weights, row scales, float activations")
        << "quant.weights=int8 quant.granularity=row quant.activations=none"
        << "float (dequantized)";
    QTest::newRow("fp32") << "quant.weights=none"
                          << "fp32";
    // Levels per tensor chosen by the trainer's allocation (so any kernel mix).
    QTest::newRow("adaptive, int8") << "quant.weights=adaptive quant.bits_budget=4"
                                    << "";
}

// Export -> load -> inference logits equal GptModel::logits with the trainer's quantState() and
// effectiveParameters(), to float rounding (the training forward multiplies the whole sequence at
// once, inference one column at a time).
void TestGptInference::logitsMatchTrainer() {
    QFETCH(QString, settings);
    QFETCH(QString, kernel);
    const Config c = tinyConfig(settings);
    auto tr = train(c);
    QCOMPARE(tr->stepsDone(), int64_t(20));
    GptInference engine(packAndReload(*tr));
    QVERIFY2(QString::fromStdString(engine.linearKernel()).startsWith(kernel),
             engine.linearKernel().c_str());
    auto& model = dynamic_cast<GptModel&>(tr->model());
    for (int64_t T : {1, 7, 32}) {
        const std::vector<int32_t> tokens = textTokens(T);
        const MatF ref = model.logits(tr->effectiveParameters().data(), quantOf(*tr), tokens);
        const MatF got = engine.logits(tokens);
        QCOMPARE(got.rows(), ref.rows());
        QCOMPARE(got.cols(), ref.cols());
        const double rel = double((got - ref).norm() / ref.norm());
        const double maxRel = double((got - ref).cwiseAbs().maxCoeff() / ref.cwiseAbs().maxCoeff());
        if (T == 32)
            qInfo("T %d: relative logit error %.2g (Frobenius), %.2g (max)", int(T), rel, maxRel);
        QVERIFY2(rel < 1e-4 && maxRel < 1e-4,
                 qPrintable(QString("T %1: relative error %2 (Frobenius), %3 (max)")
                                .arg(T)
                                .arg(rel)
                                .arg(maxRel)));
        QCOMPARE(engine.position(), T);
    }
    // The cache holds exactly `context` tokens.
    QVERIFY_THROWS_EXCEPTION(Error, engine.append(65));
    engine.reset();
    QCOMPARE(engine.position(), int64_t(0));
}

void TestGptInference::generateIsDeterministicBySeed() {
    auto tr = train(tinyConfig(""));
    GptInference engine(packAndReload(*tr));
    Rng a(5), b(5), c(6);
    // 100 bytes through a context of 32: the cache refills (re-encoding) several times.
    const std::string x = engine.generate("3+4=", 100, 0.8, 20, a);
    const std::string y = engine.generate("3+4=", 100, 0.8, 20, b);
    const std::string z = engine.generate("3+4=", 100, 0.8, 20, c);
    QCOMPARE(int64_t(x.size()), int64_t(100));
    QCOMPARE(x, y);
    QVERIFY(x != z);
    QCOMPARE(engine.generate("", 0, 0.8, 20, a), std::string());
    // A prompt longer than the context keeps its last bytes.
    QCOMPARE(engine.generate(std::string(100, 'a'), 5, 0.0, 0, a).size(), size_t(5));
    // Greedy generation takes the arg max of the logits of the prompt.
    const std::vector<int32_t> prompt = textTokens(10);
    const MatF z0 = engine.logits(prompt);
    Eigen::Index best = 0;
    z0.col(9).maxCoeff(&best);
    const std::string p(prompt.begin(), prompt.end());
    QCOMPARE(int(static_cast<unsigned char>(engine.generate(p, 1, 0.0, 0, a)[0])), int(best));
}

// Greedy generation with the key/value cache picks, at every step, the arg max of the logits of
// the whole sequence so far encoded afresh (the trainer's text samples come from here too).
void TestGptInference::greedyGenerationFollowsAFreshForward() {
    auto tr = train(tinyConfig(""));
    GptInference engine(packAndReload(*tr));
    const std::string prompt = "12 + 7 = ";
    Rng rng(17);
    const std::string text = engine.generate(prompt, 20, 0.0, 0, rng);
    QCOMPARE(int(text.size()), 20);
    std::vector<int32_t> seq(prompt.begin(), prompt.end());
    for (int i = 0; i < 20; ++i) {
        const MatF logits = engine.logits(seq);
        Eigen::Index best = 0;
        logits.col(logits.cols() - 1).maxCoeff(&best);
        QCOMPARE(int(static_cast<unsigned char>(text[size_t(i)])), int(best));
        seq.push_back(int32_t(best));
    }
}

// The memory table's figure for a configuration is the size of the file its run writes.
void TestGptInference::fileSizeIsTheMemoryTables() {
    for (const QString s : {"", "quant.granularity=row", "quant.weights=five_level",
                            "quant.weights=int8", "quant.weights=none"}) {
        const Config c = tinyConfig(s + " run.steps=1");
        auto tr = train(c);
        const H158Model m =
            packModel(c, tr->model().layout(), tr->effectiveParameters().data(), quantOf(*tr));
        const int64_t bytes = int64_t(serializeH158(m).size());
        QCOMPARE(int64_t(memoryRow(c, "tiny").packedBytes), bytes);
        QCOMPARE(h158Stats(m).fileBytes, bytes);
        QCOMPARE(h158Stats(m).parameters, tr->model().layout().size());
    }
    // And the table's architecture rows are the GPT's own layout at that shape.
    const Config c = tinyConfig("");
    const GptModel g(GptShape{1, 32, 2, 32}, true);
    const ModelShape s{"tiny", 1, 32, 128, 256, 32, 2};
    const std::vector<H158TensorPlan> a = shapeTensors(s), b = planH158(c, g.layout());
    QCOMPARE(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        QCOMPARE(a[i].kind, b[i].kind);
        QCOMPARE(a[i].rows, b[i].rows);
        QCOMPARE(a[i].cols, b[i].cols);
    }
}

void TestGptInference::mixedModelMatchesGptModel_data() {
    QTest::addColumn<QString>("settings");
    QTest::addColumn<QString>("kernel");  // GptInference::linearKernel(), as a pattern
    // int8 activations: the integer kernels for ternary and five-level, the float product for
    // int8 and fp32; float activations: the float product for all.
    const QString mixed = R"(^mixed: 2 packed_ternary_gemv \(\w+\), 2 five_level_gemv \(\w+\), )"
                          R"(4 float \(dequantized\)$)";
    QTest::newRow("int8 activations, tensor scales") << "" << mixed;
    QTest::newRow("int8 activations, row scales") << "quant.granularity=row" << mixed;
    QTest::newRow("float activations") << "quant.activations=none"
                                       << R"(^float \(dequantized\)$)";
}

// A mixed-precision GPT packs exactly what it computes with: its file holds each tensor at its own
// level, is the size planH158 with those levels says, and runs to GptModel::logits on the
// effective weights (within the tolerance of logitsMatchTrainer).
void TestGptInference::mixedModelMatchesGptModel() {
    QFETCH(QString, settings);
    QFETCH(QString, kernel);
    MixedGpt g = mixedGpt(settings, kMixedLevels);
    const ParamLayout& L = g.model->layout();
    const H158Model packed = packModel(g.cfg, L, g.effective.data(), &g.q);
    const std::vector<uint8_t> bytes = serializeH158(packed);
    const H158Model file = parseH158(bytes, "mixed.h158");
    QCOMPARE(int(file.tensors.size()), L.count());
    for (int i = 0; i < L.count(); ++i) {
        const H158Tensor& t = file.tensors[size_t(i)];
        QCOMPARE(t.kind, h158KindOf(g.levels[size_t(i)]));
        if (t.kind != H158Kind::Fp32) QCOMPARE(t.codes(), g.q.tensors[size_t(i)].codes);
        const MatF w = t.dequantized();  // the values the model computes with, bit for bit
        QVERIFY2(std::memcmp(w.data(), g.effective.data() + L[i].offset, size_t(w.size()) * 4) == 0,
                 L[i].name.c_str());
    }
    // The plan with these levels is the file, to the byte.
    const std::vector<H158TensorPlan> plans = planH158(g.cfg, L, g.levels);
    QCOMPARE(h158FileBytes(int64_t(packed.header.dump().size()), plans), int64_t(bytes.size()));
    QCOMPARE(h158Stats(file).fileBytes, int64_t(bytes.size()));
    QCOMPARE(int64_t(memoryRow(file, "mixed").packedBytes), int64_t(bytes.size()));
    const MemoryRow row = memoryRow(file, "mixed");
    QCOMPARE(row.packedLevels, std::string("mixed"));
    const double C = 32;
    QCOMPARE(row.int8Params, 4 * C * C + 3 * C * C);   // block 0's fc, block 1's qkv
    QCOMPARE(row.ternaryParams, 3 * C * C + C * C);    // block 0's qkv, block 1's proj
    QCOMPARE(row.fiveLevelParams, C * C + 4 * C * C);  // block 0's proj, block 1's out
    // mean bits over the 24 C^2 quantizable weights, the two fp32-kept tensors (8 C^2) at 32
    const double want = (4 * std::log2(3.0) + 5 * std::log2(5.0) + 7 * 8.0 + 8 * 32.0) / 24;
    QVERIFY2(std::abs(meanBitsPerWeight(file, L) - want) < 1e-12,
             qPrintable(QString::number(meanBitsPerWeight(file, L))));

    GptInference engine(file, "mixed.h158");
    QVERIFY2(QString::fromStdString(engine.linearKernel()).contains(QRegularExpression(kernel)),
             engine.linearKernel().c_str());
    for (int64_t T : {1, 7, 32}) {
        const std::vector<int32_t> tokens = textTokens(T);
        const MatF ref = g.model->logits(g.effective.data(), &g.q, tokens);
        const MatF got = engine.logits(tokens);
        const double rel = double((got - ref).norm() / ref.norm());
        const double maxRel = double((got - ref).cwiseAbs().maxCoeff() / ref.cwiseAbs().maxCoeff());
        if (T == 32)
            qInfo("T %d: relative logit error %.2g (Frobenius), %.2g (max)", int(T), rel, maxRel);
        QVERIFY2(rel < 1e-4 && maxRel < 1e-4,
                 qPrintable(QString("T %1: relative error %2 (Frobenius), %3 (max)")
                                .arg(T)
                                .arg(rel)
                                .arg(maxRel)));
    }
    Rng a(3), b(3);
    const std::string x = engine.generate("3+4=", 50, 0.8, 20, a);
    QCOMPARE(int64_t(x.size()), int64_t(50));
    QCOMPARE(engine.generate("3+4=", 50, 0.8, 20, b), x);

    // A block linear stored at a kind its model never quantizes is refused by name.
    H158Model bad = file;
    const ParamTensor& ln = L[2];  // blocks.0.ln1.weight
    QVERIFY(!ln.quantized);
    QuantizedTensor qt;
    std::vector<float> lnw(g.effective.begin() + ln.offset,
                           g.effective.begin() + ln.offset + ln.size());
    quantizeWeights(lnw.data(), ln.rows, ln.cols, QuantLevels::Int8, QuantGranularity::Tensor, {},
                    qt, nullptr);
    bad.tensors[2] = h158Quantized(ln.name, qt, H158Scales::PerTensor);
    try {
        GptInference e(bad, "bad.h158");
        QFAIL("an int8 LayerNorm was accepted");
    } catch (const FileError& e) {
        QVERIFY2(QString(e.what()).startsWith("bad.h158: ") &&
                     QString(e.what()).contains(QString::fromStdString(ln.name)),
                 e.what());
    }
}

// quant.weights=adaptive: a file's kinds come from training, so the configuration alone has no
// plan (a clear error) and the memory table says so instead of a size.
void TestGptInference::adaptiveConfigHasNoSizeBeforeTraining() {
    const Config c = tinyConfig("quant.weights=adaptive");
    const GptModel g(GptShape{1, 32, 2, 32}, true);
    try {
        planH158(c, g.layout());
        QFAIL("planned an adaptive model from its configuration");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith(
                     "quant.weights=adaptive: the levels are chosen during training"),
                 e.what());
    }
    const MemoryRow r = memoryRow(c, "tiny");
    QCOMPARE(r.packedLevels, std::string("adaptive"));
    QVERIFY(std::isnan(r.packedBytes));
    QCOMPARE(r.params, double(g.layout().size()));
    QCOMPARE(r.quantizedParams, double(g.layout().quantizedSize()));
    const std::string md = memoryTableMarkdown({r});
    QVERIFY2(md.find("| after training | after training |") != std::string::npos, md.c_str());
    QVERIFY2(md.find("adaptive") != std::string::npos, md.c_str());
}

// With a uniform quant.weights, the file's kinds are the configuration's: a tensor at other
// levels, or without codes, is refused by name (its header would describe another model).
void TestGptInference::packModelKeepsAUniformModelUniform() {
    MixedGpt g = mixedGpt("", kMixedLevels);
    Config ternary = g.cfg;
    applySetting(ternary, "quant.weights=ternary");
    try {
        packModel(ternary, g.model->layout(), g.effective.data(), &g.q);
        QFAIL("a mixed model was packed as ternary");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("blocks.0.proj.weight holds five_level codes"),
                 e.what());
    }
    const std::vector<QuantLevels> allTernary(8, QuantLevels::Ternary);
    MixedGpt t = mixedGpt("", allTernary);
    QVERIFY(packModel(ternary, t.model->layout(), t.effective.data(), &t.q).tensors.size() > 0);
    t.q.tensors[size_t(t.model->layout().count() - 4)].codes.clear();  // blocks.1.out.weight
    try {
        packModel(ternary, t.model->layout(), t.effective.data(), &t.q);
        QFAIL("a ternary tensor without codes was packed");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("blocks.1.out.weight is quantized but has no codes"),
                 e.what());
    }
    // Levels for a tensor the model never quantizes, or in an fp32 model, are refused.
    std::vector<QuantLevels> levels(size_t(t.model->layout().count()), QuantLevels::None);
    levels[0] = QuantLevels::Int8;  // tok.weight
    QVERIFY_THROWS_EXCEPTION(Error, planH158(ternary, t.model->layout(), levels));
}

void TestGptInference::refusesNonGptFiles() {
    Config lin = presetConfig("seed-linear");
    applySetting(lin, "run.steps=2");
    auto tr = train(lin);
    const H158Model m =
        packModel(lin, tr->model().layout(), tr->effectiveParameters().data(), quantOf(*tr));
    const H158Model r = parseH158(serializeH158(m), "linear.h158");
    QVERIFY(r.tensors.size() > 0);
    try {
        GptInference engine(r, "linear.h158");
        QFAIL("a linear model was accepted");
    } catch (const FileError& e) {
        QVERIFY2(QString(e.what()).contains("linear.h158: model.kind is linear, not gpt"),
                 e.what());
    }
    // A GPT file missing a tensor, or with one of the wrong shape.
    auto gpt = train(tinyConfig("run.steps=1"));
    H158Model g = packAndReload(*gpt);
    H158Model missing = g;
    missing.tensors.erase(missing.tensors.begin() + 3);
    QVERIFY_THROWS_EXCEPTION(FileError, GptInference(missing, "g"));
    H158Model reshaped = g;
    reshaped.tensors[0] = h158Fp32("tok.weight", reshaped.tensors[0].values.data(), 256, 32);
    QVERIFY_THROWS_EXCEPTION(FileError, GptInference(reshaped, "g"));
}

void TestGptInference::sampleTokenRule() {
    const std::vector<float> z = {0.0f, std::log(3.0f), -1.0f, std::log(3.0f)};
    Rng rng(1);
    QCOMPARE(sampleToken(z, 0.0, 0, rng), 1);  // greedy: ties go to the lower index
    QCOMPARE(sampleToken(z, 5.0, 1, rng), 1);  // top-1
    // Top-2 at temperature 1: bytes 1 and 3 only, equally likely.
    int counts[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4000; ++i) ++counts[sampleToken(z, 1.0, 2, rng)];
    QCOMPARE(counts[0] + counts[2], 0);
    QVERIFY(std::abs(counts[1] - 2000) < 150);
    // All bytes: P(0) = 1/7.37 with weights 1, 3, e^-1, 3.
    int zero = 0;
    for (int i = 0; i < 8000; ++i) zero += sampleToken(z, 1.0, 0, rng) == 0;
    const double p0 = 1.0 / (1.0 + 3.0 + std::exp(-1.0) + 3.0);
    QVERIFY(std::abs(double(zero) / 8000.0 - p0) < 0.015);
}

QTEST_APPLESS_MAIN(TestGptInference)
#include "test_gpt_inference.moc"
