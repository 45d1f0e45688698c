// Colours are the Tableau 10 set (clusters) and a darker, saturated set for runs, so that an
// overlaid run never looks like a cluster of the live one.
#include "ui/theme.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QFont>
#include <QPalette>
#include <QStyleFactory>
#include <algorithm>
#include <array>

namespace h158::ui {

namespace {
constexpr std::array<QRgb, 10> kClusters = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                            0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
// Twelve run colours, dark enough for thin lines on white and apart in hue and lightness, so
// twelve overlaid runs stay told apart (the runs table hands them out to the shown runs).
constexpr std::array<QRgb, kRunColours> kRuns = {0x1565c0, 0xc62828, 0x2e7d32, 0x6a1b9a,
                                                 0xef6c00, 0x00838f, 0xad1457, 0x4e342e,
                                                 0x9e9d24, 0x283593, 0x546e7a, 0xff6f91};
constexpr std::array<QRgb, 6> kClasses = {0xf59322, 0x0877bd, 0x2ca02c,
                                          0x9467bd, 0x8c564b, 0xe377c2};
}  // namespace

QColor clusterColour(int k) {
    return QColor(kClusters[static_cast<size_t>(std::max(k, 0)) % kClusters.size()]);
}
QColor runColour(int n) {
    return QColor(kRuns[static_cast<size_t>(std::max(n, 0)) % kRuns.size()]);
}
QColor classColour(int c) {
    return QColor(kClasses[static_cast<size_t>(std::max(c, 0)) % kClasses.size()]);
}

void applyLightTheme(QApplication& app) {
    app.setStyle(QStyleFactory::create("Fusion"));
    QPalette p;
    p.setColor(QPalette::Window, QColor(246, 247, 249));
    p.setColor(QPalette::WindowText, colours::text);
    p.setColor(QPalette::Base, Qt::white);
    p.setColor(QPalette::AlternateBase, QColor(243, 245, 248));
    p.setColor(QPalette::ToolTipBase, QColor(255, 255, 238));
    p.setColor(QPalette::ToolTipText, colours::text);
    p.setColor(QPalette::Text, colours::text);
    p.setColor(QPalette::Button, QColor(240, 241, 244));
    p.setColor(QPalette::ButtonText, colours::text);
    p.setColor(QPalette::Highlight, QColor(52, 116, 199));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(21, 101, 192));
    p.setColor(QPalette::PlaceholderText, QColor(150, 150, 150));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(160, 160, 160));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(160, 160, 160));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(160, 160, 160));
    app.setPalette(p);
    QFont f = app.font();
    if (f.pointSizeF() < 10) f.setPointSizeF(10);
    app.setFont(f);
}

void styleAxisRect(QCPAxisRect* rect) {
    QFont tick = rect->parentPlot()->font();
    tick.setPointSizeF(8.5);
    QFont label = tick;
    label.setPointSizeF(9);
    for (QCPAxis* a : rect->axes()) {
        a->setBasePen(QPen(colours::axis));
        a->setTickPen(QPen(colours::axis));
        a->setSubTickPen(QPen(colours::axis));
        a->setTickLabelColor(colours::text);
        a->setLabelColor(colours::text);
        a->setTickLabelFont(tick);
        a->setLabelFont(label);
        a->grid()->setPen(QPen(colours::grid, 1, Qt::SolidLine));
        a->grid()->setSubGridVisible(false);
        a->setTickLengthIn(3);
        a->setSubTickLengthIn(1);
    }
    rect->axis(QCPAxis::atBottom)->ticker()->setTickCount(4);
}

void fitTickCounts(QCustomPlot* plot) {
    static const char* const kWanted = "h158WantedTicks";
    for (QCPAxisRect* r : plot->axisRects()) {
        bool changed = false;
        for (QCPAxis* a : r->axes()) {
            if (!a->visible() || !a->tickLabels()) continue;
            QVariant wanted = a->property(kWanted);
            if (!wanted.isValid()) {
                wanted = a->ticker()->tickCount();
                a->setProperty(kWanted, wanted);
            }
            const QFontMetrics fm(a->tickLabelFont());
            const bool horizontal = a->orientation() == Qt::Horizontal;
            int extent = 1;
            for (const QString& l : a->tickVectorLabels())
                extent = std::max(extent, horizontal ? fm.horizontalAdvance(l) : fm.height());
            const int room = horizontal ? r->width() : r->height();
            // A label and a gap of two characters per tick; the ticker rounds its step to a
            // readable one that can give up to ~1.4x the ticks asked for, hence the margin.
            const double perTick = 1.45 * (extent + 2 * fm.averageCharWidth());
            const int fits = std::max(1, int(double(room) / perTick));
            const int count = std::min(fits, std::max(1, wanted.toInt()));
            if (count != a->ticker()->tickCount()) {
                a->ticker()->setTickCount(count);
                changed = true;
            }
        }
        // The ticks of this replot were made before the layout knew the rect's size: make them
        // again (the margins keep their size; a label's height does not change).
        if (changed) r->update(QCPLayoutElement::upPreparation);
    }
}

void fitLegends(QCustomPlot* plot) {
    // A legend inside an axis rect that would cover most of it (a short panel with several
    // overlaid runs: a 1366 x 768 screen) steps aside until there is room again; the runs table
    // shows the same colours, and maximizing the panel brings the legend back.
    static const char* const kWanted = "h158LegendWanted";
    bool changed = false;
    for (QCPAxisRect* r : plot->axisRects()) {
        QCPLayoutInset* inset = r->insetLayout();
        for (int i = 0; i < inset->elementCount(); ++i) {
            auto* legend = qobject_cast<QCPLegend*>(inset->elementAt(i));
            if (!legend) continue;
            QVariant wanted = legend->property(kWanted);
            if (!wanted.isValid()) {
                wanted = legend->visible();
                legend->setProperty(kWanted, wanted);
            }
            if (!wanted.toBool()) continue;
            const QSize need = legend->minimumOuterSizeHint();
            const QRect room = r->rect();
            const bool fits =
                need.height() <= 0.8 * room.height() && need.width() <= 0.8 * room.width();
            if (fits != legend->visible()) {
                legend->setVisible(fits);
                changed = true;
            }
        }
    }
    if (changed) plot->replot(QCustomPlot::rpQueuedReplot);
}

void stylePlot(QCustomPlot* plot) {
    QObject::connect(plot, &QCustomPlot::afterLayout, plot, [plot] {
        fitTickCounts(plot);
        fitLegends(plot);
    });
    plot->setBackground(Qt::white);
    plot->setNoAntialiasingOnDrag(true);
    plot->setPlottingHint(QCP::phCacheLabels, true);
    // Polylines in one call instead of segment by segment: several times faster for live curves.
    plot->setPlottingHint(QCP::phFastPolylines, true);
    for (QCPAxisRect* r : plot->axisRects()) styleAxisRect(r);
    QFont lf = plot->font();
    lf.setPointSizeF(8.5);
    plot->legend->setFont(lf);
    plot->legend->setBrush(QColor(255, 255, 255, 220));
    plot->legend->setBorderPen(QPen(QColor(210, 210, 210)));
    plot->legend->setIconSize(16, 8);
}

}  // namespace h158::ui
