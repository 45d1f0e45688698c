// The K-Means teaching panel (ui/kmeans_panel.h) driven through its buttons and a real mouse drag:
// what it shows after each move is what the core computes (assignClusters, clusterMeans, kmeans
// from the same seed), the inertia never rises along the moves, and a dragged centroid is a new
// start. It also sits on the main window's Mechanism page under its id. H158_KMEANS_PNG=FILE
// writes the panel as drawn (to look at).
#include <qcustomplot.h>

#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>

#include "core/cluster/kmeans.h"
#include "core/config/config.h"
#include "ui/config_panel.h"
#include "ui/kmeans_panel.h"
#include "ui/main_window.h"

using h158::MatF;
using h158::ui::KMeansPanel;

namespace {

h158::Config spirals() { return h158::presetConfig("spirals"); }

// sum_j ||x_j - c_{l_j}||^2 in double, the reference for the inertia the panel shows.
double directInertia(const MatF& x, const MatF& c, const std::vector<int>& labels) {
    double s = 0.0;
    for (int64_t j = 0; j < x.cols(); ++j)
        s += (x.col(j).cast<double>() - c.col(labels[size_t(j)]).cast<double>()).squaredNorm();
    return s;
}

}  // namespace

class TestGuiKMeansPanel : public QObject {
    Q_OBJECT

    std::unique_ptr<KMeansPanel> m_panel;

    KMeansPanel* open(const h158::Config& cfg) {
        m_panel = std::make_unique<KMeansPanel>();
        m_panel->resize(760, 620);
        m_panel->beginRun(cfg, Qt::gray);
        m_panel->show();
        return m_panel.get();
    }

  private slots:
    void cleanup() { m_panel.reset(); }

    // On show the panel builds the config's 2-D points and a k-means++ start (k = data_k = 6
    // for spirals); each button moves as the core says.
    void movesAreTheCores() {
        KMeansPanel* p = open(spirals());
        QTRY_VERIFY(p->points().cols() > 0);
        QCOMPARE(p->points().rows(), int64_t(2));
        QCOMPARE(p->k(), 6);
        QVERIFY(p->labels().empty());
        QVERIFY(!p->updateButton()->isEnabled());
        std::vector<double> seq;
        for (int round = 0; round < 5; ++round) {
            const MatF before = p->centroids();
            QTest::mouseClick(p->assignButton(), Qt::LeftButton);
            double inertia = 0.0;
            QCOMPARE(p->labels(), h158::assignClusters(p->points(), before, &inertia));
            QVERIFY(p->centroids() == before);  // Assign moves no centroid
            QCOMPARE(int(p->moveInertias().size()), 2 * round + 1);
            QVERIFY(std::abs(p->moveInertias().back() - inertia) <= 1e-5 * inertia);
            QVERIFY(p->explanation().startsWith("Assign"));
            QVERIFY(p->updateButton()->isEnabled());

            QTest::mouseClick(p->updateButton(), Qt::LeftButton);
            const MatF means = h158::clusterMeans(p->points(), p->labels(), p->k(), nullptr);
            QVERIFY2((means - p->centroids()).cwiseAbs().maxCoeff() <= 1e-5f,
                     qPrintable(QString("round %1").arg(round)));
            const double direct = directInertia(p->points(), p->centroids(), p->labels());
            QVERIFY(std::abs(p->moveInertias().back() - direct) <= 1e-5 * direct);
            QVERIFY(p->explanation().startsWith("Update"));
        }
        seq = p->moveInertias();
        QCOMPARE(seq.size(), size_t(10));
        for (size_t i = 1; i < seq.size(); ++i)
            QVERIFY2(seq[i] <= seq[i - 1] * (1 + 1e-7),
                     qPrintable(QString("move %1: %2 > %3").arg(i + 1).arg(seq[i]).arg(seq[i - 1])));
        QVERIFY(seq.back() < seq.front());
    }

    // Run to convergence from the first start is kmeans() with the config's seed, bit for bit.
    void runToConvergenceIsKmeans() {
        const h158::Config cfg = spirals();
        KMeansPanel* p = open(cfg);
        QTRY_VERIFY(p->k() > 0);
        QTest::mouseClick(p->runButton(), Qt::LeftButton);
        h158::KMeansOptions opt;
        opt.k = p->k();
        opt.seed = uint64_t(cfg.run.seed);
        opt.tol = 0.0;
        const h158::KMeansResult r = h158::kmeans(p->points(), opt);
        QVERIFY(r.converged);
        QVERIFY(p->centroids() == r.centroids);
        QVERIFY(p->labels() == r.labels);
        QCOMPARE(p->moveInertias().back(), r.inertia);
        QCOMPARE(int(p->moveInertias().size()), 2 * r.iterations);
        QVERIFY(p->explanation().startsWith("Run to convergence"));
        // New start: the next seed's k-means++ centroids, the moves forgotten.
        QTest::mouseClick(p->newStartButton(), Qt::LeftButton);
        QVERIFY(p->centroids() == h158::KMeansStepper(p->points(), p->k(), opt.seed + 1).centroids());
        QVERIFY(p->moveInertias().empty());
        QVERIFY(p->labels().empty());
        // A different k is a new start with that many centroids.
        p->kSpin()->setValue(3);
        QCOMPARE(p->k(), 3);
        QCOMPARE(p->centroids().cols(), int64_t(3));
    }

    // A real mouse drag on a centroid moves it (the plot does not pan) and is a new start; Assign
    // then continues from there.
    void dragMovesACentroid() {
        KMeansPanel* p = open(spirals());
        QTRY_VERIFY(p->k() > 0);
        QTest::mouseClick(p->assignButton(), Qt::LeftButton);
        QCustomPlot* plot = p->plot();
        QVERIFY(QTest::qWaitForWindowExposed(p));
        plot->replot(QCustomPlot::rpImmediateRefresh);
        const QCPRange xRange = plot->xAxis->range();
        const QPoint from = p->centroidPixel(2).toPoint();
        const QPoint to = from + QPoint(40, -30);
        QTest::mousePress(plot, Qt::LeftButton, {}, from);
        QTest::mouseMove(plot, from + QPoint(20, -15));
        QTest::mouseMove(plot, to);
        QTest::mouseRelease(plot, Qt::LeftButton, {}, to);
        const MatF c = p->centroids();
        const double wantX = plot->xAxis->pixelToCoord(to.x());
        const double wantY = plot->yAxis->pixelToCoord(to.y());
        const double tol = 1e-4 * (plot->xAxis->range().size() + plot->yAxis->range().size());
        QVERIFY2(std::abs(c(0, 2) - wantX) <= tol && std::abs(c(1, 2) - wantY) <= tol,
                 qPrintable(QString("centroid at (%1, %2), dragged to (%3, %4)")
                                .arg(c(0, 2)).arg(c(1, 2)).arg(wantX).arg(wantY)));
        QCOMPARE(plot->xAxis->range().lower, xRange.lower);  // grabbing a centroid does not pan
        QVERIFY(p->labels().empty());
        QVERIFY(p->moveInertias().empty());
        QVERIFY(!p->updateButton()->isEnabled());
        QVERIFY(p->explanation().contains("moved centroid 2"));
        QTest::mouseClick(p->assignButton(), Qt::LeftButton);
        QCOMPARE(p->labels(), h158::assignClusters(p->points(), c));
        // The documented method does the same as the mouse.
        p->dragCentroid(0, QPointF(0.25, -0.5));
        QVERIFY(std::abs(p->centroids()(0, 0) - 0.25f) <= 1e-6f);
        QVERIFY(std::abs(p->centroids()(1, 0) + 0.5f) <= 1e-6f);
        if (const QByteArray png = qgetenv("H158_KMEANS_PNG"); !png.isEmpty()) {
            QTest::mouseClick(p->runButton(), Qt::LeftButton);
            plot->replot(QCustomPlot::rpImmediateRefresh);
            QVERIFY(p->grab().save(QString::fromLocal8Bit(png)));
        }
    }

    // Data that are not 2-D are clustered in their PCA projection (gpt-s: text windows).
    void pcaWhenNot2d() {
        KMeansPanel* p = open(h158::presetConfig("seed-linear"));
        QTRY_VERIFY(p->k() > 0);
        QCOMPARE(p->points().rows(), int64_t(2));
        QTest::mouseClick(p->assignButton(), Qt::LeftButton);
        QCOMPARE(p->labels(), h158::assignClusters(p->points(), p->centroids()));
    }

    // The panel is on the Mechanism page of the main window, under its id.
    void onTheMechanismPage() {
        QTemporaryDir ws;
        h158::ui::MainWindow w(h158::ui::MainWindowOptions{ws.path(), false, {}});
        auto* p = w.findChild<KMeansPanel*>(QStringLiteral("kmeans"));
        QVERIFY(p);
        QVERIFY(w.mechanismPanels().contains(p));
        QCOMPARE(p->title(), QString("K-Means, move by move"));
        // It follows the form: the spirals preset's 800 training points and data_k = 6.
        QVERIFY(w.configPanel()->selectPreset(QStringLiteral("spirals")));
        p->assign();
        QCOMPARE(p->points().cols(), int64_t(800));
        QCOMPARE(p->k(), 6);
        QCOMPARE(p->labels(), h158::assignClusters(p->points(), p->centroids()));
    }
};

QTEST_MAIN(TestGuiKMeansPanel)
#include "test_gui_kmeans_panel.moc"
