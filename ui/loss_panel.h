// Panel 1: training loss (raw, faint, and smoothed with TensorBoard's debiased EMA) and the
// validation loss, against step or wall time, linear or log; overlaid runs as smoothed curves.
#pragma once

#include <QVector>

#include "ui/panel.h"
#include "ui/smoothing.h"

class QCPGraph;
class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;

namespace h158::ui {

class LossPanel : public Panel {
    Q_OBJECT
  public:
    explicit LossPanel(QWidget* parent = nullptr);

    void beginRun(const Config& cfg, const QColor& runColour) override;
    void appendRows(const std::vector<StepMetrics>& rows) override;
    void setOverlays(const std::vector<RunOverlay>& overlays) override;

    // Controls, also for tests and the benchmark.
    void setSmoothing(double weight);
    double smoothing() const { return m_ema.weight(); }
    void setLogScale(bool on);
    void setWallTimeAxis(bool on);
    int pointCount() const;

  protected:
    void rescale() override;

  private:
    void rebuildFromHistory();
    void rebuildOverlays();
    struct Point {
        double step, seconds, loss, val;
    };
    double xOf(const Point& p) const { return m_wallTime ? p.seconds : p.step; }
    void addPoint(const Point& p);

    QSlider* m_slider;
    QLabel* m_sliderLabel;
    QCheckBox* m_log;
    QComboBox* m_xAxis;
    QCPGraph* m_raw = nullptr;
    QCPGraph* m_smooth = nullptr;
    QCPGraph* m_val = nullptr;
    std::vector<RunOverlay> m_overlays;
    DebiasedEma m_ema{0.6};
    bool m_wallTime = false;
    // The live run's history, to rebuild the curves on a smoothing or axis change.
    std::vector<Point> m_points;
};

}  // namespace h158::ui
