// Intervening in a run (core/exp/events.h, fork.h): edits between steps give the rows their
// `--at` replay gives, bit for bit; a killed run with events resumes bit for bit; a key that
// cannot change during a run is refused by name and changes nothing; a fork with no change
// continues exactly as its parent, a fork with a change differs only after its step; a step
// without a checkpoint is refused, listing those with one, and no directory is written; kept
// checkpoints thin out but span the run.
#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/base/errors.h"
#include "core/base/file_io.h"
#include "core/config/config.h"
#include "core/exp/events.h"
#include "core/exp/fork.h"
#include "core/exp/run_session.h"
#include "core/train/checkpoint.h"

using namespace h158;
namespace fs = std::filesystem;

namespace {

// spirals (mlp, data clusters, the auxiliary NN, the trust region) made small.
Config smallConfig() {
    Config c = presetConfig("spirals");
    c.run.steps = 60;
    c.run.eval_every = 7;
    c.run.snapshot_every = 9;
    c.run.checkpoint_every = 10;
    c.data.samples = 512;
    c.cluster.refresh_every = 15;
    c.aux.warmup = 12;  // switched on again at 31, the NN is used from 43: after the checkpoint at 40
    return c;
}

// metrics.csv rows without elapsed_ms (the one column that measures time), from step `after` on.
std::vector<std::string> rows(const std::string& dir, int64_t after = 0) {
    std::ifstream in(fs::path(dir) / "metrics.csv");
    std::vector<std::string> out;
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        StepMetrics m = parseMetricsCsvRow(line);
        m.elapsed_ms = 0;
        if (m.step > after) out.push_back(metricsCsvRow(m));
    }
    return out;
}

void runToEnd(RunSession& s) {
    while (!s.finished()) s.step();
    s.finish();
}

// The edits the tests make: every kind of component they reach.
const std::vector<std::string> kEdits = {"12:optim.lr=0.004",     "12:trust.radius=0.08",
                                         "20:aux.enabled=false", "25:quant.updates=true",
                                         "31:aux.enabled=true",  "33:optim.schedule=cosine",
                                         "40:trust.enabled=false", "44:optim.weight_decay=0.01",
                                         "47:aux.max_multiplier=3"};

std::vector<RunEvent> parsed(const std::vector<std::string>& at) {
    std::vector<RunEvent> out;
    for (const auto& a : at) out.push_back(parseAtOption(a));
    return out;
}

std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

}  // namespace

class TestEvents : public QObject {
    Q_OBJECT
  private slots:
    void liveKeysAndRefusals() {
        const Config c = smallConfig();
        QVERIFY(findField("optim.lr")->live);
        QVERIFY(!findField("model.hidden")->live);
        QVERIFY(!findField("run.seed")->live);
        std::string e = errorOf([&] { liveEdit(c, "model.hidden", "8", 0); });
        QVERIFY2(e.find("model.hidden") != std::string::npos && e.find("cannot change") != std::string::npos, e.c_str());
        e = errorOf([&] { liveEdit(c, "optim.lr", "-1", 0); });
        QVERIFY2(e.find("optim.lr") != std::string::npos, e.c_str());
        e = errorOf([&] { liveEdit(c, "run.steps", "30", 30); });
        QVERIFY2(e.find("run.steps") != std::string::npos && e.find("30 are done") != std::string::npos, e.c_str());
        e = errorOf([&] { liveEdit(c, "optim.lrr", "0.1", 0); });
        QVERIFY2(e.find("optim.lr'") != std::string::npos, e.c_str());  // did you mean
        QCOMPARE(liveEdit(c, "optim.lr", "0.5", 0).optim.lr, 0.5);

        e = errorOf([] { parseAtOption("optim.lr=0.1"); });
        QVERIFY2(e.find("STEP:key=value") != std::string::npos, e.c_str());
        e = errorOf([] { parseAtOption("-3:optim.lr=0.1"); });
        QVERIFY2(e.find("not a step") != std::string::npos, e.c_str());
        e = errorOf([] { parseAtOption("5:data.kind=xor"); });
        QVERIFY2(e.find("data.kind") != std::string::npos, e.c_str());
        e = errorOf([&] { scheduleEvents(c, parsed({"60:optim.lr=0.1"})); });
        QVERIFY2(e.find("step 60") != std::string::npos && e.find("ends") != std::string::npos, e.c_str());
        const RunEvent ev = parseAtOption("300:optim.lr=3e-3");
        QCOMPARE(ev.step, int64_t(300));
        QCOMPARE(ev.valueText(), std::string("0.003"));
    }

    // What the workbench does (edits at step boundaries, one made mid-step in stages) and its
    // replay with --at give the same rows, bit for bit, and the same events.jsonl.
    void editsEqualTheirReplay() {
        QTemporaryDir tmp;
        const Config c = smallConfig();
        const std::string live = tmp.filePath("live").toStdString();
        {
            RunSession s(c, live);
            for (const RunEvent& e : parsed(kEdits)) {
                while (s.trainer().stepsDone() < e.step) s.step();
                s.edit(e.key, e.valueText());
            }
            // One made while a step is under way in stages: it waits for the step's end.
            s.stepStage();
            const RunEvent late = s.edit("optim.lr", "0.002");
            QCOMPARE(late.step, s.trainer().stepsDone() + 1);
            QCOMPARE(s.trainer().config().optim.lr, 0.004);  // not yet
            runToEnd(s);
            QCOMPARE(s.eventsApplied(), int64_t(kEdits.size() + 1));
        }
        std::vector<std::string> at = kEdits;
        const std::vector<RunEvent> liveEvents = readEvents(live);
        at.push_back(std::to_string(liveEvents.back().step) + ":optim.lr=0.002");
        const std::string replay = tmp.filePath("replay").toStdString();
        {
            RunSession s(c, replay, parsed(at));
            runToEnd(s);
        }
        const std::string plain = tmp.filePath("plain").toStdString();
        {
            RunSession s(c, plain);
            runToEnd(s);
        }
        QCOMPARE(rows(replay), rows(live));
        QVERIFY(rows(plain) != rows(live));
        QCOMPARE(rows(plain, 0).front(), rows(live).front());  // the same until the first edit
        const std::vector<RunEvent> replayed = readEvents(replay);
        QCOMPARE(replayed.size(), liveEvents.size());
        for (size_t i = 0; i < replayed.size(); ++i) {
            QCOMPARE(replayed[i].step, liveEvents[i].step);
            QCOMPARE(replayed[i].key, liveEvents[i].key);
            QCOMPARE(replayed[i].before.dump(), liveEvents[i].before.dump());
            QCOMPARE(replayed[i].after.dump(), liveEvents[i].after.dump());
            QCOMPARE(liveEvents[i].by, std::string("workbench"));
            QCOMPARE(replayed[i].by, std::string("--at"));
        }
        QCOMPARE(liveEvents[0].describe(), std::string("step 12: optim.lr 0.01 -> 0.004 (workbench)"));
        const RunRecord rec = readRunDirectory(live);
        QCOMPARE(rec.events.size(), liveEvents.size());
        QCOMPARE(overviewRunDirectory(live).events, int64_t(liveEvents.size()));
    }

    void refusedEditChangesNothing() {
        QTemporaryDir tmp;
        const std::string dir = tmp.filePath("r").toStdString();
        RunSession s(smallConfig(), dir);
        for (int i = 0; i < 5; ++i) s.step();
        const Config before = s.trainer().config();
        const std::string e = errorOf([&] { s.edit("model.depth", "3"); });
        QVERIFY2(e.find("model.depth") != std::string::npos, e.c_str());
        QVERIFY(!fs::exists(fs::path(dir) / kEventsFile));
        QCOMPARE(toJson(s.trainer().config()).dump(), toJson(before).dump());
        QVERIFY_THROWS_EXCEPTION(ConfigError, s.edit("optim.lr", "nan"));
        QVERIFY(s.events().empty());
    }

    // A run with events killed between checkpoints resumes into the rows of one never killed,
    // whichever side of an edit the checkpoint and the kill fall.
    void killedRunWithEventsResumesBitForBit_data() {
        QTest::addColumn<int>("killAt");
        QTest::newRow("checkpoint 20 before the edit at 20") << 23;
        QTest::newRow("checkpoint 30, aux off, switched on at 31") << 36;
        QTest::newRow("between checkpoints, events ahead") << 44;
    }
    void killedRunWithEventsResumesBitForBit() {
        QFETCH(int, killAt);
        QTemporaryDir tmp;
        const Config c = smallConfig();
        const std::string whole = tmp.filePath("whole").toStdString();
        {
            RunSession s(c, whole, parsed(kEdits));
            runToEnd(s);
        }
        const std::string killed = tmp.filePath("killed").toStdString();
        const std::string copy = tmp.filePath("copy").toStdString();
        {
            RunSession s(c, killed, parsed(kEdits));
            while (s.trainer().stepsDone() < killAt) s.step();
            fs::copy(killed, copy, fs::copy_options::recursive);  // what a kill -9 leaves
        }
        QCOMPARE(overviewRunDirectory(copy).status, std::string("interrupted"));
        auto s = RunSession::resume(copy);
        QCOMPARE(s->resumedAt(), int64_t(killAt / 10 * 10));
        runToEnd(*s);
        QCOMPARE(rows(copy), rows(whole));
        QCOMPARE(readFile(copy + "/snapshots.jsonl"), readFile(whole + "/snapshots.jsonl"));

        // A stopped run edited while stopped at its last step (the checkpoint holds the edit).
        const std::string stopped = tmp.filePath("stopped").toStdString();
        {
            RunSession t(c, stopped);
            while (t.trainer().stepsDone() < 12) t.step();
            t.edit("optim.lr", "0.004");
            t.stop();
        }
        const std::string straight = tmp.filePath("straight").toStdString();
        {
            RunSession t(c, straight, parsed({"12:optim.lr=0.004"}));
            runToEnd(t);
        }
        auto r = RunSession::resume(stopped);
        QCOMPARE(r->eventsApplied(), int64_t(1));
        runToEnd(*r);
        QCOMPARE(rows(stopped), rows(straight));
    }

    void forkContinuesOrDiffersOnlyAfter() {
        QTemporaryDir tmp;
        const Config c = smallConfig();
        const std::string parent = tmp.filePath("parent").toStdString();
        {
            RunSession s(c, parent, parsed({"12:optim.lr=0.004", "40:trust.enabled=false"}));
            runToEnd(s);
        }
        QCOMPARE(checkpointSteps(parent), (std::vector<int64_t>{10, 20, 30, 40, 50}));

        const std::string same = tmp.filePath("same").toStdString();
        {
            auto s = forkRun(parent, 20, {}, same);
            QCOMPARE(s->trainer().stepsDone(), int64_t(20));
            runToEnd(*s);
        }
        QCOMPARE(rows(same), rows(parent, 20));
        {  // its snapshots start with the state it started from, at step 20
            std::ifstream in(fs::path(same) / "snapshots.jsonl");
            std::set<std::string> kinds;
            std::string line;
            while (std::getline(in, line)) {
                const nlohmann::json j = nlohmann::json::parse(line);
                if (j["step"] != 20) break;
                kinds.insert(j["kind"].get<std::string>());
            }
            QCOMPARE(kinds, (std::set<std::string>{"boundary", "clusters", "network", "weights"}));
        }
        const std::optional<ForkInfo> info = readForkInfo(same);
        QVERIFY(info);
        QCOMPARE(info->parent, fs::absolute(parent).lexically_normal().string());
        QCOMPARE(info->step, int64_t(20));
        QCOMPARE(overviewRunDirectory(same).forkStep, int64_t(20));
        QCOMPARE(overviewRunDirectory(same).status, std::string("completed"));
        QCOMPARE(readRunDirectory(same).events.size(), size_t(1));  // the parent's edit at 40
        QCOMPARE(readRunDirectory(same).events[0].by, std::string("parent"));

        const std::string changed = tmp.filePath("changed").toStdString();
        {
            auto s = forkRun(parent, 30, {"optim.lr=0.02", "aux.enabled=false"}, changed);
            runToEnd(*s);
        }
        const std::vector<std::string> a = rows(parent, 30), b = rows(changed);
        QCOMPARE(b.size(), a.size());
        QVERIFY(a.front() != b.front());  // from its first step on
        const std::vector<RunEvent> ev = readEvents(changed);
        QCOMPARE(ev.size(), size_t(3));
        QCOMPARE(ev[0].by, std::string("fork"));
        QCOMPARE(ev[0].before.get<double>(), 0.004);  // the parent's value at step 30

        // A fork of a fork, and a fork killed before its first rows resume as well.
        const std::string copy = tmp.filePath("fork-killed").toStdString();
        {
            auto s = forkRun(parent, 30, {"optim.lr=0.02", "aux.enabled=false"},
                             tmp.filePath("fork-live").toStdString());
            fs::copy(tmp.filePath("fork-live").toStdString(), copy, fs::copy_options::recursive);
        }
        auto r = RunSession::resume(copy);
        runToEnd(*r);
        QCOMPARE(rows(copy), rows(changed));
    }

    void forkRefusalsWriteNothing() {
        QTemporaryDir tmp;
        const std::string parent = tmp.filePath("parent").toStdString();
        {
            RunSession s(smallConfig(), parent);
            runToEnd(s);
        }
        const std::string out = tmp.filePath("f").toStdString();
        std::string e = errorOf([&] { forkRun(parent, 25, {}, out); });
        QVERIFY2(e.find("no checkpoint at step 25") != std::string::npos &&
                     e.find("10, 20, 30, 40, 50") != std::string::npos, e.c_str());
        QVERIFY(!fs::exists(out));
        e = errorOf([&] { forkRun(parent, 20, {"model.hidden=4"}, out); });
        QVERIFY2(e.find("model.hidden") != std::string::npos, e.c_str());
        QVERIFY(!fs::exists(out));
        e = errorOf([&] { forkRun(parent, 20, {"optim.lr=-2"}, out); });
        QVERIFY2(e.find("optim.lr") != std::string::npos, e.c_str());
        QVERIFY(!fs::exists(out));
        e = errorOf([&] { forkRun(tmp.filePath("nothing").toStdString(), 20, {}, out); });
        QVERIFY2(e.find("not a run directory") != std::string::npos, e.c_str());
        QVERIFY(!fs::exists(out));
    }

    void keptCheckpointsSpanTheRun() {
        QTemporaryDir tmp;
        Config c = smallConfig();
        c.run.steps = 200;
        c.run.checkpoint_every = 5;
        c.run.keep_checkpoints = 6;
        const std::string dir = tmp.filePath("k").toStdString();
        {
            RunSession s(c, dir);
            runToEnd(s);
        }
        const std::vector<int64_t> steps = checkpointSteps(dir);
        QVERIFY2(steps.size() <= 6 && steps.size() >= 3, std::to_string(steps.size()).c_str());
        QCOMPARE(steps.front(), int64_t(5));   // the oldest stays
        QCOMPARE(steps.back(), int64_t(195));  // and the newest
        for (int64_t s : steps) QCOMPARE(checkpointStep(keptCheckpointPath(dir, s)), s);
        // keep 0: only the latest, removed when the run completes
        c.run.keep_checkpoints = 0;
        c.run.steps = 30;
        const std::string none = tmp.filePath("none").toStdString();
        {
            RunSession s(c, none);
            runToEnd(s);
        }
        QVERIFY(checkpointSteps(none).empty());
    }

    void malformedEventsFileIsNamed() {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        std::ofstream(fs::path(dir) / kEventsFile)
            << R"({"step":3,"key":"optim.lr","old":0.1,"new":0.2,"by":"--at"})" << "\n"
            << R"({"step":4,"key":"model.hidden","new":3})" << "\n";
        std::string e = errorOf([&] { readEvents(dir); });
        QVERIFY2(e.find("events.jsonl:2") != std::string::npos && e.find("model.hidden") != std::string::npos, e.c_str());
        std::ofstream(fs::path(dir) / kEventsFile) << "{\"step\":\"x\"}\n";
        e = errorOf([&] { readEvents(dir); });
        QVERIFY2(e.find("events.jsonl:1") != std::string::npos, e.c_str());
        std::ofstream(fs::path(dir) / kEventsFile) << R"({"step":3,"key":"optim.lr","new":-1})" << "\n";
        e = errorOf([&] { readEvents(dir); });
        QVERIFY2(e.find("events.jsonl:1") != std::string::npos && e.find("optim.lr") != std::string::npos, e.c_str());
    }
};

QTEST_APPLESS_MAIN(TestEvents)
#include "test_events.moc"
