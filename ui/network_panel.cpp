// The network diagram: a painted view of the "network" snapshot (nodes as heat maps, edges by
// code and |latent|), its hover, and the enlarged map of the unit under the pointer.
#include "ui/network_panel.h"

#include <qcustomplot.h>

#include <QLabel>
#include <QLocale>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>

#include "ui/theme.h"

namespace h158::ui {

namespace {
const QColor kFp32Edge(95, 95, 95);  // a layer kept at full precision: neutral, no code
const QColor kNodeBorder(150, 150, 150);

QString thousands(int64_t n) { return QLocale(QLocale::English).toString(qlonglong(n)); }

// A map as an image, y up (row 0 of the image is the top of the plane).
QImage mapImage(const PlaneMap& m, QCPColorGradient& g) {
    QImage img(m.nx, m.ny, QImage::Format_RGB32);
    for (int iy = 0; iy < m.ny; ++iy)
        g.colorize(m.values.data() + size_t(iy) * size_t(m.nx), QCPRange(0, 1),
                   reinterpret_cast<QRgb*>(img.scanLine(m.ny - 1 - iy)), m.nx);
    return img;
}
}  // namespace

// The painted area: it only forwards painting and the pointer to the panel.
class NetworkView : public QWidget {
  public:
    explicit NetworkView(NetworkPanel* panel) : m_panel(panel) {
        setMouseTracking(true);
        setMinimumSize(240, 160);
        setAutoFillBackground(false);
    }

  protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        m_panel->paint(p);
    }
    void resizeEvent(QResizeEvent* e) override {
        QWidget::resizeEvent(e);
        m_panel->layoutNodes();
    }
    void mouseMoveEvent(QMouseEvent* e) override {
        const QPointF pos = e->position();
        for (size_t c = 0; c < m_panel->m_rects.size(); ++c)
            for (size_t u = 0; u < m_panel->m_rects[c].size(); ++u)
                if (m_panel->m_rects[c][u].adjusted(-2, -2, 2, 2).contains(pos)) {
                    m_panel->setHover(int(c), int(u));
                    return;
                }
        m_panel->setHover(-1, -1);
    }
    void leaveEvent(QEvent*) override { m_panel->setHover(-1, -1); }

  private:
    NetworkPanel* m_panel;
};

NetworkPanel::NetworkPanel(QWidget* parent) : Panel(tr("Network"), parent) {
    setObjectName(QStringLiteral("network"));
    m_info = addInfoLabel();
    addStepBadge(header());
    m_view = new NetworkView(this);
    m_view->setToolTip(
        tr("Each square is a unit's output over the input plane (blue: positive, orange: "
           "negative, white: zero). Edges: the weight's code (−1 red, 0 grey, +1 blue; dark grey "
           "where the layer stays fp32), width by |latent weight|. Hover a unit to see it large."));
    setContent(m_view);
}

bool NetworkPanel::appliesTo(const Config& cfg) const {
    const std::string& k = cfg.data.kind;
    return cfg.model.kind != "gpt" &&
           (k == "spirals" || k == "moons" || k == "blobs" || k == "xor" ||
            (k == "csv" && cfg.data.csv_task == "classification"));
}

void NetworkPanel::beginRun(const Config&, const QColor&) {
    m_widths.clear();
    m_nodes.clear();
    m_levelSets.clear();
    m_allEdges.clear();
    m_edges.clear();
    m_rects.clear();
    m_totalEdges = 0;
    if (m_hover.first >= 0) setHover(-1, -1);
    m_step = 0;
    m_info->clear();
    setNote(tr("The network appears with the run's first snapshot (an MLP on 2-D inputs)."));
    markDirty();
}

void NetworkPanel::applySnapshot(const Snapshot& s) {
    if (s.kind != "network" || !s.data.contains("maps")) return;
    const auto& d = s.data;
    const auto widths = d["layers"].get<std::vector<int>>();
    const int nx = d.value("nx", 0), ny = d.value("ny", 0);
    const auto& maps = d["maps"];
    const auto& weights = d["weights"];
    if (widths.size() < 2 || nx <= 0 || ny <= 0 || maps.size() + 1 != widths.size() ||
        weights.size() + 1 != widths.size())
        return;
    PlaneMap frame{d.value("x0", -1.0), d.value("x1", 1.0), d.value("y0", -1.0),
                   d.value("y1", 1.0), nx, ny, {}};
    QCPColorGradient g = boundaryGradient();

    // Units: byte b of q_hex sits at b/255 on the colour scale, zero output at its white middle.
    // The inputs are the plane's own coordinates, scaled to their largest |value| the same way.
    std::vector<std::vector<Node>> nodes(widths.size());
    for (int i = 0; i < 2 && i < widths[0]; ++i) {
        Node n{frame, {}};
        n.map.values.resize(size_t(nx * ny));
        const double lo = i == 0 ? frame.x0 : frame.y0, hi = i == 0 ? frame.x1 : frame.y1;
        const double scale = std::max({std::abs(lo), std::abs(hi), 1e-12});
        for (int iy = 0; iy < ny; ++iy)
            for (int ix = 0; ix < nx; ++ix) {
                const double t = ((i == 0 ? ix : iy) + 0.5) / (i == 0 ? nx : ny);
                n.map.values[size_t(iy * nx + ix)] = ((lo + (hi - lo) * t) / scale + 1) / 2;
            }
        n.image = mapImage(n.map, g);
        nodes[0].push_back(std::move(n));
    }
    for (size_t l = 0; l < maps.size(); ++l) {
        if (int(maps[l].size()) != widths[l + 1]) return;
        for (const auto& unit : maps[l]) {
            if (!unit.contains("q_hex") || !unit["q_hex"].is_string()) return;
            const std::string& hex = unit["q_hex"].get_ref<const std::string&>();
            if (int(hex.size()) != 2 * nx * ny) return;
            Node n{frame, {}};
            n.map.values.resize(size_t(nx * ny));
            auto nibble = [](char ch) { return ch <= '9' ? ch - '0' : ch - 'a' + 10; };
            for (size_t j = 0; j < n.map.values.size(); ++j)
                n.map.values[j] = (16 * nibble(hex[2 * j]) + nibble(hex[2 * j + 1])) / 255.0;
            n.image = mapImage(n.map, g);
            nodes[l + 1].push_back(std::move(n));
        }
    }

    // Edges: W_l (out, in) column-major, edge in -> out at out + in * rows. A large layer keeps
    // its kMaxEdgesPerLayer strongest by |latent|.
    std::vector<std::vector<Edge>> all(weights.size());
    std::vector<QString> levelSets;
    m_edges.clear();
    m_totalEdges = 0;
    for (size_t l = 0; l < weights.size(); ++l) {
        const auto& w = weights[l];
        const int rows = w["rows"], cols = w["cols"];
        const auto latent = w["latent"].get<std::vector<float>>();
        const bool quantized = w.contains("codes");
        const auto codes = quantized ? w["codes"].get<std::vector<int>>() : std::vector<int>();
        if (rows != widths[l + 1] || cols != widths[l] || int(latent.size()) != rows * cols ||
            (quantized && codes.size() != latent.size()))
            return;
        levelSets.push_back(QString::fromStdString(w.value("level_set", std::string("none"))));
        float top = 1e-12f;
        for (float v : latent) top = std::max(top, std::abs(v));
        for (int c = 0; c < cols; ++c)
            for (int r = 0; r < rows; ++r) {
                const size_t k = size_t(r) + size_t(c) * size_t(rows);
                all[l].push_back(Edge{int(l), c, r, quantized ? codes[k] : 0, quantized, latent[k],
                                      double(std::abs(latent[k]) / top)});
            }
        m_totalEdges += rows * cols;
        std::vector<Edge> sorted = all[l];
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](const Edge& a, const Edge& b) { return a.strength > b.strength; });
        if (int(sorted.size()) > kMaxEdgesPerLayer) sorted.resize(kMaxEdgesPerLayer);
        m_edges.insert(m_edges.end(), sorted.begin(), sorted.end());
    }

    const bool shapeChanged = widths != m_widths;
    m_widths = widths;
    m_nodes = std::move(nodes);
    m_allEdges = std::move(all);
    m_levelSets = std::move(levelSets);
    m_step = s.step;
    if (shapeChanged) layoutNodes();
    m_info->setText(edgeCaption());
    setNote({});
    markDirty();
    // the unit under the pointer follows the training
    if (m_hover.first >= 0 && m_hover.first < int(m_nodes.size()) &&
        m_hover.second < int(m_nodes[size_t(m_hover.first)].size()))
        emit neuronHovered(unitName(m_hover.first, m_hover.second),
                           unitMap(m_hover.first, m_hover.second));
}

QString NetworkPanel::edgeCaption() const {
    if (m_widths.empty()) return {};
    QStringList capped;
    for (const auto& layer : m_allEdges)
        if (int(layer.size()) > kMaxEdgesPerLayer)
            capped << tr("strongest %1 of %2 edges · %3 → %4")
                          .arg(kMaxEdgesPerLayer)
                          .arg(thousands(int64_t(layer.size())))
                          .arg(columnName(layer.front().layer), columnName(layer.front().layer + 1));
    if (capped.isEmpty()) return tr("all %1 edges").arg(thousands(m_totalEdges));
    return tr("%1 (%2 of %3 drawn)")
        .arg(capped.join(QStringLiteral(", ")))
        .arg(thousands(int64_t(m_edges.size())))
        .arg(thousands(m_totalEdges));
}

QString NetworkPanel::columnName(int column) const {
    if (column == 0) return tr("inputs");
    if (column + 1 == int(m_widths.size())) return tr("output");
    return tr("hidden %1").arg(column);
}

QColor NetworkPanel::edgeColour(const Edge& e) {
    if (!e.quantized) return kFp32Edge;
    return e.code < 0 ? colours::levelNeg : e.code > 0 ? colours::levelPos : colours::levelZero;
}

QString NetworkPanel::unitName(int column, int unit) const {
    if (column == 0) return tr("input x%1").arg(unit == 0 ? QStringLiteral("₁") : QStringLiteral("₂"));
    if (column + 1 == int(m_widths.size())) return tr("output: class %1").arg(unit);
    return tr("hidden layer %1, unit %2").arg(column).arg(unit + 1);
}

PlaneMap NetworkPanel::unitMap(int column, int unit) const {
    if (column < 0 || column >= int(m_nodes.size()) || unit < 0 ||
        unit >= int(m_nodes[size_t(column)].size()))
        return {};
    return m_nodes[size_t(column)][size_t(unit)].map;
}

QRectF NetworkPanel::nodeRect(int column, int unit) const {
    if (column < 0 || column >= int(m_rects.size()) || unit < 0 ||
        unit >= int(m_rects[size_t(column)].size()))
        return {};
    return m_rects[size_t(column)][size_t(unit)];
}

void NetworkPanel::setHover(int column, int unit) {
    if (std::make_pair(column, unit) == m_hover) return;
    m_hover = {column, unit};
    if (column >= 0)
        emit neuronHovered(unitName(column, unit), unitMap(column, unit));
    else
        emit neuronLeft();
    m_view->update();
}

void NetworkPanel::redraw() { m_view->update(); }

// Columns left to right, one slot each; a column of many units wraps into a few sub-columns so
// the nodes stay large enough to read (every node the same size). The enlarged map takes the
// right side when the diagram keeps enough room beside it.
void NetworkPanel::layoutNodes() {
    m_rects.assign(m_widths.size(), {});
    m_focus = {};
    if (m_widths.empty()) return;
    const QFontMetrics fm(m_view->font());
    const QRectF r = m_view->rect();
    const double line = fm.height();
    const double top = line * 2.3, bottom = line * 1.6;
    const double left = fm.horizontalAdvance(QStringLiteral("x₂")) + 10;
    const double availH = std::max(20.0, r.height() - top - bottom);
    // room for the output units' class labels
    const double labels = m_widths.back() <= 10 ? fm.horizontalAdvance(QStringLiteral("class 0")) + 8 : 0;
    double right = r.width() - 6 - labels;
    const double f = std::min(availH - line * 1.3, r.width() * 0.3);
    if (f >= 90 && r.width() - f >= 330) {
        m_focus = QRectF(r.width() - 6 - f, top + line * 1.3 + (availH - line * 1.3 - f) / 2, f, f);
        right = m_focus.left() - labels - 16;
    }
    const int columns = int(m_widths.size());
    const double slot = (right - left) / columns;
    // node size with n units in k sub-columns: rows of s + a quarter gap within the height, and
    // the block at most half the slot wide (the other half is for the edges)
    auto fit = [&](int n, int k) {
        const int rows = (n + k - 1) / k;
        return std::min({44.0, availH / (rows * 1.25 - 0.25), 0.5 * slot / (k * 1.25 - 0.25)});
    };
    double s = 44;
    for (int n : m_widths) {
        double best = 0;
        for (int k = 1; k <= std::min(n, 8); ++k) best = std::max(best, fit(n, k));
        s = std::min(s, best);
    }
    s = std::max(s, 3.0);
    for (int c = 0; c < columns; ++c) {
        const int n = m_widths[size_t(c)];
        int k = 1;
        while (k < std::min(n, 8) && fit(n, k) < s - 1e-9) ++k;
        const int rows = (n + k - 1) / k;
        // a short column (the inputs, the classes) spreads to a line of text per node, so its
        // labels do not overlap
        const double pitch = k == 1 ? std::max(1.25 * s, std::min(line * 1.25, availH / n)) : 1.25 * s;
        const double w = k * s + (k - 1) * 0.25 * s, h = (rows - 1) * pitch + s;
        const double x0 = left + slot * (c + 0.5) - w / 2, y0 = top + (availH - h) / 2;
        for (int u = 0; u < n; ++u)
            m_rects[size_t(c)].push_back(
                QRectF(x0 + (u / rows) * 1.25 * s, y0 + (u % rows) * pitch, s, s));
    }
}

void NetworkPanel::paint(QPainter& p) {
    p.fillRect(m_view->rect(), Qt::white);
    if (m_nodes.empty() || m_rects.size() != m_nodes.size()) return;
    // antialiased edges and smoothly scaled maps cost several times more: a running run gets
    // them plain, a paused or finished one (and a screenshot) smooth (Panel::setLiveQuality)
    p.setRenderHint(QPainter::Antialiasing, !liveQuality());
    p.setRenderHint(QPainter::SmoothPixmapTransform, !liveQuality());
    const QFontMetrics fm(m_view->font());
    const int columns = int(m_rects.size());
    for (const auto& column : m_rects)
        if (column.empty()) return;
    // a column's centre (its sub-columns fill left to right)
    auto centreX = [&](int c) { return (m_rects[size_t(c)].front().left() + m_rects[size_t(c)].back().right()) / 2; };
    const double slot = columns > 1 ? centreX(1) - centreX(0) : 100;

    // column titles (short where the slots are narrow), and between them the weights' level set
    bool shortTitles = false;
    for (int c = 0; c < columns; ++c)
        shortTitles |= fm.horizontalAdvance(columnName(c)) + 6 > slot;
    p.setPen(colours::text);
    for (int c = 0; c < columns; ++c) {
        const QString t = !shortTitles ? columnName(c)
                          : c == 0 ? tr("in") : c + 1 == columns ? tr("out") : tr("h%1").arg(c);
        const double x = centreX(c);
        p.drawText(QRectF(x - slot / 2, 1, slot, fm.height() + 2), Qt::AlignHCenter | Qt::AlignTop, t);
    }
    p.setPen(colours::axis);
    for (int c = 0; c + 1 < columns && c < int(m_levelSets.size()); ++c) {
        const double a = centreX(c), b = centreX(c + 1);
        const QString t = m_levelSets[size_t(c)] == QLatin1String("none") ? tr("fp32") : m_levelSets[size_t(c)];
        if (b - a < fm.horizontalAdvance(t) + 6) continue;
        p.drawText(QRectF(a, fm.height() * 1.05, b - a, fm.height() + 2), Qt::AlignHCenter | Qt::AlignTop, t);
    }

    paintEdges(p);

    // nodes (a border only where they are large enough for it to be a frame, not a smear)
    for (int c = 0; c < columns; ++c)
        for (size_t u = 0; u < m_rects[size_t(c)].size() && u < m_nodes[size_t(c)].size(); ++u) {
            const QRectF& r = m_rects[size_t(c)][u];
            p.drawImage(r, m_nodes[size_t(c)][u].image);
            const bool hot = m_hover == std::make_pair(c, int(u));
            if (!hot && r.width() < 8) continue;
            p.setPen(QPen(hot ? colours::text : kNodeBorder, hot ? 2.0 : 0.8));
            p.setBrush(Qt::NoBrush);
            p.drawRect(r);
        }
    // input and output labels
    p.setPen(colours::text);
    for (size_t u = 0; u < m_rects[0].size(); ++u) {
        const QRectF& r = m_rects[0][u];
        p.drawText(QRectF(0, r.center().y() - fm.height(), r.left() - 4, 2 * fm.height()),
                   Qt::AlignRight | Qt::AlignVCenter, u == 0 ? QStringLiteral("x₁") : QStringLiteral("x₂"));
    }
    const auto& out = m_rects.back();
    const double outPitch = out.size() > 1 ? out[1].top() - out[0].top() : 1e9;
    if (out.size() <= 10 && outPitch >= fm.height() * 0.9)
        for (size_t u = 0; u < out.size(); ++u) {
            p.setPen(classColour(int(u)));
            p.drawText(QRectF(out[u].right() + 4, out[u].center().y() - fm.height(), 200, 2 * fm.height()),
                       Qt::AlignLeft | Qt::AlignVCenter, tr("class %1").arg(u));
        }
    paintFocus(p);

    // legend: the code colours, fp32, and what the width means (as much as fits)
    double x = 4;
    const double y = m_view->height() - fm.height() * 0.8;
    auto swatch = [&](const QColor& col, const QString& label) {
        p.setPen(QPen(col, 3, Qt::SolidLine, Qt::FlatCap));
        p.drawLine(QPointF(x, y), QPointF(x + 14, y));
        x += 17;
        p.setPen(colours::text);
        p.drawText(QPointF(x, y + fm.ascent() / 2.0 - 1), label);
        x += fm.horizontalAdvance(label) + 10;
    };
    swatch(colours::levelNeg, QStringLiteral("−1"));
    swatch(colours::levelZero, QStringLiteral("0"));
    swatch(colours::levelPos, QStringLiteral("+1"));
    swatch(kFp32Edge, tr("fp32"));
    const QString width = tr("width |latent w|");
    if (x + fm.horizontalAdvance(width) < m_view->width()) {
        p.setPen(colours::axis);
        p.drawText(QPointF(x, y + fm.ascent() / 2.0 - 1), width);
    }
}

void NetworkPanel::paintEdges(QPainter& p) {
    const bool hovering = m_hover.first >= 0;
    auto touches = [&](const Edge& e) {
        return (e.layer == m_hover.first && e.from == m_hover.second) ||
               (e.layer + 1 == m_hover.first && e.to == m_hover.second);
    };
    // Edges batched by width (8 steps of |latent| / the layer's largest) and colour: one
    // drawLines per pen instead of one call per edge, the widest drawn last so they lie on top.
    constexpr int kWidths = 8;
    struct Batch {
        QColor colour;
        std::vector<QLineF> lines;
    };
    std::vector<std::vector<Batch>> batches(kWidths);
    auto add = [&](const Edge& e, int alpha) {
        if (size_t(e.layer) + 1 >= m_rects.size()) return;
        const auto& a = m_rects[size_t(e.layer)];
        const auto& b = m_rects[size_t(e.layer) + 1];
        if (size_t(e.from) >= a.size() || size_t(e.to) >= b.size()) return;
        QColor col = edgeColour(e);
        col.setAlpha(alpha);
        auto& level = batches[size_t(std::clamp(int(std::lround(e.strength * (kWidths - 1))), 0, kWidths - 1))];
        auto it = std::find_if(level.begin(), level.end(), [&](const Batch& x) { return x.colour == col; });
        if (it == level.end()) it = level.insert(level.end(), Batch{col, {}});
        it->lines.emplace_back(QPointF(a[size_t(e.from)].right(), a[size_t(e.from)].center().y()),
                               QPointF(b[size_t(e.to)].left(), b[size_t(e.to)].center().y()));
    };
    auto draw = [&] {
        for (int w = 0; w < kWidths; ++w) {
            for (const Batch& x : batches[size_t(w)]) {
                p.setPen(QPen(x.colour, 0.4 + 2.6 * w / (kWidths - 1), Qt::SolidLine, Qt::FlatCap));
                p.drawLines(x.lines.data(), int(x.lines.size()));
            }
            batches[size_t(w)].clear();
        }
    };
    for (const Edge& e : m_edges) add(e, hovering ? 40 : 170);
    draw();
    if (!hovering) return;
    // every edge of the unit under the pointer, even those not among the strongest
    for (const auto& layer : m_allEdges)
        for (const Edge& e : layer)
            if (touches(e)) add(e, 235);
    draw();
}

void NetworkPanel::paintFocus(QPainter& p) {
    const QFontMetrics fm(m_view->font());
    const bool hovering = m_hover.first >= 0 && m_hover.first < int(m_nodes.size()) &&
                          m_hover.second < int(m_nodes[size_t(m_hover.first)].size());
    if (m_focus.isEmpty()) {
        // no room for the enlarged map beside the diagram: an inset over the half of the view
        // away from the unit under the pointer, while there is one
        if (!hovering) return;
        const QRectF node = nodeRect(m_hover.first, m_hover.second);
        const double side = std::min({150.0, m_view->height() * 0.55, m_view->width() * 0.42});
        const bool rightHalf = node.center().x() < m_view->width() / 2.0;
        const QRectF inset(rightHalf ? m_view->width() - side - 6 : 6, fm.height() * 2.6, side, side);
        const QRectF title(inset.left(), inset.top() - fm.height() * 1.25, side, fm.height() * 1.2);
        p.fillRect(title.united(inset).adjusted(-3, -2, 3, 3), QColor(255, 255, 255, 235));
        p.drawImage(inset, m_nodes[size_t(m_hover.first)][size_t(m_hover.second)].image);
        p.setPen(QPen(colours::text, 1));
        p.setBrush(Qt::NoBrush);
        p.drawRect(inset);
        p.drawText(title, Qt::AlignHCenter | Qt::AlignBottom,
                   fm.elidedText(unitName(m_hover.first, m_hover.second), Qt::ElideRight, int(side)));
        return;
    }
    // nothing under the pointer: the last output unit (class 1 of two: the boundary's class)
    const int c = hovering ? m_hover.first : int(m_nodes.size()) - 1;
    const int u = hovering ? m_hover.second : int(m_nodes.back().size()) - 1;
    if (m_nodes[size_t(c)].empty()) return;
    p.drawImage(m_focus, m_nodes[size_t(c)][size_t(u)].image);
    p.setPen(QPen(kNodeBorder, 1));
    p.setBrush(Qt::NoBrush);
    p.drawRect(m_focus);
    p.setPen(colours::text);
    const QRectF title(m_focus.left() - 30, m_focus.top() - fm.height() * 1.3, m_focus.width() + 36,
                       fm.height() * 1.2);
    p.drawText(title, Qt::AlignHCenter | Qt::AlignBottom,
               fm.elidedText(unitName(c, u), Qt::ElideRight, int(title.width())));
    if (!hovering && m_focus.bottom() + fm.height() * 1.2 < m_view->height() - fm.height() * 1.6) {
        p.setPen(colours::axis);
        p.drawText(QRectF(title.left(), m_focus.bottom() + 2, title.width(), fm.height() * 1.2),
                   Qt::AlignHCenter | Qt::AlignTop, tr("hover a unit to see it here"));
    }
}

}  // namespace h158::ui
