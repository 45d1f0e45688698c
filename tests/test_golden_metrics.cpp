// Behaviour held fixed across refactors: every built-in preset (and a few variants that reach
// the code paths the presets do not) runs a few steps through hybrid158-cli, and its metrics.csv
// must equal, bit for bit, the rows recorded in tests/data/golden/ before a change that is meant
// to move code without changing what it computes. Wall-clock columns (elapsed_ms) are left out.
//
// The recorded rows are this machine's (an x86-64 build with -march=native: Eigen's and the bit
// kernels' results depend on the instruction set). After a change that is meant to alter the
// numbers, record them again and say why in the commit:
//   H158_RECORD_GOLDEN=1 build/tests/test_golden_metrics
#include <QtTest>

using namespace Qt::StringLiterals;

namespace {

const QString kGoldenDir = QStringLiteral(H158_SOURCE_DIR "/tests/data/golden");

// metrics.csv without its wall-clock columns.
QStringList stableRows(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    if (lines.isEmpty()) return {};
    const QStringList header = lines.first().split(',');
    const qsizetype drop = header.indexOf("elapsed_ms");
    for (QString& line : lines) {
        QStringList cells = line.split(',');
        if (drop >= 0 && drop < cells.size()) cells.removeAt(drop);
        line = cells.join(',');
    }
    return lines;
}

}  // namespace

class TestGoldenMetrics : public QObject {
    Q_OBJECT
  private slots:
    void presetMetricsUnchanged_data() {
        QTest::addColumn<QString>("preset");
        QTest::addColumn<QStringList>("sets");
        const QStringList common = {"run.snapshot_every=0", "sample.every=0"};
        auto row = [&](const char* name, const char* preset, QStringList sets) {
            QTest::newRow(name) << QString(preset) << (common + sets);
        };
        row("seed-linear", "seed-linear", {"run.steps=40", "run.eval_every=10"});
        row("spirals", "spirals", {"run.steps=40", "run.eval_every=10", "cluster.refresh_every=15"});
        row("moons", "moons", {"run.steps=40", "run.eval_every=10"});
        row("spirals five-level global trust", "spirals",
            {"run.steps=30", "run.eval_every=10", "quant.weights=five_level", "trust.mode=global"});
        row("gpt-s", "gpt-s", {"run.steps=12", "run.eval_every=4", "cluster.refresh_every=5"});
        row("gpt-s fp32", "gpt-s",
            {"run.steps=6", "run.eval_every=3", "quant.weights=none", "quant.activations=none"});
#ifndef H158_SANITIZE
        // Not in the sanitizer builds: this run takes ~160 s under ASan (a scalar int8 GEMM, every
        // load checked), a quarter of that suite's time, for no path the other rows and
        // test_bit_kernels (the reference kernel against the fast ones, every edge shape, under
        // ASan too) do not already run instrumented. Its bits are checked here in Release.
        row("gpt-s reference kernel", "gpt-s",
            {"run.steps=4", "run.eval_every=2", "quant.kernel=reference"});
#endif
        row("gpt-m", "gpt-m", {"run.steps=4", "run.eval_every=2"});
    }

    void presetMetricsUnchanged() {
        QFETCH(QString, preset);
        QFETCH(QStringList, sets);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString out = dir.path() + "/run";
        QStringList args = {"run", "--preset", preset, "--seed", "7", "--out", out};
        for (const QString& s : sets) args << "--set" << s;
        QProcess p;
        p.start(H158_CLI_PATH, args);
#ifdef H158_SANITIZE
        // instrumented (scripts/sanitize.sh), the reference kernel's run alone takes minutes
        constexpr int kRunTimeoutMs = 1800000;
#else
        constexpr int kRunTimeoutMs = 300000;
#endif
        QVERIFY2(p.waitForFinished(kRunTimeoutMs), qPrintable(preset + " did not finish in time"));
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
                 p.readAllStandardError().constData());
        const QStringList rows = stableRows(out + "/metrics.csv");
        QVERIFY2(rows.size() > 2, "metrics.csv has no data rows");

        QString name = QTest::currentDataTag();
        name.replace(' ', '_');
        const QString golden = kGoldenDir + "/" + name + ".csv";
        if (qEnvironmentVariableIsSet("H158_RECORD_GOLDEN")) {
            QDir().mkpath(kGoldenDir);
            QFile f(golden);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write((rows.join('\n') + '\n').toUtf8());
            qInfo("recorded %s", qPrintable(golden));
            return;
        }
        const QStringList expected = stableRows(golden);
        QVERIFY2(!expected.isEmpty(), qPrintable("missing " + golden));
        QCOMPARE(rows.first(), expected.first());  // the columns
        QCOMPARE(rows.size(), expected.size());
        for (qsizetype i = 1; i < rows.size(); ++i)
            QVERIFY2(rows[i] == expected[i],
                     qPrintable(u"row %1 differs\n  now:      %2\n  recorded: %3"_s.arg(i).arg(
                         rows[i], expected[i])));
    }
};

QTEST_GUILESS_MAIN(TestGoldenMetrics)
#include "test_golden_metrics.moc"
