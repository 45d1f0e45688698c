// Panel 5: the learning rate actually applied (base × schedule × multiplier, log axis), and
// what the auxiliary NN predicts: its multiplier m_t and the trust radius r_t = w_t².
#pragma once

#include "ui/panel.h"

class QCPAxisRect;
class QCPGraph;
class QLabel;

namespace h158::ui {

class LrPanel : public Panel {
    Q_OBJECT
  public:
    explicit LrPanel(QWidget* parent = nullptr);

    void beginRun(const Config& cfg, const QColor& runColour) override;
    void appendRows(const std::vector<StepMetrics>& rows) override;
    void setOverlays(const std::vector<RunOverlay>& overlays) override;

  protected:
    void rescale() override;

  private:
    QLabel* m_info;
    QCPAxisRect* m_auxRect = nullptr;
    QCPGraph* m_lr = nullptr;
    QCPGraph* m_multiplier = nullptr;
    QCPGraph* m_radius = nullptr;
};

}  // namespace h158::ui
