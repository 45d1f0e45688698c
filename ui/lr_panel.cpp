#include "ui/lr_panel.h"

#include <qcustomplot.h>

#include <QLabel>

#include "core/optim/schedule.h"
#include "ui/plot_utils.h"
#include "ui/theme.h"

namespace h158::ui {

LrPanel::LrPanel(QWidget* parent) : Panel(tr("Learning rate"), parent) {
    m_info = addInfoLabel();

    QCustomPlot* p = createPlot(QStringLiteral("learning_rate"));
    QCPAxisRect* top = p->axisRect(0);
    top->axis(QCPAxis::atLeft)->setLabel(tr("applied lr"));
    setLogAxis(top->axis(QCPAxis::atLeft), true);
    m_lr = addLine(p, top, tr("applied lr"), colours::lr, 2);
    p->legend->setVisible(true);
    top->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);

    m_auxRect = addAxisRectBelow(p);
    showEventsOn(p->axisRect(0));
    showEventsOn(m_auxRect);
    m_auxRect->axis(QCPAxis::atBottom)->setLabel(tr("step"));
    m_auxRect->axis(QCPAxis::atLeft)->setLabel(tr("multiplier mₜ"));
    m_auxRect->axis(QCPAxis::atRight)->setVisible(true);
    m_auxRect->axis(QCPAxis::atRight)->setLabel(tr("radius rₜ"));
    styleAxisRect(m_auxRect);
    m_auxRect->axis(QCPAxis::atLeft)->setLabelColor(colours::multiplier);
    m_auxRect->axis(QCPAxis::atRight)->setLabelColor(colours::radius);
    m_multiplier = addLine(p, m_auxRect, tr("multiplier mₜ"), colours::multiplier, 2);
    m_radius = p->addGraph(m_auxRect->axis(QCPAxis::atBottom), m_auxRect->axis(QCPAxis::atRight));
    m_radius->setName(tr("radius rₜ"));
    m_radius->setPen(QPen(colours::radius, 1.5));
    m_radius->setAdaptiveSampling(true);
    addLegend(p, m_auxRect, Qt::AlignTop | Qt::AlignRight, {m_multiplier, m_radius});
}

void LrPanel::beginRun(const Config& cfg, const QColor&) {
    for (QCPGraph* g : {m_lr, m_multiplier, m_radius}) g->data()->clear();
    QString info = !cfg.aux.enabled           ? tr("aux off")
                   : auxFloorsMultiplier(cfg) ? tr("aux on, mₜ ≥ 1")
                                              : tr("aux on");
    info += QStringLiteral(" · %1, %2")
                .arg(QString::fromStdString(cfg.optim.kind),
                     QString::fromStdString(cfg.optim.schedule));
    m_info->setText(info);
    m_radius->setVisible(cfg.trust.enabled);
    markDirty();
}

void LrPanel::appendRows(const std::vector<StepMetrics>& rows) {
    for (const StepMetrics& m : rows) {
        const double x = double(m.step);
        if (std::isfinite(m.lr)) m_lr->addData(x, m.lr);
        if (std::isfinite(m.lr_multiplier)) m_multiplier->addData(x, m.lr_multiplier);
        if (std::isfinite(m.trust_radius)) m_radius->addData(x, m.trust_radius);
    }
    if (!rows.empty()) markDirty();
}

void LrPanel::setOverlays(const std::vector<RunOverlay>& overlays) {
    replaceOverlays(overlays, [](const std::vector<StepMetrics>& rows, QVector<double>& x,
                                 QVector<double>& y) {
        for (const StepMetrics& m : rows)
            if (std::isfinite(m.lr)) x.push_back(double(m.step)), y.push_back(m.lr);
    });
}

void LrPanel::rescale() {
    std::vector<QCPGraph*> top{m_lr};
    top.insert(top.end(), m_overlayGraphs.begin(), m_overlayGraphs.end());
    QCPAxisRect* r = plot()->axisRect(0);
    fitAxis(r->axis(QCPAxis::atBottom), top, true);
    fitAxis(r->axis(QCPAxis::atLeft), top, false);
    fitAxis(m_auxRect->axis(QCPAxis::atLeft), {m_multiplier}, false);
    fitAxis(m_auxRect->axis(QCPAxis::atRight), {m_radius}, false);
}

}  // namespace h158::ui
