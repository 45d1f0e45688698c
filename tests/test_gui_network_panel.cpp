// The network diagram and the boundary's fp32 ghost, fed real snapshots of a spirals run: one
// node per unit, edge colours are the trainer's codes, hovering a node shows its map in the
// decision-boundary panel (also through the window's wiring), and the ghost box shows the latent
// network's boundary as a contour line.
#include <qcustomplot.h>

#include <QCheckBox>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "core/config/config.h"
#include "core/model/mlp_model.h"
#include "core/train/trainer.h"
#include "gui_test_util.h"
#include "ui/boundary_panel.h"
#include "ui/config_panel.h"
#include "ui/network_panel.h"
#include "ui/theme.h"

using namespace h158;
using h158::ui::BoundaryPanel;
using h158::ui::NetworkPanel;

namespace {

struct Run {
    std::unique_ptr<Trainer> trainer;
    Snapshot network, boundary;  // the last of each
};

Run train(const std::string& weights, int steps) {
    Config c = presetConfig("spirals");
    c.run.steps = steps;
    c.run.snapshot_every = 10;
    c.quant.weights = weights;
    Run r{std::make_unique<Trainer>(c), {}, {}};
    while (!r.trainer->finished()) {
        r.trainer->step();
        for (auto& s : r.trainer->takeSnapshots()) {
            if (s.kind == "network") r.network = s;
            if (s.kind == "boundary") r.boundary = s;
        }
    }
    return r;
}

// The bilinear interpolation of a row-major nx x ny grid sampled at cell centres, at (x, y).
double bilinear(const std::vector<double>& v, const nlohmann::json& d, double x, double y) {
    const int nx = d["nx"], ny = d["ny"];
    const double x0 = d["x0"], x1 = d["x1"], y0 = d["y0"], y1 = d["y1"];
    const double fx = std::clamp((x - x0) / (x1 - x0) * nx - 0.5, 0.0, nx - 1.0);
    const double fy = std::clamp((y - y0) / (y1 - y0) * ny - 0.5, 0.0, ny - 1.0);
    const int ix = std::min(int(fx), nx - 2), iy = std::min(int(fy), ny - 2);
    const double tx = fx - ix, ty = fy - iy;
    auto at = [&](int i, int j) { return v[size_t(j * nx + i)]; };
    return (1 - ty) * ((1 - tx) * at(ix, iy) + tx * at(ix + 1, iy)) +
           ty * ((1 - tx) * at(ix, iy + 1) + tx * at(ix + 1, iy + 1));
}

}  // namespace

class TestGuiNetworkPanel : public QObject {
    Q_OBJECT
  private:
    Run m_run;

  private slots:
    void initTestCase() {
        m_run = train("ternary", 30);
        QVERIFY(!m_run.network.data.is_null() && !m_run.boundary.data.is_null());
        QCOMPARE(m_run.network.step, m_run.trainer->stepsDone());
    }

    void nodesAndEdgesAreTheTrainers() {
        NetworkPanel panel;
        panel.resize(1000, 560);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.applySnapshot(m_run.network);
        const auto& mlp = dynamic_cast<const MlpModel&>(m_run.trainer->model());
        std::vector<int> widths;
        for (int64_t w : mlp.shape().widths) widths.push_back(int(w));
        QCOMPARE(panel.layerSizes(), widths);
        for (int c = 0; c < int(widths.size()); ++c)
            for (int u = 0; u < widths[size_t(c)]; ++u) {
                const QRectF r = panel.nodeRect(c, u);
                QVERIFY(r.width() >= 3 && panel.view()->rect().contains(r.toRect()));
            }
        QVERIFY(panel.nodeRect(1, widths[1]).isNull());  // no node past the layer's width

        // Each drawn edge's colour is the code the trainer's quantizer gave that weight.
        const ParamLayout& L = mlp.layout();
        const QuantState& qs = m_run.trainer->quantState();
        std::vector<int> drawn(widths.size() - 1, 0);
        std::vector<float> weakestDrawn(widths.size() - 1, 1e30f);
        for (const NetworkPanel::Edge& e : panel.drawnEdges()) {
            const int ti = mlp.weightIndex(e.layer);
            const int64_t k = e.to + int64_t(e.from) * L[ti].rows;
            const auto& q = qs.tensors[size_t(ti)];
            const float latent = m_run.trainer->parameters()[size_t(L[ti].offset + k)];
            QCOMPARE(e.latent, latent);
            const QColor colour = NetworkPanel::edgeColour(e);
            if (q.levels == QuantLevels::None) {
                QVERIFY(!e.quantized);
                QVERIFY(colour != ui::colours::levelNeg && colour != ui::colours::levelPos &&
                        colour != ui::colours::levelZero);
            } else {
                const int code = q.codes[size_t(k)];
                const QColor want = code < 0   ? ui::colours::levelNeg
                                    : code > 0 ? ui::colours::levelPos
                                               : ui::colours::levelZero;
                QCOMPARE(colour, want);
            }
            ++drawn[size_t(e.layer)];
            weakestDrawn[size_t(e.layer)] = std::min(weakestDrawn[size_t(e.layer)], std::abs(latent));
        }
        // A large layer draws its strongest edges only, and the caption says so.
        for (int l = 0; l + 1 < int(widths.size()); ++l) {
            const int ti = mlp.weightIndex(l);
            const int64_t n = L[ti].size();
            QCOMPARE(int64_t(drawn[size_t(l)]), std::min<int64_t>(n, NetworkPanel::kMaxEdgesPerLayer));
            if (n <= NetworkPanel::kMaxEdgesPerLayer) continue;
            std::vector<float> mags;
            for (int64_t i = 0; i < n; ++i)
                mags.push_back(std::abs(m_run.trainer->parameters()[size_t(L[ti].offset + i)]));
            std::nth_element(mags.begin(), mags.begin() + NetworkPanel::kMaxEdgesPerLayer - 1,
                             mags.end(), std::greater<float>());
            QCOMPARE(weakestDrawn[size_t(l)], mags[NetworkPanel::kMaxEdgesPerLayer - 1]);
        }
        QVERIFY2(panel.edgeCaption().contains("strongest 150 of 1,024 edges"),
                 qPrintable(panel.edgeCaption()));
    }

    void hoverShowsTheUnitInTheBoundaryPanel() {
        NetworkPanel panel;
        BoundaryPanel boundary;
        connect(&panel, &NetworkPanel::neuronHovered, &boundary, &BoundaryPanel::showNeuronMap);
        connect(&panel, &NetworkPanel::neuronLeft, &boundary, &BoundaryPanel::clearNeuronMap);
        panel.resize(1000, 560);
        boundary.resize(500, 400);
        panel.show();
        boundary.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel) && QTest::qWaitForWindowExposed(&boundary));
        boundary.applySnapshot(m_run.boundary);
        panel.applySnapshot(m_run.network);

        QVERIFY(boundary.ghostCurve()->visible());
        const int column = 2, unit = 5;  // hidden layer 2, unit 6
        QTest::mouseMove(panel.view(), panel.nodeRect(column, unit).center().toPoint());
        QTRY_COMPARE(boundary.neuronName(), panel.unitName(column, unit));
        QCOMPARE(boundary.neuronName(), QString("hidden layer 2, unit 6"));
        QVERIFY(boundary.neuronMap()->visible());
        QVERIFY(!boundary.ghostCurve()->visible());  // the latent boundary is not the unit's
        // the map shown is the snapshot's unit: byte b at b/255 on the colour scale
        const auto& d = m_run.network.data;
        const QByteArray hex = QByteArray::fromStdString(
            d["maps"][size_t(column - 1)][size_t(unit)]["q_hex"].get<std::string>());
        const int nx = d["nx"], ny = d["ny"];
        QCPColorMapData* cells = boundary.neuronMap()->data();
        QCOMPARE(cells->keySize(), nx);
        QCOMPARE(cells->valueSize(), ny);
        for (int iy = 0; iy < ny; ++iy)
            for (int ix = 0; ix < nx; ++ix)
                QCOMPARE(cells->cell(ix, iy), hex.mid(2 * (iy * nx + ix), 2).toInt(nullptr, 16) / 255.0);

        // another node, then off the nodes: the boundary comes back
        QTest::mouseMove(panel.view(), panel.nodeRect(3, 1).center().toPoint());
        QTRY_COMPARE(boundary.neuronName(), QString("output: class 1"));
        QTest::mouseMove(panel.view(), QPoint(2, 2));
        QTRY_VERIFY(boundary.neuronName().isEmpty());
        QVERIFY(!boundary.neuronMap()->visible());
        QVERIFY(boundary.ghostCurve()->visible());
    }

    void ghostToggleShowsTheLatentBoundary() {
        BoundaryPanel boundary;
        boundary.resize(500, 400);
        boundary.show();
        QVERIFY(QTest::qWaitForWindowExposed(&boundary));
        Config cfg = presetConfig("spirals");
        boundary.beginRun(cfg, Qt::gray);
        boundary.applySnapshot(m_run.boundary);
        QCheckBox* box = boundary.ghostBox();
        QCOMPARE(box->objectName(), QString("ghost"));
        QVERIFY(box->isEnabled() && box->isChecked());
        QVERIFY(boundary.ghostCurve()->visible());
        // every point of the contour lies where the latent network's P(class 1) is 0.5
        const auto& d = m_run.boundary.data;
        const auto ghost = d["p_latent"].get<std::vector<double>>();
        int points = 0;
        for (auto it = boundary.ghostCurve()->data()->constBegin();
             it != boundary.ghostCurve()->data()->constEnd(); ++it) {
            if (std::isnan(it->key)) continue;
            ++points;
            QVERIFY2(std::abs(bilinear(ghost, d, it->key, it->value) - 0.5) < 1e-4,
                     qPrintable(QString("(%1, %2)").arg(it->key).arg(it->value)));
        }
        QVERIFY(points > 10);

        QTest::mouseClick(box, Qt::LeftButton);
        QVERIFY(!box->isChecked());
        QVERIFY(!boundary.ghostCurve()->visible());
        QTest::mouseClick(box, Qt::LeftButton);
        QVERIFY(boundary.ghostCurve()->visible());

        // a run that does not quantize has no ghost
        const Run fp32 = train("none", 10);
        boundary.beginRun(cfg, Qt::gray);
        boundary.applySnapshot(fp32.boundary);
        QVERIFY(boundary.hasMap());
        QVERIFY(!box->isEnabled());
        QVERIFY(!boundary.ghostCurve()->visible());
    }

    void windowWiresTheHoverToTheBoundary() {
        QTemporaryDir tmp;
        ui::MainWindow w(ui::MainWindowOptions{tmp.filePath("workspace"), false, {}});
        w.resize(1600, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.configPanel()->selectPreset("spirals"));
        auto* panel = w.findChild<NetworkPanel*>("network");
        QVERIFY(panel && w.mechanismPanels().contains(panel));
        QCOMPARE(panel->title(), QString("Network"));
        BoundaryPanel* boundary = w.findChild<BoundaryPanel*>();
        QVERIFY(boundary);
        w.showPage(ui::MainWindow::MechanismPage);
        QTRY_VERIFY(panel->isVisible());
        boundary->applySnapshot(m_run.boundary);
        panel->applySnapshot(m_run.network);
        QTest::mouseMove(panel->view(), panel->nodeRect(1, 0).center().toPoint());
        QTRY_COMPARE(boundary->neuronName(), QString("hidden layer 1, unit 1"));
    }
};

QTEST_MAIN(TestGuiNetworkPanel)
#include "test_gui_network_panel.moc"
