#include "ui/flips_panel.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QLabel>
#include <QToolTip>
#include <cmath>

#include "ui/plot_utils.h"
#include "ui/theme.h"

namespace h158::ui {

namespace {

// A log axis cannot show a step without flips: such points become gaps (NaN), and come back as
// zeros on a linear axis.
double shown(double v, bool log) {
    return log && v <= 0 ? std::nan("") : v;
}

void remap(QCPGraph* g, bool log) {
    for (auto it = g->data()->begin(); it != g->data()->end(); ++it) {
        if (log && it->value <= 0) it->value = std::nan("");
        if (!log && std::isnan(it->value)) it->value = 0;
    }
}

// "blocks.2.fc.weight" -> "2.fc": the bars' labels stay short.
QString shortName(QString n) {
    if (n.endsWith(QLatin1String(".weight"))) n.chop(7);
    if (n.startsWith(QLatin1String("blocks."))) n.remove(0, 7);
    return n;
}

}  // namespace

FlipsPanel::FlipsPanel(QWidget* parent) : Panel(tr("Code flips"), parent) {
    setObjectName(QStringLiteral("flips"));
    m_info = addInfoLabel();
    m_log = new QCheckBox(tr("log"));
    m_log->setChecked(true);
    m_log->setToolTip(tr("Logarithmic rate axis (steps without flips are left out)"));
    header()->insertWidget(2, m_log);
    connect(m_log, &QCheckBox::toggled, this, &FlipsPanel::setLogScale);

    QCustomPlot* p = createPlot(QStringLiteral("code_flips"));
    showEventsOn(p->axisRect());
    QCPAxisRect* top = p->axisRect(0);
    top->axis(QCPAxis::atLeft)->setLabel(tr("flip rate"));
    m_total = addLine(p, top, tr("all"), colours::quantError, 1.8);
    m_weight = addLine(p, top, tr("weight moved"), colours::flipWeight, 1);
    m_scale = addLine(p, top, tr("scale moved"), colours::flipScale, 1.3);
    setLogAxis(top->axis(QCPAxis::atLeft), true);
    // The legend gets a row of its own above the curves: a narrow panel still tells them apart.
    p->legend->setVisible(true);
    top->insetLayout()->take(p->legend);
    p->plotLayout()->insertRow(0);
    p->plotLayout()->addElement(0, 0, p->legend);
    p->legend->setBorderPen(Qt::NoPen);
    p->legend->setWrap(3);
    QFont legendFont = p->legend->font();
    legendFont.setPointSizeF(std::min(legendFont.pointSizeF(), 8.0));
    p->legend->setFont(legendFont);
    for (int i = 0; i < p->legend->itemCount(); ++i) p->legend->item(i)->setFont(legendFont);
    p->legend->setFillOrder(QCPLegend::foColumnsFirst, true);
    setToolTip(
        tr("Curves: at each step, the share of the quantized weights whose code changed, "
           "because the weight crossed a threshold or because the scale moved the "
           "thresholds. Bars: each quantized matrix's flips per weight per step since the "
           "previous weights snapshot."));

    m_barRect = new QCPAxisRect(p);
    p->plotLayout()->addElement(2, 0, m_barRect);
    styleAxisRect(m_barRect);
    auto* group = new QCPMarginGroup(p);
    top->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    m_barRect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    for (QCPAxis* a : m_barRect->axes()) a->setLayer(QStringLiteral("axes"));
    for (QCPAxis* a : m_barRect->axes()) a->grid()->setLayer(QStringLiteral("grid"));
    QCPAxis* names = m_barRect->axis(QCPAxis::atLeft);
    QCPAxis* rate = m_barRect->axis(QCPAxis::atBottom);
    rate->setLabel(tr("flips / weight / step"));
    names->setRangeReversed(true);  // the first tensor on top
    names->grid()->setVisible(false);
    m_barTicker = QSharedPointer<QCPAxisTickerText>::create();
    names->setTicker(m_barTicker);
    QFont small = p->font();
    small.setPointSizeF(7.5);
    names->setTickLabelFont(small);
    m_barWeight = new QCPBars(names, rate);
    m_barWeight->setName(tr("weight moved"));
    m_barWeight->setBrush(QColor(70, 70, 70));
    m_barWeight->setPen(Qt::NoPen);
    m_barWeight->setWidth(0.7);
    m_barScale = new QCPBars(names, rate);
    m_barScale->setName(tr("scale moved"));
    m_barScale->setBrush(colours::flipScale);
    m_barScale->setPen(Qt::NoPen);
    m_barScale->setWidth(0.7);
    m_barScale->moveAbove(m_barWeight);
    m_barWeight->removeFromLegend();
    m_barScale->removeFromLegend();
    p->plotLayout()->setRowStretchFactors({0.001, 1.4, 1.0});
    // A short panel (a laptop screen) squeezes both rects rather than the legend.
    top->setMinimumSize(40, 24);
    m_barRect->setMinimumSize(40, 24);
    p->plotLayout()->setRowSpacing(2);
    m_barRect->setRangeDrag(Qt::Vertical);
    m_barRect->setRangeZoom(Qt::Vertical);
    connect(p, &QCustomPlot::afterLayout, this, &FlipsPanel::labelBars);
    connect(p, &QCustomPlot::mouseMove, this, &FlipsPanel::onHover);
}

bool FlipsPanel::appliesTo(const Config& cfg) const {
    return !cfg.quant.weights.empty() && cfg.quant.weights != "none";
}

void FlipsPanel::beginRun(const Config&, const QColor&) {
    for (QCPGraph* g : {m_total, m_weight, m_scale}) g->data()->clear();
    m_barWeight->data()->clear();
    m_barScale->data()->clear();
    m_barNames.clear();
    m_barTips.clear();
    m_barTicker->clear();
    m_info->clear();
    m_lastStep = -1;
    markDirty();
}

void FlipsPanel::appendRows(const std::vector<StepMetrics>& rows) {
    const bool log = logScale();
    const StepMetrics* last = nullptr;
    for (const StepMetrics& m : rows) {
        if (!std::isfinite(m.code_flips)) continue;
        const double x = double(m.step);
        const double scale = std::isfinite(m.code_flips_scale) ? m.code_flips_scale : 0;
        m_total->addData(x, shown(m.code_flips, log));
        m_scale->addData(x, shown(scale, log));
        m_weight->addData(x, shown(std::max(0.0, m.code_flips - scale), log));
        last = &m;
    }
    if (!last) return;
    m_lastStep = last->step;
    const double scale = std::isfinite(last->code_flips_scale) ? last->code_flips_scale : 0;
    m_info->setText(tr("step %1: %2% flipped, %3% by the scale")
                        .arg(last->step)
                        .arg(100 * last->code_flips, 0, 'g', 3)
                        .arg(100 * scale, 0, 'g', 3));
    markDirty();
}

// The snapshot's flips per tensor (weight, scale) over flip_steps steps, as rates per weight
// per step: flip_rate split in the proportion of the two counts.
void FlipsPanel::applySnapshot(const Snapshot& s) {
    if (s.kind != "weights") return;
    QVector<double> keys, weight, scale;
    QStringList names, tips;
    for (const auto& t : s.data.value("tensors", nlohmann::json::array())) {
        if (!t.value("quantized", false) || !t.contains("flip_rate")) continue;
        const double rate = t.value("flip_rate", 0.0);
        const auto flips = t.value("flips", std::vector<double>{0, 0});
        const double all = flips.size() == 2 ? flips[0] + flips[1] : 0;
        const double share = all > 0 ? flips[1] / all : 0;
        const QString name = QString::fromStdString(t.value("name", std::string()));
        const double k = double(names.size());
        names << name;
        keys << k;
        weight << rate * (1 - share);
        scale << rate * share;
        tips << tr("%1\n%2 flips per weight per step over the last %3 steps\n%4 flips: %5 "
                   "the weight moved, %6 the scale moved")
                    .arg(name)
                    .arg(rate, 0, 'g', 3)
                    .arg(t.value("flip_steps", 0))
                    .arg(all)
                    .arg(flips.size() == 2 ? flips[0] : 0)
                    .arg(flips.size() == 2 ? flips[1] : 0);
    }
    m_barNames = names;
    m_barTips = tips;
    m_labelStride = 0;  // labelBars sets the labels for the room the rect gets
    m_barWeight->setData(keys, weight, true);
    m_barScale->setData(keys, scale, true);
    markDirty();
}

void FlipsPanel::setOverlays(const std::vector<RunOverlay>& overlays) {
    m_overlays = overlays;
    const bool log = logScale();
    replaceOverlays(overlays, [log](const std::vector<StepMetrics>& rows, QVector<double>& x,
                                    QVector<double>& y) {
        for (const StepMetrics& m : rows)
            if (std::isfinite(m.code_flips))
                x.push_back(double(m.step)), y.push_back(shown(m.code_flips, log));
    });
}

bool FlipsPanel::logScale() const {
    return m_log->isChecked();
}

void FlipsPanel::setLogScale(bool log) {
    if (m_log->isChecked() != log) {
        m_log->setChecked(log);  // comes back here through toggled
        return;
    }
    setLogAxis(plot()->axisRect(0)->axis(QCPAxis::atLeft), log);
    for (QCPGraph* g : {m_total, m_weight, m_scale}) remap(g, log);
    setOverlays(m_overlays);
    markDirty();
    refresh();
}

void FlipsPanel::rescale() {
    std::vector<QCPGraph*> curves{m_total, m_weight, m_scale};
    curves.insert(curves.end(), m_overlayGraphs.begin(), m_overlayGraphs.end());
    QCPAxisRect* r = plot()->axisRect(0);
    fitAxis(r->axis(QCPAxis::atBottom), curves, true);
    fitAxis(r->axis(QCPAxis::atLeft), curves, false);
    QCPAxis* y = r->axis(QCPAxis::atLeft);
    if (y->scaleType() == QCPAxis::stLinear && y->range().lower < 0) y->setRangeLower(0);
    const int n = int(m_barNames.size());
    m_barRect->axis(QCPAxis::atLeft)->setRange(-0.6, std::max(1, n) - 0.4);
    bool found = false;
    const double most = m_barScale->getValueRange(found).upper;  // includes the bars below
    m_barRect->axis(QCPAxis::atBottom)->setRange(0, found && most > 0 ? most * 1.1 : 1e-3);
}

// The legend stays one row: a narrow panel names the curves by their cause alone.
void FlipsPanel::resizeEvent(QResizeEvent* e) {
    Panel::resizeEvent(e);
    const bool narrow = width() < 360;
    const QString weight = narrow ? tr("weight") : tr("weight moved");
    if (m_weight->name() == weight) return;
    m_weight->setName(weight);
    m_scale->setName(narrow ? tr("scale") : tr("scale moved"));
    plot()->replot(QCustomPlot::rpQueuedReplot);  // the plot laid itself out for the old names
}

// One label per bar while they fit, else every k-th (the tooltip names each bar).
void FlipsPanel::labelBars() {
    const int n = int(m_barNames.size());
    const double line = QFontMetricsF(m_barRect->axis(QCPAxis::atLeft)->tickLabelFont()).height();
    const double room = std::max(1, m_barRect->height());
    const int stride = std::max(1, int(std::ceil(n * line / room)));
    if (stride == m_labelStride) return;
    m_labelStride = stride;
    m_barTicker->clear();
    for (int k = 0; k < n; k += stride) m_barTicker->addTick(k, shortName(m_barNames[k]));
    plot()->replot(QCustomPlot::rpQueuedReplot);  // the ticks of this layout are made already
}

void FlipsPanel::onHover(QMouseEvent* e) {
    const QPointF pos = e->position();
    if (!m_barRect->rect().contains(pos.toPoint())) return;
    const int k = int(std::lround(m_barRect->axis(QCPAxis::atLeft)->pixelToCoord(pos.y())));
    if (k >= 0 && k < int(m_barTips.size()))
        QToolTip::showText(e->globalPosition().toPoint(), m_barTips[k], plot());
}

}  // namespace h158::ui
