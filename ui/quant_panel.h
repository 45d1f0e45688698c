// Panel 3: the weight quantization error ‖Q(W) − W‖/‖W‖ (and the update quantization error when
// updates are ternarized), and the fractions of −1 / 0 / +1 codes over time as stacked areas.
#pragma once

#include "ui/panel.h"

class QCPAxisRect;
class QCPGraph;
class QLabel;

namespace h158::ui {

class QuantPanel : public Panel {
    Q_OBJECT
  public:
    explicit QuantPanel(QWidget* parent = nullptr);

    void beginRun(const Config& cfg, const QColor& runColour) override;
    void appendRows(const std::vector<StepMetrics>& rows) override;
    void setOverlays(const std::vector<RunOverlay>& overlays) override;

  protected:
    void rescale() override;

  private:
    QLabel* m_info;
    QCPAxisRect* m_levelRect = nullptr;
    QCPGraph* m_error = nullptr;
    QCPGraph* m_updateError = nullptr;
    // Stacked: neg, neg + zero, neg + zero + pos, each filled down to the one below.
    QCPGraph* m_neg = nullptr;
    QCPGraph* m_zero = nullptr;
    QCPGraph* m_pos = nullptr;
};

}  // namespace h158::ui
