// Intervening in the real window: while a run runs only the live settings are editable; an edit
// made paused and one made running land in events.jsonl, are drawn on the step plots, and the
// CLI's `run --at` replay of those events writes the same metrics.csv; a refused edit is said and
// changes nothing; Fork here… loads the parent's configuration at its checkpoint and Run starts a
// fork whose rows equal the CLI's `fork` with the same change.
#include <QCheckBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QTemporaryDir>

#include "cli_test_util.h"
#include "gui_test_util.h"
#include "ui/config_panel.h"
#include "ui/loss_panel.h"
#include "ui/run_controller.h"

using h158::ui::MainWindow;
using h158::ui::RunState;
using namespace h158::test;

namespace {

// events.jsonl as --at options.
QStringList atOptions(const QString& dir) {
    QStringList out;
    QFile f(dir + "/events.jsonl");
    if (!f.open(QIODevice::ReadOnly)) return out;
    for (const QByteArray& line : f.readAll().split('\n')) {
        if (line.isEmpty()) continue;
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        QString value = o["new"].isBool() ? (o["new"].toBool() ? "true" : "false")
                        : o["new"].isString() ? o["new"].toString()
                                              : QString::number(o["new"].toDouble(), 'g', 17);
        out << "--at" << QString("%1:%2=%3").arg(o["step"].toInt()).arg(o["key"].toString(), value);
    }
    return out;
}

}  // namespace

class TestGuiIntervene : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir m_tmp;

    std::unique_ptr<MainWindow> makeWindow() {
        auto w = std::make_unique<MainWindow>(
            h158::ui::MainWindowOptions{m_tmp.filePath("workspace"), false, {}});
        w->show();
        if (!QTest::qWaitForWindowExposed(w.get())) return nullptr;
        return w;
    }

  private slots:
    void editedRunEqualsItsReplay() {
        auto w = makeWindow();
        QVERIFY(w);
        h158::ui::ConfigPanel* form = w->configPanel();
        QVERIFY(form->selectPreset("spirals"));
        form->setFieldText("run.steps", "300");
        form->setFieldText("run.checkpoint_every", "50");
        w->controller()->setSpeed(150);  // slow enough to edit while it runs

        QVERIFY(clickAction(*w, w->runAction()));
        // Sanitizer builds step several times slower: the waits allow for it.
        QTRY_VERIFY_WITH_TIMEOUT(w->controller()->stepsDone() >= 20, 60000);
        QVERIFY(form->liveMode());
        QVERIFY(form->editor("optim.lr")->isEnabled());
        QVERIFY(!form->editor("model.hidden")->isEnabled());
        QVERIFY(!form->editor("run.seed")->isEnabled());

        // Paused: the edit applies before the next step.
        QVERIFY(clickAction(*w, w->pauseAction()));
        QTRY_COMPARE_WITH_TIMEOUT(w->state(), RunState::Paused, 30000);
        const int64_t pausedAt = w->controller()->stepsDone();
        form->setFieldText("optim.lr", "0.004");
        form->commitLiveEdits();
        QTRY_COMPARE_WITH_TIMEOUT(w->liveEvents().size(), size_t(1), 30000);
        QCOMPARE(w->liveEvents()[0].step, pausedAt);
        QCOMPARE(w->liveEvents()[0].by, std::string("workbench"));
        QVERIFY(w->bannerText().contains("optim.lr"));
        QTRY_VERIFY(w->lossPanel()->eventMarkerCount() > 0);

        // Running: the edit applies at whatever step boundary it reaches.
        QTest::keyClick(w.get(), Qt::Key_F8);
        QTRY_VERIFY_WITH_TIMEOUT(w->controller()->stepsDone() >= pausedAt + 30, 60000);
        auto* trust = qobject_cast<QCheckBox*>(form->editor("trust.enabled"));
        QVERIFY(trust && trust->isEnabled());
        trust->setChecked(false);
        form->commitLiveEdits();
        QTRY_COMPARE_WITH_TIMEOUT(w->liveEvents().size(), size_t(2), 30000);
        QVERIFY(w->liveEvents()[1].step > pausedAt);

        w->controller()->setSpeed(0);
        QSignalSpy finished(w.get(), &MainWindow::runFinished);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 300000);
        QVERIFY(!form->liveMode());
        QVERIFY(form->editor("model.hidden")->isEnabled());
        const QString dir = w->liveRunDirectory();

        const QString replay = m_tmp.filePath("replay");
        const CliResult r = cli(QStringList{"run", "--preset", "spirals", "--steps", "300", "--set",
                                            "run.checkpoint_every=50", "--out", replay}
                                + atOptions(dir));
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(csvWithoutElapsed(replay + "/metrics.csv"), csvWithoutElapsed(dir + "/metrics.csv"));
        const CliResult plain = cli({"run", "--preset", "spirals", "--steps", "300", "--out",
                                     m_tmp.filePath("plain")});
        QVERIFY(csvWithoutElapsed(m_tmp.filePath("plain") + "/metrics.csv") !=
                csvWithoutElapsed(dir + "/metrics.csv"));

        // Fork here… at step 130 takes the checkpoint at 100; Run starts the fork with the change.
        QVERIFY(w->prepareFork(dir, 130));
        QCOMPARE(w->forkStep(), int64_t(100));
        QVERIFY(w->forkPending());
        QVERIFY(form->liveMode());
        QCOMPARE(form->config().optim.lr, 0.004);  // the parent's value at step 100
        form->setFieldText("trust.radius", "0.05");
        QCOMPARE(w->forkChanges(), QStringList{"trust.radius=0.05"});
        QVERIFY(clickAction(*w, w->runAction()));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 300000);
        const QString fork = w->liveRunDirectory();
        QVERIFY(fork != dir);
        QVERIFY(readAll(fork + "/fork.json").contains("\"step\": 100"));
        const QString cliFork = m_tmp.filePath("cli-fork");
        const CliResult f = cli({"fork", dir, "--step", "100", "--set", "trust.radius=0.05",
                                 "--out", cliFork});
        QVERIFY2(f.code == 0, qPrintable(f.err));
        QCOMPARE(csvWithoutElapsed(fork + "/metrics.csv"), csvWithoutElapsed(cliFork + "/metrics.csv"));
        QCOMPARE(w->liveRows()->front().step, int64_t(1));  // the curve starts with the parent's

        // No checkpoint at or before step 30: refused, said, nothing changes.
        QVERIFY(!w->prepareFork(dir, 30));
        QVERIFY(w->bannerText().contains("no checkpoint"));
        QVERIFY(!w->forkPending());
    }

    void refusedEditIsSaid() {
        auto w = makeWindow();
        QVERIFY(w);
        h158::ui::ConfigPanel* form = w->configPanel();
        QVERIFY(form->selectPreset("seed-linear"));
        form->setFieldText("run.steps", "40");
        QVERIFY(clickAction(*w, w->stepAction()));  // a paused run, one step
        QTRY_COMPARE_WITH_TIMEOUT(w->receivedSteps(), int64_t(1), 30000);
        QVERIFY(form->liveMode());
        // run.steps below the steps done is refused by the run, and the form shows its value
        w->controller()->edit("run.steps", "1");
        QTRY_VERIFY_WITH_TIMEOUT(w->bannerText().contains("run.steps"), 30000);
        QVERIFY(w->liveEvents().empty());
        QCOMPARE(form->config().run.steps, int64_t(40));
        QVERIFY(!QFile::exists(w->liveRunDirectory() + "/events.jsonl"));
    }
};

QTEST_MAIN(TestGuiIntervene)
#include "test_gui_intervene.moc"
