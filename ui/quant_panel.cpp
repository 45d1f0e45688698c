#include "ui/quant_panel.h"

#include <qcustomplot.h>

#include <QLabel>

#include "ui/plot_utils.h"
#include "ui/theme.h"

namespace h158::ui {

namespace {
QCPGraph* addArea(QCustomPlot* p, QCPAxisRect* r, const QString& name, const QColor& c,
                  QCPGraph* below) {
    QCPGraph* g = addLine(p, r, name, c.darker(115), 1);
    QColor fill = c;
    fill.setAlpha(170);
    g->setBrush(fill);
    if (below) g->setChannelFillGraph(below);
    return g;
}
}  // namespace

QuantPanel::QuantPanel(QWidget* parent) : Panel(tr("Quantization"), parent) {
    m_info = addInfoLabel();

    QCustomPlot* p = createPlot(QStringLiteral("quantization"));
    QCPAxisRect* top = p->axisRect(0);
    top->axis(QCPAxis::atLeft)->setLabel(tr("relative error"));
    m_error = addLine(p, top, tr("weights ‖Q(W)−W‖/‖W‖"), colours::quantError, 2);
    m_updateError = addLine(p, top, tr("updates"), colours::updateError, 1.2);
    p->legend->setVisible(true);
    top->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);

    m_levelRect = addAxisRectBelow(p);
    showEventsOn(p->axisRect(0));
    styleAxisRect(m_levelRect);
    m_levelRect->axis(QCPAxis::atBottom)->setLabel(tr("step"));
    m_levelRect->axis(QCPAxis::atLeft)->setLabel(tr("code fraction"));
    m_levelRect->axis(QCPAxis::atLeft)->setRange(0, 1);
    m_neg = addArea(p, m_levelRect, QStringLiteral("−1"), colours::levelNeg, nullptr);
    m_zero = addArea(p, m_levelRect, QStringLiteral("0"), colours::levelZero, m_neg);
    m_pos = addArea(p, m_levelRect, QStringLiteral("+1"), colours::levelPos, m_zero);
    QCPLegend* levels =
        addLegend(p, m_levelRect, Qt::AlignTop | Qt::AlignRight, {m_pos, m_zero, m_neg});
    levels->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    levels->setWrap(3);
}

void QuantPanel::beginRun(const Config& cfg, const QColor&) {
    for (QCPGraph* g : {m_error, m_updateError, m_neg, m_zero, m_pos}) g->data()->clear();
    const QString& w = QString::fromStdString(cfg.quant.weights);
    QString info;
    if (w == QLatin1String("ternary"))
        info = tr("ternary · 1.58 bits");
    else if (w == QLatin1String("five_level"))
        info = tr("five-level · 2.32 bits");
    else
        info = tr("quantization off");
    info += tr(" · scale per %1").arg(QString::fromStdString(cfg.quant.granularity));
    if (cfg.quant.updates) info += tr(" · ternary updates");
    m_info->setText(info);
    m_updateError->setVisible(cfg.quant.updates);
    if (cfg.quant.updates)
        m_updateError->addToLegend();
    else
        m_updateError->removeFromLegend();
    markDirty();
}

void QuantPanel::appendRows(const std::vector<StepMetrics>& rows) {
    for (const StepMetrics& m : rows) {
        const double x = double(m.step);
        if (std::isfinite(m.quant_error)) m_error->addData(x, m.quant_error);
        if (std::isfinite(m.update_quant_error)) m_updateError->addData(x, m.update_quant_error);
        if (std::isfinite(m.frac_neg) && std::isfinite(m.frac_zero) && std::isfinite(m.frac_pos)) {
            m_neg->addData(x, m.frac_neg);
            m_zero->addData(x, m.frac_neg + m.frac_zero);
            m_pos->addData(x, m.frac_neg + m.frac_zero + m.frac_pos);
        }
    }
    if (!rows.empty()) markDirty();
}

void QuantPanel::setOverlays(const std::vector<RunOverlay>& overlays) {
    replaceOverlays(overlays, [](const std::vector<StepMetrics>& rows, QVector<double>& x,
                                 QVector<double>& y) {
        for (const StepMetrics& m : rows)
            if (std::isfinite(m.quant_error)) x.push_back(double(m.step)), y.push_back(m.quant_error);
    });
}

void QuantPanel::rescale() {
    std::vector<QCPGraph*> top{m_error, m_updateError};
    top.insert(top.end(), m_overlayGraphs.begin(), m_overlayGraphs.end());
    QCPAxisRect* r = plot()->axisRect(0);
    fitAxis(r->axis(QCPAxis::atBottom), top, true);
    fitAxis(r->axis(QCPAxis::atLeft), top, false);
    if (r->axis(QCPAxis::atLeft)->range().lower < 0) r->axis(QCPAxis::atLeft)->setRangeLower(0);
    m_levelRect->axis(QCPAxis::atLeft)->setRange(0, 1);
}

}  // namespace h158::ui
