// Sweeps from the workbench: the Sweep dialog checks a grid as the CLI does and builds the CLI's
// arguments; the window runs `hybrid158-cli sweep` and lists every run of the sweep folder as it
// ends; the Runs panel reads again a past run that had no summary when it was first listed.
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "gui_test_util.h"
#include "ui/config_panel.h"
#include "ui/runs_panel.h"
#include "ui/sweep_dialog.h"

using h158::ui::MainWindow;
using h158::ui::RunState;
using h158::ui::SweepDialog;
using namespace h158::test;

class TestGuiSweep : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir m_tmp;

    static h158::Config base(int steps) {
        h158::Config c = h158::presetConfig("seed-linear");
        c.run.steps = steps;
        c.run.eval_every = 10;
        return c;
    }

  private slots:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    void dialogChecksAndBuildsTheCommand() {
        const QString ws = m_tmp.filePath("dialog-ws");
        SweepDialog d(base(30), "seed-linear", ws);
        auto* start = d.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
        d.setAxis(0, "optim.lr", "0.01, 3e-3");
        d.setAxis(d.axisCount(), "trust.enabled", "true,false");
        d.setSeeds(3);
        d.setJobs(2);
        d.setName("grid");
        h158::Sweep s;
        QString error;
        QVERIFY2(d.check(&s, &error), qPrintable(error));
        QVERIFY(start->isEnabled());
        QCOMPARE(s.runs.size(), size_t(12));
        QCOMPARE(s.runConfig(s.runs[0]).run.steps, int64_t(30));  // the form's setting
        QCOMPARE(s.runConfig(s.runs[11]).optim.lr, 0.003);
        const QStringList args = d.arguments();
        QCOMPARE(args.mid(0, 3), (QStringList{"sweep", "--preset", "seed-linear"}));
        QVERIFY(args.join(' ').contains("--set run.steps=30"));
        QVERIFY(args.join(' ').contains("--grid optim.lr=0.01,3e-3 --grid trust.enabled=true,false"));
        QVERIFY(args.join(' ').endsWith("--seeds 3 --jobs 2 --out " + QDir(ws).filePath("grid")));

        d.setAxis(1, "trust.enabled", "true, maybe");
        QVERIFY(!d.check(&s, &error));
        QVERIFY2(error.contains("trust.enabled"), qPrintable(error));
        QVERIFY(!start->isEnabled());
        d.setAxis(1, "optim.lrr", "1");
        QVERIFY(!d.check(&s, &error));
        QVERIFY2(error.contains("optim.lrr"), qPrintable(error));
        d.setAxis(1, "trust.enabled", "");
        QVERIFY(!d.check(&s, &error));
        QVERIFY2(error.contains("Setting 2"), qPrintable(error));
        d.setAxis(1, "trust.enabled", "true,false");
        QVERIFY(QDir().mkpath(QDir(ws).filePath("grid")));
        QVERIFY(!d.check(&s, &error));
        QVERIFY2(error.contains("exists"), qPrintable(error));
        d.setName("grid2");
        QVERIFY(d.check(&s, &error));
        QVERIFY(!QFileInfo::exists(QDir(ws).filePath("grid2")));  // nothing written by checking
    }

    void windowRunsTheSweepAndListsItsRuns() {
        const QString ws = m_tmp.filePath("sweep-ws");
        MainWindow w(h158::ui::MainWindowOptions{ws, false, H158_CLI_PATH});
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const int before = w.runsPanel()->count();
        SweepDialog d(base(30), "seed-linear", ws);
        d.setAxis(0, "optim.lr", "0.01, 0.003");
        d.setSeeds(2);
        d.setJobs(2);
        d.setName("lr");
        QSignalSpy finished(&w, &MainWindow::sweepFinished);
        QVERIFY(w.startSweep(d.arguments()));
        QVERIFY(w.sweepRunning());
        QVERIFY(!w.sweepAction()->isEnabled());
        QVERIFY(!w.startSweep(d.arguments()));  // one at a time
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
        QCOMPARE(finished.at(0).at(0).toInt(), 0);
        QVERIFY(w.sweepAction()->isEnabled());
        QVERIFY2(w.bannerText().contains("completed"), qPrintable(w.bannerText()));
        QCOMPARE(w.runsPanel()->count(), before + 4);
        QStringList names;
        for (int id = 1; id <= 100; ++id)
            if (const auto* e = w.runsPanel()->entry(id); e && e->name.startsWith("lr/")) {
                names << e->name;
                QCOMPARE(e->state, RunState::Completed);
                QCOMPARE(e->step, int64_t(30));
                QVERIFY(std::isfinite(e->finalLoss));
            }
        names.sort();
        QCOMPARE(names, (QStringList{"lr/001-lr=0.01,seed=0", "lr/002-lr=0.01,seed=1",
                                     "lr/003-lr=0.003,seed=0", "lr/004-lr=0.003,seed=1"}));
    }

    void rescanReadsAgainARunWithoutSummary() {
        const QString ws = m_tmp.filePath("rescan-ws");
        const QString run = QDir(ws).filePath("r1");
        QProcess cli;
        cli.start(H158_CLI_PATH, {"run", "--preset", "seed-linear", "--steps", "20", "--out", run});
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(cli.exitCode(), 0);
        QVERIFY(QFile::rename(run + "/summary.json", run + "/summary.json.later"));
        h158::ui::RunsPanel panel;
        QCOMPARE(panel.scanWorkspace(ws), 1);
        int id = 0;
        for (int i = 1; i <= 10 && !id; ++i)
            if (panel.entry(i)) id = i;
        QCOMPARE(panel.entry(id)->state, RunState::Interrupted);
        QVERIFY(QFile::rename(run + "/summary.json.later", run + "/summary.json"));
        QCOMPARE(panel.scanWorkspace(ws), 0);  // nothing new, but the run is read again
        QCOMPARE(panel.entry(id)->state, RunState::Completed);
        QCOMPARE(panel.entry(id)->step, int64_t(20));
    }
};

QTEST_MAIN(TestGuiSweep)
#include "test_gui_sweep.moc"
