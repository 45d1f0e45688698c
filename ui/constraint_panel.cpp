#include "ui/constraint_panel.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QLabel>
#include <QToolTip>

#include "ui/plot_utils.h"
#include "ui/theme.h"

namespace h158::ui {

namespace {
constexpr double kMarkY = 1.1;  // the per-step marks sit above the rate's [0, 1] band

// Rolling activation rate over the last `window` steps, for an overlaid run.
QVector<double> rollingRate(const std::vector<StepMetrics>& rows, int window, QVector<double>* x) {
    QVector<double> y;
    std::deque<int> w;
    int sum = 0;
    for (const StepMetrics& m : rows) {
        w.push_back(m.constrained);
        sum += m.constrained;
        if (int(w.size()) > window) {
            sum -= w.front();
            w.pop_front();
        }
        x->push_back(double(m.step));
        y.push_back(double(sum) / double(w.size()));
    }
    return y;
}
}  // namespace

ConstraintPanel::ConstraintPanel(QWidget* parent) : Panel(tr("Constraint activation"), parent) {
    m_rateLabel = addInfoLabel();
    m_log = new QCheckBox(tr("log"));
    m_log->setChecked(true);
    header()->insertWidget(2, m_log);
    connect(m_log, &QCheckBox::toggled, this, &ConstraintPanel::setLogNorms);

    QCustomPlot* p = createPlot(QStringLiteral("constraint"));
    QCPAxisRect* top = p->axisRect(0);
    top->axis(QCPAxis::atLeft)->setLabel(tr("activation rate"));
    top->axis(QCPAxis::atLeft)->setRange(0, 1.2);
    m_rate = addLine(p, top, tr("rate (last %1 steps)").arg(kWindow), colours::constraint, 2);
    QColor fill = colours::constraint;
    fill.setAlpha(40);
    m_rate->setBrush(fill);
    m_marks = addLine(p, top, tr("constrained step"), colours::constraint, 1);
    m_marks->setLineStyle(QCPGraph::lsNone);
    QPainterPath tick;
    tick.moveTo(0, -4);
    tick.lineTo(0, 4);
    m_marks->setScatterStyle(QCPScatterStyle(tick, QPen(colours::constraint, 1.2), Qt::NoBrush, 8));
    m_marks->setAdaptiveSampling(true);
    m_fraction = addLine(p, top, tr("share held"), colours::held, 1);

    m_normRect = addAxisRectBelow(p);
    showEventsOn(p->axisRect(0));
    m_normRect->axis(QCPAxis::atBottom)->setLabel(tr("step"));
    m_normRect->axis(QCPAxis::atLeft)->setLabel(tr("norm"));
    m_radius = addLine(p, m_normRect, tr("trust radius rₜ"), colours::radius, 2);
    m_norm = addLine(p, m_normRect, tr("applied ‖Δ‖₂"), colours::stepNorm, 1);
    m_norm->setAntialiased(false);
    m_marks->setAntialiasedScatters(false);
    styleAxisRect(m_normRect);
    m_legendTexts = {
        {m_rate, m_rate->name(), tr("%1-step rate").arg(kWindow),
         tr("the share of the last %1 steps that the trust region shortened").arg(kWindow)},
        {m_marks, m_marks->name(), tr("constrained"),
         tr("one mark per step the trust region shortened")},
        {m_fraction, m_fraction->name(), m_fraction->name(),
         tr("the share of the matrices' parameters the region held back (trust.mode=tensor)")},
        {m_radius, m_radius->name(), tr("radius rₜ"), tr("the trust region's radius at the step")},
        {m_norm, m_norm->name(), tr("‖Δ‖₂"), tr("the 2-norm of the step applied")},
    };

    // One legend row above both rects, so it never covers the marks or the curves.
    p->legend->setVisible(true);
    p->axisRect(0)->insetLayout()->take(p->legend);
    p->plotLayout()->insertRow(0);
    p->plotLayout()->addElement(0, 0, p->legend);
    p->plotLayout()->setRowStretchFactor(0, 0.001);
    p->legend->setBorderPen(Qt::NoPen);
    p->legend->setMargins(QMargins(2, 0, 2, 0));
    p->legend->setWrap(2);
    p->legend->setFillOrder(QCPLegend::foColumnsFirst, true);
    // A short panel (a laptop screen) squeezes both rects rather than the legend's rows; their
    // top axes are hidden, so they need no 15-pixel margin above.
    for (QCPAxisRect* r : {top, m_normRect}) {
        r->setMinimumSize(40, 24);
        r->setMinimumMargins(QMargins(15, 4, 15, 15));
    }
    connect(p, &QCustomPlot::beforeReplot, this, &ConstraintPanel::fitLegend);
    connect(p, &QCustomPlot::mouseMove, this, &ConstraintPanel::onHover);
    setLogNorms(true);
}

ConstraintPanel::LegendText& ConstraintPanel::legendText(const QCPGraph* graph) {
    for (LegendText& t : m_legendTexts)
        if (t.graph == graph) return t;
    Q_UNREACHABLE();
}

QString ConstraintPanel::legendTip(const QCPGraph* graph) const {
    for (const LegendText& t : m_legendTexts)
        if (t.graph == graph) return t.full + QStringLiteral(": ") + t.tip;
    return {};
}

void ConstraintPanel::fitLegend() {
    QCPLegend* legend = plot()->legend;
    const int room = plot()->viewport().width();
    for (const LegendText& t : m_legendTexts) t.graph->setName(t.full);
    if (legend->minimumOuterSizeHint().width() <= room) return;
    // Too wide: the columns share the row; in its share each entry shows its full text when it
    // fits, else its brief one, else the brief one elided.
    const int columns = std::max(1, legend->columnCount());
    const QMargins lm = legend->margins();
    const int column =
        (room - lm.left() - lm.right() - (columns - 1) * legend->columnSpacing()) / columns;
    for (const LegendText& t : m_legendTexts) {
        QCPAbstractLegendItem* item = legend->itemWithPlottable(t.graph);
        if (!item) continue;
        const QMargins im = item->margins();
        // boundingRect, which sizes the item, can be a pixel wider than the advance: 2 to spare
        const int text = std::max(0, column - im.left() - im.right() - legend->iconSize().width() -
                                         legend->iconTextPadding() - 2);
        const QFontMetrics fm(item->font());
        if (fm.horizontalAdvance(t.full) <= text) continue;
        t.graph->setName(fm.horizontalAdvance(t.brief) <= text
                             ? t.brief
                             : fm.elidedText(t.brief, Qt::ElideRight, text));
    }
}

void ConstraintPanel::onHover(QMouseEvent* e) {
    auto* item = qobject_cast<QCPPlottableLegendItem*>(plot()->layoutElementAt(e->position()));
    if (!item) return;
    const QString tip = legendTip(qobject_cast<QCPGraph*>(item->plottable()));
    if (!tip.isEmpty()) QToolTip::showText(e->globalPosition().toPoint(), tip, plot());
}

void ConstraintPanel::setLogNorms(bool on) {
    setLogAxis(m_normRect->axis(QCPAxis::atLeft), on);
    markDirty();
    refresh();
}

void ConstraintPanel::beginRun(const Config& cfg, const QColor&) {
    for (QCPGraph* g : {m_rate, m_marks, m_fraction, m_radius, m_norm}) g->data()->clear();
    m_window.clear();
    m_windowSum = 0;
    m_steps = 0;
    m_constrained = 0;
    m_trustOn = cfg.trust.enabled;
    m_perTensor = cfg.trust.mode == "tensor";
    m_rateLabel->setText(m_trustOn ? QString() : tr("trust region off"));
    m_fraction->setVisible(m_perTensor);
    m_fraction->removeFromLegend();
    if (m_perTensor) m_fraction->addToLegend();
    LegendText& norm = legendText(m_norm);
    norm.full = m_perTensor ? tr("largest ‖Δᵢ‖/‖Θᵢ‖ proposed") : tr("applied ‖Δ‖₂");
    norm.brief = m_perTensor ? tr("max ‖Δᵢ‖/‖Θᵢ‖") : tr("‖Δ‖₂");
    norm.tip = m_perTensor ? tr("the largest relative step the optimizer proposed for a tensor; "
                                "the region binds where it exceeds rₜ")
                           : tr("the 2-norm of the step applied");
    m_norm->setName(norm.full);
    m_normRect->axis(QCPAxis::atLeft)->setLabel(m_perTensor ? tr("relative step") : tr("norm"));
    markDirty();
}

void ConstraintPanel::appendRows(const std::vector<StepMetrics>& rows) {
    for (const StepMetrics& m : rows) {
        const double x = double(m.step);
        m_window.push_back(m.constrained);
        m_windowSum += m.constrained;
        if (int(m_window.size()) > kWindow) {
            m_windowSum -= m_window.front();
            m_window.pop_front();
        }
        ++m_steps;
        m_constrained += m.constrained;
        m_rate->addData(x, double(m_windowSum) / double(m_window.size()));
        if (m.constrained) m_marks->addData(x, kMarkY);
        if (std::isfinite(m.trust_radius)) m_radius->addData(x, m.trust_radius);
        const double step = m_perTensor ? m.step_ratio : m.step_norm;
        if (std::isfinite(step)) m_norm->addData(x, step);
        if (m_perTensor && std::isfinite(m.constrained_fraction))
            m_fraction->addData(x, m.constrained_fraction);
    }
    if (!rows.empty()) {
        if (m_trustOn)
            m_rateLabel->setText(
                tr("%1% of %2 steps").arg(100.0 * overallRate(), 0, 'f', 1).arg(m_steps));
        markDirty();
    }
}

void ConstraintPanel::setOverlays(const std::vector<RunOverlay>& overlays) {
    replaceOverlays(overlays, [](const std::vector<StepMetrics>& rows, QVector<double>& x,
                                 QVector<double>& y) { y = rollingRate(rows, kWindow, &x); });
}

void ConstraintPanel::rescale() {
    std::vector<QCPGraph*> rates{m_rate};
    rates.insert(rates.end(), m_overlayGraphs.begin(), m_overlayGraphs.end());
    fitAxis(plot()->axisRect(0)->axis(QCPAxis::atBottom), rates, true);
    plot()->axisRect(0)->axis(QCPAxis::atLeft)->setRange(0, 1.2);
    fitAxis(m_normRect->axis(QCPAxis::atLeft), {m_radius, m_norm}, false);
}

}  // namespace h158::ui
