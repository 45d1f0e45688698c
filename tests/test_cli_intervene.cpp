// The CLI's side of intervening (README, Exploring by intervening): `run --at` records its events
// and refuses a key that cannot change by name, before any file; `fork` with no change continues
// as its parent did, a step without a checkpoint is refused listing those with one; `sweep --from`
// starts every run of a grid from one checkpoint; `config --live` lists the live settings.
#include <QTemporaryDir>
#include <QtTest>

#include "cli_test_util.h"

using namespace h158::test;

namespace {

// metrics.csv rows after `after`, elapsed_ms (column 12) blanked.
QStringList rowsAfter(const QString& dir, int after) {
    QStringList out;
    const QStringList lines = readAll(dir + "/metrics.csv").split('\n', Qt::SkipEmptyParts);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        QStringList cols = lines[i].split(',');
        if (cols[0].toInt() <= after) continue;
        cols[11].clear();
        out << cols.join(',');
    }
    return out;
}

const QStringList kSmall = {"run", "--preset", "spirals", "--steps", "60", "--set", "data.samples=512",
                            "--set", "run.checkpoint_every=20"};

}  // namespace

class TestCliIntervene : public QObject {
    Q_OBJECT
  private slots:
    void runAtRecordsAndRefuses() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("r");
        CliResult r = cli(QStringList(kSmall) << "--at" << "25:optim.lr=0.003" << "--at"
                                              << "30:aux.enabled=false" << "--out" << dir);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QString events = readAll(dir + "/events.jsonl");
        QVERIFY2(events.contains(R"("key":"optim.lr","new":0.003,"old":0.01,"step":25)") &&
                     events.contains(R"("by":"--at")"), qPrintable(events));
        const QStringList rows = rowsAfter(dir, 25);
        QVERIFY(rows.first().split(',')[3].toDouble() < 0.0031);  // lr column after the edit

        const QString refused = tmp.filePath("refused");
        r = cli(QStringList(kSmall) << "--at" << "25:model.hidden=4" << "--out" << refused);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("model.hidden") && r.err.contains("cannot change"), qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(refused));
        r = cli(QStringList(kSmall) << "--at" << "75:optim.lr=0.1" << "--out" << refused);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("step 75"), qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(refused));

        r = cli({"config", "--preset", "spirals", "--live"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("optim.lr") && r.out.contains("trust.radius"));
        QVERIFY(!r.out.contains("model.hidden"));
    }

    void forkAndSweepFrom() {
        QTemporaryDir tmp;
        const QString parent = tmp.filePath("parent");
        CliResult r = cli(QStringList(kSmall) << "--at" << "30:optim.lr=0.004" << "--out" << parent);
        QVERIFY2(r.code == 0, qPrintable(r.err));

        const QString same = tmp.filePath("same");
        r = cli({"fork", parent, "--step", "20", "--out", same});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(rowsAfter(same, 0), rowsAfter(parent, 20));
        QVERIFY(readAll(same + "/fork.json").contains("\"step\": 20"));

        const QString changed = tmp.filePath("changed");
        r = cli({"fork", parent, "--step", "40", "--set", "trust.radius=0.01", "--out", changed});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(rowsAfter(changed, 0).first() != rowsAfter(parent, 40).first());

        const QString none = tmp.filePath("none");
        r = cli({"fork", parent, "--step", "30", "--out", none});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("no checkpoint at step 30") && r.err.contains("20, 40"), qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(none));
        r = cli({"fork", parent, "--step", "20", "--set", "data.noise=0.3", "--out", none});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("data.noise"), qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(none));

        const QString sweep = tmp.filePath("sweep");
        r = cli({"sweep", "--from", parent, "--step", "20", "--grid", "optim.lr=0.01,0.004",
                 "--out", sweep});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(readAll(sweep + "/sweep.json").contains("\"from\""));
        // The grid's 0.01 is the parent's value until its edit at 30, which the fork replays:
        // run 1 is the parent's own continuation.
        const QString first = QDir(sweep).entryList({"001-*"}, QDir::Dirs).value(0);
        QCOMPARE(rowsAfter(sweep + "/" + first, 0), rowsAfter(parent, 20));
        r = cli({"sweep", "--from", parent, "--step", "20", "--grid", "model.depth=1,2", "--out",
                 tmp.filePath("sweep2")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("model.depth"), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestCliIntervene)
#include "test_cli_intervene.moc"
