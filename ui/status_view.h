// The status bar's run read-out: state (with a coloured dot), step of total, steps/s over the
// last two seconds (the run's mean once it has ended), ETA and a progress bar.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <deque>

#include "core/train/metrics.h"
#include "ui/run_state.h"

class QLabel;
class QProgressBar;
class QStatusBar;

namespace h158::ui {

class StatusView : public QObject {
    Q_OBJECT
  public:
    explicit StatusView(QStatusBar* bar);

    // `rows` are the live run's rows (null without one); called on every redraw tick.
    void update(RunState s, int64_t done, int64_t total, const std::vector<StepMetrics>* rows);
    // Forget the rate window (a new run, a pause).
    void restartRate();
    QString text() const;

  private:
    QLabel* m_state;
    QLabel* m_step;
    QLabel* m_rate;
    QLabel* m_eta;
    QProgressBar* m_progress;
    QElapsedTimer m_clock;
    std::deque<std::pair<qint64, int64_t>> m_window;  // (ms, steps) over the last 2 s
    double m_stepsPerSecond = 0;
};

}  // namespace h158::ui
