// 500 random commands (run, pause/resume, step, stop, reset, edit) in random order, with no
// waiting between most of them: no crash, no deadlock, and a consistent state whenever checked.
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <nlohmann/json.hpp>

#include "gui_test_util.h"
#include "ui/config_panel.h"
#include "ui/run_controller.h"

using h158::ui::MainWindow;
using h158::ui::RunState;
using namespace h158::test;

class TestGuiRandom : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir m_tmp;

    // After a round trip through the worker, what the window shows must agree with the worker,
    // the run directory and the actions.
    void checkConsistent(MainWindow& w, int command) {
        QVERIFY2(syncWorker(w), qPrintable(QString("deadlock after command %1").arg(command)));
        const RunState s = w.state();
        const bool active = h158::ui::isActive(s);
        QCOMPARE(w.runAction()->isEnabled(), !active && w.configPanel()->isValid());
        QCOMPARE(w.stopAction()->isEnabled(), active);
        QCOMPARE(w.pauseAction()->isEnabled(), s == RunState::Running || s == RunState::Paused);
        if (const auto* rows = w.liveRows()) {
            for (size_t i = 0; i < rows->size(); ++i) QCOMPARE((*rows)[i].step, int64_t(i + 1));
            if (s == RunState::Paused || h158::ui::isFinal(s)) {
                QCOMPARE(w.controller()->stepsDone(), int64_t(rows->size()));
                if (!rows->empty())
                    QCOMPARE(countLines(w.liveRunDirectory() + "/metrics.csv"),
                             int(rows->size()) + 1);
            }
            if (h158::ui::isFinal(s) && s != RunState::Failed)
                QVERIFY(QFile::exists(w.liveRunDirectory() + "/summary.json"));
        } else {
            QVERIFY(s == RunState::Idle || !w.liveRunDirectory().isEmpty() || h158::ui::isFinal(s));
        }
    }

  private slots:
    void randomCommands() {
        QVERIFY(m_tmp.isValid());
        MainWindow w(h158::ui::MainWindowOptions{m_tmp.path(), false, {}});
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        h158::ui::ConfigPanel* form = w.configPanel();
        QVERIFY(form->selectPreset("seed-linear"));
        form->setFieldText("run.steps", "150");
        QRandomGenerator rng(158);
        const QList<QPair<QString, QStringList>> edits = {
            {"run.steps", {"20", "150", "400"}},
            {"optim.lr", {"0.01", "0.003", "-1", "abc"}},  // two invalid values
            {"trust.enabled", {"true", "false"}},
            {"cluster.data_k", {"0", "2", "4"}},
            {"quant.weights", {"ternary", "five_level", "none"}},
        };
        int counts[6] = {};
        for (int i = 0; i < 500; ++i) {
            const int op = int(rng.bounded(6));
            ++counts[op];
            switch (op) {
                case 0:
                    w.runAction()->trigger();
                    break;
                case 1:
                    QTest::keyClick(&w, Qt::Key_Space);
                    break;
                case 2:
                    w.stepAction()->trigger();
                    break;
                case 3:
                    w.stopAction()->trigger();
                    break;
                case 4:
                    w.resetAction()->trigger();
                    break;
                case 5: {
                    const auto& e = edits[int(rng.bounded(edits.size()))];
                    form->setFieldText(e.first, e.second[int(rng.bounded(e.second.size()))]);
                    break;
                }
            }
            // sometimes let the worker and the timer run, sometimes fire the next one at once
            const int spins = int(rng.bounded(4));
            for (int k = 0; k < spins; ++k) QCoreApplication::processEvents();
            if (i % 25 == 24) checkConsistent(w, i);
            if (QTest::currentTestFailed()) return;
        }
        for (int c : counts) QVERIFY(c > 50);

        // still alive: a clean run to the end
        w.resetAction()->trigger();
        QTRY_COMPARE(w.state(), RunState::Idle);
        form->setFieldText("optim.lr", "0.01");
        form->setFieldText("run.steps", "30");
        QVERIFY(form->isValid());
        QVERIFY(clickAction(w, w.runAction()));
        QTRY_COMPARE_WITH_TIMEOUT(w.state(), RunState::Completed, 30000);
        checkConsistent(w, 500);
        QCOMPARE(w.receivedSteps(), int64_t(30));
    }
};

QTEST_MAIN(TestGuiRandom)
#include "test_gui_random.moc"
