#include "ui/plot_utils.h"

#include <qcustomplot.h>

#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QSvgGenerator>
#include <QTextStream>

namespace h158::ui {

PlotInteraction::PlotInteraction(QCustomPlot* plot, QString baseName,
                                 std::function<void()> resetView)
    : QObject(plot),
      m_plot(plot),
      m_baseName(std::move(baseName)),
      m_resetView(std::move(resetView)) {
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(plot, &QCustomPlot::mousePress, this, &PlotInteraction::onPress);
    connect(plot, &QCustomPlot::mouseWheel, this, &PlotInteraction::onWheel);
    connect(plot, &QCustomPlot::mouseDoubleClick, this, &PlotInteraction::onDoubleClick);
    connect(plot, &QWidget::customContextMenuRequested, this, &PlotInteraction::showMenu);
}

void PlotInteraction::onPress(QMouseEvent* e) {
    if (e->button() == Qt::LeftButton) m_following = false;
}

void PlotInteraction::onWheel(QWheelEvent*) {
    m_following = false;
}

void PlotInteraction::onDoubleClick(QMouseEvent* e) {
    if (e->button() == Qt::LeftButton) resetView();
}

void PlotInteraction::resetView() {
    m_following = true;
    if (m_resetView) m_resetView();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    emit viewReset();
}

void PlotInteraction::showMenu(const QPoint& pos) {
    QMenu menu(m_plot);
    if (m_extend) m_extend(menu, pos);
    menu.addAction(tr("Reset view"), this, &PlotInteraction::resetView);
    menu.addSeparator();
    const QString base = m_baseName;
    menu.addAction(tr("Export PNG…"), this, [this, base] {
        const QString f = QFileDialog::getSaveFileName(m_plot, tr("Export PNG"), base + ".png",
                                                       tr("PNG image (*.png)"));
        if (!f.isEmpty()) exportPng(f);
    });
    menu.addAction(tr("Export PDF…"), this, [this, base] {
        const QString f = QFileDialog::getSaveFileName(m_plot, tr("Export PDF"), base + ".pdf",
                                                       tr("PDF document (*.pdf)"));
        if (!f.isEmpty()) exportPdf(f);
    });
    menu.addAction(tr("Export SVG…"), this, [this, base] {
        const QString f = QFileDialog::getSaveFileName(m_plot, tr("Export SVG"), base + ".svg",
                                                       tr("SVG image (*.svg)"));
        if (!f.isEmpty()) exportSvg(f);
    });
    menu.addAction(tr("Export data as CSV…"), this, [this, base] {
        const QString f = QFileDialog::getSaveFileName(m_plot, tr("Export CSV"), base + ".csv",
                                                       tr("CSV (*.csv)"));
        if (!f.isEmpty()) exportCsv(f);
    });
    menu.exec(m_plot->mapToGlobal(pos));
}

bool PlotInteraction::exportPng(const QString& path) const {
    return m_plot->savePng(path, 0, 0, 2.0);
}

bool PlotInteraction::exportPdf(const QString& path) const {
    return m_plot->savePdf(path);
}

bool PlotInteraction::exportSvg(const QString& path) const {
    const QSize size = m_plot->size();
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(size);
    svg.setViewBox(QRect(QPoint(0, 0), size));
    svg.setTitle(m_baseName);
    QCPPainter painter;
    if (!painter.begin(&svg)) return false;
    // As savePdf does: vector output, no pixmap caches of labels.
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    m_plot->toPainter(&painter, size.width(), size.height());
    painter.end();
    return QFileInfo(path).size() > 0;
}

bool PlotInteraction::exportCsv(const QString& path) const {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text)) return false;
    f.write(toCsv(m_plot).toUtf8());
    return true;
}

namespace {
QString seriesName(const QCPAbstractPlottable* p, int index) {
    QString n = p->name().isEmpty() ? QStringLiteral("series%1").arg(index) : p->name();
    n.replace(',', ' ');
    return n;
}
}  // namespace

QString PlotInteraction::toCsv(QCustomPlot* plot) {
    QString out;
    QTextStream s(&out);
    s.setRealNumberPrecision(10);
    s << "series,x,y,z\n";
    for (int i = 0; i < plot->plottableCount(); ++i) {
        const QCPAbstractPlottable* p = plot->plottable(i);
        const QString name = seriesName(p, i);
        if (auto* g = qobject_cast<const QCPGraph*>(p)) {
            for (const auto& d : *g->data()) s << name << ',' << d.key << ',' << d.value << ",\n";
        } else if (auto* c = qobject_cast<const QCPCurve*>(p)) {
            for (const auto& d : *c->data()) s << name << ',' << d.key << ',' << d.value << ",\n";
        } else if (auto* b = qobject_cast<const QCPBars*>(p)) {
            for (const auto& d : *b->data()) s << name << ',' << d.key << ',' << d.value << ",\n";
        } else if (auto* m = qobject_cast<QCPColorMap*>(plot->plottable(i))) {
            QCPColorMapData* d = m->data();
            for (int y = 0; y < d->valueSize(); ++y)
                for (int x = 0; x < d->keySize(); ++x) {
                    double kx, vy;
                    d->cellToCoord(x, y, &kx, &vy);
                    s << name << ',' << kx << ',' << vy << ',' << d->cell(x, y) << '\n';
                }
        }
    }
    return out;
}

QCPAxisRect* addAxisRectBelow(QCustomPlot* plot) {
    QCPAxisRect* first = plot->axisRect(0);
    auto* group = first->marginGroup(QCP::msLeft);
    if (!group) {
        group = new QCPMarginGroup(plot);
        first->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    }
    auto* rect = new QCPAxisRect(plot);
    plot->plotLayout()->addElement(plot->plotLayout()->rowCount(), 0, rect);
    rect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    for (QCPAxis* a : rect->axes()) a->setLayer(QStringLiteral("axes"));
    for (QCPAxis* a : rect->axes()) a->grid()->setLayer(QStringLiteral("grid"));
    QObject::connect(first->axis(QCPAxis::atBottom),
                     qOverload<const QCPRange&>(&QCPAxis::rangeChanged),
                     rect->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::setRange));
    QObject::connect(
        rect->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::rangeChanged),
        first->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::setRange));
    return rect;
}

QCPGraph* addLine(QCustomPlot* plot, QCPAxisRect* rect, const QString& name, const QColor& c,
                  double width) {
    QCPGraph* g = plot->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    g->setName(name);
    g->setPen(QPen(c, width));
    g->setAdaptiveSampling(true);
    return g;
}

QCPLegend* addLegend(QCustomPlot* plot, QCPAxisRect* rect, Qt::Alignment where,
                     const std::vector<QCPGraph*>& graphs) {
    auto* legend = new QCPLegend;
    rect->insetLayout()->addElement(legend, where);
    legend->setLayer(QStringLiteral("legend"));
    legend->setFont(plot->legend->font());
    legend->setBrush(plot->legend->brush());
    legend->setBorderPen(plot->legend->borderPen());
    legend->setIconSize(plot->legend->iconSize());
    for (QCPGraph* g : graphs) {
        g->removeFromLegend(plot->legend);
        g->addToLegend(legend);
    }
    return legend;
}

void fitAxis(QCPAxis* axis, const std::vector<QCPGraph*>& graphs, bool keys) {
    const bool log = axis->scaleType() == QCPAxis::stLogarithmic;
    const QCP::SignDomain sd = log ? QCP::sdPositive : QCP::sdBoth;
    bool any = false;
    QCPRange all;
    for (QCPGraph* g : graphs) {
        if (!g->visible() || g->dataCount() == 0) continue;
        bool found = false;
        const QCPRange r = keys ? g->getKeyRange(found, sd) : g->getValueRange(found, sd);
        if (!found) continue;
        all = any ? QCPRange(std::min(all.lower, r.lower), std::max(all.upper, r.upper)) : r;
        any = true;
    }
    if (!any) return;
    if (keys) {
        axis->setRange(all.lower, all.upper > all.lower ? all.upper : all.lower + 1);
    } else if (log) {
        axis->setRange(all.lower / 1.3, all.upper * 1.3);
    } else {
        const double pad =
            all.size() > 0 ? 0.06 * all.size() : std::max(1e-3, std::abs(all.upper) * 0.1);
        axis->setRange(all.lower - pad, all.upper + pad);
    }
}

void setLogAxis(QCPAxis* axis, bool log) {
    axis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (log)
        axis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    else
        axis->setTicker(QSharedPointer<QCPAxisTicker>::create());
}

}  // namespace h158::ui
