#include "ui/boundary_panel.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <deque>
#include <limits>
#include <map>

#include "ui/theme.h"

namespace h158::ui {

namespace {

using Segment = std::pair<QPointF, QPointF>;

// Marching squares: where the bilinear interpolation of the samples v (nx x ny, row-major, at
// the centres of the cells of [x0, x1] x [y0, y1]) crosses `level`, as line segments. A square
// whose four corners alternate sides (a saddle) is resolved by the mean of its corners, the value
// at its centre. Neighbouring squares compute a shared crossing with the same arithmetic, so
// segments that meet share their end points exactly.
void contour(const PlaneMap& m, double level, std::vector<Segment>& out) {
    auto v = [&](int ix, int iy) { return m.values[size_t(iy * m.nx + ix)]; };
    auto px = [&](double ix) { return m.x0 + (m.x1 - m.x0) * (ix + 0.5) / m.nx; };
    auto py = [&](double iy) { return m.y0 + (m.y1 - m.y0) * (iy + 0.5) / m.ny; };
    for (int iy = 0; iy + 1 < m.ny; ++iy)
        for (int ix = 0; ix + 1 < m.nx; ++ix) {
            // corners a (ix, iy), b (ix+1, iy), c (ix+1, iy+1), d (ix, iy+1)
            const double a = v(ix, iy), b = v(ix + 1, iy), c = v(ix + 1, iy + 1), d = v(ix, iy + 1);
            // crossings on the edges in the order bottom (a-b), right (b-c), top (d-c), left (a-d)
            QPointF pts[4];
            bool has[4] = {};
            auto cross = [&](int e, double v1, double v2, double fx, double fy, double tx, double ty) {
                if ((v1 >= level) == (v2 >= level)) return;
                const double t = (level - v1) / (v2 - v1);
                pts[e] = QPointF(px(ix + fx + t * (tx - fx)), py(iy + fy + t * (ty - fy)));
                has[e] = true;
            };
            cross(0, a, b, 0, 0, 1, 0);
            cross(1, b, c, 1, 0, 1, 1);
            cross(2, d, c, 0, 1, 1, 1);
            cross(3, a, d, 0, 0, 0, 1);
            auto segment = [&](int e1, int e2) { out.emplace_back(pts[e1], pts[e2]); };
            const int n = has[0] + has[1] + has[2] + has[3];
            if (n == 2) {
                int e[2], k = 0;
                for (int i = 0; i < 4; ++i)
                    if (has[i]) e[k++] = i;
                segment(e[0], e[1]);
            } else if (n == 4) {
                // a and c on one side, b and d on the other: the centre decides which pair joins
                if (((a + b + c + d) / 4 >= level) == (a >= level)) {
                    segment(0, 1);  // cuts off b
                    segment(2, 3);  // cuts off d
                } else {
                    segment(0, 3);  // cuts off a
                    segment(1, 2);  // cuts off c
                }
            }
        }
}

// Joins segments that share end points into polylines, appended to (xs, ys) with a NaN point
// after each (a gap for QCPCurve), so a dashed pen runs along a whole line.
void chain(const std::vector<Segment>& segs, QVector<double>& xs, QVector<double>& ys) {
    auto key = [](const QPointF& p) { return std::make_pair(p.x(), p.y()); };
    std::map<std::pair<double, double>, std::vector<size_t>> at;  // end point -> segments
    for (size_t i = 0; i < segs.size(); ++i) {
        at[key(segs[i].first)].push_back(i);
        at[key(segs[i].second)].push_back(i);
    }
    std::vector<bool> used(segs.size(), false);
    // the other end of an unused segment that ends at p (marking it used), if any
    auto next = [&](const QPointF& p, QPointF& q) {
        for (size_t i : at[key(p)]) {
            if (used[i]) continue;
            used[i] = true;
            q = segs[i].first == p ? segs[i].second : segs[i].first;
            return true;
        }
        return false;
    };
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (size_t i = 0; i < segs.size(); ++i) {
        if (used[i]) continue;
        used[i] = true;
        std::deque<QPointF> line{segs[i].first, segs[i].second};
        QPointF q;
        while (next(line.back(), q)) line.push_back(q);
        while (next(line.front(), q)) line.push_front(q);
        for (const QPointF& p : line) {
            xs << p.x();
            ys << p.y();
        }
        xs << nan;
        ys << nan;
    }
}

}  // namespace

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

BoundaryPanel::BoundaryPanel(QWidget* parent) : Panel(tr("Decision boundary"), parent) {
    m_info = addInfoLabel();
    addStepBadge(header(), m_info);  // the accuracy gives way to the step
    QCustomPlot* p = createPlot(QStringLiteral("decision_boundary"));
    p->xAxis->setLabel(QStringLiteral("x₁"));
    p->yAxis->setLabel(QStringLiteral("x₂"));
    m_map = new QCPColorMap(p->xAxis, p->yAxis);
    m_map->setName(tr("model output"));
    m_map->setGradient(boundaryGradient());
    m_map->setDataRange(QCPRange(0, 1));
    m_map->setInterpolate(true);
    m_map->setTightBoundary(true);
    m_neuron = new QCPColorMap(p->xAxis, p->yAxis);
    m_neuron->setName(tr("unit output"));
    m_neuron->setGradient(boundaryGradient());
    m_neuron->setDataRange(QCPRange(0, 1));
    m_neuron->setInterpolate(true);
    m_neuron->setTightBoundary(true);
    m_neuron->setVisible(false);
    m_ghost = new QCPCurve(p->xAxis, p->yAxis);
    m_ghost->setName(tr("fp32 ghost"));
    m_ghost->setPen(QPen(QColor(60, 60, 60, 200), 1.6, Qt::DashLine));
    m_ghost->setVisible(false);
    p->axisRect()->setupFullAxesBox(true);

    m_ghostBox = new QCheckBox(tr("fp32 ghost"));
    m_ghostBox->setObjectName(QStringLiteral("ghost"));
    m_ghostBox->setChecked(true);
    m_ghostBox->setEnabled(false);
    m_ghostBox->setToolTip(
        tr("Dashed line: the boundary the same network draws with its latent full-precision "
           "weights, unquantized. The gap between it and the coloured boundary is what "
           "quantization costs. (Only when the run quantizes its weights.)"));
    header()->insertWidget(header()->count() - 1, m_ghostBox);
    connect(m_ghostBox, &QCheckBox::toggled, this, [this] {
        updateGhost();
        markDirty();
        refresh();
    });
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
    m_latent = PlaneMap{};
    m_ghost->data()->clear();
    m_ghost->setVisible(false);
    m_ghostBox->setEnabled(false);
    clearNeuronMap();
    for (QCPGraph* g : m_classes) g->data()->clear();
    m_valAccuracy = kNoValue;
    m_step = 0;
    m_info->clear();
    markDirty();
}

void BoundaryPanel::appendRows(const std::vector<StepMetrics>& rows) {
    for (const StepMetrics& m : rows)
        if (std::isfinite(m.val_accuracy)) m_valAccuracy = m.val_accuracy;
    updateCaption();
}

void BoundaryPanel::resizeEvent(QResizeEvent* e) {
    Panel::resizeEvent(e);
    fitHeader();
}

void BoundaryPanel::setStepCaption(int64_t step, const QString& caption) {
    StateView::setStepCaption(step, caption);
    fitHeader();
}

void BoundaryPanel::fitHeader() {
    // The box's label gives way before the title does: "fp32 ghost", "ghost", then the box alone
    // (its tooltip says what it is).
    const QFontMetrics fm(font());
    const int badge = stepBadgeWidth();
    const int need = int(fm.horizontalAdvance(title()) * 1.15) + 90 + (badge > 0 ? badge + 6 : 0);
    const QString full = tr("fp32 ghost"), brief = tr("ghost");
    m_ghostBox->setText(width() >= need + fm.horizontalAdvance(full)    ? full
                        : width() >= need + fm.horizontalAdvance(brief) ? brief
                                                                        : QString());
}

void BoundaryPanel::updateCaption() {
    if (!m_neuronName.isEmpty())
        m_info->setText(m_neuronName);
    else if (std::isfinite(m_valAccuracy))
        m_info->setText(tr("val. accuracy %1%").arg(100 * m_valAccuracy, 0, 'f', 1));
    else
        m_info->clear();
}

void BoundaryPanel::showNeuronMap(const QString& name, const PlaneMap& map) {
    if (map.nx <= 0 || map.ny <= 0 || int(map.values.size()) != map.nx * map.ny) return;
    QCPColorMapData* data = m_neuron->data();
    data->setSize(map.nx, map.ny);
    const double hx = (map.x1 - map.x0) / map.nx / 2, hy = (map.y1 - map.y0) / map.ny / 2;
    data->setRange(QCPRange(map.x0 + hx, map.x1 - hx), QCPRange(map.y0 + hy, map.y1 - hy));
    for (int iy = 0; iy < map.ny; ++iy)
        for (int ix = 0; ix < map.nx; ++ix) data->setCell(ix, iy, map.values[size_t(iy * map.nx + ix)]);
    m_neuron->setVisible(true);
    m_map->setVisible(false);
    m_neuronName = name;
    updateGhost();
    updateCaption();
    markDirty();
    refresh();
}

void BoundaryPanel::clearNeuronMap() {
    if (m_neuronName.isEmpty()) return;
    m_neuronName.clear();
    m_neuron->setVisible(false);
    m_map->setVisible(true);
    updateGhost();
    updateCaption();
    markDirty();
    refresh();
}

void BoundaryPanel::updateGhost() {
    const bool have = !m_latent.values.empty();
    m_ghostBox->setEnabled(have);
    // over a unit's map the latent network's boundary would be read as the unit's: hidden then
    m_ghost->setVisible(have && m_ghostBox->isChecked() && m_neuronName.isEmpty());
    if (!m_ghost->visible()) return;
    // two classes: P(class 1) = 0.5; more: between consecutive argmax classes k / (classes - 1)
    std::vector<Segment> segs;
    const int levels = std::max(1, m_classCount - 1);
    for (int k = 0; k < levels; ++k) contour(m_latent, (k + 0.5) / levels, segs);
    QVector<double> xs, ys;
    chain(segs, xs, ys);
    QVector<double> t(xs.size());
    for (int i = 0; i < t.size(); ++i) t[i] = i;
    m_ghost->setData(t, xs, ys, true);
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
    m_classCount = d.value("classes", 2);
    m_latent = PlaneMap{};
    if (d.contains("p_latent") && d["p_latent"].size() == p.size()) {
        m_latent = PlaneMap{m_x0, m_x1, m_y0, m_y1, nx, ny, d["p_latent"].get<std::vector<double>>()};
    }
    updateGhost();
    m_hasMap = true;
    m_step = s.step;
    markDirty();
}

void BoundaryPanel::rescale() {
    plot()->xAxis->setRange(m_x0, m_x1);
    plot()->yAxis->setRange(m_y0, m_y1);
}

}  // namespace h158::ui
