// What every plot of the workbench shares: mouse zoom/pan, double-click to reset the view, and a
// context menu that exports the picture (PNG, PDF, SVG) and the data (CSV). Attach once per plot.
#pragma once

#include <QObject>
#include <QString>
#include <functional>
#include <vector>

class QCustomPlot;
class QCPAxis;
class QCPAxisRect;
class QCPGraph;
class QCPLegend;
class QMouseEvent;
class QWheelEvent;

class QMenu;

namespace h158::ui {

class PlotInteraction : public QObject {
    Q_OBJECT
  public:
    // `resetView` rescales the plot's axes to its data (the panel knows what "all" means).
    PlotInteraction(QCustomPlot* plot, QString baseName, std::function<void()> resetView);

    // True until the user zooms or pans; while true, live panels follow the data.
    bool following() const { return m_following; }
    void resetView();

    bool exportPng(const QString& path) const;
    bool exportPdf(const QString& path) const;
    // Vector picture for slides (Qt SVG): the plot at its size on screen.
    bool exportSvg(const QString& path) const;
    bool exportCsv(const QString& path) const;
    // Every graph, curve, bar set and colour map of the plot as "series,x,y[,z]" rows.
    static QString toCsv(QCustomPlot* plot);
    // Adds the owner's own actions at the top of the right-click menu for a click at `pos`.
    void setMenuExtension(std::function<void(QMenu& menu, const QPoint& pos)> extend) {
        m_extend = std::move(extend);
    }

  signals:
    void viewReset();

  private:
    void onPress(QMouseEvent* e);
    void onWheel(QWheelEvent* e);
    void onDoubleClick(QMouseEvent* e);
    void showMenu(const QPoint& pos);

    QCustomPlot* m_plot;
    QString m_baseName;
    std::function<void()> m_resetView;
    std::function<void(QMenu&, const QPoint&)> m_extend;
    bool m_following = true;
};

// A second axis rect under the plot's last one, left margins aligned and x ranges linked, so
// two views of the same steps line up.
QCPAxisRect* addAxisRectBelow(QCustomPlot* plot);
// A graph of lines (no scatter) with adaptive sampling, drawn in `rect`.
QCPGraph* addLine(QCustomPlot* plot, QCPAxisRect* rect, const QString& name, const QColor& c,
                  double width = 1.5);
// A legend of its own inside `rect` (styled like the plot's), holding `graphs`.
QCPLegend* addLegend(QCustomPlot* plot, QCPAxisRect* rect, Qt::Alignment where,
                     const std::vector<QCPGraph*>& graphs);
// Fits `axis` (a key axis when `keys`, else a value axis) to the data of `graphs`, with a small
// margin for value axes; positive values only on a log axis. Leaves the axis when no data.
void fitAxis(QCPAxis* axis, const std::vector<QCPGraph*>& graphs, bool keys);
// Makes `axis` logarithmic (with a log ticker) or linear.
void setLogAxis(QCPAxis* axis, bool log);

}  // namespace h158::ui
