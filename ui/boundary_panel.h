// Panel 7: the decision boundary of a 2-D classifier, as in the TensorFlow Playground: a heatmap
// of the model's output over the plane (QCPColorMap) with the data points on top.
#pragma once

#include "ui/panel.h"
#include "ui/state_view.h"

class QCheckBox;
class QCPColorGradient;
class QCPColorMap;
class QCPCurve;
class QCPGraph;
class QLabel;

namespace h158::ui {

// The boundary's colour scale (class 0's tint, white at 0.5, class 1's tint), shared with the
// network view's unit maps so a unit reads the same in both places.
QCPColorGradient boundaryGradient();

// A map over the input plane shown in place of the model's output: nx x ny cells (row-major, y
// outer) sampled at their centres over [x0, x1] x [y0, y1], each a position 0..1 on the
// boundary's colour scale.
struct PlaneMap {
    double x0 = -1, x1 = 1, y0 = -1, y1 = 1;
    int nx = 0, ny = 0;
    std::vector<double> values;
};

class BoundaryPanel : public Panel, public StateView {
    Q_OBJECT
  public:
    explicit BoundaryPanel(QWidget* parent = nullptr);

    bool appliesTo(const Config& cfg) const override;
    void beginRun(const Config& cfg, const QColor& runColour) override;
    void appendRows(const std::vector<StepMetrics>& rows) override;
    void applySnapshot(const Snapshot& s) override;
    bool hasMap() const { return m_hasMap; }
    // The step of the boundary snapshot shown, and its map (the model's output).
    int64_t step() const { return m_step; }
    QCPColorMap* outputMap() const { return m_map; }
    void setStepCaption(int64_t step, const QString& caption) override;

    // Shows `map` (e.g. one unit of the network, while the pointer is over it) instead of the
    // model's output, named in the caption, until clearNeuronMap().
    void showNeuronMap(const QString& name, const h158::ui::PlaneMap& map);
    void clearNeuronMap();
    QString neuronName() const { return m_neuronName; }  // empty when the model's output shows
    QCPColorMap* neuronMap() const { return m_neuron; }
    // The full-precision ghost: the boundary (level 0.5, or between classes) of the same network
    // with its latent weights (the snapshot's p_latent), a dashed line; the "fp32 ghost" box
    // switches it. Enabled only when the run quantizes.
    QCheckBox* ghostBox() const { return m_ghostBox; }
    QCPCurve* ghostCurve() const { return m_ghost; }

  protected:
    void rescale() override;
    void resizeEvent(QResizeEvent* e) override;

  private:
    QCPGraph* classGraph(int c);
    void updateGhost();
    void updateCaption();
    void fitHeader();  // the ghost box's label gives way before the title does

    QLabel* m_info;
    QCPColorMap* m_map = nullptr;
    QCPColorMap* m_neuron = nullptr;  // a unit's map, while one is shown
    QCPCurve* m_ghost = nullptr;
    QCheckBox* m_ghostBox = nullptr;
    QString m_neuronName;
    PlaneMap m_latent;  // the last p_latent (values empty when the run does not quantize)
    int m_classCount = 2;
    std::vector<QCPGraph*> m_classes;
    double m_x0 = -1, m_x1 = 1, m_y0 = -1, m_y1 = 1;
    double m_valAccuracy = kNoValue;
    int64_t m_step = 0;
    bool m_hasMap = false;
};

}  // namespace h158::ui
