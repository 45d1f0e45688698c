// Checkpoints and resume: a trainer restored from a checkpoint continues with the same rows, bit
// for bit, as one that was never interrupted (every component on: data and parameter clusters,
// the auxiliary NN, TernGrad updates, the GPT's text samples); the file round-trips, damaged or
// foreign checkpoints are refused by name; a run session stopped or left without a summary is
// resumed into the same metrics.csv an uninterrupted run writes.
#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "core/base/errors.h"
#include "core/base/file_io.h"
#include "core/config/config.h"
#include "core/train/checkpoint.h"
#include "core/exp/run_session.h"
#include "core/train/trainer.h"

using namespace h158;
namespace fs = std::filesystem;

namespace {

std::string rowWithoutTime(StepMetrics m) {
    m.elapsed_ms = 0;
    return metricsCsvRow(m);
}

std::vector<std::string> stepTo(Trainer& t, int64_t until, std::vector<Snapshot>* snaps = nullptr) {
    std::vector<std::string> out;
    while (!t.finished() && t.stepsDone() < until) {
        out.push_back(rowWithoutTime(t.step()));
        for (auto& s : t.takeSnapshots())
            if (snaps) snaps->push_back(s);
    }
    return out;
}

std::vector<std::string> snapshotLines(const std::vector<Snapshot>& s) {
    std::vector<std::string> out;
    for (const auto& x : s) out.push_back(x.toJson().dump());
    return out;
}

// Small configurations of every kind with every hybrid component on.
Config smallConfig(const std::string& preset) {
    Config c = presetConfig(preset);
    c.run.steps = 40;
    c.run.eval_every = 7;
    c.run.snapshot_every = 9;
    c.quant.updates = preset == "seed-linear";  // TernGrad's random stream too
    c.cluster.refresh_every = 10;
    c.cluster.param_refresh_every = 6;
    if (c.model.kind == "gpt") {
        c.model.layers = 1, c.model.d_model = 32, c.model.context = 24, c.run.batch_size = 3;
        c.sample.every = 10, c.sample.tokens = 12;
    }
    return c;
}

std::vector<std::string> csvWithoutTime(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    std::string line;
    std::getline(in, line);
    out.push_back(line);
    while (std::getline(in, line)) out.push_back(rowWithoutTime(parseMetricsCsvRow(line)));
    return out;
}

}  // namespace

class TestCheckpoint : public QObject {
    Q_OBJECT
  private slots:
    void restoredTrainerContinuesBitForBit_data() {
        QTest::addColumn<QString>("preset");
        QTest::addColumn<int>("at");
        QTest::newRow("seed-linear (param clusters, TernGrad), step 13") << "seed-linear" << 13;
        QTest::newRow("seed-linear at a re-clustering step") << "seed-linear" << 30;
        QTest::newRow("spirals (mlp, data clusters)") << "spirals" << 17;
        QTest::newRow("gpt-s small (clusters, aux, samples)") << "gpt-s" << 20;
    }
    void restoredTrainerContinuesBitForBit() {
        QFETCH(QString, preset);
        QFETCH(int, at);
        const Config c = smallConfig(preset.toStdString());
        Trainer a(c);
        a.takeSnapshots();
        stepTo(a, at);
        const StateArchive state = a.saveState();
        std::vector<Snapshot> snapsA, snapsB;
        const auto restA = stepTo(a, c.run.steps, &snapsA);

        Trainer b(c);
        b.restoreState(state);
        QCOMPARE(b.stepsDone(), int64_t(at));
        QVERIFY(b.takeSnapshots().empty());  // the step-0 snapshots belong to the start
        const auto restB = stepTo(b, c.run.steps, &snapsB);
        QCOMPARE(restB, restA);
        QCOMPARE(snapshotLines(snapsB), snapshotLines(snapsA));
        QVERIFY(b.parameters() == a.parameters());
        nlohmann::json fa = a.summary().toJson(), fb = b.summary().toJson();
        fa.erase("wall_seconds"), fb.erase("wall_seconds");
        QCOMPARE(QString::fromStdString(fb.dump()), QString::fromStdString(fa.dump()));
    }

    void elapsedTimeGoesOn() {
        Config c = smallConfig("seed-linear");
        Trainer a(c);
        stepTo(a, 5);
        QThread::msleep(50);
        const double before = a.step().elapsed_ms;
        Trainer b(c);
        b.restoreState(a.saveState());
        QVERIFY2(b.step().elapsed_ms >= before, "elapsed_ms restarts after a resume");
    }

    void fileRoundTripAndRefusals() {
        QTemporaryDir tmp;
        const std::string path = tmp.filePath("ck.safetensors").toStdString();
        const Config c = smallConfig("gpt-s");
        Trainer a(c);
        stepTo(a, 10);
        writeCheckpoint(path, a);
        QCOMPARE(checkpointStep(path), int64_t(10));
        const auto restA = stepTo(a, c.run.steps);
        {
            Trainer b(c);
            QCOMPARE(restoreCheckpoint(path, b), int64_t(10));
            QCOMPARE(stepTo(b, c.run.steps), restA);
        }
        {  // another configuration: the first setting that differs is named
            Config other = c;
            other.optim.lr *= 2;
            Trainer b(other);
            try {
                restoreCheckpoint(path, b);
                QFAIL("a checkpoint of another configuration was accepted");
            } catch (const FileError& e) {
                QVERIFY2(std::string(e.what()).find("optim/lr") != std::string::npos ||
                             std::string(e.what()).find("optim.lr") != std::string::npos,
                         e.what());
            }
        }
        {  // one flipped byte in the values: refused as damaged
            std::string bytes = readFile(path);
            bytes[bytes.size() - 100] ^= 0x10;
            const std::string bad = tmp.filePath("bad.safetensors").toStdString();
            writeFileAtomically(bad, bytes);
            Trainer b(c);
            try {
                restoreCheckpoint(bad, b);
                QFAIL("a damaged checkpoint was accepted");
            } catch (const FileError& e) {
                QVERIFY2(std::string(e.what()).find("damaged") != std::string::npos, e.what());
                QVERIFY2(std::string(e.what()).find(bad) != std::string::npos, e.what());
            }
            QCOMPARE(checkpointStep(tmp.filePath("missing").toStdString()), int64_t(0));
        }
        {  // a completed run has nothing to continue
            QVERIFY(a.finished());
            QVERIFY_THROWS_EXCEPTION(Error, a.saveState());
        }
    }

    // A stopped session keeps a checkpoint at its last step; a killed one (no summary, rows past
    // the last checkpoint) is continued from its last checkpoint; both end with the metrics.csv
    // and snapshots.jsonl of a run never interrupted.
    void resumedSessionWritesTheSameFiles() {
        QTemporaryDir tmp;
        Config c = smallConfig("spirals");
        c.run.checkpoint_every = 5;
        c.run.record_batches = true;
        const std::string whole = tmp.filePath("whole").toStdString();
        {
            RunSession s(c, whole);
            while (!s.finished()) s.step();
            s.finish();
        }
        QVERIFY(!fs::exists(fs::path(whole) / kCheckpointFile));  // completed: removed

        const std::string stopped = tmp.filePath("stopped").toStdString();
        {
            RunSession s(c, stopped);
            for (int i = 0; i < 13; ++i) s.step();
            s.stop();
        }
        QCOMPARE(checkpointStep((fs::path(stopped) / kCheckpointFile).string()), int64_t(13));
        QCOMPARE(overviewRunDirectory(stopped).checkpointStep, int64_t(13));

        const std::string killed = tmp.filePath("killed").toStdString();
        {
            RunSession s(c, killed);
            for (int i = 0; i < 23; ++i) s.step();
            // What a kill leaves: no summary, rows after the checkpoint at 20, a partial line.
            fs::copy(killed, tmp.filePath("killed-copy").toStdString(), fs::copy_options::recursive);
        }
        const std::string copy = tmp.filePath("killed-copy").toStdString();
        std::ofstream(fs::path(copy) / "metrics.csv", std::ios::app) << "24,0.1";
        QCOMPARE(overviewRunDirectory(copy).status, std::string("interrupted"));
        QCOMPARE(overviewRunDirectory(copy).checkpointStep, int64_t(20));

        for (const std::string& dir : {stopped, copy}) {
            auto s = RunSession::resume(dir);
            while (!s->finished()) s->step();
            s->finish();
            QCOMPARE(csvWithoutTime(dir + "/metrics.csv"), csvWithoutTime(whole + "/metrics.csv"));
            QCOMPARE(readFile(dir + "/snapshots.jsonl"), readFile(whole + "/snapshots.jsonl"));
            QCOMPARE(readFile(dir + "/batches.csv"), readFile(whole + "/batches.csv"));
            QVERIFY(fs::exists(fs::path(dir) / "weights.h158"));
            QCOMPARE(overviewRunDirectory(dir).status, std::string("completed"));
            QVERIFY_THROWS_EXCEPTION(FileError, RunSession::resume(dir));  // nothing to continue
        }
    }

    void resumeRefusesWithoutChangingFiles() {
        QTemporaryDir tmp;
        Config c = smallConfig("seed-linear");
        c.run.checkpoint_every = 0;
        const std::string dir = tmp.filePath("run").toStdString();
        {
            RunSession s(c, dir);
            for (int i = 0; i < 4; ++i) s.step();
            s.stop();
        }
        const std::string before = readFile(dir + "/metrics.csv");
        try {
            RunSession::resume(dir);
            QFAIL("resumed without a checkpoint");
        } catch (const FileError& e) {
            QVERIFY2(std::string(e.what()).find("no checkpoint") != std::string::npos, e.what());
        }
        QCOMPARE(readFile(dir + "/metrics.csv"), before);
        QVERIFY(fs::exists(fs::path(dir) / "summary.json"));
    }
};

QTEST_APPLESS_MAIN(TestCheckpoint)
#include "test_checkpoint.moc"
