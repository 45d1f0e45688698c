// The card every live view sits in: a title bar (with the panel's own controls and a button to
// give it the whole centre), then the view, or a note when the view does not apply to the run.
// The window's redraw timer calls refresh(); a panel redraws only when it has something new and
// is visible, so hidden panels cost nothing while training.
#pragma once

#include <functional>

#include <QElapsedTimer>

#include <QColor>
#include <QFrame>
#include <memory>
#include <vector>

#include "core/config/config.h"
#include "core/exp/events.h"
#include "core/train/metrics.h"
#include "core/train/trainer.h"

class QHBoxLayout;
class QLabel;
class QStackedWidget;
class QToolButton;
class QCustomPlot;
class QCPGraph;
class QCPAxisRect;
class QCPAbstractItem;

namespace h158::ui {

class PlotInteraction;

// A finished (or another live) run's rows drawn beside the live run in the scalar plots, or a
// seed group's runs drawn as their mean with a min–max band (members, rows null).
struct RunOverlay {
    QString name;  // the legend's text
    QColor colour;
    std::shared_ptr<const std::vector<StepMetrics>> rows;
    std::vector<std::shared_ptr<const std::vector<StepMetrics>>> members;
    bool highlight = false;  // the run selected in the table: drawn bold, on top
    QString dir;             // the run's directory (empty for a seed group): Fork here… forks it
};

class Panel : public QFrame {
    Q_OBJECT
  public:
    Panel(const QString& title, QWidget* parent = nullptr);

    // Whether the view means anything for this configuration (e.g. a boundary needs 2-D data).
    virtual bool appliesTo(const Config&) const { return true; }
    // A new run starts: forget the old one's data (overlays stay).
    virtual void beginRun(const Config& cfg, const QColor& runColour) = 0;
    // Rows of the live run that arrived since the last call, in step order.
    virtual void appendRows(const std::vector<StepMetrics>&) {}
    virtual void applySnapshot(const Snapshot&) {}
    virtual void setOverlays(const std::vector<RunOverlay>&) {}
    // The weight map the window asked the run for (RunController::setWeightMapTensor), and the
    // stages of a step taken in stages (Step into), as they arrive.
    virtual void applyWeightMap(const WeightMap&) {}
    virtual void applyStage(const StageReport&) {}
    // The edits of the run shown (events.h), drawn as labelled vertical lines at their steps on
    // the axis rects the panel plots steps on (showEventsOn); the others ignore them.
    void setEvents(const std::vector<RunEvent>& events);
    int eventMarkerCount() const { return int(m_eventItems.size()); }

    // Redraws now if there is something new, the panel is on screen and its last redraw is at
    // least minIntervalMs old; true when it drew.
    bool refresh(int minIntervalMs = 0);
    bool needsRedraw() const { return m_dirty && isVisible(); }
    // Redraws now, whether visible or not (for screenshots and exports).
    void forceRedraw();
    // Thins every curve of the plot that holds more than kMaxCurvePoints (history_bounds.h); the
    // window calls it after each batch of rows, so a long run's curves stay bounded.
    void boundCurves();
    QString title() const;
    // While a run is going, curves are drawn without antialiasing (several times cheaper); a
    // paused or finished run, a screenshot and an export get the full quality.
    void setLiveQuality(bool live);
    bool liveQuality() const { return m_live; }
    // The panel's plot interaction (export, reset view), null for text panels.
    PlotInteraction* interaction() const { return m_interaction; }
    QCustomPlot* plot() const { return m_plot; }

  signals:
    void maximizeToggled(h158::ui::Panel* panel);
    // Fork here… in a step plot's menu: the run whose curve was clicked (its directory; empty:
    // the live run) at the step under the cursor.
    void forkRequested(const QString& dir, double step);

  protected:
    // The title bar's layout, for the panel's own controls (added after the title).
    QHBoxLayout* header() const { return m_header; }
    // A second row under the title for panels with several controls (created on first use).
    QHBoxLayout* toolRow();
    // A grey caption after the title that gives way (elides) when the panel is narrow.
    QLabel* addInfoLabel();
    void setContent(QWidget* w);
    // `rect` plots steps on x: it draws the run's events and its menu offers Fork here….
    void showEventsOn(QCPAxisRect* rect);
    // Off while x is not the step (the loss panel's wall-time view).
    void setStepAxis(bool steps);
    // Creates the panel's plot (styled, zoom/pan, export menu) and makes it the content.
    QCustomPlot* createPlot(const QString& exportName);
    // Shows `text` instead of the view; an empty text shows the view again.
    void setNote(const QString& text);
    void markDirty() { m_dirty = true; }
    // Replaces the overlay curves in the plot's top axis rect: one dashed line per run, its
    // points taken from the run's rows by `series` (bold for the highlighted one); a seed group
    // as its mean (solid) over a filled min–max band of its members' series aligned by x, or,
    // when !bands (x values that do not align across runs), as its members' thin lines. The
    // overlays get legend entries only where `legend` (the loss panel names them; the smaller
    // panels show them in the same colours, without entries that would cover their curves).
    // Then redraws.
    using OverlaySeries = std::function<void(const std::vector<StepMetrics>& rows,
                                             QVector<double>& x, QVector<double>& y)>;
    void replaceOverlays(const std::vector<RunOverlay>& overlays, const OverlaySeries& series,
                         double width = 1.5, bool bands = true, bool legend = false);
    std::vector<QCPGraph*> m_overlayGraphs;  // the current overlay curves
    QElapsedTimer m_sinceDraw;                // time since the last redraw
    // Rescale to the data (called on a redraw while the view follows the data, and on reset).
    virtual void rescale() {}
    // Default: rescale while following, then replot now. The window's timer calls refresh()
    // and measures it, so it can spread the panels over its ticks within a time budget.
    virtual void redraw();
    void showEvent(QShowEvent* e) override;

  private:
    QLabel* m_title;
    QHBoxLayout* m_header;
    QHBoxLayout* m_toolRow = nullptr;
    QStackedWidget* m_stack;
    QLabel* m_note;
    QCustomPlot* m_plot = nullptr;
    PlotInteraction* m_interaction = nullptr;
    bool m_dirty = true;
    bool m_live = false;
    std::vector<QCPAxisRect*> m_eventRects;
    std::vector<QCPAbstractItem*> m_eventItems;
    std::vector<RunEvent> m_events;
    std::vector<std::pair<QCPGraph*, QString>> m_overlayDirs;  // overlay curve -> run directory
    bool m_stepAxis = true;
    void drawEvents();
};

}  // namespace h158::ui
