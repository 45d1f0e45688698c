// Per-tensor precision (core/train/sensitivity.h): the greedy allocation's known answers and its
// budget bound, a deliberately fragile tensor found and kept at higher precision, the table's
// files, and adaptive runs: deterministic, resumable, mixed levels where the run says.
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/exp/run_sensitivity.h"
#include "core/base/errors.h"
#include "core/base/rng.h"
#include "core/config/config.h"
#include "core/data/dataset.h"
#include "core/io/h158_format.h"
#include "core/model/param_file.h"
#include "core/exp/run_session.h"
#include "core/train/sensitivity.h"
#include "core/exp/run_sensitivity.h"
#include "core/train/trainer.h"

using namespace h158;
namespace fs = std::filesystem;

namespace {

TensorSensitivity tensor(int64_t weights, double ternary, double five, double int8) {
    TensorSensitivity t;
    t.weights = weights;
    t.alone = {ternary, five, int8};
    return t;
}

// The spirals MLP with every layer quantized per tensor, three hidden layers: five tensors.
Config mlpConfig() {
    Config c = presetConfig("spirals");
    c.model.depth = 3;
    c.quant.io_layers = true;
    c.quant.granularity = "tensor";
    c.run.steps = 300;
    c.run.eval_every = 0;
    c.run.snapshot_every = 0;
    c.run.checkpoint_every = 0;
    c.run.seed = 3;
    return c;
}

std::vector<std::string> rowsOf(Trainer& t, int64_t steps) {
    std::vector<std::string> out;
    for (int64_t i = 0; i < steps && !t.finished(); ++i) {
        StepMetrics m = t.step();
        m.elapsed_ms = 0;
        out.push_back(metricsCsvRow(m));
    }
    return out;
}

int rung(QuantLevels l) {  // more bits, smaller rung
    switch (l) {
        case QuantLevels::None: return 0;
        case QuantLevels::Int8: return 1;
        case QuantLevels::FiveLevel: return 2;
        case QuantLevels::Ternary: return 3;
    }
    return -1;
}

int indexOf(const ParamLayout& L, const std::string& name) {
    for (int i = 0; i < L.count(); ++i)
        if (L[i].name == name) return i;
    return -1;
}

const QuantLevels kRungs[] = {QuantLevels::None, QuantLevels::Int8, QuantLevels::FiveLevel,
                              QuantLevels::Ternary};

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() /
               ("h158-sens-" + std::to_string(QCoreApplication::applicationPid()) + "-" +
                std::to_string(counter++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    static inline int counter = 0;
};

}  // namespace

class TestSensitivity : public QObject {
    Q_OBJECT
  private slots:
    // Worked by hand (sensitivity.h's rule): the fp32 -> int8 steps cost nothing, so every tensor
    // reaches int8 first (ties to the lower index); then the cheap tensors 1 and 2 go down, and
    // tensor 0, whose ternary rise is 100x theirs, stays higher.
    void allocationKnownAnswer() {
        SensitivityTable t;
        t.fp32Loss = 1.0;
        t.tensors = {tensor(100, 1.5, 1.1, 1.0), tensor(100, 1.01, 1.005, 1.0),
                     tensor(100, 1.01, 1.005, 1.0)};
        const LevelAllocation at4 = allocateLevels(t, 4.0);
        QCOMPARE(at4.levels, (std::vector<QuantLevels>{QuantLevels::Int8, QuantLevels::Ternary,
                                                       QuantLevels::FiveLevel}));
        QCOMPARE(at4.meanBits, (8.0 + std::log2(3.0) + std::log2(5.0)) / 3);
        const LevelAllocation at25 = allocateLevels(t, 2.5);
        QCOMPARE(at25.levels, (std::vector<QuantLevels>{QuantLevels::FiveLevel,
                                                        QuantLevels::Ternary, QuantLevels::Ternary}));
        const LevelAllocation at32 = allocateLevels(t, 32);
        QCOMPARE(at32.levels, std::vector<QuantLevels>(3, QuantLevels::None));
        const LevelAllocation floor = allocateLevels(t, std::log2(3.0));
        QCOMPARE(floor.levels, std::vector<QuantLevels>(3, QuantLevels::Ternary));
    }

    void budgetOutOfReachIsRefused() {
        SensitivityTable t;
        t.tensors = {tensor(10, 1, 1, 1)};
        for (double b : {1.5, 0.0, -1.0, std::nan(""), double(INFINITY)}) {
            bool threw = false;
            try {
                allocateLevels(t, b);
            } catch (const Error& e) {
                threw = QString(e.what()).contains("quant.bits_budget");
            }
            QVERIFY2(threw, qPrintable(QString::number(b)));
        }
    }

    // Random tables: the mean never exceeds the budget, and it is within one tensor's worth of
    // it: some tensor raised one rung back would exceed the budget (the last step was needed).
    void budgetMetWithinOneTensor() {
        Rng rng(11, 0);
        for (int trial = 0; trial < 300; ++trial) {
            SensitivityTable t;
            t.fp32Loss = 2.0;
            const int n = 1 + int(rng.uniform(0, 12));
            for (int i = 0; i < n; ++i) {
                const double a = rng.uniform(0, 1), b = rng.uniform(0, 1), c = rng.uniform(0, 1);
                t.tensors.push_back(tensor(int64_t(rng.uniform(1, 5000)), 2 + a, 2 + a * b,
                                           2 + a * b * c + rng.uniform(-0.01, 0.01)));
            }
            const double budget = rng.uniform(std::log2(3.0), 32.0);
            const LevelAllocation a = allocateLevels(t, budget);
            std::vector<int64_t> w;
            double total = 0;
            for (const auto& x : t.tensors) w.push_back(x.weights), total += double(x.weights);
            QCOMPARE(a.meanBits, meanBits(w, a.levels));
            QVERIFY2(a.meanBits <= budget, qPrintable(QString("%1 > %2").arg(a.meanBits).arg(budget)));
            bool oneStepBack = false;
            for (int i = 0; i < n; ++i) {
                const int r = rung(a.levels[size_t(i)]);
                if (r == 0) continue;
                const double up = a.meanBits + double(w[size_t(i)]) *
                                                   (bitsPerWeight(kRungs[r - 1]) -
                                                    bitsPerWeight(kRungs[r])) / total;
                oneStepBack = oneStepBack || up > budget;
            }
            QVERIFY2(oneStepBack, qPrintable(QString("trial %1: mean %2, budget %3: a step too many")
                                                 .arg(trial).arg(a.meanBits).arg(budget)));
        }
    }

    // A trained fp32 MLP made fragile in one tensor without changing what it computes: row 0 of
    // dense1 (and its bias) x 40, column 0 of dense2 / 40 (relu is positively homogeneous).
    // Per-tensor scales then follow the outlier row and round the rest of dense1 coarsely.
    // Sensitivity must rank dense1 first, and the adaptive allocation must keep it above every
    // other tensor.
    void fragileTensorIsFoundAndKeptHigh() {
        Config c = mlpConfig();
        c.quant.weights = "none";  // a full-precision model, quantized after training
        Trainer trained(c);
        rowsOf(trained, c.run.steps);
        const ParamLayout& L = trained.model().layout();
        std::vector<float> p(trained.parameters().begin(), trained.parameters().end());
        const int w1 = indexOf(L, "dense1.weight"), b1 = indexOf(L, "dense1.bias"),
                  w2 = indexOf(L, "dense2.weight");
        QVERIFY(w1 >= 0 && b1 >= 0 && w2 >= 0);
        constexpr float k = 40;
        for (int64_t col = 0; col < L[w1].cols; ++col) p[size_t(L[w1].offset + col * L[w1].rows)] *= k;
        p[size_t(L[b1].offset)] *= k;
        for (int64_t row = 0; row < L[w2].rows; ++row) p[size_t(L[w2].offset + row)] /= k;
        TempDir dir;
        const std::string init = (dir.path / "fragile.safetensors").string();
        saveParameters(L, p.data(), init);

        Config a = c;
        a.model.init_file = init;
        a.quant.weights = "adaptive";
        a.quant.bits_budget = 2.6;
        a.quant.adapt_every = 0;
        a.quant.adapt_batches = 4;
        Trainer adaptive(a);
        const SensitivityTable s = adaptive.sensitivity(4);
        QCOMPARE(int(s.tensors.size()), 4);
        QVERIFY(std::isfinite(s.fp32Loss));
        // Ternary after training hurts every tensor of this small model a lot; the outlier row
        // shows at the finer level sets, where dense1 must stand out.
        for (size_t k : {size_t(1), size_t(2)}) {  // five_level, int8
            const TensorSensitivity* worst = &s.tensors[0];
            double next = -INFINITY;
            for (const auto& x : s.tensors)
                if (x.alone[k] > worst->alone[k]) worst = &x;
            for (const auto& x : s.tensors)
                if (&x != worst) next = std::max(next, x.alone[k]);
            QCOMPARE(QString::fromStdString(worst->name), QString("dense1.weight"));
            QVERIFY2(worst->alone[k] - s.fp32Loss > 2 * (next - s.fp32Loss),
                     qPrintable(QString("%1: dense1 rise %2, next %3").arg(quantLevelsName(kSensitivityLevels[k]))
                                    .arg(worst->alone[k] - s.fp32Loss).arg(next - s.fp32Loss)));
        }

        const auto lv = adaptive.tensorLevels();
        for (int i = 0; i < L.count(); ++i) {
            if (!L[i].quantized || i == w1) continue;
            QVERIFY2(bitsPerWeight(lv[size_t(w1)]) > bitsPerWeight(lv[size_t(i)]),
                     qPrintable(QString("dense1 %1, %2 %3")
                                    .arg(quantLevelsName(lv[size_t(w1)]))
                                    .arg(QString::fromStdString(L[i].name))
                                    .arg(quantLevelsName(lv[size_t(i)]))));
        }
        QVERIFY(adaptive.meanWeightBits() <= a.quant.bits_budget);

        // The same trained model without the rescaling: dense1 is not singled out.
        const std::string base = (dir.path / "base.safetensors").string();
        saveParameters(L, trained.parameters().data(), base);
        Config b = a;
        b.model.init_file = base;
        Trainer unscaled(b);
        const SensitivityTable su = unscaled.sensitivity(4);
        // The rescaling left the function alone (up to float rounding): the same fp32 loss.
        QVERIFY2(std::abs(su.fp32Loss - s.fp32Loss) < 1e-5 * su.fp32Loss,
                 qPrintable(QString("%1 vs %2").arg(su.fp32Loss).arg(s.fp32Loss)));
        for (size_t j = 0; j < su.tensors.size(); ++j)
            if (su.tensors[j].name == "dense1.weight")
                QVERIFY2(su.tensors[j].alone[2] - su.fp32Loss < 0.2 * (s.tensors[j].alone[2] - s.fp32Loss),
                         qPrintable(QString("int8 dense1 rise %1 unscaled, %2 scaled")
                                        .arg(su.tensors[j].alone[2] - su.fp32Loss)
                                        .arg(s.tensors[j].alone[2] - s.fp32Loss)));
    }

    // Each tensor's effective weights hold its own level set: at most 2 x limit + 1 values per
    // row for quantized ones, the latent weights for those kept at fp32.
    void adaptiveLevelsHoldPerTensor() {
        Config c = mlpConfig();
        c.quant.weights = "adaptive";
        // Between ternary and five-level: no uniform allocation meets 2 bits from above in one
        // rung (sensitivity.h), so the levels must mix.
        c.quant.bits_budget = 2;
        c.quant.adapt_every = 40;
        c.run.steps = 100;
        Trainer t(c);
        rowsOf(t, 100);
        const ParamLayout& L = t.model().layout();
        const auto lv = t.tensorLevels();
        const auto& eff = t.effectiveParameters();
        const auto& lat = t.parameters();
        std::set<QuantLevels> seen;
        for (int i = 0; i < L.count(); ++i) {
            const ParamTensor& x = L[i];
            if (!x.quantized) {
                QCOMPARE(lv[size_t(i)], QuantLevels::None);
                continue;
            }
            seen.insert(lv[size_t(i)]);
            if (lv[size_t(i)] == QuantLevels::None) {
                for (int64_t k = 0; k < x.size(); ++k)
                    QCOMPARE(eff[size_t(x.offset + k)], lat[size_t(x.offset + k)]);
                continue;
            }
            const int limit = codeLimit(lv[size_t(i)]);
            std::set<float> values;
            for (int64_t k = 0; k < x.size(); ++k) values.insert(eff[size_t(x.offset + k)]);
            QVERIFY2(int(values.size()) <= 2 * limit + 1,
                     qPrintable(QString("%1 holds %2 values").arg(QString::fromStdString(x.name))
                                    .arg(values.size())));
            QCOMPARE(t.quantState().tensors[size_t(i)].levels, lv[size_t(i)]);
        }
        QVERIFY2(seen.size() >= 2, "a 2-bit budget over these tensors must mix levels");
        QVERIFY(t.meanWeightBits() <= 2.0);
    }

    // Same config and seed, the same rows; a checkpoint between re-allocations continues with
    // the same rows and levels.
    void adaptiveRunIsDeterministicAndResumes() {
        Config c = mlpConfig();
        c.quant.weights = "adaptive";
        c.quant.bits_budget = 3;
        c.quant.adapt_every = 25;
        c.run.steps = 80;
        Trainer a(c), b(c);
        const auto ra = rowsOf(a, 80), rb = rowsOf(b, 80);
        QCOMPARE(ra, rb);
        Trainer first(c);
        rowsOf(first, 40);
        const StateArchive saved = first.saveState();
        Trainer resumed(c);
        resumed.restoreState(saved);
        QCOMPARE(resumed.tensorLevels(), first.tensorLevels());
        const auto rest = rowsOf(resumed, 40);
        QCOMPARE(rest, std::vector<std::string>(ra.begin() + 40, ra.end()));
        QCOMPARE(resumed.tensorLevels(), a.tensorLevels());
        // weight_bits, the allocation's mean bits
        QCOMPARE(parseMetricsCsvRow(ra.back()).weight_bits, a.meanWeightBits());
    }

    // A run directory: the table from its latent weights at the levels weights.h158 holds, as
    // JSON that reads back; a run without latent weights is refused naming the file.
    void runSensitivityFromDirectory() {
        TempDir dir;
        const std::string run = (dir.path / "run").string();
        Config c = mlpConfig();
        c.quant.weights = "adaptive";
        c.quant.bits_budget = 3;
        c.quant.adapt_every = 30;
        c.run.steps = 60;
        std::vector<QuantLevels> levels;
        {
            RunSession s(c, run);
            while (!s.finished()) s.step();
            levels = s.trainer().tensorLevels();
        }
        QVERIFY(fs::exists(fs::path(run) / kLatentFile));
        const SensitivityTable t = runSensitivity(run, 3);
        QCOMPARE(t.batches, int64_t(3));
        QCOMPARE(t.step, int64_t(60));
        QCOMPARE(int(t.tensors.size()), 4);
        for (const auto& x : t.tensors) {
            QCOMPARE(x.level, levels[size_t(x.layoutIndex)]);
            for (size_t k = 0; k < 3; ++k) QVERIFY(std::isfinite(x.alone[k]) && std::isfinite(x.kept[k]));
        }
        QVERIFY(std::isfinite(t.currentLoss));
        // kept at level l with every tensor kept is the all-fp32 loss; uniform with none kept
        const SensitivityTable back = SensitivityTable::fromJson(t.toJson());
        QCOMPARE(back.toJson().dump(), t.toJson().dump());
        const std::string csv = t.toCsv();
        QVERIFY(csv.starts_with("tensor,weights,level,alone_ternary,alone_five_level,alone_int8,"
                                "kept_ternary,kept_five_level,kept_int8\n"));
        QCOMPARE(int(std::count(csv.begin(), csv.end(), '\n')), 5);

        fs::remove(fs::path(run) / kLatentFile);
        try {
            runSensitivity(run, 1);
            QFAIL("a run without latent weights was measured");
        } catch (const FileError& e) {
            QVERIFY2(QString(e.what()).contains("latent.safetensors"), e.what());
        }
        nlohmann::json bad = t.toJson();
        bad["tensors"][1]["alone"].erase("int8");
        try {
            SensitivityTable::fromJson(bad);
            QFAIL("a table without tensors[1].alone.int8 was read");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("tensors[1].alone"), e.what());
        }
    }

    // The GPT's BitLinear with mixed levels: the integer kernel serves the ternary and
    // five-level tensors, the float product the int8 and fp32 ones; both arithmetics agree. They
    // are compared on the same weights at every step of an adaptive run (levels re-allocated on
    // the way): two runs, one per kernel, round differently and drift apart over the steps (on an
    // AVX2 build by 1.5e-4 of the loss after four steps) however right each kernel is.
    void gptMixedLevelsKernelMatchesFloat() {
        Config c = presetConfig("gpt-s");
        c.model.layers = 2;
        c.model.d_model = 64;
        c.model.context = 32;
        c.run.batch_size = 4;
        c.run.steps = 6;
        c.run.eval_every = 0;
        c.run.snapshot_every = 0;
        c.sample.every = 0;
        c.quant.weights = "adaptive";
        c.quant.activations = "int8";
        c.quant.bits_budget = 3;
        c.quant.adapt_every = 3;
        c.quant.adapt_batches = 1;
        Trainer t(c);
        std::set<QuantLevels> seen;
        for (QuantLevels l : t.tensorLevels()) seen.insert(l);
        QVERIFY2(seen.size() >= 3, "fp32-kept embeddings and at least two block levels");
        const Batch batch = t.dataset().valBatch(0, c.run.batch_size);
        for (int s = 0; s < 6; ++s) {
            QuantState kernel = t.quantState(), floats = t.quantState();
            kernel.kernel = "auto";
            floats.kernel = "float";
            const double a = t.model().forwardBackward(t.effectiveParameters().data(), &kernel,
                                                       batch, nullptr).loss;
            const double b = t.model().forwardBackward(t.effectiveParameters().data(), &floats,
                                                       batch, nullptr).loss;
            QVERIFY2(std::abs(a - b) < 1e-4 * std::abs(b),
                     qPrintable(QString("step %1: %2 vs %3").arg(s).arg(a, 0, 'g', 10).arg(b, 0, 'g', 10)));
            t.step();
        }
    }
};

QTEST_MAIN(TestSensitivity)
#include "test_sensitivity.moc"
