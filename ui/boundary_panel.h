// Panel 7: the decision boundary of a 2-D classifier, as in the TensorFlow Playground: a heatmap
// of the model's output over the plane (QCPColorMap) with the data points on top.
#pragma once

#include "ui/panel.h"

class QCPColorMap;
class QCPGraph;
class QLabel;

namespace h158::ui {

class BoundaryPanel : public Panel {
    Q_OBJECT
  public:
    explicit BoundaryPanel(QWidget* parent = nullptr);

    bool appliesTo(const Config& cfg) const override;
    void beginRun(const Config& cfg, const QColor& runColour) override;
    void appendRows(const std::vector<StepMetrics>& rows) override;
    void applySnapshot(const Snapshot& s) override;
    bool hasMap() const { return m_hasMap; }

  protected:
    void rescale() override;

  private:
    QCPGraph* classGraph(int c);

    QLabel* m_info;
    QCPColorMap* m_map = nullptr;
    std::vector<QCPGraph*> m_classes;
    double m_x0 = -1, m_x1 = 1, m_y0 = -1, m_y1 = 1;
    double m_valAccuracy = kNoValue;
    int64_t m_step = 0;
    bool m_hasMap = false;
};

}  // namespace h158::ui
