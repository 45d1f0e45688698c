// Rewind: the state panels at any step of a past run (read from its snapshots.jsonl) and of the
// live run (from the snapshots kept as they arrive), each naming the step it shows; a run
// selected in the table with no live run fills the panels (they stayed empty with --compare); a
// live run keeps training while the slider moves, and Live returns to its newest snapshot.
#include <qcustomplot.h>

#include <QElapsedTimer>
#include <climits>
#include <QFile>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "gui_test_util.h"
#include "ui/boundary_panel.h"
#include "ui/cluster_panel.h"
#include "ui/config_panel.h"
#include "ui/precision_panel.h"
#include "ui/rewind_bar.h"
#include "ui/runs_panel.h"
#include "ui/snapshot_store.h"
#include "ui/weight_map_panel.h"
#include "ui/weights_panel.h"

using h158::ui::MainWindow;
using h158::ui::RunSnapshots;
using h158::ui::RunState;
using namespace h158::test;

namespace {

template <typename T>
T* panelOf(MainWindow& w) {
    for (auto* p : w.panels())
        if (auto* t = qobject_cast<T*>(p)) return t;
    return nullptr;
}

// Every line of a snapshots.jsonl, parsed.
std::vector<nlohmann::json> readSnapshots(const QString& path) {
    std::vector<nlohmann::json> out;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return out;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine().trimmed();
        if (!line.isEmpty()) out.push_back(nlohmann::json::parse(line.toStdString()));
    }
    return out;
}

nlohmann::json snapshotAt(const QString& path, const std::string& kind, int64_t step) {
    for (auto& j : readSnapshots(path))
        if (j["kind"] == kind && j["step"] == step) return j;
    return {};
}

// The boundary panel's map equals snapshot `j`'s p cell by cell.
bool boundaryShows(h158::ui::BoundaryPanel* b, const nlohmann::json& j) {
    const int nx = j["nx"], ny = j["ny"];
    QCPColorMapData* d = b->outputMap()->data();
    if (d->keySize() != nx || d->valueSize() != ny) return false;
    for (int iy = 0; iy < ny; ++iy)
        for (int ix = 0; ix < nx; ++ix)
            if (d->cell(ix, iy) != j["p"][size_t(iy * nx + ix)].get<double>()) return false;
    return true;
}

bool clustersShow(h158::ui::ClusterPanel* c, const nlohmann::json& j) {
    const QVector<QPointF> shown = c->centroids();
    const auto& cents = j["centroids"];
    if (shown.size() != int(cents.size())) return false;
    for (int i = 0; i < shown.size(); ++i)
        if (shown[i] != QPointF(cents[size_t(i)][0].get<double>(), cents[size_t(i)][1].get<double>()))
            return false;
    return true;
}

}  // namespace

class TestGuiRewind : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir m_tmp;
    QString m_workspace, m_run;

    std::unique_ptr<MainWindow> makeWindow(const QString& workspace) {
        auto w = std::make_unique<MainWindow>(h158::ui::MainWindowOptions{workspace, false, {}});
        w->show();
        if (!QTest::qWaitForWindowExposed(w.get())) return nullptr;
        return w;
    }

    int entryOf(MainWindow& w, const QString& dir) {
        for (int id : w.runsPanel()->shownRunIds())
            if (w.runsPanel()->entry(id)->dir == dir) return id;
        return 0;
    }

  private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_workspace = m_tmp.filePath("workspace");
        m_run = m_workspace + "/spirals-a";
        const CliResult r = cli({"run", "--preset", "spirals", "--steps", "300", "--out", m_run});
        QVERIFY2(r.code == 0, qPrintable(r.err));
    }

    // The index finds every line's step and kind without parsing it, skips a line still being
    // written, and a line read back at its offset is the snapshot the file holds.
    void indexFindsEveryLine() {
        const QString file = m_tmp.filePath("index.jsonl");
        QVERIFY(QFile::copy(m_run + "/snapshots.jsonl", file));
        const auto all = readSnapshots(file);
        {
            QFile f(file);
            QVERIFY(f.open(QIODevice::Append));
            // a text sample that names a step inside its string, then a line cut short
            // (no raw string literals: moc's tokenizer does not know them)
            f.write("{\"kind\":\"samples\",\"prompt\":\"a \\\"step\\\":7, {\\\"kind\\\":\\\"x\\\"}\","
                    "\"step\":301,\"text\":\"\\\\\"}\n");
            f.write("{\"kind\":\"boundary\",\"step\":325,\"p\":[0.5,");
        }
        int64_t end = 0;
        const auto lines = h158::ui::indexSnapshotFile(file, 0, &end);
        QCOMPARE(lines.size(), all.size() + 1);
        for (size_t i = 0; i < all.size(); ++i) {
            QCOMPARE(lines[i].step, all[i]["step"].get<int64_t>());
            QCOMPARE(lines[i].kind, all[i]["kind"].get<std::string>());
        }
        QCOMPARE(lines.back().step, int64_t(301));
        QCOMPARE(lines.back().kind, std::string("samples"));
        QCOMPARE(end, lines.back().offset + lines.back().length + 1);

        RunSnapshots snaps(file, lines);
        QCOMPARE(snaps.count("boundary"), size_t(13));  // steps 0, 25, ..., 300
        const auto b = snaps.at("boundary", 110);
        QVERIFY(b);
        QCOMPARE(b->step, int64_t(100));
        nlohmann::json expect = snapshotAt(m_run + "/snapshots.jsonl", "boundary", 100);
        expect.erase("step");
        expect.erase("kind");
        QVERIFY(b->data == expect);
        QVERIFY(!snaps.at("boundary", -1));
        QCOMPARE(snaps.stepAtOrBefore(124), int64_t(100));
        QCOMPARE(snaps.upTo("samples", 1000, 5).size(), size_t(1));
        QVERIFY(snaps.bytes() > 0);
        snaps.releaseParsed();
        QCOMPARE(snaps.bytes(), size_t(0));
    }

    // The defect: with no live run (a workspace opened with --compare) the state panels stayed
    // empty whatever run was selected in the table. Selecting one fills them from its snapshots.
    void selectedRunFillsPanelsWithoutLiveRun() {
        auto w = makeWindow(m_workspace);
        QVERIFY(w);
        w->runsPanel()->checkAllShown();  // what --compare does
        const int id = entryOf(*w, m_run);
        QVERIFY(id != 0);
        auto* boundary = panelOf<h158::ui::BoundaryPanel>(*w);
        auto* clusters = panelOf<h158::ui::ClusterPanel>(*w);
        auto* precision = panelOf<h158::ui::PrecisionPanel>(*w);
        auto* weights = panelOf<h158::ui::WeightsPanel>(*w);
        QVERIFY(boundary && clusters && precision && weights);
        QVERIFY(!boundary->hasMap());
        w->runsPanel()->setCurrentRun(id);
        QTRY_VERIFY(boundary->hasMap());
        QCOMPARE(boundary->step(), int64_t(300));
        QVERIFY(boundaryShows(boundary, snapshotAt(m_run + "/snapshots.jsonl", "boundary", 300)));
        QCOMPARE(clusters->snapshotStep(), int64_t(300));
        QVERIFY(clustersShow(clusters, snapshotAt(m_run + "/snapshots.jsonl", "clusters", 300)));
        QVERIFY(precision->rowCount() > 0);
        QVERIFY(!weights->tensorNames().isEmpty());
        QCOMPARE(weights->snapshotStep(), int64_t(300));
        QVERIFY(boundary->isVisible());
        QCOMPARE(boundary->stepCaption(), QString("step 300 of 300 · spirals-a"));
        QCOMPARE(boundary->stepBadge(), QString("step 300"));
        QCOMPARE(clusters->stepBadge(), QString("step 300"));
        QVERIFY(w->rewindBar()->text().contains("spirals-a"));
        // the weight map has no cells of a past run, and says so
        auto* map = w->findChild<h158::ui::WeightMapPanel*>();
        QVERIFY(map && !map->stepCaption().isEmpty());
        QVERIFY(!map->currentMap());
    }

    // The slider, moved as a user moves it, shows the snapshots at or before the step in the
    // boundary and cluster panels, and names that step in them.
    void sliderShowsSnapshotAtStep() {
        auto w = makeWindow(m_workspace);
        QVERIFY(w);
        auto* boundary = panelOf<h158::ui::BoundaryPanel>(*w);
        auto* clusters = panelOf<h158::ui::ClusterPanel>(*w);
        w->runsPanel()->setCurrentRun(entryOf(*w, m_run));
        QTRY_VERIFY(boundary->hasMap());
        QSlider* slider = w->rewindBar()->slider();
        QVERIFY(slider->isEnabled());
        QCOMPARE(slider->maximum(), 300);
        QCOMPARE(slider->value(), 300);

        slider->setValue(110);
        QTRY_COMPARE(boundary->step(), int64_t(100));
        const QString file = m_run + "/snapshots.jsonl";
        QVERIFY(boundaryShows(boundary, snapshotAt(file, "boundary", 100)));
        QTRY_COMPARE(clusters->snapshotStep(), int64_t(100));
        QVERIFY(clustersShow(clusters, snapshotAt(file, "clusters", 100)));
        QCOMPARE(boundary->stepCaption(), QString("step 100 of 300 · spirals-a"));
        QCOMPARE(boundary->stepBadge(), QString("step 100"));
        QCOMPARE(clusters->stepBadge(), QString("step 100"));
        QCOMPARE(clusters->stepCaption(), QString("step 100 of 300 · spirals-a"));
        QCOMPARE(w->shownStep(), int64_t(100));
        QVERIFY(w->rewindBar()->text().contains("step 100 of 300"));

        // the keys move a snapshot at a time: 110 - 25 = 85 shows step 75
        slider->setFocus();
        QTest::keyClick(slider, Qt::Key_Left);
        QCOMPARE(slider->value(), 85);
        QTRY_COMPARE(boundary->step(), int64_t(75));
        QVERIFY(boundaryShows(boundary, snapshotAt(file, "boundary", 75)));
        QCOMPARE(boundary->stepCaption(), QString("step 75 of 300 · spirals-a"));
        QCOMPARE(boundary->stepBadge(), QString("step 75"));
        QTest::keyClick(slider, Qt::Key_Home);
        QTRY_COMPARE(boundary->step(), int64_t(0));
        QVERIFY(boundaryShows(boundary, snapshotAt(file, "boundary", 0)));
    }

    // Rewinding a live run draws from the snapshots kept on the UI side: the run keeps stepping
    // while the slider moves, nothing is asked of the worker, the panels stay at the chosen step
    // as new snapshots arrive, and Live returns to the newest one.
    void liveRunKeepsTrainingWhileRewound() {
        auto w = makeWindow(m_tmp.filePath("live-workspace"));
        QVERIFY(w);
        QVERIFY(w->configPanel()->selectPreset("spirals"));
        w->configPanel()->setFieldText("run.steps", "200000");
        auto* boundary = panelOf<h158::ui::BoundaryPanel>(*w);
        auto* map = w->findChild<h158::ui::WeightMapPanel*>();
        QVERIFY(clickAction(*w, w->runAction()));
        QTRY_VERIFY_WITH_TIMEOUT(w->liveSnapshots() && w->liveSnapshots()->count("boundary") >= 8,
                                 30000);
        QTRY_VERIFY(boundary->hasMap());
        QVERIFY(w->followsLive());
        QVERIFY(boundary->stepCaption().isEmpty());

        QSignalSpy asked(map, &h158::ui::WeightMapPanel::weightMapTensorRequested);
        QSlider* slider = w->rewindBar()->slider();
        QElapsedTimer clock;
        clock.start();
        int64_t before = w->controller()->stepsDone();
        QVERIFY(waitTicks(*w, 24));
        const double following =
            double(w->controller()->stepsDone() - before) / double(clock.elapsed()) * 1e3;
        clock.restart();
        before = w->controller()->stepsDone();
        int64_t chosen = 0;
        for (int i = 0; i < 12; ++i) {
            const int64_t done = w->controller()->stepsDone();
            chosen = std::max<int64_t>(slider->maximum() / 2 - i * 7, 0);
            slider->setValue(int(chosen));
            QVERIFY(waitTicks(*w, 2));
            // the run goes on stepping (a sanitizer build may need more than two ticks)
            QTRY_VERIFY2_WITH_TIMEOUT(w->controller()->stepsDone() > done, "the run stopped stepping",
                                      20000);
        }
        const double rate =
            double(w->controller()->stepsDone() - before) / double(clock.elapsed()) * 1e3;
        qInfo("%.0f steps/s following the run, %.0f while the slider moved", following, rate);
        QCOMPARE(w->state(), RunState::Running);
        QVERIFY(!w->followsLive());
        const auto expected = w->liveSnapshots()->at("boundary", chosen);
        QVERIFY(expected);
        QTRY_COMPARE(boundary->step(), expected->step);
        QCOMPARE(boundary->stepCaption(),
                 QString("step %1 of 200000 (rewound)").arg(w->shownStep()));
        QCOMPARE(boundary->stepBadge(), QString("step %1").arg(w->shownStep()));
        QVERIFY(map->stepCaption().contains("(rewound)"));
        // new snapshots arrive; the panel stays where it was put
        const int64_t last = w->liveSnapshots()->lastStep();
        QTRY_VERIFY(w->liveSnapshots()->lastStep() > last);
        QVERIFY(waitTicks(*w, 3));
        QCOMPARE(boundary->step(), expected->step);
        QCOMPARE(asked.count(), 0);  // the rewind asked nothing of the run's worker

        // Live: pause first so the newest snapshot holds still, then follow it
        QVERIFY(clickAction(*w, w->pauseAction()));
        QTRY_COMPARE(w->state(), RunState::Paused);
        QVERIFY(syncWorker(*w));
        QVERIFY(waitTicks(*w, 2));
        QTest::mouseClick(w->rewindBar()->liveButton(), Qt::LeftButton);
        QVERIFY(w->followsLive());
        QVERIFY(w->rewindBar()->liveButton()->isChecked());
        const int64_t newest = w->liveSnapshots()->at("boundary", INT64_MAX)->step;
        QTRY_COMPARE(boundary->step(), newest);
        QVERIFY(boundary->stepCaption().isEmpty());
        QVERIFY(boundary->stepBadge().isEmpty());
        QVERIFY(map->stepCaption().isEmpty());
        QCOMPARE(slider->value(), slider->maximum());
        // and it follows the run again
        QVERIFY(clickAction(*w, w->pauseAction()));
        QTRY_VERIFY(boundary->step() > newest);
        QVERIFY(clickAction(*w, w->stopAction()));
        QTRY_COMPARE(w->state(), RunState::Stopped);
    }
};

QTEST_MAIN(TestGuiRewind)
#include "test_gui_rewind.moc"
