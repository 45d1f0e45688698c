// Sweeps: the expansion of a grid × seeds (core/exp/sweep.h) and `hybrid158-cli sweep` end to
// end: runs on two jobs whose rows equal a run made alone, resuming a killed run bit for bit,
// starting over runs with no checkpoint, refusing another grid, --task, Ctrl-C.
#include <QProcess>
#include <QtTest>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cli_test_util.h"
#include "core/base/errors.h"
#include "core/config/config.h"
#include "core/train/metrics.h"
#include "core/exp/run_session.h"
#include "core/exp/sweep.h"

using namespace h158;
namespace fs = std::filesystem;

namespace {

using Result = h158::test::CliResult;
using h158::test::cli;
using h158::test::readAll;

// The JSON object in `path`; an empty object when the file is missing or malformed, so that a
// run that did not finish fails the comparisons (read with value()) instead of aborting the test.
nlohmann::json readJson(const QString& path) {
    const auto j = nlohmann::json::parse(readAll(path).toStdString(), nullptr, false);
    return j.is_object() ? j : nlohmann::json::object();
}

// metrics.csv rows with elapsed_ms cleared (the only column that may differ between runs).
std::vector<std::string> rows(const QString& dir) {
    std::vector<std::string> out;
    for (StepMetrics m : readRunDirectory(dir.toStdString()).metrics) {
        m.elapsed_ms = 0;
        out.push_back(metricsCsvRow(m));
    }
    return out;
}

// One CSV line split into cells (RFC 4180 quoting).
QStringList csvCells(const QString& line) {
    QStringList cells;
    QString cell;
    bool quoted = false;
    for (qsizetype i = 0; i < line.size(); ++i) {
        const QChar c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
            cell += '"';
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == ',' && !quoted) {
            cells << cell;
            cell.clear();
        } else {
            cell += c;
        }
    }
    return cells << cell;
}

// The run directories of sweep folder `out`, by index (1-based; [0] unused).
QStringList runDirs(const QString& out) {
    QStringList dirs = {QString()};
    for (const auto& r : readSweepFile((out + "/sweep.json").toStdString()).runs)
        dirs << out + "/" + QString::fromStdString(r.dir);
    return dirs;
}

fs::file_time_type mtime(const QString& path) {
    return fs::last_write_time(path.toStdString());
}

}  // namespace

class TestSweep : public QObject {
    Q_OBJECT
  private slots:
    // 2 × 2 × 3 seeds: 12 runs, the first grid key slowest and the seeds innermost, each with its
    // overrides and a distinct, filesystem-safe directory name.
    void expansionOrderOverridesAndNames() {
        SweepSpec spec;
        spec.preset = "seed-linear";
        spec.set = {"run.seed=5"};
        spec.grid = {parseGridOption("optim.lr=1e-2,0.003"),
                     parseGridOption("trust.enabled=true,off")};
        spec.seeds = 3;
        const Sweep s = expandSweep(spec);
        QCOMPARE(s.runs.size(), size_t(12));
        QCOMPARE(s.spec.grid[0].values, (std::vector<std::string>{"0.01", "0.003"}));  // canonical
        QCOMPARE(s.spec.grid[1].values, (std::vector<std::string>{"true", "false"}));
        std::set<std::string> dirs;
        const QRegularExpression safe("^[0-9]{3}-[A-Za-z0-9._=,+-]+$");
        size_t i = 0;
        for (const char* lr : {"0.01", "0.003"})
            for (const char* trust : {"true", "false"})
                for (int seed = 5; seed < 8; ++seed, ++i) {
                    const SweepRun& r = s.runs[i];
                    const std::string label = std::string("lr=") + lr + ",enabled=" + trust +
                                              ",seed=" + std::to_string(seed);
                    QCOMPARE(r.index, int64_t(i + 1));
                    QCOMPARE(
                        r.overrides,
                        (std::vector<std::string>{
                            std::string("optim.lr=") + lr, std::string("trust.enabled=") + trust,
                            "run.seed=" + std::to_string(seed), "run.name=seed-linear " + label}));
                    QCOMPARE(QString::fromStdString(r.dir),
                             QString("%1-%2").arg(i + 1, 3, 10, QChar('0')).arg(label.c_str()));
                    QVERIFY2(safe.match(QString::fromStdString(r.dir)).hasMatch(), r.dir.c_str());
                    QVERIFY(dirs.insert(r.dir).second);
                    const Config c = s.runConfig(r);
                    QCOMPARE(c.optim.lr, std::stod(lr));
                    QCOMPARE(c.trust.enabled, std::string(trust) == "true");
                    QCOMPARE(c.run.seed, int64_t(seed));
                    QCOMPARE(c.run.name, "seed-linear " + label);
                }

        // sweep.json keeps all of it
        QTemporaryDir tmp;
        const std::string file = tmp.filePath("sweep.json").toStdString();
        writeSweepFile(s, file);
        const Sweep back = readSweepFile(file);
        QCOMPARE(sweepDifference(s, back), std::string());
        QCOMPARE(back.runs.size(), s.runs.size());
        for (size_t k = 0; k < s.runs.size(); ++k) {
            QCOMPARE(back.runs[k].dir, s.runs[k].dir);
            QCOMPARE(back.runs[k].overrides, s.runs[k].overrides);
            QCOMPARE(back.runs[k].seed, s.runs[k].seed);
        }
        const auto j = nlohmann::json::parse(readAll(tmp.filePath("sweep.json")).toStdString());
        QCOMPARE(j["format"].get<std::string>(), std::string("hybrid158-sweep"));
        QCOMPARE(j["version"].get<int>(), 1);
        QCOMPARE(j["runs"][3]["dir"].get<std::string>(), s.runs[3].dir);

        spec.seeds = 2;
        QVERIFY(sweepDifference(s, expandSweep(spec)).find("seeds") != std::string::npos);
    }

    // Axes whose last components collide are named by their whole keys; a value with slashes,
    // spaces or shell characters becomes a plain folder name, and a long one is cut.
    void namesStayShortAndSafe() {
        SweepSpec spec;
        spec.grid = {parseGridOption("aux.lr=0.001"), parseGridOption("optim.lr=0.01,0.02"),
                     parseGridOption("sample.prompt=/tmp/a b:c*?$.txt")};
        const Sweep s = expandSweep(spec);
        QCOMPARE(s.runs.size(), size_t(2));
        QCOMPARE(s.runs[1].dir,
                 std::string("002-aux.lr=0.001,optim.lr=0.02,prompt=_tmp_a_b_c___.txt,seed=0"));
        QCOMPARE(s.runConfig(s.runs[1]).sample.prompt, std::string("/tmp/a b:c*?$.txt"));
        spec.grid = {parseGridOption("run.batch_size=1,2"),
                     parseGridOption("sample.prompt=" + std::string(200, 'x'))};
        for (const auto& r : expandSweep(spec).runs) QCOMPARE(r.dir.size(), size_t(84));
    }

    // A bad key, value or combination, or bad options, are refused (exit 2) with a message naming
    // them, before the sweep folder is created.
    void badSweepRefusedBeforeAnythingIsWritten_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown key")
            << QStringList{"--grid", "optim.lrr=1,2"}
            << "--grid: unknown key 'optim.lrr' (did you mean 'optim.lr'?)";
        QTest::newRow("bad value")
            << QStringList{"--grid", "optim.lr=0.1,-1"} << "optim.lr must be > 0";
        QTest::newRow("bad bool") << QStringList{"--grid", "trust.enabled=true,maybe"}
                                  << "trust.enabled must be true or false, got 'maybe'";
        QTest::newRow("combination") << QStringList{"--grid", "data.kind=regression,text"}
                                     << "data.kind 'text' needs model.kind=gpt";
        QTest::newRow("axis twice")
            << QStringList{"--grid", "optim.lr=0.1", "--grid", "optim.lr=0.2"}
            << "--grid optim.lr is given twice";
        QTest::newRow("value twice")
            << QStringList{"--grid", "optim.lr=0.1,1e-1"} << "the value 0.1 is given twice";
        QTest::newRow("no values")
            << QStringList{"--grid", "optim.lr"} << "--grid expects key=v1,v2";
        QTest::newRow("run.name") << QStringList{"--grid", "run.name=a,b"}
                                  << "names each run itself";
        QTest::newRow("bad set") << QStringList{"--set", "optim.lr=abc", "--grid", "run.steps=5"}
                                 << "optim.lr must be a number, got 'abc'";
        QTest::newRow("seeds") << QStringList{"--seeds", "0"} << "--seeds must be >= 1";
        QTest::newRow("jobs") << QStringList{"--jobs", "0", "--seeds", "2"}
                              << "--jobs must be >= 1";
        QTest::newRow("missing file")
            << QStringList{"--file", "/nonexistent/s.json"} << "/nonexistent/s.json";
        QTest::newRow("missing config")
            << QStringList{"--config", "/nonexistent/c.json"} << "/nonexistent/c.json";
        QTest::newRow("nothing to continue") << QStringList{} << "no sweep to continue";
    }
    void badSweepRefusedBeforeAnythingIsWritten() {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        QTemporaryDir dir;
        const QString out = dir.path() + "/never";
        const Result r = cli(QStringList{"sweep"} + args + QStringList{"--out", out});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(out));
    }

    // A sweep file gives the same content; the grid keeps the file's order, options add to it.
    void sweepFileWithOptions() {
        QTemporaryDir dir;
        QFile f(dir.path() + "/s.json");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"preset": "seed-linear", "set": {"run.steps": 20, "run.eval_every": 5},
                    "grid": {"trust.enabled": [true, false], "optim.lr": [0.001, 0.003]}, "seeds": 3})");
        f.close();
        const QString out = dir.path() + "/s";
        const Result r = cli({"sweep", "--file", f.fileName(), "--seeds", "1", "--grid",
                              "optim.lr=0.002", "--dry-run", "--out", out});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const Sweep s = readSweepFile((out + "/sweep.json").toStdString());
        QCOMPARE(s.runs.size(), size_t(2));
        QCOMPARE(s.runs[1].dir, std::string("002-enabled=false,lr=0.002,seed=0"));
        QCOMPARE(s.spec.set, (std::vector<std::string>{"run.steps=20", "run.eval_every=5"}));
        QCOMPARE(s.base.run.steps, int64_t(20));
        QCOMPARE(r.out.count('\n'), 2);  // --dry-run lists the runs and starts none
        QCOMPARE(QDir(out).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 0);
    }

    // 2 × 2 × 2 seeds on two jobs: every run completes with its overrides, summary.csv has a row
    // each, seeds differ, and a run made alone from a run's config.json writes the same rows, with
    // one thread (as in the sweep: 2 jobs on 2 cores) or two.
    void sweepOnTwoJobs() {
        QTemporaryDir dir;
        const QString out = dir.path() + "/sw";
        const Result r = cli({"sweep", "--preset", "spirals", "--steps", "40", "--grid",
                              "optim.lr=0.01,0.003", "--grid", "trust.enabled=true,false",
                              "--seeds", "2", "--jobs", "2", "--out", out});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(r.err.count(QRegularExpression("^\\[\\d/8\\] \\d{3}-\\S+ completed",
                                                QRegularExpression::MultilineOption)),
                 8);
        QCOMPARE(readJson(out + "/sweep.json")["runs"].size(), size_t(8));
        const auto line = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(line["completed"].get<int>(), 8);

        const QStringList dirs = runDirs(out);
        const int threads = std::max(1, int(std::thread::hardware_concurrency()) / 2);
        const QStringList csv = readAll(out + "/summary.csv").split('\n', Qt::SkipEmptyParts);
        QCOMPARE(csv.size(), 9);
        QCOMPARE(csv[0], QString("index,dir,optim.lr,trust.enabled,seed,status,steps,final_loss,"
                                 "final_val_loss,final_val_accuracy,constraint_activation_rate,"
                                 "mean_quant_error,wall_seconds,tokens_per_s"));
        for (int i = 1; i <= 8; ++i) {
            const auto sum = readJson(dirs[i] + "/summary.json");
            QCOMPARE(sum["status"].get<std::string>(), std::string("completed"));
            const Config c = loadConfigFile((dirs[i] + "/config.json").toStdString());
            const double lr = i <= 4 ? 0.01 : 0.003;
            const bool trust = (i - 1) % 4 < 2;
            const int64_t seed = (i - 1) % 2;
            QCOMPARE(c.optim.lr, lr);
            QCOMPARE(c.trust.enabled, trust);
            QCOMPARE(c.run.seed, seed);
            QCOMPARE(c.run.steps, int64_t(40));
            QCOMPARE(c.run.threads, int64_t(threads));  // run.threads 0: cores / jobs
            const QStringList cells = csvCells(csv[i]);
            QCOMPARE(cells.size(), 14);
            QCOMPARE(cells[0], QString::number(i));
            QCOMPARE(dirs[i], out + "/" + cells[1]);  // quoted: the name holds commas
            QCOMPARE(cells[2].toDouble(), lr);
            QCOMPARE(cells[3], QString(trust ? "true" : "false"));
            QCOMPARE(cells[4], QString::number(seed));
            QCOMPARE(cells[5], QString("completed"));
            QCOMPARE(cells[6], QString("40"));
            QCOMPARE(cells[7].toDouble(), sum["final_loss"].get<double>());
            QCOMPARE(cells[8].toDouble(), sum["final_val_loss"].get<double>());
            QCOMPARE(cells[9].toDouble(), sum["final_val_accuracy"].get<double>());
            QCOMPARE(cells[10].isEmpty(), !trust);  // the activation rate only with the region on
            QVERIFY(cells[11].toDouble() > 0);
        }
        QVERIFY(rows(dirs[1]) != rows(dirs[2]));  // seeds 0 and 1

        for (const QString& threadsSet : {QString("run.threads=1"), QString("run.threads=2")}) {
            const QString alone = dir.path() + "/alone-" + threadsSet.right(1);
            const Result a = cli(
                {"run", "--config", dirs[3] + "/config.json", "--set", threadsSet, "--out", alone});
            QVERIFY2(a.code == 0, qPrintable(a.err));
            const auto mine = rows(alone), theirs = rows(dirs[3]);
            QCOMPARE(mine.size(), size_t(40));
            QVERIFY(mine == theirs);
        }
    }

    // A run that diverges or cannot start ends alone: the others run, the sweep exits 1 and
    // summary.csv says what became of each. A diverged run is a result the next sweep keeps; one
    // that failed is tried again. A data file that does not exist is refused before any run.
    void failedRunsEndAlone() {
        QTemporaryDir dir;
        const QString good = dir.path() + "/good.csv", bad = dir.path() + "/bad.csv";
        QFile g(good), b(bad);
        QVERIFY(g.open(QIODevice::WriteOnly) && b.open(QIODevice::WriteOnly));
        g.write("a,b,t\n");
        b.write("a,b,t\n0.1,0.2,0.3\n0.1,abc,0.3\n");
        for (int i = 0; i < 200; ++i)
            g.write(
                QString("%1,%2,%3\n").arg(i % 7 * 0.1).arg(i % 5 * 0.2).arg(i % 3 * 0.3).toUtf8());
        g.close();
        b.close();
        const QString out = dir.path() + "/sw";
        const QStringList args = {"sweep",
                                  "--preset",
                                  "seed-linear",
                                  "--steps",
                                  "30",
                                  "--set",
                                  "data.kind=csv",
                                  "--set",
                                  "optim.kind=sgd",
                                  "--set",
                                  "trust.enabled=false",
                                  "--set",
                                  "aux.enabled=false",
                                  "--grid",
                                  "data.csv_file=" + good + "," + bad,
                                  "--grid",
                                  "optim.lr=0.01,50",
                                  "--jobs",
                                  "2",
                                  "--out",
                                  out};
        const Result r = cli(args);
        QCOMPARE(r.code, 1);
        const auto line = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(line["completed"].get<int>(), 1);
        QCOMPARE(line["diverged"].get<int>(), 1);
        QCOMPARE(line["failed"].get<int>(), 2);
        QVERIFY2(
            r.err.contains(QRegularExpression("\\] 003-\\S+ failed; \\S+/log.txt: .*bad.csv:3")),
            qPrintable(r.err));
        const QStringList csv = readAll(out + "/summary.csv").split('\n', Qt::SkipEmptyParts);
        QCOMPARE(csv.size(), 5);
        const QStringList status = {"completed", "diverged", "failed", "failed"};
        for (int i = 1; i <= 4; ++i) QCOMPARE(csvCells(csv[i])[5], status[i - 1]);

        const Result again = cli(args);
        QCOMPARE(again.code, 1);
        QVERIFY2(again.err.contains("2 with a result, 2 to run"), qPrintable(again.err));

        const Result missing = cli({"sweep", "--set", "data.kind=csv", "--grid",
                                    "data.csv_file=" + good + "," + dir.path() + "/none.csv",
                                    "--out", dir.path() + "/never"});
        QCOMPARE(missing.code, 2);
        QVERIFY2(missing.err.contains("data.csv_file: no file '" + dir.path() + "/none.csv'"),
                 qPrintable(missing.err));
        QVERIFY(!QFileInfo::exists(dir.path() + "/never"));
    }

    // After a sweep: one run killed after a checkpoint (no summary, rows past it, half a line),
    // one deleted, one cut short with no checkpoint. The same sweep again resumes the first bit for
    // bit, runs the other two again, and leaves the completed run alone; another grid is refused.
    void secondSweepResumesRestartsAndSkips() {
        QTemporaryDir dir;
        const QString out = dir.path() + "/sw";
        const QStringList args = {"sweep",
                                  "--preset",
                                  "seed-linear",
                                  "--steps",
                                  "40",
                                  "--set",
                                  "run.checkpoint_every=10",
                                  "--grid",
                                  "optim.lr=0.01,0.003",
                                  "--seeds",
                                  "2",
                                  "--jobs",
                                  "2",
                                  "--out",
                                  out};
        const Result first = cli(args);
        QVERIFY2(first.code == 0, qPrintable(first.err));
        const QStringList d = runDirs(out);
        std::vector<std::vector<std::string>> before = {{}};
        for (int i = 1; i <= 4; ++i) before.push_back(rows(d[i]));

        {  // run 1 as a kill -9 after step 25 leaves it: checkpoint at 20, no summary
            const Config c = loadConfigFile((d[1] + "/config.json").toStdString());
            const std::string killed = dir.filePath("killed").toStdString();
            RunSession s(c, killed);
            for (int k = 0; k < 25; ++k) s.step();
            fs::remove_all(d[1].toStdString());
            fs::copy(killed, d[1].toStdString(), fs::copy_options::recursive);
        }
        std::ofstream((d[1] + "/metrics.csv").toStdString(), std::ios::app) << "26,0.1";
        QCOMPARE(overviewRunDirectory(d[1].toStdString()).status, std::string("interrupted"));
        QCOMPARE(overviewRunDirectory(d[1].toStdString()).checkpointStep, int64_t(20));
        fs::remove_all(d[2].toStdString());
        {  // run 3 cut short with no checkpoint (a completed run keeps none)
            QStringList lines = readAll(d[3] + "/metrics.csv").split('\n');
            QFile f(d[3] + "/metrics.csv");
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write((lines.mid(0, 16).join('\n') + '\n').toUtf8());
            QFile::remove(d[3] + "/summary.json");
        }
        QCOMPARE(sweepAction(d[3].toStdString()), SweepAction::Restart);
        const auto mtime4 = mtime(d[4] + "/metrics.csv");
        const QString log4 = readAll(d[4] + "/log.txt"), sweepJson = readAll(out + "/sweep.json");

        const Result again = cli(args);
        QVERIFY2(again.code == 0, qPrintable(again.err));
        QVERIFY2(again.err.contains("1 with a result, 3 to run"), qPrintable(again.err));
        QCOMPARE(readJson(d[1] + "/summary.json")["resumed_at_step"].get<int64_t>(), int64_t(20));
        QVERIFY(readAll(d[1] + "/log.txt").contains("continuing from the checkpoint at step 20"));
        QVERIFY(readAll(d[3] + "/log.txt").contains("no checkpoint; starting over"));
        QVERIFY(!readJson(d[3] + "/summary.json").contains("resumed_at_step"));
        for (int i = 1; i <= 4; ++i) {
            QCOMPARE(readJson(d[i] + "/summary.json")["status"].get<std::string>(),
                     std::string("completed"));
            QVERIFY2(rows(d[i]) == before[size_t(i)], qPrintable(d[i]));
        }
        QVERIFY(mtime(d[4] + "/metrics.csv") == mtime4);  // untouched
        QCOMPARE(readAll(d[4] + "/log.txt"), log4);

        // another grid, base or seeds is refused and changes nothing; --out alone continues
        const QStringList base = {
            "sweep", "--preset", "seed-linear", "--set", "run.checkpoint_every=10", "--out", out};
        const QList<QPair<QStringList, QString>> others = {
            {{"--steps", "40", "--grid", "optim.lr=0.01", "--seeds", "2"},
             "the grid differs: optim.lr=0.01,0.003 in the sweep, optim.lr=0.01 in this one"},
            {{"--steps", "41", "--grid", "optim.lr=0.01,0.003", "--seeds", "2"},
             "run.steps is '40' in the sweep, '41' in this one"},
            {{"--steps", "40", "--grid", "optim.lr=0.01,0.003", "--seeds", "3"},
             "the seeds differ: 2 in the sweep, 3 in this one"}};
        for (const auto& [extra, message] : others) {
            const Result r = cli(base + extra);
            QCOMPARE(r.code, 2);
            QVERIFY2(r.err.contains(message), qPrintable(r.err));
        }
        QCOMPARE(readAll(out + "/sweep.json"), sweepJson);
        const Result cont = cli({"sweep", "--out", out});
        QCOMPARE(cont.code, 0);
        QVERIFY2(cont.err.contains("4 with a result, 0 to run"), qPrintable(cont.err));
        QVERIFY(mtime(d[4] + "/metrics.csv") == mtime4);
    }

    // --task I runs run I alone, in the sweep's folder; the whole sweep then runs the others.
    void taskRunsOneRun() {
        QTemporaryDir dir;
        const QString out = dir.path() + "/sw";
        const Result plan = cli({"sweep", "--preset", "seed-linear", "--steps", "30", "--grid",
                                 "optim.lr=0.01,0.003", "--seeds", "2", "--dry-run", "--out", out});
        QVERIFY2(plan.code == 0, qPrintable(plan.err));
        QCOMPARE(QDir(out).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 0);
        const QStringList d = runDirs(out);

        const Result task = cli({"sweep", "--out", out, "--task", "3"});
        QVERIFY2(task.code == 0, qPrintable(task.err));
        QCOMPARE(nlohmann::json::parse(task.out.toStdString())["status"].get<std::string>(),
                 std::string("completed"));
        QCOMPARE(QDir(out).entryList(QDir::Dirs | QDir::NoDotAndDotDot),
                 QStringList{QFileInfo(d[3]).fileName()});
        const Config c = loadConfigFile((d[3] + "/config.json").toStdString());
        QCOMPARE(c.optim.lr, 0.003);
        QCOMPARE(c.run.seed, int64_t(0));
        QCOMPARE(c.run.threads, int64_t(0));  // alone: the configuration's own
        const auto mtime3 = mtime(d[3] + "/metrics.csv");

        const Result again = cli({"sweep", "--out", out, "--task", "3"});
        QCOMPARE(again.code, 0);
        QVERIFY2(again.err.contains("completed already"), qPrintable(again.err));
        QCOMPARE(cli({"sweep", "--out", out, "--task", "0"}).code, 2);
        const Result past = cli({"sweep", "--out", out, "--task", "5"});
        QCOMPARE(past.code, 2);
        QVERIFY2(past.err.contains("the sweep has runs 1 to 4"), qPrintable(past.err));
        QCOMPARE(cli({"sweep", "--out", dir.path() + "/none", "--task", "1"}).code, 2);

        const Result rest = cli({"sweep", "--out", out});
        QVERIFY2(rest.code == 0, qPrintable(rest.err));
        QVERIFY2(rest.err.contains("1 with a result, 3 to run"), qPrintable(rest.err));
        QVERIFY(mtime(d[3] + "/metrics.csv") == mtime3);
        for (int i = 1; i <= 4; ++i)
            QCOMPARE(readJson(d[i] + "/summary.json")["status"].get<std::string>(),
                     std::string("completed"));
    }

    // --backend slurm and sweep status against a stand-in sbatch and squeue on PATH (they
    // record their arguments and answer as Slurm does): the batch script, jobs.txt, what a second
    // submission skips, and the states per run. scripts/slurm-test.sh does it on a real Slurm.
    void slurmSubmitAndStatus() {
        QTemporaryDir dir;
        const QString bin = dir.path() + "/bin";
        QDir().mkpath(bin);
        const auto tool = [&](const QString& name, const QString& body) {
            QFile f(bin + "/" + name);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(("#!/bin/sh\necho \"$@\" >> " + dir.path() + "/" + name + ".args\n" + body)
                        .toUtf8());
            f.close();
            QVERIFY(f.setPermissions(f.permissions() | QFileDevice::ExeOwner));
        };
        tool("sbatch", "echo '77;cluster'\n");
        tool("squeue", "echo '77_2 R'\necho '77_[3-4] PD'\necho '12_1 R'\n");
        const QString out = dir.path() + "/sw";
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("PATH", bin + ":/usr/bin:/bin");
        p.setProcessEnvironment(env);
        const auto run = [&](const QStringList& args) {
            p.start(H158_CLI_PATH, args);
            p.waitForFinished(120000);
            return Result{p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()),
                          QString::fromUtf8(p.readAllStandardError())};
        };
        const QStringList base = {"sweep", "--preset", "seed-linear", "--steps", "20", "--grid",
                                  "optim.lr=0.01,0.003", "--seeds", "2", "--out", out};
        // run 1 done beforehand (as a task would), so the array holds runs 2-4
        QCOMPARE(cli(base + QStringList{"--dry-run"}).code, 0);
        QCOMPARE(cli({"sweep", "--out", out, "--task", "1"}).code, 0);
        const Result sub = run(base + QStringList{"--backend", "slurm", "--partition", "short",
                                                  "--time", "10:00", "--jobs", "2", "--threads",
                                                  "3"});
        QVERIFY2(sub.code == 0, qPrintable(sub.err));
        QVERIFY2(sub.err.contains("submitted Slurm job 77: runs 2-4"), qPrintable(sub.err));
        QCOMPARE(readAll(out + "/slurm/jobs.txt"), QString("77\n"));
        const QString script = readAll(out + "/slurm/sweep-1.sbatch");
        for (const char* line : {"#SBATCH --array=2-4%2", "#SBATCH --partition=short",
                                 "#SBATCH --time=10:00", "#SBATCH --cpus-per-task=3",
                                 "--task \"$SLURM_ARRAY_TASK_ID\" --threads 3"})
            QVERIFY2(script.contains(line), line);
        QVERIFY(script.contains("sweep --out '" + QFileInfo(out).absoluteFilePath() + "'"));
        QCOMPARE(readAll(dir.path() + "/sbatch.args").trimmed(),
                 "--parsable " + QFileInfo(out).absoluteFilePath() + "/slurm/sweep-1.sbatch");

        // squeue lists 2 running, 3-4 pending: nothing to submit again
        const Result again = run({"sweep", "--out", out, "--backend", "slurm"});
        QVERIFY2(again.code == 0, qPrintable(again.err));
        QVERIFY2(again.err.contains("nothing to submit: 1 of 4 runs have a result, 3 queued"),
                 qPrintable(again.err));
        QVERIFY(!QFile::exists(out + "/slurm/sweep-2.sbatch"));

        const Result st = run({"sweep", "status", out});
        QVERIFY2(st.code == 0, qPrintable(st.err));
        const QStringList lines = st.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 5);
        QVERIFY2(lines[0].contains("completed") && lines[0].contains("20/20"), qPrintable(lines[0]));
        QVERIFY2(lines[1].contains("running"), qPrintable(lines[1]));
        QVERIFY2(lines[2].contains("pending") && lines[3].contains("pending"), qPrintable(st.out));
        const auto counts = nlohmann::json::parse(lines[4].toStdString());
        QCOMPARE(counts["completed"].get<int>(), 1);
        QCOMPARE(counts["running"].get<int>(), 1);
        QCOMPARE(counts["pending"].get<int>(), 2);
        QVERIFY(readAll(out + "/summary.csv").contains(",completed,20,"));

        // the queue empties without runs 2-4 having started: lost, their logs say why
        tool("squeue", "");
        const Result lost = run({"sweep", "status", out});
        QVERIFY2(nlohmann::json::parse(lost.out.trimmed().split('\n').last().toStdString())["lost"]
                         .get<int>() == 3,
                 qPrintable(lost.out));

        // no Slurm here at all: a clear message, exit 1; status from the folders alone
        env.insert("PATH", dir.path() + "/empty");
        p.setProcessEnvironment(env);
        const Result none = run({"sweep", "--out", out, "--backend", "slurm"});
        QCOMPARE(none.code, 1);
        QVERIFY2(none.err.contains("sbatch is not installed"), qPrintable(none.err));
        const Result alone = run({"sweep", "status", out});
        QCOMPARE(alone.code, 0);
        QVERIFY2(alone.err.contains("squeue is not installed"), qPrintable(alone.err));

        QCOMPARE(cli(base + QStringList{"--backend", "cloud"}).code, 2);
        QCOMPARE(cli(base + QStringList{"--partition", "short"}).code, 2);  // local: no partition
        QCOMPARE(cli({"sweep", "status", dir.path() + "/nothing"}).code, 2);
    }

    // SIGINT to the sweep while both runs are training: they stop with a checkpoint, the sweep
    // exits 1, and the next sweep continues them to the end. Meanwhile the folder is locked.
    void interruptStopsRunsAndNextSweepFinishesThem() {
        QTemporaryDir dir;
        const QString out = dir.path() + "/sw";
        // Long enough that both runs are still going when the signal comes; an instrumented
        // build steps 5-50x slower (more so beside another suite), so it needs fewer steps for
        // that, and the second sweep then finishes them in minutes, not hours.
#ifdef H158_SANITIZE
        const int steps = 1500;
#else
        const int steps = 8000;
#endif
        QProcess p;
        p.start(H158_CLI_PATH,
                {"sweep", "--preset", "spirals", "--steps", QString::number(steps), "--set", "model.hidden=128",
                 "--set", "run.batch_size=256", "--set", "run.eval_every=0", "--set",
                 "run.snapshot_every=0", "--seeds", "2", "--jobs", "2", "--out", out});
        QVERIFY(p.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(out + "/sweep.json"), 60000);
        const QStringList d = runDirs(out);
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(d[1] + "/metrics.csv").size() > 3000 &&
                                     QFileInfo(d[2] + "/metrics.csv").size() > 3000,
                                 60000);
        // while it runs, no other sweep or task may write in its folder
        const Result second = cli({"sweep", "--out", out});
        QCOMPARE(second.code, 2);
        QVERIFY2(second.err.contains("another sweep is running in this folder"),
                 qPrintable(second.err));
        const Result task = cli({"sweep", "--out", out, "--task", "2"});
        QCOMPARE(task.code, 2);
        QVERIFY2(task.err.contains("another process is running this run"), qPrintable(task.err));

        ::kill(pid_t(p.processId()), SIGINT);  // the sweep alone: it passes it on
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains("interrupted"));
        std::vector<int64_t> stoppedAt;
        for (int i = 1; i <= 2; ++i) {
            const auto sum = readJson(d[i] + "/summary.json");
            QCOMPARE(sum.value("status", std::string()), std::string("stopped"));
            stoppedAt.push_back(sum.value("steps", int64_t(0)));
            QVERIFY(stoppedAt.back() > 0 && stoppedAt.back() < steps);
            QCOMPARE(sum.value("checkpoint_step", int64_t(-1)), stoppedAt.back());
        }
        QCOMPARE(readAll(out + "/summary.csv").count(",stopped,"), 2);
        qInfo("stopped at steps %lld and %lld of %d", (long long)stoppedAt[0],
              (long long)stoppedAt[1], steps);

        const Result next = cli({"sweep", "--out", out, "--jobs", "2"}, 1800000);
        QVERIFY2(next.code == 0, qPrintable(next.err));
        for (int i = 1; i <= 2; ++i) {
            const auto sum = readJson(d[i] + "/summary.json");
            QCOMPARE(sum.value("status", std::string()), std::string("completed"));
            QCOMPARE(sum.value("resumed_at_step", int64_t(-1)), stoppedAt[size_t(i - 1)]);
            QCOMPARE(readRunDirectory(d[i].toStdString()).metrics.size(), size_t(steps));
        }
        QCOMPARE(readAll(out + "/summary.csv").count(QString(",completed,%1,").arg(steps)), 2);
    }
};

QTEST_GUILESS_MAIN(TestSweep)
#include "test_sweep.moc"
