#include "ui/cluster_panel.h"

#include <QLabel>
#include <qcustomplot.h>

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
    m_info = new QLabel;
    m_info->setStyleSheet(QStringLiteral("color: #555;"));
    header()->insertWidget(2, m_info);

    QCustomPlot* p = createPlot(QStringLiteral("clusters"));
    m_scatterRect = p->axisRect(0);
    auto* bottom = new QCPLayoutGrid;
    p->plotLayout()->addElement(1, 0, bottom);
    p->plotLayout()->setRowStretchFactors({2.4, 1.0});
    m_sizeRect = smallRect(p, tr("size"));
    m_lossRect = smallRect(p, tr("loss"));
    m_recentRect = smallRect(p, tr("batch cluster"));
    m_recentRect->axis(QCPAxis::atBottom)->setLabel(tr("recent steps"));
    m_sizeRect->axis(QCPAxis::atBottom)->setLabel(tr("cluster"));
    m_lossRect->axis(QCPAxis::atBottom)->setLabel(tr("cluster"));
    bottom->addElement(0, 0, m_sizeRect);
    bottom->addElement(0, 1, m_lossRect);
    bottom->addElement(0, 2, m_recentRect);
    bottom->setColumnStretchFactors({1.0, 1.0, 1.4});
    for (QCPAxisRect* r : {m_sizeRect, m_lossRect, m_recentRect}) {
        styleAxisRect(r);
        for (QCPAxis* a : r->axes()) a->setLayer(QStringLiteral("axes"));
        r->setRangeDrag(Qt::Horizontal);
        r->setRangeZoom(Qt::Horizontal);
    }
    for (QCPAxisRect* r : {m_sizeRect, m_lossRect}) {
        auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
        ticker->setTickStep(1);
        ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
        r->axis(QCPAxis::atBottom)->setTicker(ticker);
    }
    auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
    ticker->setTickStep(1);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_recentRect->axis(QCPAxis::atLeft)->setTicker(ticker);
    m_recent.push_back(p->addGraph(m_recentRect->axis(QCPAxis::atBottom),
                                   m_recentRect->axis(QCPAxis::atLeft)));
    m_recent[0]->setName(tr("mixed batch"));
    m_recent[0]->setLineStyle(QCPGraph::lsNone);
    m_recent[0]->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(150, 150, 150), 4));
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
        m_points.push_back(g);
        QCPGraph* cg = p->addGraph(m_scatterRect->axis(QCPAxis::atBottom),
                                   m_scatterRect->axis(QCPAxis::atLeft));
        cg->setName(tr("centroid %1").arg(c));
        cg->setLineStyle(QCPGraph::lsNone);
        cg->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssStar, QPen(Qt::black, 1.5), col, 16));
        m_centroids.push_back(cg);
        for (auto* list : {&m_sizes, &m_losses}) {
            QCPAxisRect* r = list == &m_sizes ? m_sizeRect : m_lossRect;
            auto* b = new QCPBars(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
            b->setName(tr("cluster %1").arg(c));
            b->setPen(QPen(col.darker(120)));
            b->setBrush(col);
            b->setWidth(0.75);
            list->push_back(b);
        }
        recentGraph(c);
    }
    m_k = k;
    for (size_t c = 0; c < m_points.size(); ++c) {
        const bool on = int(c) < k;
        for (QCPAbstractPlottable* pl : std::initializer_list<QCPAbstractPlottable*>{
                 m_points[c], m_centroids[c], m_sizes[c], m_losses[c], recentGraph(int(c))})
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
    for (auto* b : m_losses) b->data()->clear();
    for (auto* g : m_recent) g->data()->clear();
    m_lastStep = 0;
    ensureClusters(int(cfg.cluster.data_k));
    m_info->setText(m_enabled ? tr("k = %1 · %2").arg(cfg.cluster.data_k)
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
        if (m.cluster >= -1) recentGraph(m.cluster)->addData(double(m.step), double(m.cluster));
        m_lastStep = m.step;
    }
    for (QCPGraph* g : m_recent) g->data()->removeBefore(double(m_lastStep - kRecentSteps));
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
    for (int c = 0; c < k; ++c) {
        m_centroids[size_t(c)]->data()->clear();
        if (size_t(c) < cents.size())
            m_centroids[size_t(c)]->addData(cents[size_t(c)][0].get<double>(),
                                            cents[size_t(c)][1].get<double>());
        setBar(m_sizes[size_t(c)], c,
               size_t(c) < sizes.size() ? sizes[size_t(c)].get<double>() : kNoValue);
        const bool hasLoss = size_t(c) < losses.size() && losses[size_t(c)].is_number();
        setBar(m_losses[size_t(c)], c, hasLoss ? losses[size_t(c)].get<double>() : kNoValue);
    }
    const int refreshes = d.value("refreshes", 0);
    m_info->setText(tr("k = %1 · step %2 · %3 refresh(es)").arg(k).arg(s.step).arg(refreshes));
    markDirty();
}

void ClusterPanel::rescale() {
    fitAxis(m_scatterRect->axis(QCPAxis::atBottom), m_points, true);
    fitAxis(m_scatterRect->axis(QCPAxis::atLeft), m_points, false);
    const double kMax = std::max(1, m_k) - 0.5;
    for (QCPAxisRect* r : {m_sizeRect, m_lossRect}) r->axis(QCPAxis::atBottom)->setRange(-0.6, kMax + 0.1);
    double maxSize = 0, maxLoss = 0;
    for (int c = 0; c < m_k; ++c) {
        for (const auto& d : *m_sizes[size_t(c)]->data()) maxSize = std::max(maxSize, d.value);
        for (const auto& d : *m_losses[size_t(c)]->data()) maxLoss = std::max(maxLoss, d.value);
    }
    m_sizeRect->axis(QCPAxis::atLeft)->setRange(0, maxSize > 0 ? maxSize * 1.15 : 1);
    m_lossRect->axis(QCPAxis::atLeft)->setRange(0, maxLoss > 0 ? maxLoss * 1.15 : 1);
    m_recentRect->axis(QCPAxis::atBottom)->setRange(double(m_lastStep - kRecentSteps),
                                                    double(std::max<int64_t>(m_lastStep, 1)));
    m_recentRect->axis(QCPAxis::atLeft)->setRange(-1.5, std::max(1, m_k) - 0.5);
}

}  // namespace h158::ui
