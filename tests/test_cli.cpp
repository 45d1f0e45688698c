// hybrid158-cli end to end: the run directory contract, exit codes, messages for bad input,
// Ctrl-C ending a run as stopped with everything written.
#include <QtTest>
#include <sys/resource.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "core/base/errors.h"
#include "core/config/config.h"
#include "core/train/metrics.h"
#include "core/exp/run_session.h"

using namespace h158;

namespace {

using Result = h158::test::CliResult;
using h158::test::cli;
using h158::test::readAll;

}  // namespace

class TestCli : public QObject {
    Q_OBJECT
  private slots:
    // kill -9 in the middle of a run, then `resume`: the rows after the resume equal those of a
    // run never interrupted, bit for bit (elapsed_ms aside).
    void killedRunIsResumedBitForBit() {
        QTemporaryDir dir;
        const QStringList common = {"--preset", "spirals", "--steps", "3000", "--set",
                                    "run.checkpoint_every=100", "--set", "run.eval_every=25",
                                    "--set", "run.snapshot_every=500"};
        const QString whole = dir.path() + "/whole", killed = dir.path() + "/killed";
        QCOMPARE(cli(QStringList{"run", "--out", whole} + common).code, 0);

        QProcess p;
        p.start(H158_CLI_PATH, QStringList{"run", "--out", killed} + common);
        QVERIFY(p.waitForStarted());
        QElapsedTimer t;
        t.start();
        while ((QFile::exists(killed + "/metrics.csv") ? readAll(killed + "/metrics.csv").count(QChar(10)) : 0) < 450 &&
               t.elapsed() < 60000)
            QThread::msleep(2);
        QVERIFY2(p.state() == QProcess::Running, "the run ended before it could be killed");
        p.kill();  // SIGKILL: no summary, rows after the last checkpoint, perhaps half a line
        p.waitForFinished();
        QVERIFY(!QFile::exists(killed + "/summary.json"));
        const RunOverview o = overviewRunDirectory(killed.toStdString());
        QCOMPARE(o.status, std::string("interrupted"));
        QVERIFY2(o.checkpointStep >= 400, qPrintable(QString::number(o.checkpointStep)));

        const Result r = cli({"resume", killed});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.err.contains(QString("continuing from the checkpoint at step %1").arg(o.checkpointStep)),
                 qPrintable(r.err));
        auto rows = [](const QString& d) {
            std::vector<std::string> out;
            for (StepMetrics m : readRunDirectory(d.toStdString()).metrics) {
                m.elapsed_ms = 0;
                out.push_back(metricsCsvRow(m));
            }
            return out;
        };
        const auto a = rows(whole), b = rows(killed);
        QCOMPARE(b.size(), size_t(3000));
        QVERIFY(a == b);
        QCOMPARE(readAll(killed + "/snapshots.jsonl"), readAll(whole + "/snapshots.jsonl"));
        const auto summary = nlohmann::json::parse(readAll(killed + "/summary.json").toStdString());
        QCOMPARE(summary["status"].get<std::string>(), std::string("completed"));
        QCOMPARE(summary["resumed_at_step"].get<int64_t>(), o.checkpointStep);

        // a completed run has nothing to continue; a resume needs exactly one directory
        const Result again = cli({"resume", killed});
        QCOMPARE(again.code, 2);
        QVERIFY2(again.err.contains("nothing to continue"), qPrintable(again.err));
        QCOMPARE(cli({"resume"}).code, 2);
        QCOMPARE(cli({"resume", dir.path() + "/absent"}).code, 2);
    }
    // A write that fails (here: a 6000-byte file size limit on the process, as a full disk
    // would) ends the run as failed with the file named; the rows before it stay whole.
    void aFailedWriteFailsTheRun() {
        QTemporaryDir dir;
        const QString out = dir.path() + "/run";
        QProcess p;
        p.setChildProcessModifier([] {
            ::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing
            const rlimit lim{6000, 6000};
            ::setrlimit(RLIMIT_FSIZE, &lim);
        });
        p.start(H158_CLI_PATH, {"run", "--preset", "spirals", "--steps", "400", "--out", out,
                                "--set", "run.snapshot_every=0"});
        QVERIFY(p.waitForFinished(120000));
        QCOMPARE(p.exitCode(), 1);
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(err.contains("metrics.csv: write failed"), qPrintable(err));
        const auto summary = nlohmann::json::parse(readAll(out + "/summary.json").toStdString());
        QCOMPARE(summary["status"].get<std::string>(), std::string("failed"));
        QVERIFY(QString::fromStdString(summary["message"].get<std::string>()).contains("metrics.csv"));
        // every complete line before the failure reads back
        const RunRecord r = readRunDirectory(out.toStdString());
        QVERIFY(r.metrics.size() > 10);
        for (size_t i = 0; i < r.metrics.size(); ++i) QCOMPARE(r.metrics[i].step, int64_t(i + 1));
    }
    // A write that fails before the first step (here the first snapshot, written when the run's
    // files are opened) fails the run too: exit 1 as README says of a failed run, not 2 (bad
    // input), and summary.json says failed.
    void aFailedWriteBeforeTheFirstStepFailsTheRun() {
        QTemporaryDir dir;
        const QString out = dir.path() + "/run";
        QProcess p;
        p.setChildProcessModifier([] {
            ::signal(SIGXFSZ, SIG_IGN);
            const rlimit lim{2000, 2000};  // config.json (~1.8 kB) fits, the first snapshot not
            ::setrlimit(RLIMIT_FSIZE, &lim);
        });
        p.start(H158_CLI_PATH, {"run", "--preset", "spirals", "--steps", "50", "--out", out});
        QVERIFY(p.waitForFinished(120000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(err.contains("write failed"), qPrintable(err));
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 1, qPrintable(err));
        const auto summary = nlohmann::json::parse(readAll(out + "/summary.json").toStdString());
        QCOMPARE(summary["status"].get<std::string>(), std::string("failed"));
        QVERIFY(QString::fromStdString(summary["message"].get<std::string>()).contains("write failed"));
    }

    // A directory where a file belongs is refused by the one path check (checkFileToRead) with
    // exit 2, naming the path and the key or option it came from; never an abort or a bare
    // "basic_filebuf::underflow error".
    void directoryForAFileIsRefused_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("key");
        QTest::newRow("kmeans --input")
            << QStringList{"kmeans", "--input", "@DIR@", "--k", "2", "--out", "@TMP@/l.csv"}
            << "--input";
        QTest::newRow("kmeans --init")
            << QStringList{"kmeans", "--input", "@TMP@/p.csv", "--init", "@DIR@", "--k", "2",
                           "--out", "@TMP@/l.csv"}
            << "--init";
        QTest::newRow("run --config") << QStringList{"run", "--config", "@DIR@"} << "";
        QTest::newRow("config --config") << QStringList{"config", "--config", "@DIR@"} << "";
        QTest::newRow("data.text_file")
            << QStringList{"run", "--preset", "gpt-s", "--set", "data.text_file=@DIR@"}
            << "data.text_file";
        QTest::newRow("data.csv_file")
            << QStringList{"run", "--preset", "spirals", "--set", "data.kind=csv", "--set",
                           "data.csv_file=@DIR@"}
            << "data.csv_file";
        QTest::newRow("model.init_file")
            << QStringList{"run", "--preset", "spirals", "--set", "model.init_file=@DIR@"}
            << "model.init_file";
        QTest::newRow("generate --model") << QStringList{"generate", "--model", "@DIR@"} << "";
        QTest::newRow("memory --model") << QStringList{"memory", "--model", "@DIR@"} << "";
        QTest::newRow("sweep --file")
            << QStringList{"sweep", "--file", "@DIR@", "--dry-run", "--out", "@TMP@/sweep"} << "";
        QTest::newRow("lessons --check") << QStringList{"lessons", "--check", "@DIR@"} << "";
    }
    void directoryForAFileIsRefused() {
        QFETCH(QStringList, args);
        QFETCH(QString, key);
        QTemporaryDir tmp;
        const QString d = tmp.path() + "/a-directory";
        QVERIFY(QDir().mkpath(d));
        {
            QFile csv(tmp.path() + "/p.csv");
            QVERIFY(csv.open(QIODevice::WriteOnly));
            csv.write("0,0\n1,1\n5,5\n6,6\n");
        }
        for (QString& a : args) a.replace("@DIR@", d).replace("@TMP@", tmp.path());
        if (args.first() == "run") args << "--out" << tmp.path() + "/never";
        const Result r = cli(args);
        QVERIFY2(r.code == 2, qPrintable(QString("exit %1: %2").arg(r.code).arg(r.err)));
        const QString named = (key.isEmpty() ? QString() : key + ": ") + d;
        QVERIFY2(r.err.contains(named + ": is a directory, not a file"), qPrintable(r.err));
        QVERIFY2(!r.err.contains("basic_filebuf"), qPrintable(r.err));
        QVERIFY(!QFile::exists(tmp.path() + "/never/metrics.csv"));
    }

    // Every sub-command answers --help, -h and `help COMMAND` on stdout with exit 0, listing each
    // of its options with a description.
    void helpForEveryCommand_data() {
        QTest::addColumn<QString>("command");
        QTest::addColumn<QStringList>("options");
        QTest::newRow("run") << "run"
                             << QStringList{"preset", "config", "set", "steps", "seed", "at", "out"};
        QTest::newRow("resume") << "resume" << QStringList{};
        QTest::newRow("fork") << "fork" << QStringList{"step", "set", "out"};
        QTest::newRow("sweep") << "sweep" << QStringList{"preset",  "config",  "set",   "file",
                                                         "grid",    "seeds",   "steps", "jobs",
                                                         "threads", "dry-run", "out",   "task",
                                                         "from",    "step"};
        QTest::newRow("presets") << "presets" << QStringList{};
        QTest::newRow("lessons") << "lessons" << QStringList{"check"};
        QTest::newRow("config") << "config" << QStringList{"preset", "config", "set", "live"};
        QTest::newRow("kmeans") << "kmeans"
                                << QStringList{"input", "k",      "out",       "seed", "max-iter",
                                               "tol",   "n-init", "centroids", "init", "trace",
                                               "threads"};
        QTest::newRow("bench") << "bench" << QStringList{"preset",  "mode", "steps", "path",
                                                         "threads", "seed", "kernel"};
        QTest::newRow("export") << "export" << QStringList{"run", "out"};
        QTest::newRow("generate") << "generate"
                                  << QStringList{"model", "prompt", "tokens", "temperature",
                                                 "top-k", "seed",   "threads"};
        QTest::newRow("memory") << "memory"
                                << QStringList{"preset", "config", "set", "model", "run"};
        QTest::newRow("sensitivity") << "sensitivity" << QStringList{"run", "batches", "out"};
    }
    void helpForEveryCommand() {
        QFETCH(QString, command);
        QFETCH(QStringList, options);
        const Result r = cli({command, "--help"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.err.isEmpty(), qPrintable(r.err));
        QVERIFY2(r.out.contains("Usage: hybrid158-cli " + command), qPrintable(r.out));
        // the option, its value's name if it takes one, then its description on the same line
        for (const QString& o : options + QStringList{"help"})
            QVERIFY2(r.out.contains(QRegularExpression(
                         "^ +(-h,)?--" + QRegularExpression::escape(o) + "( \\S+)?  +\\S",
                         QRegularExpression::MultilineOption)),
                     qPrintable("--" + o + " in:\n" + r.out));
        if (command == "resume") QVERIFY2(r.out.contains("DIR"), qPrintable(r.out));
        const Result h = cli({command, "-h"});
        QCOMPARE(h.code, 0);
        QCOMPARE(h.out, r.out);
        const Result viaHelp = cli({"help", command});
        QCOMPARE(viaHelp.code, 0);
        QCOMPARE(viaHelp.out, r.out);
    }

    // hybrid158-cli --help, -h and help: every command, on stdout, exit 0; nothing at all is a
    // usage error, as is `help` of an unknown command.
    void topLevelHelp() {
        for (const QStringList& args :
             {QStringList{"--help"}, QStringList{"-h"}, QStringList{"help"}}) {
            const Result r = cli(args);
            QCOMPARE(r.code, 0);
            QVERIFY2(r.err.isEmpty(), qPrintable(r.err));
            for (const char* c : {"run", "resume", "sweep", "presets", "config", "kmeans", "bench",
                                  "export", "generate", "memory"})
                QVERIFY2(r.out.contains(QRegularExpression(QString("^ +%1 +\\S").arg(c),
                                                           QRegularExpression::MultilineOption)),
                         qPrintable(QString(c) + " in:\n" + r.out));
            QVERIFY2(r.out.contains("--version"), qPrintable(r.out));
        }
        const Result none = cli({});
        QCOMPARE(none.code, 2);
        QVERIFY2(none.err.contains("Usage: hybrid158-cli"), qPrintable(none.err));
        const Result unknown = cli({"help", "frobnicate"});
        QCOMPARE(unknown.code, 2);
        QVERIFY2(unknown.err.contains("unknown command 'frobnicate'"), qPrintable(unknown.err));
        const Result bad = cli({"--frobnicate"});
        QCOMPARE(bad.code, 2);
        QVERIFY2(bad.err.contains("unknown option --frobnicate") &&
                     bad.err.contains("Usage: hybrid158-cli"),
                 qPrintable(bad.err));
    }

    void versionIsTheProjectVersion() {
        const Result r = cli({"--version"});
        QCOMPARE(r.code, 0);
        QVERIFY2(QRegularExpression("^hybrid158-cli \\d+\\.\\d+\\.\\d+\n$").match(r.out).hasMatch(),
                 qPrintable(r.out));
        QVERIFY(r.err.isEmpty());
        // the version --help names is the same
        const QString version = r.out.trimmed();
        QVERIFY2(cli({"--help"}).out.startsWith(version + ":"), qPrintable(version));
    }

    // A usage error of a sub-command (unknown option, missing value, option given twice, stray
    // argument) exits 2 with the error and that command's usage on stderr, before anything runs.
    void usageErrorsShowTheCommandsUsage_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        for (const char* c : {"run", "resume", "sweep", "presets", "config", "kmeans", "bench",
                              "export", "generate", "memory"})
            QTest::addRow("%s unknown option", c)
                << QStringList{c, "--frobnicate", "1"} << "unknown option --frobnicate";
        QTest::newRow("unknown option with =")
            << QStringList{"config", "--prest=spirals"} << "unknown option --prest";
        QTest::newRow("missing value")
            << QStringList{"run", "--steps", "5", "--out"} << "option --out needs a value";
        QTest::newRow("given twice")
            << QStringList{"run", "--steps", "5", "--steps=6"} << "option --steps given twice";
        QTest::newRow("switch twice")
            << QStringList{"sweep", "--out", "X", "--dry-run", "--dry-run"}
            << "option --dry-run given twice";
        QTest::newRow("stray argument")
            << QStringList{"config", "spirals"} << "unexpected argument 'spirals'";
        QTest::newRow("short option") << QStringList{"memory", "-p"} << "unknown option -p";
        QTest::newRow("second directory")
            << QStringList{"resume", "a", "b"} << "unexpected argument 'b'";
        QTest::newRow("missing required")
            << QStringList{"export", "--run", "X"} << "missing required option --out";
        QTest::newRow("bad integer") << QStringList{"generate", "--model", "X", "--tokens", "ten"}
                                     << "option --tokens expects an integer, got 'ten'";
    }
    void usageErrorsShowTheCommandsUsage() {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        QTemporaryDir dir;
        for (QString& a : args)
            if (a == "X") a = dir.path() + "/x";
        const Result r = cli(args);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.startsWith("hybrid158-cli " + args.first() + ": " + message + "\n"),
                 qPrintable(r.err));
        QVERIFY2(r.err.contains("Usage: hybrid158-cli " + args.first() + " [OPTIONS]"),
                 qPrintable(r.err));
        QVERIFY(r.out.isEmpty());
        QVERIFY(QDir(dir.path()).isEmpty());
    }

    // "--name value" and "--name=value" alike; a value may start with a dash.
    void bothOptionFormsAndDashValues() {
        const Result r = cli({"config", "--preset=spirals", "--set=optim.lr=0.5", "--set",
                              "optim.weight_decay=0.25"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const Config c = fromJson(nlohmann::json::parse(r.out.toStdString()));
        QCOMPARE(c.optim.lr, 0.5);
        QCOMPARE(c.optim.weight_decay, 0.25);
        QCOMPARE(c.data.kind, std::string("spirals"));
        const Result neg = cli({"config", "--preset", "spirals", "--set", "optim.lr=-1"});
        QCOMPARE(neg.code, 2);
        QVERIFY2(neg.err.contains("optim.lr must be > 0"), qPrintable(neg.err));
    }

    void presetsListsContractNames() {
        const Result r = cli({"presets"});
        QCOMPARE(r.code, 0);
        for (const char* n : {"seed-linear", "spirals", "gpt-s", "gpt-m"})
            QVERIFY2(r.out.contains(QRegularExpression(QString("^%1\\s").arg(n),
                                                       QRegularExpression::MultilineOption)),
                     n);
    }

    // lessons: one line per built-in lesson (name, summary); --check names file, page, field.
    void lessonsListAndCheck() {
        const Result r = cli({"lessons"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.count('\n') >= 7, qPrintable(r.out));
        QVERIFY2(r.out.startsWith("ternary-basics "), qPrintable(r.out));
        QTemporaryDir dir;
        const QString bad = dir.filePath("bad.json");
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"name": "b", "title": "B", "summary": "s", "pages": [{"title": "1", "text": "t",
                 "config": {"set": {"optim.lr": "fast"}}}]})");
        f.close();
        const Result e = cli({"lessons", "--check", bad});
        QCOMPARE(e.code, 2);
        QVERIFY2(e.err.contains(bad + ": page 1: config.set: optim.lr must be a number"),
                 qPrintable(e.err));
        const Result ok = cli({"lessons", "--check",
                               H158_SOURCE_DIR "/resources/lessons/01-ternary-basics.json"});
        QCOMPARE(ok.code, 0);
        QVERIFY2(ok.out.contains("ternary-basics, 5 pages"), qPrintable(ok.out));
    }

    void configPrintsTheResolvedPreset() {
        const Result r = cli({"config", "--preset", "spirals", "--set", "optim.lr=0.5"});
        QCOMPARE(r.code, 0);
        const Config c = fromJson(nlohmann::json::parse(r.out.toStdString()));
        QCOMPARE(c.optim.lr, 0.5);
        QCOMPARE(c.data.kind, std::string("spirals"));
    }

    // sensitivity --run DIR: the table as JSON and CSV beside the run, its headline figures as a
    // JSON line; a missing run directory or a bad --batches is a usage error (exit 2).
    void sensitivityOfARun() {
        QTemporaryDir dir;
        const QString out = dir.path() + "/run";
        QCOMPARE(cli({"run", "--preset", "spirals", "--steps", "30", "--set", "quant.io_layers=true",
                      "--out", out}).code, 0);
        const Result r = cli({"sensitivity", "--run", out, "--batches", "2"});
        QCOMPARE(r.code, 0);
        const auto line = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(line["tensors"].get<int>(), 3);  // spirals: three dense layers, all quantized
        QCOMPARE(line["batches"].get<int>(), 2);
        QVERIFY(line.contains("most_sensitive_ternary") && line.contains("uniform_int8"));
        const auto table = nlohmann::json::parse(readAll(out + "/sensitivity.json").toStdString());
        QCOMPARE(table["tensors"].size(), size_t(3));
        QCOMPARE(table["tensors"][0]["name"].get<std::string>(), std::string("dense0.weight"));
        const QStringList csv = readAll(out + "/sensitivity.csv").split('\n', Qt::SkipEmptyParts);
        QCOMPARE(csv.size(), 4);
        QVERIFY(csv[0].startsWith("tensor,weights,level,alone_ternary"));
        QCOMPARE(cli({"sensitivity", "--run", dir.path() + "/none"}).code, 2);
        QCOMPARE(cli({"sensitivity", "--run", out, "--batches", "0"}).code, 2);
    }

    void runWritesTheRunDirectory() {
        QTemporaryDir dir;
        const QString out = dir.path() + "/run";
        const Result r =
            cli({"run", "--preset", "seed-linear", "--steps", "40", "--seed", "3", "--out", out});
        QCOMPARE(r.code, 0);
        const auto summary = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(summary["status"].get<std::string>(), std::string("completed"));

        const Config c = loadConfigFile((out + "/config.json").toStdString());
        QCOMPARE(c.run.steps, int64_t(40));
        QCOMPARE(c.run.seed, int64_t(3));
        const QStringList lines = readAll(out + "/metrics.csv").split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 41);
        QCOMPARE(lines[0],
                 QString("step,loss,val_loss,lr,trust_radius,step_norm,constrained,"
                         "quant_error,update_quant_error,cluster,grad_norm,elapsed_ms,"
                         "lr_multiplier,frac_neg,frac_zero,frac_pos,accuracy,val_accuracy,"
                         "constrained_fraction,step_ratio,weight_bits,code_flips,code_flips_scale"));
        for (int i = 1; i <= 40; ++i)
            QCOMPARE(parseMetricsCsvRow(lines[i].toStdString()).step, int64_t(i));
        const QStringList snaps = readAll(out + "/snapshots.jsonl").split('\n', Qt::SkipEmptyParts);
        QVERIFY(!snaps.isEmpty());
        for (const QString& s : snaps) {
            const auto j = nlohmann::json::parse(s.toStdString());
            QVERIFY(j.contains("step") && j.contains("kind"));
        }
        const auto sum = nlohmann::json::parse(readAll(out + "/summary.json").toStdString());
        QCOMPARE(sum["status"].get<std::string>(), std::string("completed"));
        QVERIFY(sum.contains("constraint_activation_rate") && sum.contains("mean_quant_error") &&
                sum.contains("total_loss_reduction") && sum["components"].contains("aux"));
        // the same config and seed again: the same metrics (but elapsed_ms)
        const QString out2 = dir.path() + "/run2";
        QCOMPARE(cli({"run", "--config", out + "/config.json", "--out", out2}).code, 0);
        const RunRecord a = readRunDirectory(out.toStdString()),
                        b = readRunDirectory(out2.toStdString());
        QCOMPARE(a.metrics.size(), b.metrics.size());
        for (size_t i = 0; i < a.metrics.size(); ++i) {
            StepMetrics x = a.metrics[i], y = b.metrics[i];
            x.elapsed_ms = y.elapsed_ms = 0;
            QCOMPARE(metricsCsvRow(x), metricsCsvRow(y));
        }
        // an existing run is never overwritten
        const Result again = cli({"run", "--preset", "seed-linear", "--steps", "5", "--out", out});
        QCOMPARE(again.code, 2);
        QVERIFY(again.err.contains("already holds a run"));
        QCOMPARE(readAll(out + "/metrics.csv").split('\n', Qt::SkipEmptyParts).size(), 41);
    }

    void badInputIsAUsageError_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown command") << QStringList{"frobnicate"} << "unknown command";
        QTest::newRow("bad field")
            << QStringList{"run", "--set", "optim.lr=-1"} << "optim.lr must be > 0";
        QTest::newRow("unknown key")
            << QStringList{"run", "--set", "optim.lrr=1"} << "did you mean 'optim.lr'";
        QTest::newRow("unknown preset")
            << QStringList{"run", "--preset", "nope"} << "unknown preset 'nope'";
        QTest::newRow("missing config")
            << QStringList{"run", "--config", "/nonexistent/c.json"} << "/nonexistent/c.json";
        QTest::newRow("bad steps")
            << QStringList{"run", "--steps", "ten"} << "run.steps must be an integer";
        QTest::newRow("unknown option")
            << QStringList{"run", "--stpes", "3"} << "unknown option --stpes";
        QTest::newRow("missing csv") << QStringList{"run", "--set", "data.kind=csv", "--set",
                                                    "data.csv_file=/nonexistent/d.csv"}
                                     << "/nonexistent/d.csv";
    }
    void badInputIsAUsageError() {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        QTemporaryDir dir;
        args << "--out" << dir.path() + "/never";
        if (args.first() == "frobnicate") args = QStringList{"frobnicate"};
        const Result r = cli(args);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QVERIFY(!QFile::exists(dir.path() + "/never/metrics.csv"));
    }

    void divergedRunExitsOne() {
        QTemporaryDir dir;
        const Result r = cli({"run", "--preset", "seed-linear", "--set", "optim.kind=sgd", "--set",
                              "optim.lr=50", "--set", "trust.enabled=false", "--set",
                              "aux.enabled=false", "--out", dir.path() + "/d"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("diverged at step"), qPrintable(r.err));
        const auto sum =
            nlohmann::json::parse(readAll(dir.path() + "/d/summary.json").toStdString());
        QCOMPARE(sum["status"].get<std::string>(), std::string("diverged"));
    }

    void interruptEndsAsStopped() {
        QTemporaryDir dir;
        const QString out = dir.path() + "/long";
        QProcess p;
        p.start(H158_CLI_PATH,
                {"run", "--preset", "spirals", "--steps", "10000000", "--out", out});
        QVERIFY(p.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(readAll(out + "/metrics.csv").count('\n') > 20, 60000);
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        const auto sum = nlohmann::json::parse(readAll(out + "/summary.json").toStdString());
        QCOMPARE(sum["status"].get<std::string>(), std::string("stopped"));
        const RunRecord rec = readRunDirectory(out.toStdString());
        QCOMPARE(int64_t(rec.metrics.size()), sum["steps"].get<int64_t>());
    }

    // What fuzz/fuzz_run_dir found (fuzz/corpus/run_dir/crash-empty-cluster-cell.txt: a comma
    // inserted mid-row left the cluster cell empty): an empty or out-of-range cell in an integer
    // column of metrics.csv (step, constrained, cluster) was converted from double, undefined
    // behaviour (NaN to int); it is refused naming the file, line and column.
    void badIntegerCellInMetricsRefused_data() {
        QTest::addColumn<int>("column");
        QTest::addColumn<QString>("cell");
        QTest::newRow("cluster empty") << 9 << "";
        QTest::newRow("constrained empty") << 6 << "";
        QTest::newRow("step empty") << 0 << "";
        QTest::newRow("step 1e300") << 0 << "1e300";
        QTest::newRow("step 2.5") << 0 << "2.5";
        QTest::newRow("cluster nan") << 9 << "nan";
        QTest::newRow("cluster 2^40") << 9 << "1099511627776";
    }
    void badIntegerCellInMetricsRefused() {
        QFETCH(int, column);
        QFETCH(QString, cell);
        QTemporaryDir dir;
        saveConfigFile(presetConfig("spirals"), (dir.path() + "/config.json").toStdString());
        QStringList header;
        for (const auto& c : metricsColumns()) header << QString::fromStdString(c);
        QStringList lines = {header.join(',')};
        for (int64_t step = 1; step <= 3; ++step) {
            StepMetrics m;
            m.step = step;
            m.loss = 0.5;
            QStringList cells = QString::fromStdString(metricsCsvRow(m)).split(',');
            if (step == 2) cells[column] = cell;  // not the last line, which may be partial
            lines << cells.join(',');
        }
        QFile f(dir.path() + "/metrics.csv");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write((lines.join('\n') + '\n').toUtf8());
        f.close();
        const QString name = QString::fromStdString(metricsColumns()[size_t(column)]);
        try {
            readRunDirectory(dir.path().toStdString());
            QFAIL("a bad integer cell accepted");
        } catch (const FileError& e) {
            QVERIFY2(QString(e.what()).startsWith(dir.path() + "/metrics.csv:3: column " + name +
                                                  ": '" + cell + "' is not an integer"),
                     e.what());
        }
    }

    // What fuzz/fuzz_run_dir checks of a record readRunDirectory returns, on a crafted input
    // (fuzz/corpus/run_dir/crash-summary-array.txt): a summary.json that is not an object, or
    // whose status is not a string, was returned as is, and `export` then failed with nlohmann's
    // type_error naming no file; it is refused as overviewRunDirectory refuses it.
    void mistypedSummaryRefused_data() {
        QTest::addColumn<QString>("summary");
        QTest::addColumn<QString>("want");
        QTest::newRow("an array") << "[1]\n" << "not a JSON object";
        QTest::newRow("a number") << "5" << "not a JSON object";
        QTest::newRow("status a number") << R"({"status": 3, "steps": 1})" << "status must be a string";
    }
    void mistypedSummaryRefused() {
        QFETCH(QString, summary);
        QFETCH(QString, want);
        QTemporaryDir dir;
        saveConfigFile(presetConfig("spirals"), (dir.path() + "/config.json").toStdString());
        QStringList header;
        for (const auto& c : metricsColumns()) header << QString::fromStdString(c);
        StepMetrics m;
        m.step = 1;
        for (const auto& [name, text] : {std::pair{QString("/metrics.csv"),
                                                   header.join(',') + '\n' +
                                                       QString::fromStdString(metricsCsvRow(m)) + '\n'},
                                         std::pair{QString("/summary.json"), summary}}) {
            QFile f(dir.path() + name);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text.toUtf8());
        }
        try {
            readRunDirectory(dir.path().toStdString());
            QFAIL("a mistyped summary.json accepted");
        } catch (const FileError& e) {
            QCOMPARE(QString(e.what()), dir.path() + "/summary.json: " + want);
        }
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
