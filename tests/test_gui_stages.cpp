// Step into and the speed control in the real window: the stages panel shows each stage the
// trainer reports, in order, with the trainer's own figures; a run taken partly stage by stage,
// partly step by step, partly throttled and partly at full speed writes the same metrics.csv as
// the CLI; a throttled run takes no more steps than its speed allows; Play takes stages on a timer.
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTableWidget>
#include <QTemporaryDir>

#include "gui_test_util.h"
#include "ui/config_panel.h"
#include "ui/stages_panel.h"

using h158::ui::MainWindow;
using h158::ui::RunState;
using namespace h158::test;

class TestGuiStages : public QObject {
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
    void stagesThenStepsThenThrottledThenFull() {
        auto w = makeWindow();
        QVERIFY(w);
        QVERIFY(w->configPanel()->selectPreset("spirals"));
        w->configPanel()->setFieldText("run.steps", "60");
        h158::ui::StagesPanel* stages = w->stagesPanel();
        QVERIFY(stages);
        w->showPage(MainWindow::MechanismPage);

        // Step into from idle starts a paused run and takes the first stage.
        QVERIFY(clickAction(*w, w->stepIntoAction()));
        QTRY_COMPARE(stages->shownStage(), 0);
        QCOMPARE(w->state(), RunState::Paused);
        QVERIFY(stages->explanation().contains("Forward"));
        for (int k = 1; k < h158::kStepStages; ++k) {
            QVERIFY(clickAction(*w, w->stepIntoAction()));
            QTRY_COMPARE(stages->shownStage(), k);
            // no row before the step is complete, at its last stage
            QCOMPARE(w->receivedSteps(), int64_t(k == h158::kStepStages - 1 ? 1 : 0));
            if (k == int(h158::StepStage::Project)) {
                // one row per tensor, the trust region's limit beside the proposed norm
                const QTableWidget* t = stages->table();
                QVERIFY(t->rowCount() >= 3);
                QCOMPARE(t->horizontalHeaderItem(2)->text(), QString("limit r·|Θ|"));
            }
        }
        QTRY_COMPARE(w->receivedSteps(), int64_t(1));
        // the stage just shown (bookkeeping) framed the panels it touches that are on screen
        const QList<QWidget*> framed = w->flashedPanels();
        for (QWidget* p : framed) QVERIFY(p->isVisible());
        const QStringList touched = h158::ui::StagesPanel::panelsOf(h158::StepStage::Observe);
        for (QWidget* p : framed) QVERIFY(touched.contains(p->objectName()));
        // re-quantization frames the weight map and the flips, both on the Mechanism page
        for (int k = 0; k < int(h158::StepStage::Requantize) + 1; ++k)
            QVERIFY(clickAction(*w, w->stepIntoAction()));
        QTRY_COMPARE(stages->shownStage(), int(h158::StepStage::Requantize));
        QStringList names;
        for (QWidget* p : w->flashedPanels()) names << p->objectName();
        names.sort();
        QCOMPARE(names, QStringList({"flips", "weightmap"}));
        QVERIFY(clickAction(*w, w->stepIntoAction()));  // the step's last stage
        QTRY_COMPARE(w->receivedSteps(), int64_t(2));
        const auto& row = w->liveRows()->back();
        QVERIFY(!std::isnan(row.code_flips));
        // half a step in stages, then Step finishes it (one row), then a whole step
        for (int k = 0; k < 4; ++k) QVERIFY(clickAction(*w, w->stepIntoAction()));
        QTRY_COMPARE(stages->shownStage(), 3);
        QVERIFY(clickAction(*w, w->stepAction()));
        QTRY_COMPARE(w->receivedSteps(), int64_t(3));
        QVERIFY(clickAction(*w, w->stepAction()));
        QTRY_COMPARE(w->receivedSteps(), int64_t(4));

        // Throttled to 30 steps per second: never more steps than the time allows.
        QComboBox* speed = w->speedBox();
        const int thirty = speed->findData(30.0);
        QVERIFY(thirty >= 0);
        speed->setCurrentIndex(thirty);
        QCOMPARE(w->controller()->speed(), 30.0);
        QSignalSpy finished(w.get(), &MainWindow::runFinished);
        QElapsedTimer clock;
        clock.start();
        QTest::keyClick(w.get(), Qt::Key_F8);  // resume
        QTRY_VERIFY(w->controller()->stepsDone() >= 8);
        const double seconds = double(clock.elapsed()) / 1000.0;
        const int64_t done = w->controller()->stepsDone() - 4;
        QVERIFY2(double(done) <= 30.0 * seconds + 2,
                 qPrintable(QString("%1 steps in %2 s at 30 steps/s").arg(done).arg(seconds)));
        speed->setCurrentIndex(speed->findData(0.0));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);

        const QString cliOut = m_tmp.filePath("cli-run");
        QProcess cli;
        cli.start(H158_CLI_PATH, {"run", "--preset", "spirals", "--steps", "60", "--out", cliOut});
        QVERIFY(cli.waitForFinished(60000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        const auto gui = csvWithoutElapsed(w->liveRunDirectory() + "/metrics.csv");
        const auto ref = csvWithoutElapsed(cliOut + "/metrics.csv");
        QCOMPARE(gui.size(), 61);
        QCOMPARE(gui, ref);
    }

    // Play takes the stages one after another on its timer; Stop ends the run with whole steps.
    void playTakesStagesOnATimer() {
        auto w = makeWindow();
        QVERIFY(w);
        QVERIFY(w->configPanel()->selectPreset("seed-linear"));
        w->configPanel()->setFieldText("run.steps", "20");
        h158::ui::StagesPanel* stages = w->stagesPanel();
        QVERIFY(clickAction(*w, w->stepIntoAction()));
        QTRY_COMPARE(stages->shownStage(), 0);
        stages->setPlaying(true);
        QVERIFY(stages->playing());
        QTRY_COMPARE_WITH_TIMEOUT(stages->shownStage(), 2, 10000);
        stages->setPlaying(false);
        QVERIFY(clickAction(*w, w->stopAction()));
        QTRY_COMPARE(w->state(), RunState::Stopped);
        QTRY_COMPARE(w->receivedSteps(), int64_t(1));  // the step under way was completed
    }
};

QTEST_MAIN(TestGuiStages)
#include "test_gui_stages.moc"
