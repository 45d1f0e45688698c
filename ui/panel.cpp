#include "ui/panel.h"

#include "core/exp/run_compare.h"

#include <qcustomplot.h>

#include <QHBoxLayout>
#include <algorithm>
#include <QLabel>
#include <QMenu>
#include <cmath>
#include <QPainter>
#include <QStackedWidget>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/history_bounds.h"
#include "ui/plot_utils.h"
#include "ui/theme.h"

namespace h158::ui {

namespace {
// A label that ends in "…" when it does not fit; the full text is then its tooltip. As a title
// it asks for its whole text and gives way down to a few characters (so a narrow panel keeps its
// controls); as a caption (`caption`) it takes only the room left.
class ElidedLabel : public QLabel {
  public:
    explicit ElidedLabel(const QString& text = {}, bool caption = true) : QLabel(text) {
        setSizePolicy(caption ? QSizePolicy::Ignored : QSizePolicy::Preferred,
                      QSizePolicy::Preferred);
        setMinimumWidth(20);
    }
    QSize minimumSizeHint() const override {
        const QSize hint = QLabel::minimumSizeHint();
        const int few = fontMetrics().horizontalAdvance(text().left(6) + QStringLiteral("…"));
        return {std::min(hint.width(), few), hint.height()};
    }

  protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        p.setPen(palette().color(QPalette::WindowText));
        p.setFont(font());
        const QString t = fontMetrics().elidedText(text(), Qt::ElideRight, width());
        p.drawText(rect(), Qt::AlignLeft | Qt::AlignVCenter, t);
        setToolTip(t == text() ? QString() : text());
    }
};
}  // namespace

Panel::Panel(const QString& title, QWidget* parent) : QFrame(parent) {
    // The card's look keys on a property, not the object name: the name is the panel's id
    // (lessons, presenter mode and scenario files name panels by it).
    setProperty("panelCard", true);
    setFrameShape(QFrame::StyledPanel);
    setStyleSheet(QStringLiteral("[panelCard=\"true\"] { background: white; border: 1px solid "
                                 "#d9dce1; border-radius: 4px; }"));
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(6, 4, 6, 4);
    v->setSpacing(2);
    m_header = new QHBoxLayout;
    m_header->setSpacing(6);
    m_title = new ElidedLabel(title, false);
    QFont f;  // bold only: the size follows the window's font (presenter mode scales it)
    f.setBold(true);
    m_title->setFont(f);
    m_header->addWidget(m_title);
    m_header->addStretch(1);
    auto* maximize = new QToolButton;
    maximize->setAutoRaise(true);
    maximize->setIcon(style()->standardIcon(QStyle::SP_TitleBarMaxButton));
    maximize->setToolTip(tr("Give this view the whole centre (click again to go back)"));
    maximize->setIconSize(QSize(12, 12));
    connect(maximize, &QToolButton::clicked, this, [this] { emit maximizeToggled(this); });
    m_header->addWidget(maximize);
    v->addLayout(m_header);
    m_stack = new QStackedWidget;
    m_note = new QLabel;
    m_note->setAlignment(Qt::AlignCenter);
    m_note->setWordWrap(true);
    m_note->setStyleSheet(QStringLiteral("color: #888; padding: 12px;"));
    m_stack->addWidget(m_note);
    v->addWidget(m_stack, 1);
}

QString Panel::title() const {
    return m_title->text();
}


QLabel* Panel::addInfoLabel() {
    auto* l = new ElidedLabel;
    QPalette pal = l->palette();
    pal.setColor(QPalette::WindowText, QColor(85, 85, 85));
    l->setPalette(pal);
    m_header->insertWidget(1, l, 1);
    return l;
}

QHBoxLayout* Panel::toolRow() {
    if (!m_toolRow) {
        m_toolRow = new QHBoxLayout;
        m_toolRow->setSpacing(6);
        auto* v = static_cast<QVBoxLayout*>(layout());
        v->insertLayout(1, m_toolRow);
    }
    return m_toolRow;
}

void Panel::setContent(QWidget* w) {
    m_stack->addWidget(w);
    m_stack->setCurrentWidget(w);
}

QCustomPlot* Panel::createPlot(const QString& exportName) {
    m_plot = new QCustomPlot;
    m_plot->setMinimumSize(160, 120);
    stylePlot(m_plot);
    m_interaction = new PlotInteraction(m_plot, exportName, [this] { rescale(); });
    setContent(m_plot);
    return m_plot;
}

void Panel::setLiveQuality(bool live) {
    if (live == m_live) return;
    m_live = live;
    m_dirty = true;
    if (!m_plot) return;  // a painted view reads liveQuality() when it paints
    if (live)
        m_plot->setNotAntialiasedElements(QCP::aePlottables | QCP::aeGrid | QCP::aeSubGrid);
    else
        m_plot->setNotAntialiasedElements(QCP::aeNone);
}

void Panel::setNote(const QString& text) {
    m_note->setText(text);
    if (!text.isEmpty())
        m_stack->setCurrentWidget(m_note);
    else if (m_stack->count() > 1)
        m_stack->setCurrentIndex(1);
}

bool Panel::refresh(int minIntervalMs) {
    if (!m_dirty || !isVisible()) return false;
    if (minIntervalMs > 0 && m_sinceDraw.isValid() && m_sinceDraw.elapsed() < minIntervalMs)
        return false;
    m_dirty = false;
    redraw();
    m_sinceDraw.start();
    return true;
}

void Panel::forceRedraw() {
    m_dirty = false;
    if (m_plot) {
        if (!m_interaction || m_interaction->following()) rescale();
        m_plot->replot(QCustomPlot::rpImmediateRefresh);
    } else {
        redraw();
    }
}

void Panel::boundCurves() {
    if (!m_plot) return;
    for (int i = 0; i < m_plot->graphCount(); ++i)
        if (thinGraph(m_plot->graph(i))) m_dirty = true;
}

void Panel::redraw() {
    if (!m_plot) return;
    if (!m_interaction || m_interaction->following()) rescale();
    m_plot->replot(QCustomPlot::rpImmediateRefresh);
}

void Panel::showEvent(QShowEvent* e) {
    QFrame::showEvent(e);
    m_dirty = true;
}


void Panel::replaceOverlays(const std::vector<RunOverlay>& overlays, const OverlaySeries& series,
                            double width, bool bands, bool legend) {
    QCustomPlot* p = plot();
    for (QCPGraph* g : m_overlayGraphs) p->removeGraph(g);
    m_overlayGraphs.clear();
    m_overlayDirs.clear();
    QCPAxisRect* rect = p->axisRect(0);
    for (const RunOverlay& o : overlays) {
        const double w = o.highlight ? width * 1.9 : width;
        if (o.members.empty()) {
            if (!o.rows) continue;
            QCPGraph* g = addLine(p, rect, o.name, o.colour, w);
            g->setPen(QPen(o.colour, w, Qt::DashLine));
            QVector<double> x, y;
            series(*o.rows, x, y);
            g->setData(x, y, true);
            m_overlayGraphs.push_back(g);
            if (!o.dir.isEmpty()) m_overlayDirs.emplace_back(g, o.dir);
            continue;
        }
        // A seed group: its members' curves as this panel derives them, aligned by x.
        std::vector<Curve> curves;
        for (const auto& rows : o.members) {
            if (!rows) continue;
            QVector<double> x, y;
            series(*rows, x, y);
            curves.push_back(Curve{std::vector<double>(x.begin(), x.end()),
                                   std::vector<double>(y.begin(), y.end())});
        }
        if (!bands) {  // x does not align across runs (wall time): the members as thin lines
            for (size_t i = 0; i < curves.size(); ++i) {
                QCPGraph* g = addLine(p, rect, o.name, o.colour, 1.0);
                g->setData(QVector<double>(curves[i].x.begin(), curves[i].x.end()),
                           QVector<double>(curves[i].y.begin(), curves[i].y.end()), true);
                if (i > 0) g->removeFromLegend();
                m_overlayGraphs.push_back(g);
            }
            continue;
        }
        const BandSeries b = bandOfCurves(curves);
        const QVector<double> x(b.x.begin(), b.x.end());
        QColor edge = o.colour;
        edge.setAlpha(70);
        QCPGraph* lo = addLine(p, rect, o.name + QObject::tr(" (min)"), edge, 0.8);
        lo->setData(x, QVector<double>(b.lo.begin(), b.lo.end()), true);
        lo->removeFromLegend();
        QCPGraph* hi = addLine(p, rect, o.name + QObject::tr(" (max)"), edge, 0.8);
        hi->setData(x, QVector<double>(b.hi.begin(), b.hi.end()), true);
        hi->removeFromLegend();
        QColor fill = o.colour;
        fill.setAlpha(o.highlight ? 70 : 45);
        hi->setBrush(fill);
        hi->setChannelFillGraph(lo);
        QCPGraph* mean = addLine(p, rect, o.name, o.colour, w);
        mean->setData(x, QVector<double>(b.mean.begin(), b.mean.end()), true);
        m_overlayGraphs.insert(m_overlayGraphs.end(), {lo, hi, mean});
    }
    if (!legend)
        for (QCPGraph* g : m_overlayGraphs) g->removeFromLegend();
    markDirty();
    refresh();
}

void Panel::showEventsOn(QCPAxisRect* rect) {
    if (m_eventRects.empty() && m_interaction)
        m_interaction->setMenuExtension([this](QMenu& menu, const QPoint& pos) {
            if (!m_stepAxis) return;
            for (QCPAxisRect* r : m_eventRects) {
                if (!r->rect().contains(pos)) continue;
                const double step = r->axis(QCPAxis::atBottom)->pixelToCoord(pos.x());
                if (step < 1) return;
                QString dir;  // the live run unless an overlay curve is under the cursor
                if (auto* g = qobject_cast<QCPGraph*>(m_plot->plottableAt(pos, false)))
                    for (const auto& [graph, d] : m_overlayDirs)
                        if (graph == g) dir = d;
                menu.addAction(tr("Fork here (step %1)…").arg(qint64(std::llround(step))), this,
                               [this, dir, step] { emit forkRequested(dir, step); });
                menu.addSeparator();
                return;
            }
        });
    m_eventRects.push_back(rect);
}

void Panel::setStepAxis(bool steps) {
    if (steps == m_stepAxis) return;
    m_stepAxis = steps;
    drawEvents();
}

void Panel::setEvents(const std::vector<RunEvent>& events) {
    m_events = events;
    drawEvents();
}

// One dashed vertical line per step with edits, labelled at the top with what changed.
void Panel::drawEvents() {
    if (!m_plot) return;
    for (QCPAbstractItem* item : m_eventItems) m_plot->removeItem(item);
    m_eventItems.clear();
    if (m_stepAxis) {
        std::vector<std::pair<int64_t, QString>> marks;
        for (const RunEvent& e : m_events) {
            const QString key = QString::fromStdString(e.key);
            const QString what = key + QStringLiteral("=") + QString::fromStdString(e.valueText());
            if (!marks.empty() && marks.back().first == e.step)
                marks.back().second += QStringLiteral("\n") + what;
            else
                marks.emplace_back(e.step, what);
        }
        const QColor colour(150, 70, 160);
        for (QCPAxisRect* rect : m_eventRects)
            for (const auto& [step, label] : marks) {
                auto* line = new QCPItemStraightLine(m_plot);
                line->setClipAxisRect(rect);
                for (QCPItemPosition* p : {line->point1, line->point2}) p->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
                line->point1->setCoords(double(step), 0);
                line->point2->setCoords(double(step), 1);
                line->setPen(QPen(colour, 1.0, Qt::DashLine));
                line->setSelectable(false);
                auto* text = new QCPItemText(m_plot);
                text->setClipAxisRect(rect);
                text->position->setAxisRect(rect);
                text->position->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
                text->position->setTypeX(QCPItemPosition::ptPlotCoords);
                text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
                text->position->setCoords(double(step), 0.02);
                text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
                text->setText(label);
                text->setColor(colour);
                QFont f = text->font();
                f.setPointSizeF(f.pointSizeF() * 0.85);
                text->setFont(f);
                text->setPadding(QMargins(3, 0, 0, 0));
                text->setSelectable(false);
                m_eventItems.push_back(line);
                m_eventItems.push_back(text);
            }
    }
    markDirty();
}

}  // namespace h158::ui
