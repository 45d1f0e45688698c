#include "ui/boundary_panel.h"

#include <qcustomplot.h>

#include <QLabel>

#include "ui/theme.h"

namespace h158::ui {

namespace {
// Light tints of the class colours with white at the boundary, so the points stay visible.
QCPColorGradient boundaryGradient() {
    QCPColorGradient g;
    g.clearColorStops();
    const QColor a = classColour(0), b = classColour(1);
    auto tint = [](QColor c, double t) {
        return QColor(int(255 + (c.red() - 255) * t), int(255 + (c.green() - 255) * t),
                      int(255 + (c.blue() - 255) * t));
    };
    g.setColorStopAt(0.0, tint(a, 0.55));
    g.setColorStopAt(0.5, QColor(250, 250, 250));
    g.setColorStopAt(1.0, tint(b, 0.55));
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    return g;
}
}  // namespace

BoundaryPanel::BoundaryPanel(QWidget* parent) : Panel(tr("Decision boundary"), parent) {
    m_info = addInfoLabel();
    QCustomPlot* p = createPlot(QStringLiteral("decision_boundary"));
    p->xAxis->setLabel(QStringLiteral("x₁"));
    p->yAxis->setLabel(QStringLiteral("x₂"));
    m_map = new QCPColorMap(p->xAxis, p->yAxis);
    m_map->setName(tr("model output"));
    m_map->setGradient(boundaryGradient());
    m_map->setDataRange(QCPRange(0, 1));
    m_map->setInterpolate(true);
    m_map->setTightBoundary(true);
    p->axisRect()->setupFullAxesBox(true);
}

bool BoundaryPanel::appliesTo(const Config& cfg) const {
    const std::string& k = cfg.data.kind;
    return cfg.model.kind != "gpt" &&
           (k == "spirals" || k == "moons" || k == "blobs" || k == "xor");
}

QCPGraph* BoundaryPanel::classGraph(int c) {
    while (int(m_classes.size()) <= c) {
        const int n = int(m_classes.size());
        QCPGraph* g = plot()->addGraph();
        g->setName(tr("class %1").arg(n));
        g->setLineStyle(QCPGraph::lsNone);
        g->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::white, 1), classColour(n), 6));
        m_classes.push_back(g);
    }
    return m_classes[size_t(c)];
}

void BoundaryPanel::beginRun(const Config&, const QColor&) {
    m_hasMap = false;
    m_map->data()->clear();
    for (QCPGraph* g : m_classes) g->data()->clear();
    m_valAccuracy = kNoValue;
    m_info->clear();
    markDirty();
}

void BoundaryPanel::appendRows(const std::vector<StepMetrics>& rows) {
    for (const StepMetrics& m : rows)
        if (std::isfinite(m.val_accuracy)) m_valAccuracy = m.val_accuracy;
    if (std::isfinite(m_valAccuracy))
        m_info->setText(tr("val. accuracy %1%").arg(100 * m_valAccuracy, 0, 'f', 1));
}

void BoundaryPanel::applySnapshot(const Snapshot& s) {
    if (s.kind != "boundary" || !s.data.contains("p")) return;
    const auto& d = s.data;
    const int nx = d.value("nx", 0), ny = d.value("ny", 0);
    const auto& p = d["p"];
    if (nx <= 0 || ny <= 0 || int(p.size()) != nx * ny) return;
    m_x0 = d.value("x0", -1.0);
    m_x1 = d.value("x1", 1.0);
    m_y0 = d.value("y0", -1.0);
    m_y1 = d.value("y1", 1.0);
    // Cell centres: the core samples the grid at cell centres, so the map's range is inset by
    // half a cell.
    const double hx = (m_x1 - m_x0) / nx / 2, hy = (m_y1 - m_y0) / ny / 2;
    QCPColorMapData* data = m_map->data();
    data->setSize(nx, ny);
    data->setRange(QCPRange(m_x0 + hx, m_x1 - hx), QCPRange(m_y0 + hy, m_y1 - hy));
    for (int iy = 0; iy < ny; ++iy)
        for (int ix = 0; ix < nx; ++ix)
            data->setCell(ix, iy, p[size_t(iy * nx + ix)].get<double>());
    if (!m_hasMap) {
        // the data points do not move during a run: set them once
        const auto& pts = d.value("points", nlohmann::json::array());
        const auto& labels = d.value("labels", nlohmann::json::array());
        std::vector<QVector<double>> xs, ys;
        for (size_t i = 0; i < pts.size() && i < labels.size(); ++i) {
            const int c = labels[i].get<int>();
            if (c < 0) continue;
            if (xs.size() <= size_t(c)) {
                xs.resize(size_t(c) + 1);
                ys.resize(size_t(c) + 1);
            }
            xs[size_t(c)].push_back(pts[i][0].get<double>());
            ys[size_t(c)].push_back(pts[i][1].get<double>());
        }
        for (size_t c = 0; c < xs.size(); ++c) classGraph(int(c))->setData(xs[c], ys[c]);
    }
    m_hasMap = true;
    m_step = s.step;
    markDirty();
}

void BoundaryPanel::rescale() {
    plot()->xAxis->setRange(m_x0, m_x1);
    plot()->yAxis->setRange(m_y0, m_y1);
}

}  // namespace h158::ui
