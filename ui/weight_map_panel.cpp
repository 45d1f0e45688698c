#include "ui/weight_map_panel.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QLabel>
#include <QSpinBox>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "ui/theme.h"

namespace h158::ui {

namespace {

// Latent weights: the code colours' hues on either side of white at 0, so a weight's colour
// leans the way its code does.
QCPColorGradient latentGradient() {
    QCPColorGradient g;
    g.clearColorStops();
    g.setColorStopAt(0.0, colours::levelNeg.darker(130));
    g.setColorStopAt(0.5, Qt::white);
    g.setColorStopAt(1.0, colours::levelPos.darker(130));
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    g.setLevelCount(255);  // odd: the middle level, 0, is white
    return g;
}

// Codes -limit..limit over the data range [-limit, limit]: one colour level per code, so code
// -1 / 0 / +1 of ternary get exactly levelNeg / levelZero / levelPos (five-level's ±1 and int8's
// small codes fall between grey and the full colour).
QCPColorGradient codeGradient(int limit) {
    QCPColorGradient g;
    g.clearColorStops();
    g.setColorStopAt(0.0, colours::levelNeg);
    g.setColorStopAt(0.5, colours::levelZero);
    g.setColorStopAt(1.0, colours::levelPos);
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    g.setLevelCount(2 * std::max(1, limit) + 1);
    return g;
}

QString codeText(int c) {
    return c > 0   ? QStringLiteral("+%1").arg(c)
           : c < 0 ? QStringLiteral("−%1").arg(-c)
                   : QStringLiteral("0");
}

QString num(double v) {
    return QString::number(v, 'g', 4).replace('-', QChar(0x2212));
}

// A flip mark for cells `cell` pixels wide: on cells large enough, a square around the cell
// (the weight moved) or a dot in it (the scale moved), so the cell's colour stays visible; on
// small cells the cell itself painted black or orange; below 2 pixels, a point.
QCPScatterStyle markStyle(FlipCause cause, double cell) {
    const QColor c = cause == FlipCause::Weight ? colours::flipWeight : colours::flipScale;
    if (cell < 2) return QCPScatterStyle(QCPScatterStyle::ssDot, QPen(c, 1.5), Qt::NoBrush, 1);
    if (cell < 7) return QCPScatterStyle(QCPScatterStyle::ssSquare, Qt::NoPen, c, cell);
    if (cause == FlipCause::Weight)
        return QCPScatterStyle(QCPScatterStyle::ssSquare, QPen(c, 1.6), Qt::NoBrush,
                               std::min(cell - 1, 40.0));
    return QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::black, 0.8), c,
                           std::clamp(cell * 0.45, 4.0, 16.0));
}

QCPGraph* addMarks(QCustomPlot* p, QCPAxisRect* r, const QString& name, FlipCause cause) {
    QCPGraph* g = p->addGraph(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
    g->setName(name);
    g->setLineStyle(QCPGraph::lsNone);
    g->setAdaptiveSampling(false);
    g->setScatterStyle(markStyle(cause, 8));
    return g;
}

}  // namespace

WeightMapPanel::WeightMapPanel(QWidget* parent) : Panel(tr("Weight map"), parent) {
    setObjectName(QStringLiteral("weightmap"));
    m_tensor = new QComboBox;
    m_tensor->setToolTip(tr("Weight matrix to show"));
    m_tensor->setMinimumContentsLength(8);
    m_tensor->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_info = addInfoLabel();
    addStepBadge(header());
    header()->insertWidget(1, m_tensor);
    m_modeBox = new QComboBox;
    m_modeBox->addItems({tr("Latent"), tr("Codes"), tr("Side by side")});
    m_modeBox->setCurrentIndex(int(Mode::SideBySide));
    m_modeBox->setToolTip(
        tr("Latent weights (what the optimizer updates), their codes (what "
           "the forward pass uses), or both"));
    m_recent = new QSpinBox;
    m_recent->setRange(0, 1000);
    m_recent->setValue(5);
    m_recent->setSuffix(tr(" steps"));
    m_recent->setToolTip(tr("Mark the cells whose code flipped in the last N steps (0: no marks)"));
    auto* flipsLabel = new QLabel(tr("flips in last"));
    toolRow()->addWidget(m_modeBox);
    toolRow()->addStretch(1);
    toolRow()->addWidget(flipsLabel);
    toolRow()->addWidget(m_recent);
    connect(m_tensor, &QComboBox::currentIndexChanged, this, [this] {
        m_map.reset();
        fillMaps();
        request();
    });
    connect(m_modeBox, &QComboBox::currentIndexChanged, this, [this] {
        arrange();
        markDirty();
        refresh();
    });
    connect(m_recent, &QSpinBox::valueChanged, this, [this] {
        updateMarks();
        refresh();
    });

    QCustomPlot* p = createPlot(QStringLiteral("weight_map"));
    p->setMouseTracking(true);
    m_latentRect = p->axisRect(0);
    p->plotLayout()->take(m_latentRect);
    p->plotLayout()->simplify();
    m_codeRect = new QCPAxisRect(p);
    auto* group = new QCPMarginGroup(p);
    for (QCPAxisRect* r : {m_latentRect, m_codeRect}) {
        styleAxisRect(r);
        r->setMarginGroup(QCP::msLeft | QCP::msRight | QCP::msTop | QCP::msBottom, group);
        for (QCPAxis* a : r->axes()) a->setLayer(QStringLiteral("axes"));
        for (QCPAxis* a : r->axes()) a->grid()->setLayer(QStringLiteral("grid"));
        r->setMinimumSize(30, 30);  // a short panel squeezes the maps, not the legend
        r->axis(QCPAxis::atLeft)->setRangeReversed(true);  // row 0 at the top, as a matrix
        r->axis(QCPAxis::atBottom)->setLabel(tr("column (input)"));
        r->axis(QCPAxis::atLeft)->setLabel(tr("row (output)"));
        r->axis(QCPAxis::atBottom)->grid()->setVisible(false);
        r->axis(QCPAxis::atLeft)->grid()->setVisible(false);
    }
    // Zoom and pan one map, the other follows.
    for (auto type : {QCPAxis::atBottom, QCPAxis::atLeft}) {
        QCPAxis* a = m_latentRect->axis(type);
        QCPAxis* b = m_codeRect->axis(type);
        connect(a, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), b,
                qOverload<const QCPRange&>(&QCPAxis::setRange));
        connect(b, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), a,
                qOverload<const QCPRange&>(&QCPAxis::setRange));
    }
    m_latentMap =
        new QCPColorMap(m_latentRect->axis(QCPAxis::atBottom), m_latentRect->axis(QCPAxis::atLeft));
    m_latentMap->setName(tr("latent weights"));
    m_latentMap->setGradient(latentGradient());
    m_latentMap->setInterpolate(false);
    m_latentMap->setTightBoundary(false);
    m_latentMap->removeFromLegend();
    m_codeMap =
        new QCPColorMap(m_codeRect->axis(QCPAxis::atBottom), m_codeRect->axis(QCPAxis::atLeft));
    m_codeMap->setName(tr("codes"));
    m_codeMap->setGradient(codeGradient(1));
    m_codeMap->setInterpolate(false);
    m_codeMap->removeFromLegend();
    m_scale = new QCPColorScale(p);
    m_scale->setType(QCPAxis::atRight);
    m_scale->setBarWidth(8);
    m_scale->axis()->setLabel(tr("latent w"));
    m_scale->setGradient(latentGradient());
    m_latentMap->setColorScale(m_scale);

    // The marks change style with the zoom; the legend keeps the large-cell ones (no data).
    m_markLegend[0] = addMarks(p, m_latentRect, tr("weight moved"), FlipCause::Weight);
    m_markLegend[1] = addMarks(p, m_latentRect, tr("scale moved"), FlipCause::Scale);
    m_markLegend[1]->setScatterStyle(markStyle(FlipCause::Scale, 16));  // a dot of 7 px
    for (int m = 0; m < 2; ++m) {
        QCPAxisRect* r = m == 0 ? m_latentRect : m_codeRect;
        m_markWeight[m] = addMarks(p, r, tr("weight moved"), FlipCause::Weight);
        m_markScale[m] = addMarks(p, r, tr("scale moved"), FlipCause::Scale);
        m_markWeight[m]->removeFromLegend();
        m_markScale[m]->removeFromLegend();
    }
    const QColor swatch[3] = {colours::levelNeg, colours::levelZero, colours::levelPos};
    const QString swatchName[3] = {QStringLiteral("−1"), QStringLiteral("0"), QStringLiteral("+1")};
    for (int i = 0; i < 3; ++i) {
        m_swatch[i] =
            p->addGraph(m_codeRect->axis(QCPAxis::atBottom), m_codeRect->axis(QCPAxis::atLeft));
        m_swatch[i]->setName(swatchName[i]);
        m_swatch[i]->setLineStyle(QCPGraph::lsNone);
        m_swatch[i]->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssSquare, swatch[i].darker(115), swatch[i], 9));
    }
    // The legend gets a row of its own above the maps, clear of the cells.
    p->legend->setVisible(true);
    p->legend->setBorderPen(Qt::NoPen);
    p->legend->setWrap(5);
    p->legend->setFillOrder(QCPLegend::foColumnsFirst, true);
    p->legend->setIconSize(12, 10);
    auto* legendRow = new QCPLayoutGrid;  // the legend at its own width, then empty room
    p->plotLayout()->addElement(0, 0, legendRow);
    m_latentRect->insetLayout()->take(p->legend);
    legendRow->addElement(0, 0, p->legend);
    legendRow->addElement(0, 1, new QCPLayoutElement(p));
    legendRow->setColumnStretchFactors({0.001, 1.0});
    m_grid = new QCPLayoutGrid;
    p->plotLayout()->addElement(1, 0, m_grid);
    p->plotLayout()->setRowStretchFactor(0, 0.001);
    p->plotLayout()->setRowSpacing(2);
    connect(p, &QCustomPlot::afterLayout, this, &WeightMapPanel::sizeMarks);
    connect(p, &QCustomPlot::mouseMove, this, &WeightMapPanel::onHover);
    setToolTip(
        tr("Hover a cell: its latent weight, scale, code and how far it is from flipping. "
           "Squares: codes that flipped because the weight crossed a threshold; dots: "
           "because the scale moved the thresholds over the weight."));
    arrange();
    setNote(tr("The weight map appears when a run has taken its first snapshot."));
}

// The new run's matrices come with its first weights snapshot; until then nothing is asked for
// (an index of the old model may name another tensor of the new one). The chosen name is kept.
void WeightMapPanel::beginRun(const Config&, const QColor&) {
    if (m_tensor->currentIndex() >= 0)
        m_keepName = m_tensors[size_t(m_tensor->currentIndex())].name;
    m_map.reset();
    m_tensors.clear();
    {
        const QSignalBlocker block(m_tensor);
        m_tensor->clear();
    }
    m_requested = -2;  // the worker may have dropped a request the old run could not answer
    fillMaps();
    request();
}

void WeightMapPanel::applySnapshot(const Snapshot& s) {
    if (s.kind != "weights") return;
    std::vector<TensorEntry> entries;
    for (const auto& t : s.data.value("tensors", nlohmann::json::array())) {
        TensorEntry e;
        e.name = QString::fromStdString(t.value("name", std::string()));
        e.index = t.value("index", -1);
        e.quantized = t.value("quantized", false);
        if (e.index >= 0) entries.push_back(e);
    }
    QStringList names;
    for (const TensorEntry& e : entries) names << e.name;
    if (names == tensorNames() && m_tensor->currentIndex() >= 0) return;
    const int current = m_tensor->currentIndex();
    const QString keep = current >= 0 ? m_tensors[size_t(current)].name : m_keepName;
    m_tensors = entries;
    {
        const QSignalBlocker block(m_tensor);
        m_tensor->clear();
        for (const TensorEntry& e : m_tensors)
            m_tensor->addItem(e.quantized ? e.name : e.name + tr(" (fp32)"));
        int i = -1;
        for (size_t t = 0; t < m_tensors.size() && i < 0; ++t)
            if (m_tensors[t].name == keep) i = int(t);
        // A new run starts on its first quantized matrix: the one with codes to show.
        for (size_t t = 0; i < 0 && t < m_tensors.size(); ++t)
            if (m_tensors[t].quantized) i = int(t);
        m_tensor->setCurrentIndex(std::max(i, 0));
    }
    if (m_map && m_map->tensor != tensorIndex()) {
        m_map.reset();
        fillMaps();
    }
    request();
}

void WeightMapPanel::applyWeightMap(const WeightMap& map) {
    const int i = m_tensor->currentIndex();
    if (i < 0 || map.tensor != tensorIndex() ||
        QString::fromStdString(map.name) != m_tensors[size_t(i)].name || map.rows < 1 ||
        map.cols < 1 || map.latent.size() != size_t(map.rows * map.cols))
        return;
    m_map = std::make_shared<const WeightMap>(map);
    fillMaps();
}

int WeightMapPanel::tensorIndex() const {
    const int i = m_tensor->currentIndex();
    return i >= 0 && i < int(m_tensors.size()) ? m_tensors[size_t(i)].index : -1;
}

QStringList WeightMapPanel::tensorNames() const {
    QStringList names;
    for (const TensorEntry& e : m_tensors) names << e.name;
    return names;
}

void WeightMapPanel::selectTensor(const QString& name) {
    for (size_t t = 0; t < m_tensors.size(); ++t)
        if (m_tensors[t].name == name) m_tensor->setCurrentIndex(int(t));
}

WeightMapPanel::Mode WeightMapPanel::mode() const {
    return Mode(m_modeBox->currentIndex());
}

void WeightMapPanel::setMode(Mode m) {
    m_modeBox->setCurrentIndex(int(m));
}

int WeightMapPanel::recentSteps() const {
    return m_recent->value();
}

void WeightMapPanel::setRecentSteps(int n) {
    m_recent->setValue(n);
}

void WeightMapPanel::request() {
    const int want = isVisible() ? tensorIndex() : -1;
    if (want == m_requested) return;
    m_requested = want;
    emit weightMapTensorRequested(want);
}

void WeightMapPanel::showEvent(QShowEvent* e) {
    Panel::showEvent(e);
    request();
}

// The legend stays one row: a narrow panel names the marks by their cause alone.
void WeightMapPanel::resizeEvent(QResizeEvent* e) {
    Panel::resizeEvent(e);
    const bool narrow = width() < 470;
    const QString weight = narrow ? tr("weight") : tr("weight moved");
    if (m_markLegend[0]->name() == weight) return;
    m_markLegend[0]->setName(weight);
    m_markLegend[1]->setName(narrow ? tr("scale") : tr("scale moved"));
    plot()->replot(QCustomPlot::rpQueuedReplot);  // the plot laid itself out for the old names
}

void WeightMapPanel::hideEvent(QHideEvent* e) {
    Panel::hideEvent(e);
    request();  // a hidden map costs the run nothing
}

// Which maps the mode shows, and where: side by side in a row for tall or square matrices, one
// above the other for wide ones (a GPT MLP's 128×512), each with the latent colour scale beside.
void WeightMapPanel::arrange() {
    const Mode m = mode();
    const bool codes = m_map && m_map->levels != QuantLevels::None;
    const bool showLatent = m != Mode::Codes || !codes;
    const bool showCodes = m != Mode::Latent && codes;
    const bool stacked = m_map && m_map->cols > m_map->rows;
    const int key = int(showLatent) | int(showCodes) << 1 | int(stacked) << 2;
    if (key == m_arranged) return;
    m_arranged = key;
    for (QCPLayoutElement* e :
         {static_cast<QCPLayoutElement*>(m_latentRect), static_cast<QCPLayoutElement*>(m_codeRect),
          static_cast<QCPLayoutElement*>(m_scale)})
        if (e->layout() == m_grid) m_grid->take(e);
    m_grid->simplify();
    if (showLatent) {
        m_grid->addElement(0, 0, m_latentRect);
        m_grid->addElement(0, 1, m_scale);
    }
    if (showCodes) {
        if (!showLatent)
            m_grid->addElement(0, 0, m_codeRect);
        else if (stacked)
            m_grid->addElement(1, 0, m_codeRect);
        else
            m_grid->addElement(0, 2, m_codeRect);
    }
    m_grid->setColumnStretchFactors(QList<double>(m_grid->columnCount(), 1.0));
    if (showLatent) m_grid->setColumnStretchFactor(1, 0.001);
    m_latentRect->setVisible(showLatent);
    m_scale->setVisible(showLatent);
    m_codeRect->setVisible(showCodes);
    // The legend: the codes (when shown), then the marks; two rows when narrow (resizeEvent).
    for (QCPGraph* g : {m_swatch[0], m_swatch[1], m_swatch[2], m_markLegend[0], m_markLegend[1]})
        g->removeFromLegend();
    if (showCodes)
        for (QCPGraph* g : m_swatch) g->addToLegend();
    for (QCPGraph* g : m_markLegend) g->addToLegend();
}

void WeightMapPanel::setStepCaption(int64_t step, const QString& caption) {
    const bool changed = caption != stepCaption();
    StateView::setStepCaption(step, caption);
    if (changed) fillMaps();
}

void WeightMapPanel::fillMaps() {
    if (!stepCaption().isEmpty()) {
        m_info->clear();
        setNote(tr("The weights cell by cell come from the live run only: a run's snapshots keep "
                   "each tensor as a histogram, which the Weights panel shows for this step."));
        return;
    }
    if (!m_map) {
        m_latentMap->data()->clear();
        m_codeMap->data()->clear();
        for (QCPGraph* g : {m_markWeight[0], m_markWeight[1], m_markScale[0], m_markScale[1]})
            g->data()->clear();
        m_info->clear();
        if (m_tensors.empty())
            setNote(tr("The weight map appears when a run has taken its first snapshot."));
        else
            setNote(tr("Waiting for the weights of %1…").arg(m_tensor->currentText()));
        return;
    }
    setNote(QString());
    const WeightMap& w = *m_map;
    const int rows = int(w.rows), cols = int(w.cols);
    const bool codes = w.levels != QuantLevels::None && w.codes.size() == w.latent.size();
    // key = column, value = row: cell (r, c) is drawn at (c, r), rows going down.
    for (QCPColorMap* m : {m_latentMap, m_codeMap}) {
        QCPColorMapData* d = m->data();
        if (d->keySize() != cols || d->valueSize() != rows) d->setSize(cols, rows);
        d->setRange(QCPRange(0, cols - 1), QCPRange(0, rows - 1));
    }
    // The colour range: ±(99th percentile of |w|), so a few outliers do not wash out the rest
    // (they take the end colours).
    std::vector<float> mag(w.latent.size());
    std::transform(w.latent.begin(), w.latent.end(), mag.begin(),
                   [](float v) { return std::abs(v); });
    const size_t q = std::min(mag.size() - 1, mag.size() * 99 / 100);
    std::nth_element(mag.begin(), mag.begin() + long(q), mag.end());
    const float lim = mag[q];
    QCPColorMapData* latent = m_latentMap->data();
    for (int c = 0; c < cols; ++c)
        for (int r = 0; r < rows; ++r)
            latent->setCell(c, r, w.latent[size_t(r + int64_t(c) * rows)]);
    m_latentMap->setDataRange(QCPRange(-std::max(lim, 1e-12f), std::max(lim, 1e-12f)));
    if (codes) {
        const int limit = codeLimit(w.levels);
        m_codeMap->setGradient(codeGradient(limit));
        m_codeMap->setDataRange(QCPRange(-limit, limit));
        QCPColorMapData* code = m_codeMap->data();
        for (int c = 0; c < cols; ++c)
            for (int r = 0; r < rows; ++r)
                code->setCell(c, r, w.codes[size_t(r + int64_t(c) * rows)]);
    } else {
        m_codeMap->data()->fill(0);
    }
    arrange();
    updateMarks();
    describe();
    markDirty();
}

// The cells whose code flipped at one of the last N steps, where step s's update is the one
// that made the codes of steps done = s: lastFlip in (step − N, step].
void WeightMapPanel::updateMarks() {
    QVector<double> wx, wy, sx, sy;
    const int n = recentSteps();
    if (m_map && n > 0 && m_map->lastFlip.size() == m_map->latent.size()) {
        const WeightMap& w = *m_map;
        for (size_t i = 0; i < w.lastFlip.size(); ++i) {
            const int32_t f = w.lastFlip[i];
            if (f < 0 || f <= w.step - n) continue;
            const double r = double(int64_t(i) % w.rows), c = double(int64_t(i) / w.rows);
            if (FlipCause(w.flipCause[i]) == FlipCause::Scale)
                sx << c, sy << r;
            else
                wx << c, wy << r;
        }
    }
    for (int m = 0; m < 2; ++m) {
        m_markWeight[m]->setData(wx, wy, true);
        m_markScale[m]->setData(sx, sy, true);
    }
    markDirty();
}

// Marks fitted to the cells' size on screen now (markStyle).
void WeightMapPanel::sizeMarks() {
    for (int m = 0; m < 2; ++m) {
        QCPAxisRect* r = m == 0 ? m_latentRect : m_codeRect;
        const double cx = std::abs(r->axis(QCPAxis::atBottom)->coordToPixel(1) -
                                   r->axis(QCPAxis::atBottom)->coordToPixel(0));
        const double cy = std::abs(r->axis(QCPAxis::atLeft)->coordToPixel(1) -
                                   r->axis(QCPAxis::atLeft)->coordToPixel(0));
        const double cell = std::min(cx, cy);
        m_markWeight[m]->setScatterStyle(markStyle(FlipCause::Weight, cell));
        m_markScale[m]->setScatterStyle(markStyle(FlipCause::Scale, cell));
    }
}

void WeightMapPanel::describe() {
    const WeightMap& w = *m_map;
    QString text = QStringLiteral("%1×%2").arg(w.rows).arg(w.cols);
    if (w.levels == QuantLevels::None) {
        text += tr(" · fp32 (no codes)");
    } else {
        double mean = 0;
        for (float s : w.rowScale) mean += s;
        mean /= std::max<size_t>(1, w.rowScale.size());
        const QString what = w.levels == QuantLevels::Ternary     ? tr("γ")
                             : w.levels == QuantLevels::FiveLevel ? tr("γ/2")
                                                                  : tr("step");
        text += QStringLiteral(" · %1 · %2 %3 %4")
                    .arg(QString::fromLatin1(quantLevelsName(w.levels)),
                         w.rowScale.size() > 1 &&
                                 std::any_of(w.rowScale.begin(), w.rowScale.end(),
                                             [&](float s) { return s != w.rowScale[0]; })
                             ? tr("mean")
                             : QString(),
                         what, QStringLiteral("= ") + num(mean))
                    .simplified();
    }
    text += tr(" · step %1").arg(w.step);
    m_info->setText(text);
}

std::optional<WeightMapPanel::CellInfo> WeightMapPanel::cellInfo(int row, int col) const {
    if (!m_map || row < 0 || col < 0 || row >= m_map->rows || col >= m_map->cols) return {};
    const WeightMap& w = *m_map;
    const size_t i = size_t(row + int64_t(col) * w.rows);
    CellInfo c;
    c.row = row;
    c.col = col;
    c.latent = w.latent[i];
    if (i < w.lastFlip.size()) c.lastFlip = w.lastFlip[i];
    if (i < w.flipCause.size()) c.cause = FlipCause(w.flipCause[i]);
    c.quantized =
        w.levels != QuantLevels::None && i < w.codes.size() && size_t(row) < w.rowScale.size();
    if (!c.quantized) return c;
    c.scale = w.rowScale[size_t(row)];
    c.code = w.codes[i];
    c.limit = codeLimit(w.levels);
    // Code c holds w in ((c − ½)s, (c + ½)s); the outer codes are open outward (clipped), so
    // at +limit only the lower threshold exists, at −limit only the upper one.
    const double s = c.scale, lat = c.latent;
    const double up = c.code < c.limit ? (c.code + 0.5) * s - lat : HUGE_VAL;
    const double down = c.code > -c.limit ? lat - (c.code - 0.5) * s : HUGE_VAL;
    c.direction = up <= down ? 1 : -1;
    c.distance = std::max(0.0, std::min(up, down));
    c.target = c.code + c.direction;
    return c;
}

QString WeightMapPanel::cellToolTip(int row, int col) const {
    const auto c = cellInfo(row, col);
    if (!c) return {};
    QStringList lines;
    lines << tr("row %1, column %2").arg(row).arg(col);
    lines << tr("latent w = %1").arg(num(c->latent));
    if (!c->quantized) {
        lines << tr("kept at fp32: no code");
        return lines.join('\n');
    }
    const double s = c->scale;
    switch (m_map->levels) {
        case QuantLevels::Ternary:
            lines << tr("scale γ = %1 (this row); thresholds ±γ/2 = ±%2").arg(num(s), num(s / 2));
            break;
        case QuantLevels::FiveLevel:
            lines << tr("level step γ/2 = %1 (this row); thresholds at ±%2, ±%3")
                         .arg(num(s), num(s / 2), num(1.5 * s));
            break;
        default:
            lines << tr("int8 step max|W|/127 = %1 (this row); thresholds half a step from each "
                        "level")
                         .arg(num(s));
            break;
    }
    lines << tr("code %1 (value %2)").arg(codeText(c->code), num(c->code * s));
    const double threshold = c->latent + c->direction * c->distance;
    lines << (c->direction > 0 ? tr("flips to %1 if w rises by %2 (past %3)")
                               : tr("flips to %1 if w falls by %2 (past %3)"))
                 .arg(codeText(c->target), num(c->distance), num(threshold));
    if (c->lastFlip >= 0)
        lines << (c->cause == FlipCause::Scale
                      ? tr("last flipped at step %1: the scale moved").arg(c->lastFlip)
                      : tr("last flipped at step %1: the weight moved").arg(c->lastFlip));
    return lines.join('\n');
}

QPointF WeightMapPanel::cellPixel(int row, int col, bool codes) const {
    QCPAxisRect* r = codes ? m_codeRect : m_latentRect;
    if (!r->visible() || !r->layout()) return {-1, -1};
    return {r->axis(QCPAxis::atBottom)->coordToPixel(col),
            r->axis(QCPAxis::atLeft)->coordToPixel(row)};
}

QVector<QPoint> WeightMapPanel::flipMarks(FlipCause cause) const {
    QVector<QPoint> out;
    const QCPGraph* g = cause == FlipCause::Scale ? m_markScale[0] : m_markWeight[0];
    for (const auto& d : *g->data()) out << QPoint(int(d.key), int(d.value));
    return out;
}

void WeightMapPanel::onHover(QMouseEvent* e) {
    if (!m_map) return;
    const QPointF pos = e->position();
    for (QCPAxisRect* r : {m_latentRect, m_codeRect}) {
        if (!r->visible() || !r->layout() || !r->rect().contains(pos.toPoint())) continue;
        const int col = int(std::lround(r->axis(QCPAxis::atBottom)->pixelToCoord(pos.x())));
        const int row = int(std::lround(r->axis(QCPAxis::atLeft)->pixelToCoord(pos.y())));
        m_hoverText = cellToolTip(row, col);
        if (!m_hoverText.isEmpty()) {
            QToolTip::showText(e->globalPosition().toPoint(), m_hoverText, plot());
            return;
        }
    }
    QToolTip::hideText();
}

void WeightMapPanel::rescale() {
    if (!m_map) return;
    for (QCPAxisRect* r : {m_latentRect, m_codeRect}) {
        r->axis(QCPAxis::atBottom)->setRange(-0.5, double(m_map->cols) - 0.5);
        r->axis(QCPAxis::atLeft)->setRange(-0.5, double(m_map->rows) - 0.5);
    }
}

}  // namespace h158::ui
