#include "ui/loss_panel.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QSlider>

#include "ui/history_bounds.h"
#include "ui/plot_utils.h"
#include "ui/theme.h"

namespace h158::ui {

LossPanel::LossPanel(QWidget* parent) : Panel(tr("Loss"), parent) {
    m_sliderLabel = new QLabel;
    m_sliderLabel->setMinimumWidth(90);
    m_slider = new QSlider(Qt::Horizontal);
    m_slider->setRange(0, 999);
    m_slider->setValue(600);
    m_slider->setToolTip(
        tr("Smoothing weight (TensorBoard's debiased exponential moving average)"));
    m_log = new QCheckBox(tr("log"));
    m_log->setToolTip(tr("Logarithmic loss axis"));
    m_xAxis = new QComboBox;
    m_xAxis->addItems({tr("step"), tr("wall time")});
    m_xAxis->setToolTip(tr("Horizontal axis: training step or seconds since the run started"));
    m_slider->setMaximumWidth(QWIDGETSIZE_MAX);
    toolRow()->addWidget(m_sliderLabel);
    toolRow()->addWidget(m_slider, 1);
    toolRow()->addWidget(m_log);
    toolRow()->addWidget(m_xAxis);
    connect(m_slider, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 1000.0); });
    connect(m_log, &QCheckBox::toggled, this, &LossPanel::setLogScale);
    connect(m_xAxis, &QComboBox::currentIndexChanged, this,
            [this](int i) { setWallTimeAxis(i == 1); });

    QCustomPlot* p = createPlot(QStringLiteral("loss"));
    showEventsOn(p->axisRect());
    p->xAxis->setLabel(tr("step"));
    p->yAxis->setLabel(tr("loss"));
    m_raw = p->addGraph();
    m_raw->setName(tr("training (raw)"));
    m_raw->setAdaptiveSampling(true);
    m_raw->setAntialiased(false);  // the faint noisy curve: no visible gain, most of the cost
    m_smooth = p->addGraph();
    m_smooth->setName(tr("training (smoothed)"));
    m_smooth->setAdaptiveSampling(true);
    m_val = p->addGraph();
    m_val->setName(tr("validation"));
    m_val->setPen(QPen(colours::validation, 1.5));
    m_val->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, colours::validation, Qt::white, 5));
    p->legend->setVisible(true);
    p->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    m_sliderLabel->setText(tr("smoothing %1").arg(0.6, 0, 'f', 3));
}

void LossPanel::beginRun(const Config&, const QColor& runColour) {
    QColor faint = runColour;
    faint.setAlpha(70);
    m_raw->setPen(QPen(faint, 1));
    m_smooth->setPen(QPen(runColour, 2));
    m_points.clear();
    m_raw->data()->clear();
    m_smooth->data()->clear();
    m_val->data()->clear();
    m_ema.reset(m_ema.weight());
    markDirty();
}

void LossPanel::addPoint(const Point& p) {
    const double x = xOf(p);
    if (std::isfinite(p.loss)) {
        m_raw->addData(x, p.loss);
        m_smooth->addData(x, m_ema.add(p.loss));
    }
    if (std::isfinite(p.val)) m_val->addData(x, p.val);
}

void LossPanel::appendRows(const std::vector<StepMetrics>& rows) {
    for (const StepMetrics& m : rows) {
        const Point p{double(m.step), m.elapsed_ms / 1000.0, m.loss, m.val_loss};
        m_points.push_back(p);
        addPoint(p);
    }
    thinHalf(m_points, kMaxKeptRows, [](const Point& q) { return std::isfinite(q.val); });
    if (!rows.empty()) markDirty();
}

int LossPanel::pointCount() const {
    return m_raw->dataCount();
}

void LossPanel::setSmoothing(double weight) {
    weight = std::clamp(weight, 0.0, 0.999);
    m_sliderLabel->setText(tr("smoothing %1").arg(weight, 0, 'f', 3));
    if (m_slider->value() != qRound(weight * 1000)) {
        const QSignalBlocker block(m_slider);
        m_slider->setValue(qRound(weight * 1000));
    }
    m_ema.reset(weight);
    rebuildFromHistory();
    rebuildOverlays();
}

void LossPanel::setLogScale(bool on) {
    if (m_log->isChecked() != on) {
        const QSignalBlocker block(m_log);
        m_log->setChecked(on);
    }
    setLogAxis(plot()->yAxis, on);
    interaction()->resetView();
}

void LossPanel::setWallTimeAxis(bool on) {
    m_wallTime = on;
    setStepAxis(!on);
    plot()->xAxis->setLabel(on ? tr("wall time (s)") : tr("step"));
    rebuildFromHistory();
    rebuildOverlays();
}

// A change of smoothing or axis is a user action: the curves are rebuilt once from the history,
// never on a training step.
void LossPanel::rebuildFromHistory() {
    m_raw->data()->clear();
    m_smooth->data()->clear();
    m_val->data()->clear();
    m_ema.reset(m_ema.weight());
    QVector<double> x, raw, sm, vx, vy;
    x.reserve(int(m_points.size()));
    raw.reserve(int(m_points.size()));
    sm.reserve(int(m_points.size()));
    for (const Point& p : m_points) {
        if (std::isfinite(p.loss)) {
            x.push_back(xOf(p));
            raw.push_back(p.loss);
            sm.push_back(m_ema.add(p.loss));
        }
        if (std::isfinite(p.val)) {
            vx.push_back(xOf(p));
            vy.push_back(p.val);
        }
    }
    m_raw->setData(x, raw, true);
    m_smooth->setData(x, sm, true);
    m_val->setData(vx, vy, true);
    interaction()->resetView();
}

void LossPanel::setOverlays(const std::vector<RunOverlay>& overlays) {
    m_overlays = overlays;
    rebuildOverlays();
}

void LossPanel::rebuildOverlays() {
    const double weight = m_ema.weight();
    const bool wall = m_wallTime;
    replaceOverlays(m_overlays, [weight, wall](const std::vector<StepMetrics>& rows,
                                               QVector<double>& x, QVector<double>& y) {
        DebiasedEma ema(weight);
        for (const StepMetrics& m : rows) {
            if (!std::isfinite(m.loss)) continue;
            x.push_back(wall ? m.elapsed_ms / 1000.0 : double(m.step));
            y.push_back(ema.add(m.loss));
        }
    }, 1.6, !wall, true);
}

void LossPanel::rescale() {
    std::vector<QCPGraph*> all{m_raw, m_smooth, m_val};
    all.insert(all.end(), m_overlayGraphs.begin(), m_overlayGraphs.end());
    fitAxis(plot()->xAxis, all, true);
    fitAxis(plot()->yAxis, all, false);
}

}  // namespace h158::ui
