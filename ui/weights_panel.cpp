#include "ui/weights_panel.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QLabel>

#include "ui/theme.h"

namespace h158::ui {

namespace {
const QColor kSingle(86, 126, 170);
}

WeightsPanel::WeightsPanel(QWidget* parent) : Panel(tr("Weights"), parent) {
    m_tensor = new QComboBox;
    m_tensor->setToolTip(tr("Layer (weight tensor) to show"));
    m_tensor->setMinimumContentsLength(8);
    m_tensor->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_info = addInfoLabel();
    header()->insertWidget(1, m_tensor);
    addStepBadge(header(), m_info);  // the layer's shape gives way to the step
    connect(m_tensor, &QComboBox::currentIndexChanged, this, [this] { showTensor(); });

    QCustomPlot* p = createPlot(QStringLiteral("weights"));
    p->xAxis->setLabel(tr("latent weight"));
    p->yAxis->setLabel(tr("count"));
    // The parameter-cluster legend gets its own row above the plot, clear of the bars.
    p->legend->setVisible(false);
    p->axisRect()->insetLayout()->take(p->legend);
    p->plotLayout()->insertRow(0);
    p->plotLayout()->addElement(0, 0, p->legend);
    p->plotLayout()->setRowStretchFactor(0, 0.001);
    p->legend->setBorderPen(Qt::NoPen);
    p->legend->setWrap(4);
    p->legend->setFillOrder(QCPLegend::foColumnsFirst, true);
    setToolTip(tr("Solid lines: the quantization levels; dashed: the rounding thresholds"));
    m_scaleText = new QCPItemText(p);
    m_scaleText->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_scaleText->setTextAlignment(Qt::AlignLeft);
    m_scaleText->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_scaleText->position->setCoords(0.01, 0.01);
    QFont small = p->font();
    small.setPointSizeF(8);
    m_scaleText->setFont(small);
    m_scaleText->setColor(colours::text);
    m_scaleText->setBrush(QColor(255, 255, 255, 210));
    m_scaleText->setPadding(QMargins(3, 2, 3, 2));
}

QStringList WeightsPanel::tensorNames() const {
    QStringList names;
    for (int i = 0; i < m_tensor->count(); ++i) names << m_tensor->itemText(i);
    return names;
}

void WeightsPanel::selectTensor(const QString& name) {
    const int i = m_tensor->findText(name);
    if (i >= 0) m_tensor->setCurrentIndex(i);
}

void WeightsPanel::beginRun(const Config&, const QColor&) {
    m_tensors = nlohmann::json::array();
    for (QCPBars* b : m_bars) b->data()->clear();
    for (QCPItemStraightLine* l : m_lines) l->setVisible(false);
    m_scaleText->setText(QString());
    m_step = 0;
    m_info->clear();
    markDirty();
}

void WeightsPanel::applySnapshot(const Snapshot& s) {
    if (s.kind != "weights") return;
    m_tensors = s.data.value("tensors", nlohmann::json::array());
    m_step = s.step;
    QStringList names;
    for (const auto& t : m_tensors) names << QString::fromStdString(t.value("name", std::string()));
    if (names != tensorNames()) {
        const QString keep = m_tensor->currentText();
        const QSignalBlocker block(m_tensor);
        m_tensor->clear();
        m_tensor->addItems(names);
        int i = m_tensor->findText(keep);
        // A new run starts on its first quantized layer: the interesting one.
        for (size_t t = 0; i < 0 && t < m_tensors.size(); ++t)
            if (m_tensors[t].value("quantized", false)) i = int(t);
        m_tensor->setCurrentIndex(std::max(i, 0));
    }
    showTensor();
}

QCPItemStraightLine* WeightsPanel::line(size_t i) {
    while (m_lines.size() <= i) {
        auto* l = new QCPItemStraightLine(plot());
        l->setLayer(QStringLiteral("overlay"));
        m_lines.push_back(l);
    }
    return m_lines[i];
}

void WeightsPanel::showTensor() {
    const int index = m_tensor->currentIndex();
    if (index < 0 || index >= int(m_tensors.size())) return;
    const auto& t = m_tensors[size_t(index)];
    const auto edges = t.value("edges", std::vector<double>{});
    const auto counts = t.value("counts", std::vector<std::vector<double>>{});
    if (edges.size() < 2) return;
    const size_t k = counts.size();
    QCustomPlot* p = plot();
    while (m_bars.size() < k) {
        auto* b = new QCPBars(p->xAxis, p->yAxis);
        b->setStackingGap(0);
        if (!m_bars.empty()) b->moveAbove(m_bars.back());
        m_bars.push_back(b);
    }
    const double width = edges[1] - edges[0];
    for (size_t c = 0; c < m_bars.size(); ++c) {
        QCPBars* b = m_bars[c];
        b->data()->clear();
        b->setVisible(c < k);
        if (c >= k) continue;
        const QColor col = k > 1 ? clusterColour(int(c)) : kSingle;
        b->setBrush(col);
        b->setPen(QPen(col.darker(115), 0.5));
        b->setWidth(width);
        b->setName(k > 1 ? tr("cluster %1").arg(c) : tr("weights"));
        QVector<double> x, y;
        for (size_t i = 0; i < counts[c].size() && i + 1 < edges.size(); ++i) {
            x.push_back(0.5 * (edges[i] + edges[i + 1]));
            y.push_back(counts[c][i]);
        }
        b->setData(x, y, true);
    }
    p->legend->setVisible(k > 1);
    p->plotLayout()->setRowSpacing(k > 1 ? 5 : 0);
    for (QCPItemStraightLine* l : m_lines) l->setVisible(false);
    size_t n = 0;
    const auto levels = t.value("levels", std::vector<double>{});
    const auto thresholds = t.value("thresholds", std::vector<double>{});
    for (double v : levels) {
        QCPItemStraightLine* l = line(n++);
        l->setPen(QPen(QColor(40, 40, 40, 170), 1.4));
        l->point1->setCoords(v, 0);
        l->point2->setCoords(v, 1);
        l->setVisible(true);
    }
    for (double v : thresholds) {
        QCPItemStraightLine* l = line(n++);
        l->setPen(QPen(colours::validation, 1.2, Qt::DashLine));
        l->point1->setCoords(v, 0);
        l->point2->setCoords(v, 1);
        l->setVisible(true);
    }
    m_lim = std::max(std::abs(edges.front()), std::abs(edges.back()));
    const bool quantized = t.value("quantized", false);
    const QString shape = QStringLiteral("%1×%2").arg(t.value("rows", 0)).arg(t.value("cols", 0));
    if (quantized) {
        const double scale = t.value("scale", 0.0);
        const std::string set = t.value("level_set", std::string());
        const QString what = set == "int8"       ? tr("int8 step max|W|/127")
                             : set == "five_level" ? tr("level step γ/2")
                                                   : tr("scale γ");
        m_scaleText->setText(tr("%1 = %2\nstep %3").arg(what).arg(scale, 0, 'g', 3).arg(m_step));
    } else {
        m_scaleText->setText(tr("step %1\nnot quantized").arg(m_step));
    }
    m_info->setText(shape + (k > 1 ? tr(" · %1 clusters").arg(k) : QString()));
    markDirty();
}

// The layer's shape and part of the chooser's width give way to the step badge.
void WeightsPanel::setStepCaption(int64_t step, const QString& caption) {
    StateView::setStepCaption(step, caption);
    const bool badge = !caption.isEmpty();
    m_tensor->setMinimumWidth(badge ? 80 : 0);  // 0: its own minimum again
    m_tensor->setMaximumWidth(badge ? 100 : QWIDGETSIZE_MAX);
}

void WeightsPanel::rescale() {
    QCustomPlot* p = plot();
    p->xAxis->setRange(-m_lim * 1.05, m_lim * 1.05);
    double top = 0;
    if (!m_bars.empty()) {
        // stacked: the top bar set's values include those below it
        std::vector<double> sum;
        for (QCPBars* b : m_bars) {
            if (!b->visible()) continue;
            size_t i = 0;
            for (const auto& d : *b->data()) {
                if (sum.size() <= i) sum.push_back(0);
                sum[i++] += d.value;
            }
        }
        for (double v : sum) top = std::max(top, v);
    }
    p->yAxis->setRange(0, top > 0 ? top * 1.25 : 1);  // headroom for the caption
}

}  // namespace h158::ui
