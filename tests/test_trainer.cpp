// The hybrid trainer end to end: loss falls with every component on, bit-for-bit determinism
// (also across thread counts), the ternary invariant of the weights the forward pass sees,
// trust-region bound, divergence detection, snapshots and the CSV data path.
#include <QtTest>
#include <fstream>
#include <thread>

#include "core/base/errors.h"
#include "core/config/config.h"
#include "core/data/dataset.h"
#include "core/base/parallel.h"
#include "core/train/trainer.h"

using namespace h158;

namespace {

std::vector<std::string> rows(Trainer& t) {
    std::vector<std::string> out;
    while (!t.finished()) {
        StepMetrics m = t.step();
        m.elapsed_ms = 0;
        out.push_back(metricsCsvRow(m));
    }
    return out;
}

}  // namespace

class TestTrainer : public QObject {
    Q_OBJECT
  private slots:
    void pausedTimeIsNotElapsed() {
        Config c = presetConfig("seed-linear");
        c.run.steps = 10;
        Trainer t(c);
        const double first = t.step().elapsed_ms;
        t.pauseClock();
        QThread::msleep(400);
        const double whilePaused = t.step().elapsed_ms;  // a single step while paused
        QThread::msleep(400);
        t.resumeClock();
        const double after = t.step().elapsed_ms;
        QVERIFY2(whilePaused - first < 200 && after - whilePaused < 200,
                 qPrintable(QString("%1 %2 %3").arg(first).arg(whilePaused).arg(after)));
        QVERIFY(first <= whilePaused && whilePaused <= after);
    }
    void seedLinearLossFalls() {
        Trainer t(presetConfig("seed-linear"));
        rows(t);
        const Summary s = t.summary();
        QVERIFY(s.status == RunStatus::Completed);
        const double init = s.figures["initial_loss"], fin = s.figures["final_loss"];
        QVERIFY2(fin < 0.5 * init, qPrintable(QString("%1 -> %2").arg(init).arg(fin)));
        const double rate = s.figures["constraint_activation_rate"];
        QVERIFY(rate >= 0 && rate <= 1);
        QVERIFY(double(s.figures["mean_quant_error"]) > 0);
    }

    void deterministicBitForBit() {
        Config c = presetConfig("seed-linear");
        c.quant.updates = true;  // the stochastic update quantization too
        c.run.steps = 120;
        c.cluster.refresh_every = 40;
        Trainer a(c), b(c);
        QCOMPARE(rows(a), rows(b));
        QVERIFY(a.parameters() == b.parameters());
        c.run.seed = 1;
        Trainer d(c);
        QVERIFY(rows(d) != std::vector<std::string>{});
        QVERIFY(d.parameters() != a.parameters());
    }

    // A second run of the same config in the same process (as the workbench does) gives the
    // same rows: no result may depend on where the heap put a buffer (base/types.h, AlignedVector).
    // Blocks of odd sizes are allocated between the runs to move the heap.
    void repeatedRunsInOneProcessAgree_data() {
        QTest::addColumn<QString>("preset");
        QTest::newRow("spirals (mlp)") << "spirals";
        QTest::newRow("seed-linear") << "seed-linear";
        QTest::newRow("gpt-s, small") << "gpt-s";
    }
    void repeatedRunsInOneProcessAgree() {
        QFETCH(QString, preset);
        Config c = presetConfig(preset.toStdString());
        c.run.steps = 30;
        if (c.model.kind == "gpt") {
            c.model.layers = 1, c.model.d_model = 32, c.model.context = 24, c.run.batch_size = 3;
            c.cluster.refresh_every = 10;
        }
        std::vector<std::vector<std::string>> runs;
        std::vector<std::unique_ptr<char[]>> junk;
        for (int rep = 0; rep < 3; ++rep) {
            junk.emplace_back(new char[size_t(24 * rep + 8)]);
            Trainer t(c);
            runs.push_back(rows(t));
        }
        QCOMPARE(runs[1], runs[0]);
        QCOMPARE(runs[2], runs[0]);
    }

    void threadCountDoesNotChangeResults() {
        Config c = presetConfig("spirals");
        c.run.steps = 60;
        c.run.threads = 1;
        Trainer one(c);
        const auto r1 = rows(one);
        c.run.threads = 2;
        Trainer two(c);
        QCOMPARE(rows(two), r1);
        setThreadCount(0);
    }

    // run.threads belongs to its trainer: before, each Trainer resized one process-wide pool, so
    // the last one built set the thread count of every trainer in the process.
    void threadsArePerTrainer() {
        Config c = presetConfig("gpt-s");
        c.model.layers = 1, c.model.d_model = 32, c.model.context = 24, c.run.batch_size = 3;
        c.run.steps = 5;
        c.run.threads = 1;
        Trainer one(c);
        c.run.threads = 2;
        Trainer two(c);
        takeParallelWidth();
        for (int i = 0; i < 2; ++i) {
            one.step();
            QCOMPARE(takeParallelWidth(), 1);
            two.step();
            QCOMPARE(takeParallelWidth(), 2);
        }
        c.run.threads = 1;
        Trainer again(c);  // the pool keeps its threads for `two`
        two.step();
        QCOMPARE(takeParallelWidth(), 2);
        {
            const ThreadLimit limit(1);
            QCOMPARE(threadCount(), 1);
        }
        QCOMPARE(threadCount(), std::max(2, int(std::thread::hardware_concurrency())));
    }

    void forwardSeesOnlyTernaryValues() {
        Config c = presetConfig("spirals");
        c.run.steps = 30;
        Trainer t(c);
        rows(t);
        const auto& L = t.model().layout();
        const auto& q = t.quantState();
        int checked = 0;
        for (int i = 0; i < L.count(); ++i) {
            if (!L[i].quantized) continue;
            const auto& qt = q.tensors[size_t(i)];
            const auto W = L.view(t.effectiveParameters().data(), i);
            for (int64_t col = 0; col < L[i].cols; ++col)
                for (int64_t r = 0; r < L[i].rows; ++r) {
                    const int8_t code = qt.codes[size_t(col * L[i].rows + r)];
                    QVERIFY(code >= -1 && code <= 1);
                    QCOMPARE(W(r, col), float(code) * qt.rowScale(r));
                }
            ++checked;
        }
        QVERIFY(checked > 0);
    }

    // global: ‖Δ‖ ≤ r_t on every step, on the sphere when constrained. tensor: every matrix's
    // step ≤ r_t ‖Θ_i‖ (Θ before the step), on that sphere when shortened; vectors are free.
    void trustRegionBoundsEveryStep_data() {
        QTest::addColumn<QString>("mode");
        QTest::addColumn<double>("radius");
        QTest::newRow("global") << "global" << 0.05;
        QTest::newRow("tensor") << "tensor" << 0.01;
    }
    void trustRegionBoundsEveryStep() {
        QFETCH(QString, mode);
        QFETCH(double, radius);
        Config c = presetConfig("seed-linear");
        c.run.steps = 100;
        c.trust.mode = mode.toStdString();
        c.trust.radius = radius;
        Trainer t(c);
        const ParamLayout& L = t.model().layout();
        int constrained = 0, heldTensors = 0;
        while (!t.finished()) {
            const FloatBuffer before = t.parameters();
            const StepMetrics m = t.step();
            constrained += m.constrained;
            QVERIFY(m.constrained_fraction >= 0 && m.constrained_fraction <= 1);
            QCOMPARE(m.constrained == 1, m.constrained_fraction > 0);
            if (mode == "global") {
                QVERIFY(m.step_norm <= m.trust_radius * (1 + 1e-6));
                if (m.constrained) QVERIFY(m.step_norm > m.trust_radius * (1 - 1e-5));
                continue;
            }
            for (const ParamTensor& tensor : L.tensors()) {
                if (tensor.cols == 1) continue;
                double d2 = 0, w2 = 0;
                for (int64_t k = 0; k < tensor.size(); ++k) {
                    const size_t j = size_t(tensor.offset + k);
                    const double d = double(t.parameters()[j]) - before[j];
                    d2 += d * d;
                    w2 += double(before[j]) * before[j];
                }
                // the float addition Θ + Δ rounds each element by half an ulp of Θ
                const double bound = m.trust_radius * std::sqrt(w2);
                QVERIFY2(std::sqrt(d2) <= bound * (1 + 1e-4),
                         qPrintable(QString("%1: %2 > %3").arg(QString::fromStdString(tensor.name))
                                        .arg(std::sqrt(d2)).arg(bound)));
                heldTensors += std::sqrt(d2) > bound * (1 - 1e-3);
            }
        }
        QVERIFY(constrained > 0);
        if (mode == "tensor") QVERIFY(heldTensors > 0);
    }

    // aux.keep_decay: with a decaying schedule the multiplier applied is max(m_t, 1); the
    // network goes on learning from every signal. spirals at 4× its rate asks for a shorter step
    // on some steps and a longer one on others, so both sides of 1 are reached without the floor.
    void keepDecayFloorsTheMultiplierOnADecayingSchedule() {
        Config c = presetConfig("spirals");
        c.run.steps = 300;
        c.run.snapshot_every = 0;
        c.optim.lr = 0.04;
        auto multipliers = [](const Config& cfg) {
            Trainer t(cfg);
            std::vector<double> m;
            while (!t.finished()) m.push_back(t.step().lr_multiplier);
            return m;
        };
        c.optim.schedule = "cosine";
        c.aux.keep_decay = false;
        const std::vector<double> free = multipliers(c);
        c.aux.keep_decay = true;
        const std::vector<double> floored = multipliers(c);
        QVERIFY(*std::min_element(free.begin(), free.end()) < 1.0);
        QCOMPARE(*std::min_element(floored.begin(), floored.end()), 1.0);
        QVERIFY(*std::max_element(floored.begin(), floored.end()) > 1.5);
        // Up to the first step the floor lifts, the two runs are the same.
        const auto first = std::find_if(free.begin(), free.end(), [](double m) { return m < 1; });
        const auto n = size_t(first - free.begin());
        QVERIFY(n > 5);
        QVERIFY(std::equal(free.begin(), free.begin() + ptrdiff_t(n), floored.begin()));

        // A constant schedule does not decay: keep_decay changes nothing, bit for bit.
        c.optim.schedule = "constant";
        c.aux.keep_decay = false;
        Trainer a(c);
        c.aux.keep_decay = true;
        Trainer b(c);
        QCOMPARE(rows(a), rows(b));
    }

    void componentsCanBeSwitchedOff() {
        Config c = presetConfig("seed-linear");
        c.run.steps = 50;
        c.quant.weights = "none";
        c.quant.granularity = "tensor";
        c.cluster.data_k = 0;
        c.aux.enabled = false;
        c.trust.enabled = false;
        Trainer t(c);
        for (const auto& m : [&] {
                 std::vector<StepMetrics> v;
                 while (!t.finished()) v.push_back(t.step());
                 return v;
             }()) {
            QCOMPARE(m.quant_error, 0.0);
            QCOMPARE(m.cluster, -1);
            QCOMPARE(m.lr_multiplier, 1.0);
            QVERIFY(std::isnan(m.trust_radius));
            QCOMPARE(m.constrained, 0);
        }
        QVERIFY(t.status() == RunStatus::Completed);
    }

    void divergenceStopsTheRun() {
        Config c = presetConfig("seed-linear");
        c.optim.kind = "sgd";
        c.optim.lr = 50;
        c.trust.enabled = false;
        c.aux.enabled = false;
        Trainer t(c);
        while (!t.finished()) t.step();
        QVERIFY(t.status() == RunStatus::Diverged);
        const QString msg = QString::fromStdString(t.summary().message);
        QVERIFY2(msg.startsWith("diverged at step "), qPrintable(msg));
        QVERIFY(t.stepsDone() < c.run.steps);
        QVERIFY_THROWS_EXCEPTION(Error, t.step());
    }

    void snapshotsDescribeTheState() {
        Config c = presetConfig("spirals");
        c.run.steps = 50;
        Trainer t(c);
        auto first = t.takeSnapshots();
        QStringList kinds;
        for (const auto& s : first) kinds << QString::fromStdString(s.kind);
        QVERIFY(kinds.contains("clusters") && kinds.contains("weights") &&
                kinds.contains("boundary"));
        for (const auto& s : first) {
            QCOMPARE(s.step, int64_t(0));
            if (s.kind == "clusters") {
                QCOMPARE(s.data["labels"].size(), s.data["points"].size());
                QCOMPARE(s.data["centroids"].size(), size_t(c.cluster.data_k));
                int64_t total = 0;
                for (auto n : s.data["sizes"]) total += n.get<int64_t>();
                QCOMPARE(total, t.dataset().trainSize());
            }
            if (s.kind == "boundary") {
                QCOMPARE(s.data["p"].size(), size_t(64 * 64));
                for (double p : s.data["p"]) QVERIFY(p >= 0 && p <= 1);
            }
            if (s.kind == "weights") {
                for (const auto& tensor : s.data["tensors"]) {
                    int64_t n = 0;
                    for (const auto& perCluster : tensor["counts"])
                        for (auto v : perCluster) n += v.get<int64_t>();
                    QCOMPARE(n, tensor["rows"].get<int64_t>() * tensor["cols"].get<int64_t>());
                }
            }
        }
        while (!t.finished()) t.step();
        const auto later = t.takeSnapshots();
        QVERIFY(!later.empty());
        QCOMPARE(later.back().step, int64_t(50));
    }

    void moonsAreLearned() {
        Config c = presetConfig("moons");
        c.run.steps = 300;
        Trainer t(c);
        while (!t.finished()) t.step();
        const double acc = t.summary().figures["final_val_accuracy"];
        QVERIFY2(acc > 0.9, qPrintable(QString::number(acc)));
    }

    void csvRegression() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/data.csv").toStdString();
        {
            std::ofstream o(path);
            o << "a,b,target\n";
            Rng rng(1);
            for (int i = 0; i < 400; ++i) {
                const double a = rng.normal(), b = rng.normal();
                o << a << "," << b << "," << 2 * a - b + 0.5 << "\n";
            }
        }
        Config c;
        c.data.kind = "csv";
        c.data.csv_file = path;
        c.data.csv_target = "target";
        c.quant.weights = "none";
        c.quant.granularity = "tensor";
        c.trust.enabled = false;
        c.aux.enabled = false;
        c.cluster.data_k = 2;
        c.run.steps = 400;
        c.optim.lr = 0.05;
        Trainer t(c);
        QCOMPARE(t.dataset().inputDim(), int64_t(2));
        while (!t.finished()) t.step();
        QVERIFY(double(t.summary().figures["final_val_loss"]) < 0.01);

        const std::string bad = (dir.path() + "/bad.csv").toStdString();
        {
            std::ofstream o(bad);
            o << "a,b,target\n1,2,3\n4,x,6\n";
        }
        c.data.csv_file = bad;
        try {
            Trainer broken(c);
            QFAIL("a malformed CSV was accepted");
        } catch (const FileError& e) {
            QVERIFY2(QString(e.what()).contains("bad.csv:3"), e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TestTrainer)
#include "test_trainer.moc"
