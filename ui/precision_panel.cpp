#include "ui/precision_panel.h"

#include <qcustomplot.h>

#include <QLabel>
#include <QRegularExpression>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "core/train/sensitivity.h"
#include "ui/theme.h"

namespace h158::ui {

namespace {

constexpr int8_t kUnknownLevel = -1;  // a level name the panel does not know: drawn grey

// The snapshot's level names (sensitivity.h, weight_quantizer.h); unknown ones -> kUnknownLevel.
int8_t precisionLevelCode(const std::string& name) {
    try {
        return int8_t(parseQuantLevels(name));
    } catch (const std::exception&) {
        return kUnknownLevel;
    }
}

// The legend's text of a level set: its name and bits; `compact` for a narrow panel.
QString precisionLevelLabel(QuantLevels l, bool compact) {
    switch (l) {
        case QuantLevels::None:
            return compact ? QObject::tr("fp32 32") : QObject::tr("fp32 · 32 bits");
        case QuantLevels::Int8:
            return compact ? QObject::tr("int8 8") : QObject::tr("int8 · 8");
        case QuantLevels::FiveLevel:
            return compact ? QObject::tr("5-lvl 2.32") : QObject::tr("five-level · 2.32");
        case QuantLevels::Ternary:
            return compact ? QObject::tr("tern 1.58") : QObject::tr("ternary · 1.58");
    }
    return {};
}

constexpr std::array<QuantLevels, 4> kLegendLevels = {QuantLevels::None, QuantLevels::Int8,
                                                      QuantLevels::FiveLevel, QuantLevels::Ternary};

double finiteOr(const nlohmann::json& j, const char* key, double fallback) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

}  // namespace

// One segment per allocation: segment s holds levels[r] for every row from its step until the
// next segment's step (the last one until the latest step seen). Drawn directly as one rectangle
// per run of equal levels in a row, so 2 or 200 re-allocations cost the same memory per segment
// and the drawing never needs a grid as fine as the steps.
class PrecisionStrip : public QCPAbstractPlottable {
  public:
    struct Segment {
        int64_t step = 0;
        std::vector<int8_t> levels;  // per row: QuantLevels or kUnknownLevel
    };

    PrecisionStrip(QCPAxis* key, QCPAxis* value) : QCPAbstractPlottable(key, value) {}

    std::vector<Segment> segments;  // in step order
    int rows = 0;
    int64_t lastStep = 0;  // the latest step of the run seen

    int64_t endStep() const {
        return segments.empty() ? 0 : std::max(lastStep, segments.back().step + 1);
    }
    int8_t level(size_t s, int r) const {
        const auto& l = segments[s].levels;
        return r < int(l.size()) ? l[size_t(r)] : kUnknownLevel;
    }

    double selectTest(const QPointF&, bool, QVariant*) const override { return -1; }
    QCPRange getKeyRange(bool& found, QCP::SignDomain) const override {
        found = !segments.empty();
        return found ? QCPRange(double(segments.front().step), double(endStep())) : QCPRange();
    }
    QCPRange getValueRange(bool& found, QCP::SignDomain, const QCPRange&) const override {
        found = rows > 0;
        return QCPRange(-0.5, rows - 0.5);
    }

  protected:
    void draw(QCPPainter* p) override {
        QCPAxis* k = keyAxis();
        QCPAxis* v = valueAxis();
        if (!k || !v || segments.empty() || rows == 0) return;
        p->setAntialiasing(false);
        const QCPRange shown = k->range();
        const double end = double(endStep());
        // A white line between rows once they are tall enough to spare it.
        const double rowPx = std::abs(v->coordToPixel(1) - v->coordToPixel(0));
        const double gap = rowPx >= 8 ? 1 : 0;
        for (int r = 0; r < rows; ++r) {
            double y0 = v->coordToPixel(r - 0.5), y1 = v->coordToPixel(r + 0.5);
            if (y0 > y1) std::swap(y0, y1);
            size_t s = 0;
            while (s < segments.size()) {
                const int8_t l = level(s, r);
                size_t e = s + 1;
                while (e < segments.size() && level(e, r) == l) ++e;
                const double from = double(segments[s].step);
                const double to = e < segments.size() ? double(segments[e].step) : end;
                s = e;
                if (to < shown.lower || from > shown.upper) continue;
                double x0 = k->coordToPixel(from), x1 = k->coordToPixel(to);
                if (x0 > x1) std::swap(x0, x1);
                const QColor c = l == kUnknownLevel ? QColor(220, 220, 220)
                                                    : PrecisionPanel::levelColour(QuantLevels(l));
                p->fillRect(QRectF(x0, y0, std::max(x1 - x0, 1.0), y1 - y0 - gap), c);
            }
        }
    }
    void drawLegendIcon(QCPPainter*, const QRectF&) const override {}
};

// Row names at integer positions, every `every`-th one so that the labels never touch (the
// panel sets `every` from the rows' height after each layout).
class PrecisionRowTicker : public QCPAxisTicker {
  public:
    QStringList names;
    int every = 1;

    void generate(const QCPRange& range, const QLocale&, QChar, int, QVector<double>& ticks,
                  QVector<double>* subTicks, QVector<QString>* labels) override {
        ticks.clear();
        if (subTicks) subTicks->clear();
        if (labels) labels->clear();
        const int first = std::max(0, int(std::ceil(range.lower)));
        const int last = std::min(int(names.size()) - 1, int(std::floor(range.upper)));
        for (int i = first; i <= last; ++i) {
            if (i % every) continue;
            ticks << i;
            if (labels) *labels << names[i];
        }
    }
};

PrecisionPanel::PrecisionPanel(QWidget* parent) : Panel(tr("Precision"), parent) {
    m_info = addInfoLabel();
    addStepBadge(header());
    setToolTip(
        tr("Left: the level set of each quantized tensor over the steps (a new segment "
           "at each allocation). Right: the validation-loss rise when that tensor alone "
           "goes to ternary, five-level or int8 (the sensitivity the allocation used)."));

    QCustomPlot* p = createPlot(QStringLiteral("precision"));
    QCPLayoutGrid* layout = p->plotLayout();
    m_stripRect = p->axisRect(0);
    m_stripRect->insetLayout()->take(p->legend);
    layout->take(m_stripRect);
    layout->simplify();
    // Row 0: the level legend across the top; row 1: the strip and the bars on the same rows.
    layout->addElement(0, 0, p->legend);
    m_views = new QCPLayoutGrid;
    layout->addElement(1, 0, m_views);
    layout->setRowStretchFactor(0, 0.001);
    layout->setRowSpacing(2);
    m_views->setColumnSpacing(6);
    m_views->addElement(0, 0, m_stripRect);
    m_barRect = new QCPAxisRect(p);
    m_views->addElement(0, 1, m_barRect);
    m_views->setColumnStretchFactors({1.3, 1.0});
    styleAxisRect(m_barRect);
    for (QCPAxis* a : m_barRect->axes()) {
        a->setLayer(QStringLiteral("axes"));
        a->grid()->setLayer(QStringLiteral("grid"));
    }
    auto* margins = new QCPMarginGroup(p);
    m_stripRect->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
    m_barRect->setMarginGroup(QCP::msTop | QCP::msBottom, margins);

    m_rowTicker = QSharedPointer<PrecisionRowTicker>::create();
    QCPAxis* stripRows = m_stripRect->axis(QCPAxis::atLeft);
    QCPAxis* barRows = m_barRect->axis(QCPAxis::atLeft);
    for (QCPAxis* a : {stripRows, barRows}) {
        a->setTicker(m_rowTicker);
        a->setRangeReversed(true);  // the first tensor on top
        a->setSubTicks(false);
        a->grid()->setVisible(false);
    }
    barRows->setTickLabels(false);
    connect(stripRows, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), barRows,
            qOverload<const QCPRange&>(&QCPAxis::setRange));
    connect(barRows, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), stripRows,
            qOverload<const QCPRange&>(&QCPAxis::setRange));
    m_stripRect->axis(QCPAxis::atBottom)->setLabel(tr("step"));
    m_barRect->axis(QCPAxis::atBottom)->setLabel(tr("loss rise"));
    m_barRect->axis(QCPAxis::atBottom)->ticker()->setTickCount(3);

    m_strip = new PrecisionStrip(m_stripRect->axis(QCPAxis::atBottom), stripRows);
    m_strip->setName(tr("levels"));
    m_strip->removeFromLegend();

    // The legend's keys: one empty bar set per level set, in the colours both views use.
    for (size_t i = 0; i < m_keys.size(); ++i) {
        const QColor c = levelColour(kLegendLevels[i]);
        m_keys[i] = new QCPBars(m_stripRect->axis(QCPAxis::atBottom), stripRows);
        m_keys[i]->setName(precisionLevelLabel(kLegendLevels[i], false));
        m_keys[i]->setBrush(c);
        m_keys[i]->setPen(QPen(c.darker(120), 0.5));
    }
    m_zeroLine = new QCPItemStraightLine(p);
    m_zeroLine->setClipAxisRect(m_barRect);
    m_zeroLine->setPen(QPen(colours::axis, 1));
    for (QCPItemPosition* e : {m_zeroLine->point1, m_zeroLine->point2})
        e->setAxes(m_barRect->axis(QCPAxis::atBottom), barRows);
    m_zeroLine->point1->setCoords(0, 0);
    m_zeroLine->point2->setCoords(0, 1);
    auto* group = new QCPBarsGroup(p);
    group->setSpacing(0);
    for (size_t i = 0; i < m_bars.size(); ++i) {
        auto* b = new QCPBars(barRows, m_barRect->axis(QCPAxis::atBottom));
        const QColor c = levelColour(kSensitivityLevels[i]);
        b->setName(
            tr("rise at %1").arg(QString::fromLatin1(quantLevelsName(kSensitivityLevels[i]))));
        b->setBrush(c);
        b->setPen(QPen(c.darker(125), 0.5));
        b->setWidth(0.8 / double(m_bars.size()));
        b->setBarsGroup(group);
        b->removeFromLegend();
        m_bars[i] = b;
    }
    p->legend->setVisible(true);
    p->legend->setBorderPen(Qt::NoPen);
    p->legend->setFillOrder(QCPLegend::foColumnsFirst, true);
    p->legend->setWrap(4);
    p->legend->setRowSpacing(0);
    p->legend->setIconSize(10, 10);  // a colour swatch
    connect(p, &QCustomPlot::afterLayout, this, &PrecisionPanel::afterLayout);

    // Under the plot: what the bars would show and how to get them, when there is nothing to show.
    auto* box = new QWidget;
    auto* v = new QVBoxLayout(box);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(2);
    v->addWidget(p, 1);
    p->show();  // the stack hid it when it was added there (not current yet)
    m_note = new QLabel;
    m_note->setWordWrap(true);
    m_note->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_note->setStyleSheet(QStringLiteral("color: #666; padding: 0 4px 2px 4px; font-size: 8pt;"));
    v->addWidget(m_note);
    setContent(box);
    showBars(false);
}

bool PrecisionPanel::appliesTo(const Config& cfg) const {
    return cfg.quant.weights != "none";
}

QColor PrecisionPanel::levelColour(QuantLevels l) {
    switch (l) {
        case QuantLevels::None:
            return {0, 114, 178};
        case QuantLevels::Int8:
            return {86, 180, 233};
        case QuantLevels::FiveLevel:
            return {230, 159, 0};
        case QuantLevels::Ternary:
            return {213, 94, 0};
    }
    return {200, 200, 200};
}

QString PrecisionPanel::shortTensorName(const std::string& name) {
    QString n = QString::fromStdString(name);
    if (n.endsWith(QLatin1String(".weight"))) n.chop(7);
    static const QRegularExpression block(QStringLiteral("^blocks\\.(\\d+)\\."));
    n.replace(block, QStringLiteral("b\\1."));
    static const QRegularExpression group(QStringLiteral("\\.(attn|mlp|ffn)\\."));
    n.replace(group, QStringLiteral("."));
    return n;
}

void PrecisionPanel::beginRun(const Config& cfg, const QColor&) {
    m_strip->segments.clear();
    m_strip->lastStep = 0;
    setRows({});
    clearRises();
    m_adaptive = cfg.quant.weights == "adaptive";
    m_budget = m_adaptive ? cfg.quant.bits_budget : kNoValue;
    m_meanBits = kNoValue;
    m_uniformLevel = m_adaptive ? QString() : QString::fromStdString(cfg.quant.weights);
    updateInfo();
    markDirty();
}

void PrecisionPanel::appendRows(const std::vector<StepMetrics>& rows) {
    if (rows.empty()) return;
    m_strip->lastStep = std::max(m_strip->lastStep, rows.back().step);
    if (!m_strip->segments.empty()) markDirty();
}

void PrecisionPanel::applySnapshot(const Snapshot& s) {
    if (s.kind != "precision" || !s.data.is_object()) return;
    const nlohmann::json tensors = s.data.value("tensors", nlohmann::json::array());
    if (!tensors.is_array()) return;
    QStringList names;
    PrecisionStrip::Segment seg{s.step, {}};
    for (const auto& t : tensors) {
        if (!t.is_object()) continue;
        names << shortTensorName(t.value("name", std::string("?")));
        seg.levels.push_back(precisionLevelCode(t.value("level", std::string())));
    }
    if (names != rowNames()) {  // a different model: its strip starts over
        m_strip->segments.clear();
        setRows(names);
    }
    // Snapshots arrive in step order; one at the step of the last replaces it.
    if (!m_strip->segments.empty() && m_strip->segments.back().step >= s.step)
        m_strip->segments.pop_back();
    m_strip->segments.push_back(std::move(seg));
    m_strip->lastStep = std::max(m_strip->lastStep, s.step);

    m_adaptive = s.data.value("adaptive", false);
    m_meanBits = finiteOr(s.data, "mean_bits", kNoValue);
    m_budget = finiteOr(s.data, "budget", kNoValue);
    const auto& last = m_strip->segments.back().levels;
    const bool uniform = !last.empty() && std::all_of(last.begin(), last.end(),
                                                      [&](int8_t l) { return l == last[0]; });
    if (!m_adaptive && uniform && last[0] != kUnknownLevel)
        m_uniformLevel = QString::fromLatin1(quantLevelsName(QuantLevels(last[0])));
    const auto rises = s.data.find("rises");
    if (rises != s.data.end() && rises->is_array()) {
        std::vector<std::array<double, 3>> r;
        for (const auto& t : *rises) {
            std::array<double, 3> row{kNoValue, kNoValue, kNoValue};
            for (size_t i = 0; i < row.size() && t.is_object(); ++i)
                row[i] = finiteOr(t, quantLevelsName(kSensitivityLevels[i]), kNoValue);
            r.push_back(row);
        }
        setRises(r);
    }
    updateInfo();
    markDirty();
}

void PrecisionPanel::showSensitivity(const SensitivityTable& t) {
    QStringList names;
    for (const TensorSensitivity& s : t.tensors) names << shortTensorName(s.name);
    if (names != rowNames() || m_strip->segments.empty()) {
        // No allocation drawn for these tensors: the levels the run had when measured.
        m_strip->segments.clear();
        setRows(names);
        PrecisionStrip::Segment seg{t.step, {}};
        for (const TensorSensitivity& s : t.tensors) seg.levels.push_back(int8_t(s.level));
        if (!t.tensors.empty()) m_strip->segments.push_back(std::move(seg));
        m_strip->lastStep = std::max(m_strip->lastStep, t.step);
        double bits = 0, total = 0;
        for (const TensorSensitivity& s : t.tensors) {
            bits += double(s.weights) * bitsPerWeight(s.level);
            total += double(s.weights);
        }
        m_meanBits = total > 0 ? bits / total : kNoValue;
    }
    std::vector<std::array<double, 3>> r;
    for (const TensorSensitivity& s : t.tensors) {
        std::array<double, 3> row{};
        // The rise against this tensor at fp32 with the same others (sensitivity.h), or
        // against all at fp32 when that was not measured.
        const double base = std::isfinite(s.fp32) ? s.fp32 : t.fp32Loss;
        for (size_t i = 0; i < row.size(); ++i) row[i] = s.alone[i] - base;
        r.push_back(row);
    }
    setRises(r);
    updateInfo();
    markDirty();
}

void PrecisionPanel::setRows(const QStringList& names) {
    m_rowTicker->names = names;
    m_strip->rows = int(names.size());
}

void PrecisionPanel::setRises(const std::vector<std::array<double, 3>>& rises) {
    bool any = false;
    for (size_t i = 0; i < m_bars.size(); ++i) {
        QVector<double> keys, values;
        for (size_t r = 0; r < rises.size() && int(r) < rowCount(); ++r) {
            if (!std::isfinite(rises[r][i])) continue;
            keys << double(r);
            values << rises[r][i];
        }
        any = any || !keys.isEmpty();
        m_bars[i]->setData(keys, values, true);
    }
    m_hasRises = any;
    showBars(any);
}

void PrecisionPanel::clearRises() {
    for (QCPBars* b : m_bars) b->data()->clear();
    m_hasRises = false;
    showBars(false);
}

void PrecisionPanel::showBars(bool on) {
    const bool shown = m_barRect->layout() != nullptr;
    if (on != shown) {
        if (on) {
            m_views->addElement(0, 1, m_barRect);
            m_views->setColumnStretchFactors({1.3, 1.0});
        } else {
            m_views->take(m_barRect);
            m_views->simplify();
        }
        m_barRect->setVisible(on);
        m_zeroLine->setVisible(on);
    }
    const QString note = on ? QString()
                         : m_adaptive
                             ? tr("Sensitivity (the loss rise per tensor and level) appears at the "
                                  "first allocation.")
                             : tr("Sensitivity is measured for adaptive runs or by hybrid158-cli "
                                  "sensitivity --run DIR.");
    m_note->setText(note);
    m_note->setVisible(!note.isEmpty());
}

void PrecisionPanel::updateInfo() {
    QStringList parts;
    if (!m_adaptive && !m_uniformLevel.isEmpty())
        parts << tr("all %1").arg(m_uniformLevel == QLatin1String("five_level") ? tr("five-level")
                                                                                : m_uniformLevel);
    if (std::isfinite(m_meanBits)) parts << tr("mean %1 bits").arg(m_meanBits, 0, 'f', 2);
    if (std::isfinite(m_budget)) parts << tr("budget %1").arg(m_budget, 0, 'f', 2);
    if (const size_t n = m_strip->segments.size(); m_adaptive && n > 0)
        parts << (n == 1 ? tr("1 allocation") : tr("%1 allocations").arg(n));
    m_info->setText(parts.join(tr(" · ")));
}

void PrecisionPanel::afterLayout() {
    QCustomPlot* p = plot();
    // Row labels: every k-th so that two never touch.
    const QFontMetrics fm(m_stripRect->axis(QCPAxis::atLeft)->tickLabelFont());
    const double rowPx = rowCount() > 0
                             ? double(m_stripRect->height()) /
                                   std::max(1.0, m_stripRect->axis(QCPAxis::atLeft)->range().size())
                             : 1;
    const int every = std::max(1, int(std::ceil((fm.height() + 3) / std::max(rowPx, 1e-3))));
    bool again = false;
    if (every != m_rowTicker->every) {
        m_rowTicker->every = every;
        m_stripRect->update(QCPLayoutElement::upPreparation);
        if (m_barRect->visible()) m_barRect->update(QCPLayoutElement::upPreparation);
    }
    // The legend on one line when it fits, else on two, else on two with compact labels.
    QCPLegend* legend = p->legend;
    const QFontMetrics lfm(legend->font());
    auto width = [&](bool compact, int columns) {
        std::array<int, 4> text{};
        for (size_t i = 0; i < text.size(); ++i)
            text[i] = lfm.horizontalAdvance(precisionLevelLabel(kLegendLevels[i], compact));
        // per column the widest of its items (filled row by row: item i in column i % columns)
        int w = legend->margins().left() + legend->margins().right();
        for (int c = 0; c < columns; ++c) {
            int widest = 0;
            for (size_t i = size_t(c); i < text.size(); i += size_t(columns))
                widest = std::max(widest, text[i]);
            w += widest + legend->iconSize().width() + legend->iconTextPadding() + 10 +
                 legend->columnSpacing();
        }
        return w;
    };
    const int room = p->width();
    const bool compact = width(false, 2) > room;
    const int wrap = width(compact, 4) <= room ? 4 : 2;
    if (wrap != legend->wrap() || compact != m_compactLegend) {
        m_compactLegend = compact;
        for (size_t i = 0; i < m_keys.size(); ++i)
            m_keys[i]->setName(precisionLevelLabel(kLegendLevels[i], compact));
        legend->setWrap(wrap);
        legend->setFillOrder(legend->fillOrder(), true);  // re-arranges the items
        again = true;
    }
    if (again) p->replot(QCustomPlot::rpQueuedReplot);
}

void PrecisionPanel::rescale() {
    const int n = rowCount();
    m_stripRect->axis(QCPAxis::atLeft)->setRange(-0.5, std::max(n, 1) - 0.5);
    if (!m_strip->segments.empty()) {
        const double from = double(m_strip->segments.front().step);
        m_stripRect->axis(QCPAxis::atBottom)->setRange(from, double(m_strip->endStep()));
    } else {
        m_stripRect->axis(QCPAxis::atBottom)->setRange(0, 1);
    }
    double lo = 0, hi = 0;
    for (QCPBars* b : m_bars)
        for (const auto& d : *b->data()) {
            lo = std::min(lo, d.value);
            hi = std::max(hi, d.value);
        }
    if (hi <= lo) hi = lo + 1;
    const double pad = 0.06 * (hi - lo);
    m_barRect->axis(QCPAxis::atBottom)->setRange(lo < 0 ? lo - pad : 0, hi + pad);
}

int PrecisionPanel::rowCount() const {
    return m_strip->rows;
}

QStringList PrecisionPanel::rowNames() const {
    return m_rowTicker->names;
}

int PrecisionPanel::segmentCount() const {
    return int(m_strip->segments.size());
}

std::optional<QuantLevels> PrecisionPanel::levelAt(int row, int64_t step) const {
    if (row < 0 || row >= rowCount()) return std::nullopt;
    const auto& segs = m_strip->segments;
    auto after =
        std::upper_bound(segs.begin(), segs.end(), step,
                         [](int64_t s, const PrecisionStrip::Segment& g) { return s < g.step; });
    if (after == segs.begin()) return std::nullopt;
    const int8_t l = m_strip->level(size_t(after - segs.begin() - 1), row);
    if (l == kUnknownLevel) return std::nullopt;
    return QuantLevels(l);
}

QVector<double> PrecisionPanel::barValues(QuantLevels l) const {
    QVector<double> v;
    for (size_t i = 0; i < m_bars.size(); ++i)
        if (kSensitivityLevels[i] == l)
            for (const auto& d : *m_bars[i]->data()) v << d.value;
    return v;
}

QString PrecisionPanel::infoText() const {
    return m_info->text();
}

QString PrecisionPanel::sensitivityNote() const {
    return m_note->text();
}

}  // namespace h158::ui
