// Comparing runs (core/exp/run_compare.h): the settings that differ, labels and their collision
// rule, seed groups of a sweep's expansion, band statistics against hand-computed values, mean ±
// std known answers and a run's figures read from a directory.
#include <QtTest>
#include <cmath>
#include <fstream>

#include "core/base/errors.h"
#include "core/config/config.h"
#include "core/train/metrics.h"
#include "core/exp/run_compare.h"
#include "core/exp/sweep.h"

using namespace h158;

namespace {

using Keys = std::vector<std::string>;

Config with(std::initializer_list<const char*> settings) {
    Config c = presetConfig("seed-linear");
    for (const char* s : settings) applySetting(c, s);
    return c;
}

StepMetrics row(int64_t step, double loss, double val = kNoValue) {
    StepMetrics m;
    m.step = step;
    m.loss = loss;
    m.val_loss = val;
    return m;
}

void compareSeries(const std::vector<double>& got, const std::vector<double>& want,
                   const char* what) {
    QVERIFY2(got.size() == want.size(), what);
    for (size_t i = 0; i < want.size(); ++i) {
        const QString msg =
            QString("%1[%2]: %3, want %4").arg(what).arg(i).arg(got[i]).arg(want[i]);
        if (std::isnan(want[i]))
            QVERIFY2(std::isnan(got[i]), qPrintable(msg));
        else
            QVERIFY2(std::abs(got[i] - want[i]) < 1e-12, qPrintable(msg));
    }
}

void writeText(const QString& path, const std::string& text) {
    std::ofstream out(path.toStdString(), std::ios::binary);
    out << text;
}

}  // namespace

class TestRunCompare : public QObject {
    Q_OBJECT

  private slots:
    // Only optim.lr and trust.enabled change results; run.name and run.threads differ too and are
    // left out; 3e-3 and 0.003 are one value.
    void differingKeysInSchemaOrder() {
        const std::vector<Config> cs = {
            with({"optim.lr=3e-3", "run.name=a", "run.threads=1"}),
            with({"optim.lr=0.01", "run.name=b", "run.threads=2"}),
            with({"optim.lr=0.003", "trust.enabled=false", "run.name=c", "run.threads=1"})};
        QCOMPARE(differingKeys(cs), (Keys{"trust.enabled", "optim.lr"}));
        QCOMPARE(differingKeys({cs[0], cs[0]}), Keys{});
        QCOMPARE(differingKeys({with({"optim.lr=3e-3"}), with({"optim.lr=0.003"})}), Keys{});
        QCOMPARE(differingKeys({cs[0]}), Keys{});
        QCOMPARE(differingKeys({}), Keys{});

        const std::vector<Config> seeds = {with({"run.seed=1", "run.snapshot_every=5"}),
                                           with({"run.seed=2", "run.checkpoint_every=7"})};
        QCOMPARE(differingKeys(seeds), Keys{"run.seed"});
        QCOMPARE(differingKeys(seeds, false), Keys{});
    }

    void labels() {
        const Config c = with({"optim.lr=3e-3", "trust.enabled=false", "aux.lr=2e-3"});
        QCOMPARE(differenceLabel(c, {"trust.enabled", "optim.lr"}),
                 std::string("enabled=off, lr=0.003"));
        QCOMPARE(differenceLabel(with({}), {"trust.enabled", "run.steps"}),
                 std::string("enabled=on, steps=300"));
        // optim.lr and aux.lr share "lr": both named in full, the others stay short
        const Config d = with({});
        const Keys keys = differingKeys({c, d});
        QCOMPARE(keys, (Keys{"aux.lr", "trust.enabled", "optim.lr"}));
        QCOMPARE(differenceLabel(c, keys),
                 std::string("aux.lr=0.002, enabled=off, optim.lr=0.003"));
        QCOMPARE(differenceLabel(c, {}), std::string());
        QCOMPARE(differenceLabel(with({"data.csv_file=", "data.kind=moons"}), {"data.csv_file"}),
                 std::string("csv_file=\"\""));
        QVERIFY_THROWS_EXCEPTION(ConfigError, differenceLabel(c, {"optim.nope"}));
    }

    // A 2 x 2 x 3 sweep: 4 groups of 3 consecutive runs (seeds innermost), labelled by the grid.
    void seedGroupsOfASweep() {
        SweepSpec spec;
        spec.preset = "seed-linear";
        spec.grid = {parseGridOption("optim.lr=1e-2,0.003"),
                     parseGridOption("trust.enabled=true,false")};
        spec.seeds = 3;
        const Sweep s = expandSweep(spec);
        std::vector<Config> cs;
        for (const auto& r : s.runs) cs.push_back(s.runConfig(r));
        QCOMPARE(cs.size(), size_t(12));
        const std::vector<RunGroup> g = seedGroups(cs);
        QCOMPARE(g.size(), size_t(4));
        const char* want[] = {"enabled=on, lr=0.01", "enabled=off, lr=0.01", "enabled=on, lr=0.003",
                              "enabled=off, lr=0.003"};
        for (size_t i = 0; i < 4; ++i) {
            QCOMPARE(g[i].members, (std::vector<size_t>{3 * i, 3 * i + 1, 3 * i + 2}));
            QCOMPARE(g[i].label, std::string(want[i]));
        }

        // first appearance decides the order; a neutral key (threads) does not split a group
        std::vector<Config> mixed = {cs[9], cs[0], cs[10], cs[1]};
        mixed[2].run.threads = 3;
        const std::vector<RunGroup> m = seedGroups(mixed);
        QCOMPARE(m.size(), size_t(2));
        QCOMPARE(m[0].members, (std::vector<size_t>{0, 2}));
        QCOMPARE(m[1].members, (std::vector<size_t>{1, 3}));
        QCOMPARE(m[0].label, std::string("enabled=off, lr=0.003"));

        // one group: nothing tells it apart; a lone run is a group of one
        const std::vector<RunGroup> one = seedGroups({cs[0], cs[1], cs[2]});
        QCOMPARE(one.size(), size_t(1));
        QCOMPARE(one[0].label, std::string());
        const std::vector<RunGroup> lone = seedGroups({cs[0], cs[1], cs[5]});
        QCOMPARE(lone.size(), size_t(2));
        QCOMPARE(lone[1].members, std::vector<size_t>{2});
        QCOMPARE(lone[1].label, std::string("enabled=off"));
        QVERIFY(seedGroups({}).empty());
    }

    // Three runs of unequal length, one with a NaN loss: each step over the runs with a value.
    void bandStatistics() {
        const std::vector<StepMetrics> a = {row(1, 1), row(2, 2, 0.5), row(3, 3), row(4, 4, 0.7)};
        const std::vector<StepMetrics> b = {row(1, 3), row(2, kNoValue, 0.9), row(3, 5, 1.1)};
        const std::vector<StepMetrics> c = {row(1, 5), row(2, 8, 1.0)};
        const std::vector<const std::vector<StepMetrics>*> runs = {&a, nullptr, &b, &c};

        const BandSeries loss = groupBand(runs, &StepMetrics::loss);
        QCOMPARE(loss.runs, 3);
        compareSeries(loss.x, {1, 2, 3, 4}, "x");
        compareSeries(loss.mean, {3, 5, 4, 4}, "mean");
        compareSeries(loss.lo, {1, 2, 3, 4}, "lo");
        compareSeries(loss.hi, {5, 8, 5, 4}, "hi");
        compareSeries(loss.std, {2, std::sqrt(18.0), std::sqrt(2.0), kNoValue}, "std");
        QCOMPARE(loss.count, (std::vector<int>{3, 2, 2, 1}));

        // validation loss is on the validation rows only: points at steps 2, 3 (b's last), 4
        const BandSeries val = groupBand(runs, &StepMetrics::val_loss);
        compareSeries(val.x, {2, 3, 4}, "val x");
        compareSeries(val.mean, {0.8, 1.1, 0.7}, "val mean");
        compareSeries(val.lo, {0.5, 1.1, 0.7}, "val lo");
        compareSeries(val.hi, {1.0, 1.1, 0.7}, "val hi");
        compareSeries(val.std, {std::sqrt(0.07), kNoValue, kNoValue}, "val std");
        const BandSeries valOnly = groupBand(runs, &StepMetrics::val_loss, true);
        compareSeries(valOnly.mean, val.mean, "val mean, validation rows");

        // the training loss at the validation steps (b's NaN at step 2 skipped)
        const BandSeries atVal = groupBand(runs, &StepMetrics::loss, true);
        compareSeries(atVal.x, {2, 3, 4}, "loss@val x");
        compareSeries(atVal.mean, {5, 5, 4}, "loss@val mean");
        QCOMPARE(atVal.count, (std::vector<int>{2, 1, 1}));

        const BandSeries none = groupBand({}, &StepMetrics::loss);
        QCOMPARE(none.runs, 0);
        QVERIFY(none.x.empty());
    }

    // The plots' bands: curves aligned by x, the same statistics as groupBand's.
    void bandOfDerivedCurves() {
        const BandSeries b = bandOfCurves({Curve{{1, 2, 3}, {1, 2, 3}},
                                           Curve{{1, 2}, {3, kNoValue}},
                                           Curve{{1, 2, 2.5}, {5, 8, 7}}});
        QCOMPARE(b.runs, 3);
        compareSeries(b.x, {1, 2, 2.5, 3}, "x");
        compareSeries(b.mean, {3, 5, 7, 3}, "mean");
        compareSeries(b.lo, {1, 2, 7, 3}, "lo");
        compareSeries(b.hi, {5, 8, 7, 3}, "hi");
        compareSeries(b.std, {2, std::sqrt(18.0), kNoValue, kNoValue}, "std");
        QCOMPARE(b.count, (std::vector<int>{3, 2, 1, 1}));
        // the same runs through groupBand and through curves of their loss agree
        const std::vector<StepMetrics> r1 = {row(1, 1), row(2, 2)}, r2 = {row(1, 3), row(2, 6)};
        const BandSeries g = groupBand({&r1, &r2}, &StepMetrics::loss);
        const BandSeries c = bandOfCurves({Curve{{1, 2}, {1, 2}}, Curve{{1, 2}, {3, 6}}});
        compareSeries(c.mean, g.mean, "curves vs group mean");
        compareSeries(c.std, g.std, "curves vs group std");
    }

    void meanStdKnownAnswers() {
        const double inf = std::numeric_limits<double>::infinity();
        const MeanStd s = meanStd({2, 4, kNoValue, 4, 4, 5, inf, 5, 7, -inf, 9});
        QCOMPARE(s.count, 8);
        QCOMPARE(s.mean, 5.0);
        QVERIFY(std::abs(s.std - std::sqrt(32.0 / 7.0)) < 1e-14);  // sample std (n - 1)
        const MeanStd one = meanStd({kNoValue, 1.5});
        QCOMPARE(one.count, 1);
        QCOMPARE(one.mean, 1.5);
        QVERIFY(std::isnan(one.std));
        const MeanStd empty = meanStd({kNoValue});
        QCOMPARE(empty.count, 0);
        QVERIFY(std::isnan(empty.mean) && std::isnan(empty.std));
        // far from zero: two passes keep the spread exact
        const MeanStd big = meanStd({1e9 + 1, 1e9 + 2, 1e9 + 3});
        QCOMPARE(big.std, 1.0);
    }

    void runResultFromDirectory() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString dir = tmp.filePath("run");
        QVERIFY(QDir().mkpath(dir));
        Config cfg =
            with({"model.kind=gpt", "run.batch_size=4", "model.context=16", "data.kind=text"});
        saveConfigFile(cfg, (dir + "/config.json").toStdString());
        writeText(dir + "/metrics.csv", "step,loss\n");
        writeText(dir + "/summary.json",
                  R"({"status": "completed", "steps": 10, "final_loss": 0.5, "final_val_loss": 0.6,
                      "constraint_activation_rate": 0.25, "mean_quant_error": 0.125,
                      "wall_seconds": 2})");
        const SweepRunResult r = readRunResult(dir.toStdString());
        QCOMPARE(r.status, std::string("completed"));
        QCOMPARE(r.steps, int64_t(10));
        QCOMPARE(r.finalLoss, 0.5);
        QCOMPARE(r.finalValLoss, 0.6);
        QVERIFY(std::isnan(r.finalValAccuracy));
        QCOMPARE(r.constraintActivationRate, 0.25);
        QCOMPARE(r.meanQuantError, 0.125);
        QCOMPARE(r.wallSeconds, 2.0);
        QCOMPARE(r.tokensPerSecond, 10.0 * 4 * 16 / 2);

        writeText(dir + "/summary.json", "{\"status\": 3}");
        const SweepRunResult bad = readRunResult(dir.toStdString());
        QCOMPARE(bad.status, std::string("unreadable"));
        QVERIFY2(bad.problem.find("summary.json") != std::string::npos, bad.problem.c_str());

        QCOMPARE(readRunResult(tmp.filePath("none").toStdString()).status, std::string("pending"));
    }
    // The runs table: dir, seed group, the differing keys, then the figures; quoted where needed.
    void runsTable() {
        const std::vector<Config> cs = {with({"optim.lr=0.01", "run.seed=1"}),
                                        with({"optim.lr=0.01", "run.seed=2"}),
                                        with({"optim.lr=0.003", "run.seed=1"})};
        SweepRunResult done;
        done.status = "completed";
        done.steps = 300;
        done.finalLoss = 0.5;
        done.wallSeconds = 1.25;
        const std::string csv = runsTableCsv({"a", "b,2", "c"}, cs, {done, SweepRunResult{}});
        QCOMPARE(csv, std::string("dir,group,run.seed,optim.lr,status,steps,final_loss,"
                                  "final_val_loss,final_val_accuracy,constraint_activation_rate,"
                                  "mean_quant_error,wall_seconds,tokens_per_s\n"
                                  "a,1,1,0.01,completed,300,0.5,,,,,1.25,\n"
                                  "\"b,2\",1,2,0.01,pending,,,,,,,,\n"
                                  "c,2,1,0.003,pending,,,,,,,,\n"));
        QVERIFY_THROWS_EXCEPTION(Error, runsTableCsv({"a"}, cs, {}));
    }
};

QTEST_GUILESS_MAIN(TestRunCompare)
#include "test_run_compare.moc"
