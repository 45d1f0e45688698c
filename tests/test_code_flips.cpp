// Code flips and the step taken in stages: countFlips on known answers; the trainer's code_flips
// columns, per-tensor counts, weight maps and snapshot figures against a recount from the codes
// the trainer exposes before and after each step; a step taken stage by stage gives the same bits
// as step(), and its stage reports agree with the trainer's own state.
#include <QtTest>
#include <filesystem>

#include "core/base/errors.h"
#include "core/config/config.h"
#include "core/quant/code_flips.h"
#include "core/train/checkpoint.h"
#include "core/exp/run_session.h"
#include "core/train/trainer.h"

using namespace h158;

namespace {

QuantizedTensor quantized(const std::vector<float>& w, int64_t rows, QuantLevels levels) {
    QuantizedTensor q;
    quantizeWeights(w.data(), rows, int64_t(w.size()) / rows, levels, QuantGranularity::Tensor, {},
                    q, nullptr);
    return q;
}

Config spirals(int64_t steps) {
    Config c = presetConfig("spirals");
    c.run.steps = steps;
    c.run.snapshot_every = 10;
    return c;
}

std::string rowText(StepMetrics m) {
    m.elapsed_ms = 0;
    return metricsCsvRow(m);
}

// The codes of every quantized tensor, as the trainer holds them for its next forward pass.
std::vector<QuantizedTensor> codesOf(const Trainer& t) { return t.quantState().tensors; }

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() /
               ("h158_flips_" + std::to_string(QRandomGenerator::global()->generate()));
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

class TestCodeFlips : public QObject {
    Q_OBJECT
  private slots:
    // Ternary, one scale: gamma = mean|W|. Weights (0.2, 1.0, -1.0, 0.6): gamma = 0.7, codes
    // round(w/0.7) = (0, 1, -1, 1). Moving only the first weight to 0.5 moves gamma to 0.775:
    // the first weight flips by itself (0.5/0.7 already rounds to 1) and the others keep their
    // codes (0.6/0.775 = 0.77 still rounds to 1). So: one weight flip, no scale flip.
    void knownAnswersWeightAndScale() {
        const QuantizedTensor a = quantized({0.2f, 1.0f, -1.0f, 0.6f}, 2, QuantLevels::Ternary);
        QCOMPARE(std::vector<int>(a.codes.begin(), a.codes.end()), (std::vector<int>{0, 1, -1, 1}));
        const std::vector<float> w2{0.5f, 1.0f, -1.0f, 0.6f};
        const QuantizedTensor b = quantized(w2, 2, QuantLevels::Ternary);
        std::vector<int32_t> last(4, -1);
        std::vector<uint8_t> cause(4, 0);
        const FlipCounts f = countFlips(a, b, w2.data(), last, cause, 7);
        QCOMPARE(f.weight, int64_t(1));
        QCOMPARE(f.scale, int64_t(0));
        QCOMPARE(last, (std::vector<int32_t>{7, -1, -1, -1}));
        QCOMPARE(int(cause[0]), int(FlipCause::Weight));

        // Growing the large weights alone raises gamma past 2 x 0.6: the 0.6 weight, which did
        // not move, drops to code 0 — a flip of the scale.
        const std::vector<float> w3{0.2f, 3.0f, -3.0f, 0.6f};
        const QuantizedTensor c = quantized(w3, 2, QuantLevels::Ternary);
        QCOMPARE(int(c.codes[3]), 0);
        const FlipCounts g = countFlips(a, c, w3.data(), last, cause, 8);
        QCOMPARE(g.weight, int64_t(0));
        QCOMPARE(g.scale, int64_t(1));
        QCOMPARE(last[3], 8);
        QCOMPARE(int(cause[3]), int(FlipCause::Scale));
    }

    void refusesMismatchedQuantizations() {
        const QuantizedTensor a = quantized({0.2f, 1.0f, -1.0f, 0.6f}, 2, QuantLevels::Ternary);
        const QuantizedTensor five = quantized({0.2f, 1.0f, -1.0f, 0.6f}, 2, QuantLevels::FiveLevel);
        const QuantizedTensor wide = quantized({0.2f, 1.0f, -1.0f, 0.6f, 0.1f, 0.1f}, 2,
                                               QuantLevels::Ternary);
        const std::vector<float> w(6, 0.f);
        QVERIFY_THROWS_EXCEPTION(Error, countFlips(a, five, w.data()));
        QVERIFY_THROWS_EXCEPTION(Error, countFlips(a, wide, w.data()));
    }

    // codeAt is the quantizer's own rounding: every code of a quantized tensor is codeAt of its
    // latent weight and row scale, at every level set.
    void codeAtIsTheQuantizersRounding() {
        std::vector<float> w(64);
        for (size_t i = 0; i < w.size(); ++i) w[i] = float(std::sin(double(i) * 1.7) * (1 + i % 5));
        for (QuantLevels l : {QuantLevels::Ternary, QuantLevels::FiveLevel, QuantLevels::Int8}) {
            const QuantizedTensor q = quantized(w, 8, l);
            for (size_t i = 0; i < w.size(); ++i)
                QCOMPARE(int(codeAt(w[i], q.rowScale(int64_t(i % 8)), codeLimit(l))), int(q.codes[i]));
        }
    }

    // Each row's code_flips is the fraction of quantized weights whose code differs between the
    // codes before and after the step, and code_flips_scale the share of those that the latent
    // weight at the old scale would have kept; per tensor as lastFlips() says; the weight map
    // marks exactly the flipped cells with this step.
    void trainerCountsWhatChanged() {
        Trainer t(spirals(40));
        int64_t flippedSteps = 0, scaleFlips = 0;
        while (!t.finished()) {
            const std::vector<QuantizedTensor> before = codesOf(t);
            const StepMetrics m = t.step();
            const std::vector<QuantizedTensor> after = codesOf(t);
            const ParamLayout& L = t.model().layout();
            int64_t flips = 0, byScale = 0, total = 0;
            for (int i = 0; i < L.count(); ++i) {
                const QuantizedTensor& a = after[size_t(i)];
                if (a.levels == QuantLevels::None) continue;
                const float* w = t.parameters().data() + L[i].offset;
                int64_t f = 0, s = 0;
                for (size_t j = 0; j < a.codes.size(); ++j) {
                    if (a.codes[j] == before[size_t(i)].codes[j]) continue;
                    ++f;
                    const float oldScale = before[size_t(i)].rowScale(int64_t(j) % a.rows);
                    s += codeAt(w[j], oldScale, codeLimit(a.levels)) == before[size_t(i)].codes[j];
                }
                QCOMPARE(t.lastFlips()[size_t(i)].total(), f);
                QCOMPARE(t.lastFlips()[size_t(i)].scale, s);
                const WeightMap map = t.weightMap(i);
                int64_t marked = 0;
                for (size_t j = 0; j < map.lastFlip.size(); ++j) marked += map.lastFlip[j] == m.step;
                QCOMPARE(marked, f);
                flips += f;
                byScale += s;
                total += L[i].size();
            }
            QCOMPARE(m.code_flips, double(flips) / double(total));
            QCOMPARE(m.code_flips_scale, double(byScale) / double(total));
            flippedSteps += flips > 0;
            scaleFlips += byScale;
        }
        QVERIFY2(flippedSteps > 20, "training flips codes at most steps");
        QVERIFY2(scaleFlips > 0, "some flips come from the scale");
    }

    void noFlipsWithoutQuantization() {
        Config c = spirals(5);
        c.quant.weights = "none";
        Trainer t(c);
        const StepMetrics m = t.step();
        QVERIFY(std::isnan(m.code_flips) && std::isnan(m.code_flips_scale));
        QVERIFY(t.weightMap(0).codes.empty());
    }

    // The weight map is the model's own state: latent = parameters, codes = the quantized
    // tensor's codes, scales = its row scales.
    void weightMapIsTheTrainersState() {
        Trainer t(spirals(8));
        for (int s = 0; s < 8; ++s) t.step();
        const ParamLayout& L = t.model().layout();
        int maps = 0;
        for (int i = 0; i < L.count(); ++i) {
            if (L[i].rows < 2 || L[i].cols < 2) {
                QVERIFY_THROWS_EXCEPTION(Error, t.weightMap(i));
                continue;
            }
            const WeightMap m = t.weightMap(i);
            const QuantizedTensor& q = t.quantState().tensors[size_t(i)];
            QCOMPARE(m.name, L[i].name);
            QCOMPARE(m.step, int64_t(8));
            QVERIFY(std::equal(m.latent.begin(), m.latent.end(), t.parameters().begin() + L[i].offset));
            QCOMPARE(m.codes, q.codes);
            QCOMPARE(m.rowScale.size(), size_t(q.rowScale.size()));
            for (int64_t r = 0; r < q.rowScale.size(); ++r) QCOMPARE(m.rowScale[size_t(r)], q.rowScale(r));
            ++maps;
        }
        QVERIFY(maps >= 3);  // the MLP's three matrices, quantized or not
        QVERIFY_THROWS_EXCEPTION(Error, t.weightMap(L.count()));
    }

    // Weights snapshots add up the flips of the steps since the previous one.
    void snapshotsSumTheFlips() {
        Trainer t(spirals(20));
        t.takeSnapshots();
        std::vector<FlipCounts> sum(size_t(t.model().layout().count()));
        for (int s = 0; s < 10; ++s) {
            t.step();
            for (size_t i = 0; i < sum.size(); ++i) {
                sum[i].weight += t.lastFlips()[i].weight;
                sum[i].scale += t.lastFlips()[i].scale;
            }
        }
        const ParamLayout& L = t.model().layout();
        int seen = 0;
        for (const Snapshot& s : t.takeSnapshots()) {
            if (s.kind != "weights") continue;
            for (const auto& j : s.data["tensors"]) {
                if (!j["quantized"].get<bool>()) continue;
                int i = 0;
                while (L[i].name != j["name"].get<std::string>()) ++i;
                QCOMPARE(j["flips"][0].get<int64_t>(), sum[size_t(i)].weight);
                QCOMPARE(j["flips"][1].get<int64_t>(), sum[size_t(i)].scale);
                QCOMPARE(j["flip_steps"].get<int64_t>(), int64_t(10));
                QCOMPARE(j["flip_rate"].get<double>(),
                         double(sum[size_t(i)].total()) / (double(L[i].size()) * 10.0));
                ++seen;
            }
        }
        int quantizedMatrices = 0;
        for (int i = 0; i < L.count(); ++i)
            quantizedMatrices += L[i].quantized && L[i].rows > 1 && L[i].cols > 1;
        QVERIFY(quantizedMatrices >= 1);
        QCOMPARE(seen, quantizedMatrices);
    }

    // Steps taken stage by stage give the rows, parameters and snapshots of step(), bit for bit,
    // with the eight stages in order and the row only at the last one.
    void stagedStepsAreBitIdentical_data() {
        QTest::addColumn<QString>("preset");
        QTest::newRow("spirals") << "spirals";
        QTest::newRow("seed-linear") << "seed-linear";
    }
    void stagedStepsAreBitIdentical() {
        QFETCH(QString, preset);
        Config c = presetConfig(preset.toStdString());
        c.run.steps = 30;
        c.run.snapshot_every = 5;
        Trainer plain(c), staged(c);
        std::vector<std::string> a, b;
        std::vector<std::string> sa, sb;
        while (!plain.finished()) a.push_back(rowText(plain.step()));
        for (const Snapshot& s : plain.takeSnapshots()) sa.push_back(s.toJson().dump());
        int64_t step = 0;
        while (!staged.finished()) {
            ++step;
            if (step % 3 != 0) {  // every third step whole, the others in stages
                for (int k = 0; k < kStepStages; ++k) {
                    StepMetrics row;
                    row.step = -1;
                    const StageReport r = staged.stepStage(&row);
                    QCOMPARE(int(r.stage), k);
                    QCOMPARE(r.step, step);
                    QVERIFY(!r.title.empty() && !r.text.empty());
                    QCOMPARE(r.last, k == kStepStages - 1);
                    QCOMPARE(staged.midStep(), k != kStepStages - 1);
                    if (r.last) b.push_back(rowText(row));
                    else QCOMPARE(row.step, int64_t(-1));
                }
            } else {
                b.push_back(rowText(staged.step()));
            }
        }
        for (const Snapshot& s : staged.takeSnapshots()) sb.push_back(s.toJson().dump());
        QCOMPARE(b, a);
        QCOMPARE(sb, sa);
        QVERIFY(plain.parameters() == staged.parameters());
    }

    // What the stage reports say is the trainer's: the forward loss is the row's, the project
    // stage's cuts are the tensors the trust region shortened (never longer than their limit),
    // the requantize stage's flips are lastFlips().
    void stageReportsAgreeWithTheTrainer() {
        Config c = spirals(40);
        c.trust.radius = 0.002;  // small enough to bind
        Trainer t(c);
        for (int s = 0; s < 10; ++s) t.step();
        std::vector<StageReport> r;
        StepMetrics row;
        for (int k = 0; k < kStepStages; ++k) r.push_back(t.stepStage(&row));
        QCOMPARE(r[0].data["loss"].get<double>(), row.loss);
        QCOMPARE(r[1].data["grad_norm"].get<double>(), row.grad_norm);
        QCOMPARE(r[3].data["lr"].get<double>(), row.lr);
        const auto& project = r[4].data;
        QCOMPARE(project["constrained"].get<int>(), row.constrained);
        QVERIFY(row.constrained == 1);
        int cut = 0;
        for (const auto& j : project["tensors"]) {
            if (!j["cut"].get<bool>()) {
                QCOMPARE(j["after"].get<double>(), j["proposed"].get<double>());
                continue;
            }
            ++cut;
            QVERIFY(!j["limit"].is_null());
            QVERIFY(j["proposed"].get<double>() > j["limit"].get<double>());
            QVERIFY(j["after"].get<double>() <= j["limit"].get<double>() * (1 + 1e-6));
        }
        QCOMPARE(project["cut"].get<int>(), cut);
        QVERIFY(cut > 0);
        int64_t w = 0, s = 0;
        for (const FlipCounts& f : t.lastFlips()) w += f.weight, s += f.scale;
        QCOMPARE(r[6].data["flips_weight"].get<int64_t>(), w);
        QCOMPARE(r[6].data["flips_scale"].get<int64_t>(), s);
        QCOMPARE(r[6].data["code_flips"].get<double>(), row.code_flips);
    }

    // Stopping a run while a step is under way in stages finishes that step first: metrics.csv
    // holds whole steps, and the checkpoint continues them bit for bit.
    void stopMidStepWritesWholeSteps() {
        TempDir dir;
        const std::string a = (dir.path / "a").string(), b = (dir.path / "b").string();
        Config c = spirals(30);
        c.run.checkpoint_every = 1000;  // only the stop writes one
        {
            RunSession s(c, a);
            for (int k = 0; k < 5; ++k) s.step();
            for (int k = 0; k < 3; ++k) s.stepStage();
            QVERIFY(s.trainer().midStep());
            s.stop();
            QVERIFY(!s.trainer().midStep());
            QCOMPARE(s.trainer().stepsDone(), int64_t(6));
        }
        QCOMPARE(readRunDirectory(a).metrics.size(), size_t(6));
        std::vector<std::string> resumed, plain;
        {
            auto s = RunSession::resume(a);
            while (!s->finished()) resumed.push_back(rowText(s->step()));
        }
        Trainer t(c);
        for (int k = 0; k < 6; ++k) t.step();
        while (!t.finished()) plain.push_back(rowText(t.step()));
        QCOMPARE(resumed, plain);
        Trainer mid(c);
        mid.stepStage();
        QVERIFY_THROWS_EXCEPTION(Error, mid.saveState());
    }
};

QTEST_APPLESS_MAIN(TestCodeFlips)
#include "test_code_flips.moc"
