// A long run's history stays bounded in the workbench (history_bounds.h): the rows a run keeps in
// memory and the points of every curve are thinned by halving, never below what was asked, with
// the newest row and (while they are few) the validation rows always kept.
#include <qcustomplot.h>

#include <QTest>
#include <cmath>
#include <limits>

#include "core/config/config.h"
#include "ui/history_bounds.h"
#include "ui/loss_panel.h"

using namespace h158;
using namespace h158::ui;

namespace {

StepMetrics row(int64_t step, int64_t evalEvery) {
    StepMetrics m;
    m.step = step;
    m.loss = 1.0 / double(step);
    m.val_loss = step % evalEvery == 0 ? 2.0 / double(step) : std::numeric_limits<double>::quiet_NaN();
    return m;
}

}  // namespace

class TestGuiHistoryBounds : public QObject {
    Q_OBJECT
  private slots:
    // Appending 200,000 rows in batches of 100 with a bound of 1,000: never more than the bound
    // plus one batch, steps strictly increasing, the first and the newest row present, every
    // validation row kept while they are at most a quarter of the bound, the whole run covered.
    void rowsStayBounded() {
        constexpr size_t cap = 1000;
        constexpr int64_t evalEvery = 997, batch = 100, steps = 200000;
        std::vector<StepMetrics> rows;
        size_t largest = 0;
        int thinned = 0;
        for (int64_t s = 1; s <= steps; s += batch) {
            for (int64_t k = s; k < s + batch; ++k) rows.push_back(row(k, evalEvery));
            thinned += thinRows(rows, cap) ? 1 : 0;
            largest = std::max(largest, rows.size());
            QCOMPARE(rows.back().step, s + batch - 1);
        }
        QVERIFY2(largest <= cap + batch, qPrintable(QString::number(largest)));
        QVERIFY(thinned > 0);
        QVERIFY(rows.size() > cap / 2);  // halving never leaves less than half
        QCOMPARE(rows.front().step, int64_t(1));
        for (size_t i = 1; i < rows.size(); ++i) QVERIFY(rows[i].step > rows[i - 1].step);
        int64_t evals = 0;
        for (const StepMetrics& m : rows) evals += std::isfinite(m.val_loss) ? 1 : 0;
        QCOMPARE(evals, steps / evalEvery);  // 200 validation rows <= 250: all kept
    }

    // When the validation rows alone are more than a quarter of the bound, they are thinned with
    // the rest (a run that evaluates every step must not grow without bound).
    void denseValidationRowsAreThinnedToo() {
        std::vector<StepMetrics> rows;
        for (int64_t s = 1; s <= 50000; ++s) {
            rows.push_back(row(s, 1));
            thinRows(rows, 1000);
        }
        QVERIFY2(rows.size() <= 1001, qPrintable(QString::number(rows.size())));
        QCOMPARE(rows.back().step, int64_t(50000));
    }

    void graphIsHalvedKeepingItsLastPoint() {
        QCustomPlot plot;
        QCPGraph* g = plot.addGraph();
        for (int i = 0; i < 1000; ++i) g->addData(i, i * 0.5);
        QVERIFY(!thinGraph(g, 1000));
        QCOMPARE(g->dataCount(), 1000);
        g->addData(1000, 500.0);  // 1001 points, an odd count
        QVERIFY(thinGraph(g, 1000));
        QCOMPARE(g->dataCount(), 501);
        QCOMPARE(g->data()->at(0)->key, 0.0);
        QCOMPARE(g->data()->at(500)->key, 1000.0);
        g->addData(1001, 1.0);  // 502 points, even: the last one is not at an even position
        QVERIFY(thinGraph(g, 500));
        QCOMPARE(g->dataCount(), 252);
        QCOMPARE(g->data()->at(251)->key, 1001.0);
        QCOMPARE(g->data()->at(250)->key, 1000.0);
    }

    // The loss panel fed a run longer than kMaxCurvePoints the way the window feeds it (a batch,
    // then boundCurves): its curve never holds more than the bound plus one batch, and the newest
    // step is on it.
    void lossPanelCurveStaysBounded() {
        LossPanel panel;
        panel.beginRun(presetConfig("spirals"), Qt::blue);
        constexpr int64_t batch = 5000, steps = 3 * int64_t(kMaxCurvePoints);
        int largest = 0;
        for (int64_t s = 1; s <= steps; s += batch) {
            std::vector<StepMetrics> rows;
            for (int64_t k = s; k < s + batch && k <= steps; ++k) rows.push_back(row(k, 25));
            panel.appendRows(rows);
            panel.boundCurves();
            largest = std::max(largest, panel.pointCount());
        }
        QVERIFY2(largest <= kMaxCurvePoints + batch, qPrintable(QString::number(largest)));
        QVERIFY(panel.pointCount() > kMaxCurvePoints / 2);
        const QCPGraph* raw = panel.plot()->graph(0);
        QCOMPARE(raw->data()->at(raw->dataCount() - 1)->key, double(steps));
    }
};

QTEST_MAIN(TestGuiHistoryBounds)
#include "test_gui_history_bounds.moc"
