// Panel 6: the histogram of one layer's latent (full-precision) weights, stacked by parameter
// cluster when the scales are per cluster, with the quantization levels (solid) and rounding
// thresholds (dashed) drawn over it. The core bins the weights; this panel only draws.
#pragma once

#include <nlohmann/json.hpp>

#include "ui/panel.h"
#include "ui/state_view.h"

class QCPBars;
class QCPItemStraightLine;
class QCPItemText;
class QComboBox;
class QLabel;

namespace h158::ui {

class WeightsPanel : public Panel, public StateView {
    Q_OBJECT
  public:
    explicit WeightsPanel(QWidget* parent = nullptr);

    void beginRun(const Config& cfg, const QColor& runColour) override;
    void applySnapshot(const Snapshot& s) override;
    QStringList tensorNames() const;
    void selectTensor(const QString& name);
    int64_t snapshotStep() const { return m_step; }
    void setStepCaption(int64_t step, const QString& caption) override;

  protected:
    void rescale() override;

  private:
    void showTensor();
    QCPItemStraightLine* line(size_t i);

    QComboBox* m_tensor;
    QLabel* m_info;
    std::vector<QCPBars*> m_bars;  // one per parameter cluster, stacked
    std::vector<QCPItemStraightLine*> m_lines;
    QCPItemText* m_scaleText = nullptr;
    nlohmann::json m_tensors = nlohmann::json::array();  // the latest snapshot's tensors
    int64_t m_step = 0;
    double m_lim = 1;
};

}  // namespace h158::ui
