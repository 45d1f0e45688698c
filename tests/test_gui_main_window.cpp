// The window as a whole: a GUI run (paused and stepped on the way) writes the same metrics.csv
// as the CLI for the same config and seed; every live view receives its data; ticking a past
// run overlays it; plots export; the window saves a screenshot; the workspace lists past runs.
#include <qcustomplot.h>

#include <QDir>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QScreen>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "gui_test_util.h"
#include "ui/boundary_panel.h"
#include "ui/cluster_panel.h"
#include "ui/config_panel.h"
#include "ui/loss_panel.h"
#include "ui/memory_panel.h"
#include "ui/plot_utils.h"
#include "ui/runs_panel.h"
#include "ui/weights_panel.h"

using h158::ui::MainWindow;
using h158::ui::RunState;
using namespace h158::test;

namespace {

template <typename T>
T* panelOf(MainWindow& w) {
    for (auto* p : w.panels())
        if (auto* t = qobject_cast<T*>(p)) return t;
    return nullptr;
}
}  // namespace

class TestGuiMainWindow : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir m_tmp;
    QString m_workspace;

    std::unique_ptr<MainWindow> makeWindow() {
        auto w = std::make_unique<MainWindow>(h158::ui::MainWindowOptions{m_workspace, false, {}});
        w->show();
        if (!QTest::qWaitForWindowExposed(w.get())) return nullptr;
        return w;
    }

  private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_workspace = m_tmp.filePath("workspace");
    }

    void guiRunEqualsCliRun() {
        auto w = makeWindow();
        QVERIFY(w);
        QVERIFY(w->configPanel()->selectPreset("seed-linear"));
        w->configPanel()->setFieldText("run.steps", "40");
        QSignalSpy finished(w.get(), &MainWindow::runFinished);
        // Step from idle (a paused run, one step), four more steps, then resume to the end.
        QVERIFY(clickAction(*w, w->stepAction()));
        QTRY_COMPARE(w->receivedSteps(), int64_t(1));
        for (int i = 2; i <= 5; ++i) {
            QVERIFY(clickAction(*w, w->stepAction()));
            QTRY_COMPARE(w->receivedSteps(), int64_t(i));
        }
        QTest::keyClick(w.get(), Qt::Key_Space);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(w->state(), RunState::Completed);
        const QString guiCsv = w->liveRunDirectory() + "/metrics.csv";

        const QString cliOut = m_tmp.filePath("cli-run");
        QProcess cli;
        cli.start(H158_CLI_PATH,
                  {"run", "--preset", "seed-linear", "--steps", "40", "--out", cliOut});
        QVERIFY(cli.waitForFinished(60000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        const auto gui = csvWithoutElapsed(guiCsv);
        const auto ref = csvWithoutElapsed(cliOut + "/metrics.csv");
        QCOMPARE(gui.size(), 41);
        QCOMPARE(ref.size(), 41);
        for (int i = 0; i < gui.size(); ++i) QCOMPARE(gui[i], ref[i]);
    }

    // Stop a run, then Resume it from the Runs panel: the run goes on from its checkpoint, the
    // curves keep the rows before it, and metrics.csv ends equal to an uninterrupted CLI run's.
    void stoppedRunIsResumed() {
        auto w = makeWindow();
        QVERIFY(w);
        QVERIFY(w->configPanel()->selectPreset("seed-linear"));
        w->configPanel()->setFieldText("run.steps", "40");
        w->configPanel()->setFieldText("run.checkpoint_every", "5");
        QVERIFY(clickAction(*w, w->stepAction()));
        QTRY_COMPARE(w->receivedSteps(), int64_t(1));
        for (int i = 2; i <= 12; ++i) {
            QVERIFY(clickAction(*w, w->stepAction()));
            QTRY_COMPARE(w->receivedSteps(), int64_t(i));
        }
        QVERIFY(clickAction(*w, w->stopAction()));
        QTRY_COMPARE(w->state(), RunState::Stopped);
        const QString dir = w->liveRunDirectory();
        int id = 0;
        for (int i = 1; i <= 1000 && id == 0; ++i)
            if (const auto* e = w->runsPanel()->entry(i); e && e->dir == dir) id = i;
        QVERIFY(id != 0);
        QTRY_VERIFY(w->runsPanel()->resumable(id));
        QCOMPARE(w->runsPanel()->entry(id)->checkpointStep, int64_t(12));

        QSignalSpy finished(w.get(), &MainWindow::runFinished);
        QVERIFY(w->resumeRun(id));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(w->state(), RunState::Completed);
        QCOMPARE(w->liveRunDirectory(), dir);
        QTRY_COMPARE(w->lossPanel()->pointCount(), 40);  // the 12 rows before, and the 28 after
        QVERIFY(!w->runsPanel()->resumable(id));

        const QString cliOut = m_tmp.filePath("cli-resume-ref");
        QProcess cli;
        cli.start(H158_CLI_PATH,
                  {"run", "--preset", "seed-linear", "--steps", "40", "--out", cliOut});
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(csvWithoutElapsed(dir + "/metrics.csv"), csvWithoutElapsed(cliOut + "/metrics.csv"));
    }

    // Run keys work wherever the focus is: with the cursor in a text field of the form, F8
    // pauses and resumes and F10 steps, while Space types a space into the field.
    void runKeysWorkFromATextField() {
        auto w = makeWindow();
        QVERIFY(w);
        QVERIFY(w->configPanel()->selectPreset("seed-linear"));
        w->configPanel()->setFieldText("run.steps", "100000");
        // A text field that stays editable while the run runs (a live setting).
        auto* name = qobject_cast<QLineEdit*>(w->configPanel()->editor("sample.prompt"));
        QVERIFY(name);
        QVERIFY(clickAction(*w, w->stepAction()));  // a paused run, one step
        QTRY_COMPARE(w->state(), RunState::Paused);
        QVERIFY(name->isEnabled());
        name->setFocus();
        QTRY_VERIFY(name->hasFocus());
        const QString before = name->text();
        QTest::keyClick(name, Qt::Key_Space);
        QCOMPARE(name->text(), before + " ");
        QVERIFY(syncWorker(*w));
        QCOMPARE(w->state(), RunState::Paused);  // Space in the field did not resume
        QTest::keyClick(name, Qt::Key_F10);
        QTRY_COMPARE(w->receivedSteps(), int64_t(2));
        QTest::keyClick(name, Qt::Key_F8);
        QTRY_COMPARE(w->state(), RunState::Running);
        QTest::keyClick(name, Qt::Key_F8);
        QTRY_COMPARE(w->state(), RunState::Paused);
        QVERIFY(w->shortcutsHelp().contains("F8"));
        QVERIFY(clickAction(*w, w->stopAction()));
        QTRY_COMPARE(w->state(), RunState::Stopped);
    }

    // The window takes the screen it opens on into account and can shrink to a 1366 x 768
    // laptop's free area; at 1600 x 1000 after a run, no panel title is cut and no two tick
    // labels of any axis touch.
    void windowFitsAndLabelsDoNotCollide() {
        auto w = makeWindow();
        QVERIFY(w);
        const QSize room = w->screen()->availableGeometry().size();
        // (the offscreen platform's screen is 800 x 800: smaller than the window can be)
        const QSize least = w->minimumSizeHint();
        QVERIFY2(w->width() <= std::max(room.width(), least.width()) &&
                     w->height() <= std::max(room.height(), least.height()),
                 qPrintable(QString("%1x%2 on %3x%4").arg(w->width()).arg(w->height())
                                .arg(room.width()).arg(room.height())));
        QVERIFY2(least.width() <= 1350 && least.height() <= 728,
                 qPrintable(QString("minimum %1x%2").arg(least.width()).arg(least.height())));

        QVERIFY(w->configPanel()->selectPreset("spirals"));
        w->configPanel()->setFieldText("run.steps", "300");
        QSignalSpy finished(w.get(), &MainWindow::runFinished);
        QVERIFY(clickAction(*w, w->runAction()));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        w->resize(1600, 1000);
        QTest::qWait(50);
        int axesChecked = 0;
        for (auto* p : w->panels()) {
            if (!p->isVisible()) continue;
            for (QLabel* l : p->findChildren<QLabel*>()) {
                if (l->font().bold() && l->text() == p->title())
                    QVERIFY2(l->fontMetrics().horizontalAdvance(l->text()) <= l->width(),
                             qPrintable(p->title() + " is cut"));
            }
            QCustomPlot* plot = p->plot();
            if (!plot) continue;
            p->forceRedraw();
            for (QCPAxisRect* r : plot->axisRects()) {
                for (QCPAxis* a : r->axes()) {
                    if (!a->visible() || !a->tickLabels()) continue;
                    const QVector<double> ticks = a->tickVector();
                    const QVector<QString> labels = a->tickVectorLabels();
                    const QFontMetrics fm(a->tickLabelFont());
                    const bool horizontal = a->orientation() == Qt::Horizontal;
                    double prevPos = 0, prevHalf = 0;
                    bool first = true;
                    for (int i = 0; i < ticks.size(); ++i) {
                        if (!a->range().contains(ticks[i]) || labels[i].isEmpty()) continue;
                        const double pos = a->coordToPixel(ticks[i]);
                        const double half =
                            (horizontal ? fm.horizontalAdvance(labels[i]) : fm.height()) / 2.0;
                        if (!first)
                            QVERIFY2(std::abs(pos - prevPos) >= prevHalf + half + 2,
                                     qPrintable(QString("%1: tick labels %2 and %3 touch")
                                                    .arg(p->title(), labels[i - 1], labels[i])));
                        prevPos = pos;
                        prevHalf = half;
                        first = false;
                    }
                    ++axesChecked;
                }
            }
        }
        QVERIFY(axesChecked >= 10);
    }

    void everyViewReceivesItsData() {
        auto w = makeWindow();
        QVERIFY(w);
        QVERIFY(w->configPanel()->selectPreset("spirals"));
        w->configPanel()->setFieldText("run.steps", "60");
        w->configPanel()->setFieldText("run.snapshot_every", "20");
        QSignalSpy finished(w.get(), &MainWindow::runFinished);
        QVERIFY(clickAction(*w, w->runAction()));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QTRY_COMPARE(w->lossPanel()->pointCount(), 60);
        auto* boundary = panelOf<h158::ui::BoundaryPanel>(*w);
        QVERIFY(boundary && boundary->isVisible());
        QVERIFY(boundary->hasMap());
        auto* clusters = panelOf<h158::ui::ClusterPanel>(*w);
        QCOMPARE(clusters->clusterCount(), int(w->configPanel()->config().cluster.data_k));
        QCOMPARE(w->memoryPanel()->rowCount(), 5);  // this model, 100M, 1B, 7B, 13B
        auto* weights = panelOf<h158::ui::WeightsPanel>(*w);
        QVERIFY(!weights->tensorNames().isEmpty());
        // a live view exports its picture and its data
        const QString png = m_tmp.filePath("loss.png"), csv = m_tmp.filePath("loss.csv");
        QVERIFY(w->lossPanel()->interaction()->exportPng(png));
        QVERIFY(!QImage(png).isNull());
        QVERIFY(w->lossPanel()->interaction()->exportCsv(csv));
        QVERIFY(countLines(csv) > 60);
        const QString pdf = m_tmp.filePath("boundary.pdf");
        QVERIFY(boundary->interaction()->exportPdf(pdf));
        QVERIFY(QFileInfo(pdf).size() > 1000);
    }

    void zoomStopsFollowingAndDoubleClickResets() {
        auto w = makeWindow();
        QVERIFY(w);
        QCustomPlot* plot = w->lossPanel()->plot();
        QVERIFY(w->lossPanel()->interaction()->following());
        QWheelEvent wheel(QPointF(100, 100), plot->mapToGlobal(QPointF(100, 100)), QPoint(),
                          QPoint(0, 120), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
        QCoreApplication::sendEvent(plot, &wheel);
        QVERIFY(!w->lossPanel()->interaction()->following());
        QSignalSpy reset(w->lossPanel()->interaction(), &h158::ui::PlotInteraction::viewReset);
        QTest::mouseDClick(plot, Qt::LeftButton, Qt::NoModifier, QPoint(100, 100));
        QCOMPARE(reset.count(), 1);
        QVERIFY(w->lossPanel()->interaction()->following());
    }

    void pastRunsAreListedAndOverlaid() {
        auto w = makeWindow();  // a new window on the workspace the runs above wrote
        QVERIFY(w);
        h158::ui::RunsPanel* runs = w->runsPanel();
        QVERIFY(runs->count() >= 2);
        runs->setGrouped(false);
        const int id = runs->shownRunIds().value(0);
        QVERIFY(id);
        const int before = w->lossPanel()->plot()->graphCount();
        QSignalSpy changed(runs, &h158::ui::RunsPanel::overlaysChanged);
        runs->setChecked(id, true);  // as a click on the box does
        QCOMPARE(changed.count(), 1);
        QCOMPARE(w->lossPanel()->plot()->graphCount(), before + 1);
        QCustomPlot* plot = w->lossPanel()->plot();
        QCPGraph* overlay = plot->graph(plot->graphCount() - 1);
        QCOMPARE(overlay->name(), runs->label(id));
        QVERIFY(overlay->dataCount() > 0);
        QVERIFY(plot->legend->hasItemWithPlottable(overlay));
        runs->setChecked(id, false);
        QCOMPARE(w->lossPanel()->plot()->graphCount(), before);
    }

    // Broken run directories in the workspace: the window opens, lists each with its reason, and
    // a run killed before its summary is "interrupted" at its last step.
    void brokenRunsDoNotStopTheWorkbench() {
        QTemporaryDir ws;
        auto write = [&](const QString& rel, const QByteArray& text) {
            QDir().mkpath(QFileInfo(ws.filePath(rel)).path());
            QFile f(ws.filePath(rel));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text);
        };
        const QByteArray cfg = R"({"run": {"steps": 600}})";
        write("a-mistyped/config.json", cfg);
        write("a-mistyped/summary.json", R"({"steps": "many", "status": 3})");
        write("b-malformed/config.json", cfg);
        write("b-malformed/summary.json", "{\"status\": ");
        write("c-killed/config.json", cfg);
        write("c-killed/metrics.csv", "step,loss\n1,2.5\n2,2.4\n23,2.1\n24,2.");
        write("d-badconfig/config.json", R"({"run": {"steps": "x"}})");
        MainWindow w(h158::ui::MainWindowOptions{ws.path(), false, {}});
        w.runsPanel()->setGrouped(false);
        QMap<QString, QStringList> rows;
        for (const QStringList& r : w.runsPanel()->shownRows()) rows[r[0]] = r;
        QCOMPARE(rows.size(), 4);
        QCOMPARE(rows["a-mistyped"][1], QString("unreadable: summary.json: status must be a string"));
        QVERIFY2(rows["b-malformed"][1].startsWith("unreadable: summary.json: malformed JSON"),
                 qPrintable(rows["b-malformed"][1]));
        QCOMPARE(rows["c-killed"][1], QString("interrupted"));
        QCOMPARE(rows["c-killed"][2], QString("24/600"));
        QCOMPARE(rows["d-badconfig"][1],
                 QString("unreadable: config.json: run.steps must be an integer"));
    }

    void lossSmoothingIsTensorBoards() {
        h158::ui::LossPanel panel;
        panel.beginRun(h158::Config{}, Qt::blue);
        panel.setSmoothing(0.5);
        std::vector<h158::StepMetrics> rows(3);
        for (int i = 0; i < 3; ++i) {
            rows[size_t(i)].step = i + 1;
            rows[size_t(i)].loss = i + 1.0;
        }
        panel.appendRows(rows);
        QCPGraph* smooth = nullptr;
        for (int i = 0; i < panel.plot()->graphCount(); ++i)
            if (panel.plot()->graph(i)->name().contains("smoothed"))
                smooth = panel.plot()->graph(i);
        QVERIFY(smooth);
        // debiased EMA, w = 0.5: 1, (0.25 + 1) / 0.75, (0.625 + 1.5) / 0.875
        const double expected[] = {1.0, 1.25 / 0.75, 2.125 / 0.875};
        QCOMPARE(smooth->dataCount(), 3);
        for (int i = 0; i < 3; ++i)
            QVERIFY(qAbs(smooth->data()->at(i)->value - expected[i]) < 1e-12);
        panel.setSmoothing(0.0);  // rebuilt from the history: raw values
        for (int i = 0; i < 3; ++i) QCOMPARE(smooth->data()->at(i)->value, i + 1.0);
        panel.setWallTimeAxis(true);
        QCOMPARE(smooth->dataCount(), 3);
    }

    void screenshotIsTheWholeWindow() {
        auto w = makeWindow();
        QVERIFY(w);
        const QString path = m_tmp.filePath("shot.png");
        QVERIFY(w->saveScreenshot(path));
        const QImage img(path);
        QCOMPARE(img.size(), w->size() * w->devicePixelRatio());
    }
};

QTEST_MAIN(TestGuiMainWindow)
#include "test_gui_main_window.moc"
