// Colours are the Tableau 10 set (clusters) and a darker, saturated set for runs, so that an
// overlaid run never looks like a cluster of the live one.
#include "ui/theme.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QFont>
#include <QPalette>
#include <QStyleFactory>
#include <array>

namespace h158::ui {

namespace {
constexpr std::array<QRgb, 10> kClusters = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                            0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
constexpr std::array<QRgb, 8> kRuns = {0x1565c0, 0xc62828, 0x2e7d32, 0x6a1b9a,
                                       0xef6c00, 0x00838f, 0xad1457, 0x4e342e};
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

void stylePlot(QCustomPlot* plot) {
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
