// Panel 2: how often the trust region shortens the step (rolling rate, one mark per constrained
// step and, per tensor, the share of the parameters held) and the trust radius r_t against the
// step: the applied ‖Δ‖₂ (trust.mode=global) or the largest relative step ‖Δᵢ‖/‖Θᵢ‖ that the
// optimizer proposed (tensor: the region binds where it exceeds r_t).
#pragma once

#include <deque>
#include <vector>

#include "ui/panel.h"

class QCPAxisRect;
class QCPGraph;
class QCheckBox;
class QLabel;
class QMouseEvent;

namespace h158::ui {

class ConstraintPanel : public Panel {
    Q_OBJECT
  public:
    static constexpr int kWindow = 50;  // steps in the rolling activation rate

    explicit ConstraintPanel(QWidget* parent = nullptr);

    void beginRun(const Config& cfg, const QColor& runColour) override;
    void appendRows(const std::vector<StepMetrics>& rows) override;
    void setOverlays(const std::vector<RunOverlay>& overlays) override;
    double overallRate() const { return m_steps ? double(m_constrained) / m_steps : 0.0; }
    // A legend entry's full text (its tooltip, with what it shows), whatever the legend shows.
    QString legendTip(const QCPGraph* graph) const;

  protected:
    void rescale() override;

  private:
    // Each legend entry's text: the full one, a brief one for a narrow panel, and the tooltip.
    struct LegendText {
        QCPGraph* graph;
        QString full, brief, tip;
    };
    void setLogNorms(bool on);
    // Before each replot: the full texts when the legend row fits the plot's width, else the
    // brief ones, else the brief ones elided to their column (the tooltip has them whole).
    void fitLegend();
    void onHover(QMouseEvent* e);
    LegendText& legendText(const QCPGraph* graph);

    QLabel* m_rateLabel;
    QCheckBox* m_log;
    QCPAxisRect* m_normRect = nullptr;
    QCPGraph* m_rate = nullptr;
    QCPGraph* m_marks = nullptr;
    QCPGraph* m_fraction = nullptr;  // tensor mode: share of the matrices' parameters held
    QCPGraph* m_radius = nullptr;
    QCPGraph* m_norm = nullptr;      // global: ‖Δ‖ applied; tensor: largest ‖Δᵢ‖/‖Θᵢ‖ proposed
    std::vector<LegendText> m_legendTexts;
    std::deque<int> m_window;
    int m_windowSum = 0;
    int64_t m_steps = 0;
    int64_t m_constrained = 0;
    bool m_trustOn = true;
    bool m_perTensor = true;
};

}  // namespace h158::ui
