#include "ui/cluster_panel.h"

#include <qcustomplot.h>

#include <QLabel>

#include "ui/plot_utils.h"
#include "ui/theme.h"

namespace h158::ui {

namespace {
bool isPlane(const Config& cfg) {
    const std::string& k = cfg.data.kind;
    return k == "spirals" || k == "moons" || k == "blobs" || k == "xor";
}

QCPAxisRect* smallRect(QCustomPlot* p, const QString& label) {
    auto* r = new QCPAxisRect(p);
    r->setMinimumSize(60, 50);
    r->axis(QCPAxis::atLeft)->setLabel(label);
    r->axis(QCPAxis::atLeft)->ticker()->setTickCount(3);
    r->axis(QCPAxis::atBottom)->ticker()->setTickCount(4);
    return r;
}

// Sets bar `i` of a per-cluster bar family: one bar set per cluster so each has its colour.
void setBar(QCPBars* b, int i, double v) {
    b->data()->clear();
    if (std::isfinite(v)) b->addData(double(i), v);
}
}  // namespace

ClusterPanel::ClusterPanel(QWidget* parent) : Panel(tr("Data clusters"), parent) {
    m_info = addInfoLabel();
    addStepBadge(header());

    QCustomPlot* p = createPlot(QStringLiteral("clusters"));
    m_scatterRect = p->axisRect(0);
    auto* bottom = new QCPLayoutGrid;
    p->plotLayout()->addElement(1, 0, bottom);
    p->plotLayout()->setRowStretchFactors({2.3, 1.0});
    m_sizeRect = smallRect(p, tr("size"));
    m_recentRect = smallRect(p, tr("batch from"));
    m_recentRect->axis(QCPAxis::atBottom)->setLabel(tr("steps ago"));
    m_recentRect->axis(QCPAxis::atBottom)->setRange(-kRecentSteps - 2, 1);
    m_recentRect->axis(QCPAxis::atBottom)->setRangeReversed(false);
    p->addLayer(QStringLiteral("recent"), p->layer(QStringLiteral("main")), QCustomPlot::limAbove);
    m_recentLayer = p->layer(QStringLiteral("recent"));
    m_recentLayer->setMode(QCPLayer::lmBuffered);
    m_sizeRect->axis(QCPAxis::atBottom)->setLabel(tr("cluster"));
    QCPAxis* lossAxis = m_sizeRect->axis(QCPAxis::atRight);
    lossAxis->setVisible(true);
    lossAxis->setLabel(tr("loss ◆"));
    lossAxis->ticker()->setTickCount(3);
    bottom->addElement(0, 0, m_sizeRect);
    bottom->addElement(0, 1, m_recentRect);
    bottom->setColumnStretchFactors({1.0, 1.0});
    for (QCPAxisRect* r : {m_sizeRect, m_recentRect}) {
        styleAxisRect(r);
        for (QCPAxis* a : r->axes()) a->setLayer(QStringLiteral("axes"));
        r->setRangeDrag(Qt::Horizontal);
        r->setRangeZoom(Qt::Horizontal);
    }
    auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
    ticker->setTickStep(1);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_sizeRect->axis(QCPAxis::atBottom)->setTicker(ticker);
    m_clusterLoss = p->addGraph(m_sizeRect->axis(QCPAxis::atBottom), lossAxis);
    m_clusterLoss->setName(tr("cluster loss"));
    m_clusterLoss->setLineStyle(QCPGraph::lsNone);
    m_clusterLoss->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(Qt::black, 1),
                                                   QColor(255, 255, 255, 230), 8));
    m_clusterLoss->setLayer(QStringLiteral("overlay"));
    ticker = QSharedPointer<QCPAxisTickerFixed>::create();
    ticker->setTickStep(1);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_recentRect->axis(QCPAxis::atLeft)->setTicker(ticker);
    m_recentRect->axis(QCPAxis::atBottom)->ticker()->setTickCount(3);
    m_recent.push_back(
        p->addGraph(m_recentRect->axis(QCPAxis::atBottom), m_recentRect->axis(QCPAxis::atLeft)));
    m_recent[0]->setName(tr("mixed batch"));
    m_recent[0]->setLineStyle(QCPGraph::lsNone);
    m_recent[0]->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(150, 150, 150), 4));
    m_recent[0]->setLayer(m_recentLayer);
}

void ClusterPanel::ensureClusters(int k) {
    QCustomPlot* p = plot();
    while (int(m_points.size()) < k) {
        const int c = int(m_points.size());
        const QColor col = clusterColour(c);
        QCPGraph* g = p->addGraph(m_scatterRect->axis(QCPAxis::atBottom),
                                  m_scatterRect->axis(QCPAxis::atLeft));
        g->setName(tr("cluster %1").arg(c));
        g->setLineStyle(QCPGraph::lsNone);
        QColor fill = col;
        fill.setAlpha(150);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, fill, 4));
        g->setAntialiasedScatters(false);
        m_points.push_back(g);
        QCPGraph* cg = p->addGraph(m_scatterRect->axis(QCPAxis::atBottom),
                                   m_scatterRect->axis(QCPAxis::atLeft));
        cg->setName(tr("centroid %1").arg(c));
        cg->setLineStyle(QCPGraph::lsNone);
        cg->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(Qt::black, 1.6), col, 14));
        cg->setLayer(QStringLiteral("overlay"));
        m_centroids.push_back(cg);
        auto* b =
            new QCPBars(m_sizeRect->axis(QCPAxis::atBottom), m_sizeRect->axis(QCPAxis::atLeft));
        b->setName(tr("size of cluster %1").arg(c));
        b->setPen(QPen(col.darker(120)));
        b->setBrush(col);
        b->setWidth(0.75);
        m_sizes.push_back(b);
        recentGraph(c);
    }
    m_k = k;
    for (size_t c = 0; c < m_points.size(); ++c) {
        const bool on = int(c) < k;
        for (QCPAbstractPlottable* pl : std::initializer_list<QCPAbstractPlottable*>{
                 m_points[c], m_centroids[c], m_sizes[c], recentGraph(int(c))})
            pl->setVisible(on);
    }
}

QCPGraph* ClusterPanel::recentGraph(int cluster) {
    const size_t i = size_t(cluster + 1);
    while (m_recent.size() <= i) {
        const int c = int(m_recent.size()) - 1;
        QCPGraph* g = plot()->addGraph(m_recentRect->axis(QCPAxis::atBottom),
                                       m_recentRect->axis(QCPAxis::atLeft));
        g->setName(tr("batch from cluster %1").arg(c));
        g->setLineStyle(QCPGraph::lsNone);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, clusterColour(c), 4));
        g->setLayer(m_recentLayer);
        m_recent.push_back(g);
    }
    return m_recent[i];
}

void ClusterPanel::beginRun(const Config& cfg, const QColor&) {
    m_enabled = cfg.cluster.data_k > 0;
    const bool plane = isPlane(cfg);
    m_scatterRect->axis(QCPAxis::atBottom)->setLabel(plane ? QStringLiteral("x₁") : tr("PC 1"));
    m_scatterRect->axis(QCPAxis::atLeft)->setLabel(plane ? QStringLiteral("x₂") : tr("PC 2"));
    for (auto* g : m_points) g->data()->clear();
    for (auto* g : m_centroids) g->data()->clear();
    for (auto* b : m_sizes) b->data()->clear();
    m_clusterLoss->data()->clear();
    for (auto* g : m_recent) g->data()->clear();
    m_recentBatches.clear();
    m_lastStep = 0;
    m_fullRedraw = true;
    ensureClusters(int(cfg.cluster.data_k));
    m_snapshotStep = -1;
    m_info->setText(m_enabled ? tr("k = %1 · %2")
                                    .arg(cfg.cluster.data_k)
                                    .arg(QString::fromStdString(cfg.cluster.policy))
                              : QString());
    setNote(m_enabled ? QString()
                      : tr("Data clustering is off (cluster.data_k = 0).\nSet it above 0 to "
                           "cluster the data and draw batches per cluster."));
    markDirty();
}

void ClusterPanel::appendRows(const std::vector<StepMetrics>& rows) {
    if (!m_enabled || rows.empty()) return;
    for (const StepMetrics& m : rows) {
        if (m.cluster >= -1) m_recentBatches.emplace_back(m.step, m.cluster);
        m_lastStep = m.step;
    }
    while (!m_recentBatches.empty() && m_recentBatches.front().first <= m_lastStep - kRecentSteps)
        m_recentBatches.pop_front();
    // x = steps ago, so the strip's axes never move and only its layer needs redrawing
    std::vector<QVector<double>> xs(m_recent.size()), ys(m_recent.size());
    for (const auto& [step, c] : m_recentBatches) {
        recentGraph(c);
        if (xs.size() < m_recent.size()) {
            xs.resize(m_recent.size());
            ys.resize(m_recent.size());
        }
        xs[size_t(c + 1)].push_back(double(step - m_lastStep));
        ys[size_t(c + 1)].push_back(double(c));
    }
    for (size_t i = 0; i < m_recent.size(); ++i) m_recent[i]->setData(xs[i], ys[i], true);
    markDirty();
}

void ClusterPanel::applySnapshot(const Snapshot& s) {
    if (s.kind != "clusters" || !m_enabled) return;
    const auto& d = s.data;
    const auto& sizes = d.value("sizes", nlohmann::json::array());
    const int k = std::max<int>(int(sizes.size()), m_k);
    ensureClusters(k);
    std::vector<QVector<double>> xs(static_cast<size_t>(k)), ys(static_cast<size_t>(k));
    const auto& points = d.value("points", nlohmann::json::array());
    const auto& labels = d.value("labels", nlohmann::json::array());
    for (size_t i = 0; i < points.size() && i < labels.size(); ++i) {
        const int c = labels[i].get<int>();
        if (c < 0 || c >= k) continue;
        xs[size_t(c)].push_back(points[i][0].get<double>());
        ys[size_t(c)].push_back(points[i][1].get<double>());
    }
    for (int c = 0; c < k; ++c) m_points[size_t(c)]->setData(xs[size_t(c)], ys[size_t(c)]);
    const auto& cents = d.value("centroids", nlohmann::json::array());
    const auto& losses = d.value("cluster_loss", nlohmann::json::array());
    m_clusterLoss->data()->clear();
    for (int c = 0; c < k; ++c) {
        m_centroids[size_t(c)]->data()->clear();
        if (size_t(c) < cents.size())
            m_centroids[size_t(c)]->addData(cents[size_t(c)][0].get<double>(),
                                            cents[size_t(c)][1].get<double>());
        setBar(m_sizes[size_t(c)], c,
               size_t(c) < sizes.size() ? sizes[size_t(c)].get<double>() : kNoValue);
        const bool hasLoss = size_t(c) < losses.size() && losses[size_t(c)].is_number();
        if (hasLoss) m_clusterLoss->addData(double(c), losses[size_t(c)].get<double>());
    }
    const int refreshes = d.value("refreshes", 0);
    m_snapshotStep = s.step;
    m_info->setText(tr("k = %1 · re-clustered %2× · step %3").arg(k).arg(refreshes).arg(s.step));
    m_fullRedraw = true;
    markDirty();
}

QVector<QPointF> ClusterPanel::centroids() const {
    QVector<QPointF> out;
    for (const QCPGraph* g : m_centroids)
        for (const auto& d : *g->data()) out << QPointF(d.key, d.value);
    return out;
}

void ClusterPanel::rescale() {
    fitAxis(m_scatterRect->axis(QCPAxis::atBottom), m_points, true);
    fitAxis(m_scatterRect->axis(QCPAxis::atLeft), m_points, false);
    const double kMax = std::max(1, m_k) - 0.5;
    m_sizeRect->axis(QCPAxis::atBottom)->setRange(-0.6, kMax + 0.1);
    double maxSize = 0, maxLoss = 0;
    for (int c = 0; c < m_k; ++c)
        for (const auto& d : *m_sizes[size_t(c)]->data()) maxSize = std::max(maxSize, d.value);
    for (const auto& d : *m_clusterLoss->data()) maxLoss = std::max(maxLoss, d.value);
    m_sizeRect->axis(QCPAxis::atLeft)->setRange(0, maxSize > 0 ? maxSize * 1.15 : 1);
    m_sizeRect->axis(QCPAxis::atRight)->setRange(0, maxLoss > 0 ? maxLoss * 1.15 : 1);
    m_recentRect->axis(QCPAxis::atBottom)->setRange(-kRecentSteps - 2, 1);
    m_recentRect->axis(QCPAxis::atLeft)->setRange(-1.5, std::max(1, m_k) - 0.5);
}

void ClusterPanel::redraw() {
    if (m_fullRedraw) {
        m_fullRedraw = false;
        Panel::redraw();
        return;
    }
    m_recentLayer->replot();
}

}  // namespace h158::ui
