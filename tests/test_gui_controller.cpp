// The run controls through the real window: Start, Pause, Step, Resume, Stop, Reset, driven by
// clicks on the toolbar buttons and the Space key, checked against what reached the window, the
// worker's own count and the run directory on disk.
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <nlohmann/json.hpp>

#include "gui_test_util.h"
#include "ui/config_panel.h"
#include "ui/loss_panel.h"
#include "ui/run_controller.h"

using h158::ui::MainWindow;
using h158::ui::RunState;
using namespace h158::test;

class TestGuiController : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir m_tmp;
    std::unique_ptr<MainWindow> m_w;
    int64_t m_paused = 0;

    QString metricsCsv() const { return m_w->liveRunDirectory() + "/metrics.csv"; }
    nlohmann::json summary() const {
        QFile f(m_w->liveRunDirectory() + "/summary.json");
        if (!f.open(QIODevice::ReadOnly)) return {};
        return nlohmann::json::parse(f.readAll().toStdString());
    }

  private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_w = std::make_unique<MainWindow>(h158::ui::MainWindowOptions{m_tmp.path(), false, {}});
        m_w->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_w.get()));
        m_w->activateWindow();
        QVERIFY(m_w->configPanel()->selectPreset("seed-linear"));
        // long enough that it never finishes on its own during these tests
        m_w->configPanel()->setFieldText("run.steps", "1000000");
        QVERIFY(m_w->configPanel()->isValid());
        QCOMPARE(m_w->state(), RunState::Idle);
    }

    void startAdvances() {
        QVERIFY(m_w->runAction()->isEnabled());
        QVERIFY(!m_w->pauseAction()->isEnabled());
        QVERIFY(clickAction(*m_w, m_w->runAction()));
        QTRY_COMPARE(m_w->state(), RunState::Running);
        QTRY_VERIFY(m_w->receivedSteps() > 20);
        QTRY_VERIFY(m_w->lossPanel()->pointCount() > 20);  // the plot has them too
        QVERIFY(!m_w->runAction()->isEnabled());
        QVERIFY(m_w->stopAction()->isEnabled());
        QVERIFY(m_w->statusText().contains("running"));
    }

    void pauseStopsTheCount() {
        QTest::keyClick(m_w.get(), Qt::Key_Space);
        QTRY_COMPARE(m_w->state(), RunState::Paused);
        QVERIFY(syncWorker(*m_w));
        m_paused = m_w->receivedSteps();
        QVERIFY(m_paused > 0);
        QCOMPARE(m_w->controller()->stepsDone(), m_paused);
        QVERIFY(waitTicks(*m_w, 6));  // ~200 ms of redraw ticks in which nothing may move
        QCOMPARE(m_w->receivedSteps(), m_paused);
        QCOMPARE(m_w->controller()->stepsDone(), m_paused);
        QCOMPARE(countLines(metricsCsv()), int(m_paused) + 1);  // header + one row per step
        QVERIFY(m_w->statusText().contains("paused"));
        QVERIFY(m_w->stepAction()->isEnabled());
    }

    void stepIsExactlyOne() {
        for (int i = 1; i <= 3; ++i) {
            QVERIFY(clickAction(*m_w, m_w->stepAction()));
            QTRY_COMPARE(m_w->receivedSteps(), m_paused + i);
        }
        QVERIFY(waitTicks(*m_w, 4));
        QCOMPARE(m_w->receivedSteps(), m_paused + 3);
        QCOMPARE(m_w->controller()->stepsDone(), m_paused + 3);
        QCOMPARE(m_w->state(), RunState::Paused);
        const auto* rows = m_w->liveRows();
        for (size_t i = 0; i < rows->size(); ++i) QCOMPARE((*rows)[i].step, int64_t(i + 1));
        m_paused += 3;
    }

    void resumeAdvancesAgain() {
        QTest::keyClick(m_w.get(), Qt::Key_Space);
        QTRY_COMPARE(m_w->state(), RunState::Running);
        QTRY_VERIFY(m_w->receivedSteps() > m_paused + 20);
    }

    void stopEndsTheRunOnDisk() {
        QVERIFY(clickAction(*m_w, m_w->stopAction()));
        QTRY_COMPARE(m_w->state(), RunState::Stopped);
        QVERIFY(syncWorker(*m_w));
        const int64_t n = m_w->receivedSteps();
        QCOMPARE(m_w->controller()->stepsDone(), n);
        QCOMPARE(countLines(metricsCsv()), int(n) + 1);
        const auto s = summary();
        QCOMPARE(s.value("status", std::string()), std::string("stopped"));
        QCOMPARE(s.value("steps", int64_t(-1)), n);
        QVERIFY(m_w->runAction()->isEnabled());
        QVERIFY(!m_w->stopAction()->isEnabled());
    }

    void resetClearsAndAllowsANewRun() {
        QVERIFY(clickAction(*m_w, m_w->runAction()));
        QTRY_VERIFY(m_w->receivedSteps() > 10);
        const QString dir = m_w->liveRunDirectory();
        QVERIFY(clickAction(*m_w, m_w->resetAction()));
        QTRY_COMPARE(m_w->state(), RunState::Idle);
        QVERIFY(syncWorker(*m_w));
        QCOMPARE(m_w->receivedSteps(), int64_t(0));
        QCOMPARE(m_w->lossPanel()->pointCount(), 0);
        QVERIFY(m_w->runAction()->isEnabled());
        QVERIFY(!m_w->stopAction()->isEnabled());
        QVERIFY(m_w->statusText().contains("idle"));
        QFile f(dir + "/summary.json");
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(nlohmann::json::parse(f.readAll().toStdString()).value("status", std::string()),
                 std::string("stopped"));
    }

    void stepFromIdleStartsPaused() {
        QVERIFY(clickAction(*m_w, m_w->stepAction()));
        QTRY_COMPARE(m_w->receivedSteps(), int64_t(1));
        QTRY_COMPARE(m_w->state(), RunState::Paused);
        QVERIFY(clickAction(*m_w, m_w->resetAction()));
        QTRY_COMPARE(m_w->state(), RunState::Idle);
    }

    void completesAndSaysSo() {
        m_w->configPanel()->setFieldText("run.steps", "60");
        QSignalSpy finished(m_w.get(), &MainWindow::runFinished);
        QVERIFY(clickAction(*m_w, m_w->runAction()));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
        QCOMPARE(finished.at(0).at(0).value<RunState>(), RunState::Completed);
        QCOMPARE(m_w->receivedSteps(), int64_t(60));
        QCOMPARE(summary().value("status", std::string()), std::string("completed"));
        QVERIFY(m_w->statusText().contains("step 60 of 60"));
    }

    void divergedRunStopsAndSaysSo() {
        h158::ui::ConfigPanel* form = m_w->configPanel();
        form->setFieldText("optim.kind", "sgd");
        form->setFieldText("optim.lr", "50");
        form->setFieldText("trust.enabled", "false");
        form->setFieldText("aux.enabled", "false");
        form->setFieldText("run.steps", "100");
        QVERIFY(form->isValid());
        QSignalSpy finished(m_w.get(), &MainWindow::runFinished);
        QVERIFY(clickAction(*m_w, m_w->runAction()));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
        QCOMPARE(m_w->state(), RunState::Diverged);
        QVERIFY2(m_w->bannerText().contains("diverged"), qPrintable(m_w->bannerText()));
        QVERIFY(m_w->statusText().contains("diverged"));
        QVERIFY(m_w->receivedSteps() < 100);
        QCOMPARE(summary().value("status", std::string()), std::string("diverged"));
        QVERIFY(m_w->runAction()->isEnabled());  // ready to try again
        form->resetToPreset();
    }

    void failedRunShowsTheReason() {
        m_w->configPanel()->setFieldText("data.kind", "csv");
        m_w->configPanel()->setFieldText("data.csv_file", m_tmp.path() + "/no-such-file.csv");
        if (!m_w->configPanel()->isValid()) QSKIP("the core refuses a missing CSV at validation");
        QSignalSpy finished(m_w.get(), &MainWindow::runFinished);
        QVERIFY(clickAction(*m_w, m_w->runAction()));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
        QCOMPARE(m_w->state(), RunState::Failed);
        QVERIFY2(m_w->bannerText().contains("no-such-file.csv"), qPrintable(m_w->bannerText()));
        QVERIFY(m_w->statusText().contains("failed"));
    }

    void cleanupTestCase() { m_w.reset(); }
};

QTEST_MAIN(TestGuiController)
#include "test_gui_controller.moc"
