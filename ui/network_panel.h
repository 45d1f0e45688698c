// The MLP as a network diagram, as in the TensorFlow Playground but for low-bit weights: the two
// inputs, then every unit drawn as its output over the input plane, edges coloured by their code
// (-1 / 0 / +1; grey where a layer stays fp32) and as wide as their latent weight. Hovering a unit
// shows its map large, here and in the decision-boundary panel. Everything drawn comes from the
// trainer's "network" snapshot (trainer.h).
#pragma once

#include <QImage>
#include <QRectF>
#include <QWidget>

#include "ui/boundary_panel.h"
#include "ui/panel.h"
#include "ui/state_view.h"

class QLabel;

namespace h158::ui {

class NetworkPanel : public Panel, public StateView {
    Q_OBJECT
  public:
    explicit NetworkPanel(QWidget* parent = nullptr);

    bool appliesTo(const Config& cfg) const override;
    void beginRun(const Config& cfg, const QColor& runColour) override;
    void applySnapshot(const Snapshot& s) override;

    // A layer with more edges than this draws only its strongest (largest |latent|), and says so.
    static constexpr int kMaxEdgesPerLayer = 150;
    // One edge as drawn: from unit `from` of column `layer` (0 = the inputs) to unit `to` of the
    // next column; code is the quantizer's (0 where the layer is fp32).
    struct Edge {
        int layer = 0, from = 0, to = 0;
        int code = 0;
        bool quantized = false;
        float latent = 0;
        double strength = 0;  // |latent| / the layer's largest |latent|: the line's width
    };
    // Where a layer has many edges only its strongest are drawn (one unit's are all drawn while
    // the pointer is over it).
    static QColor edgeColour(const Edge& e);

    std::vector<int> layerSizes() const { return m_widths; }  // input first; empty before data
    const std::vector<Edge>& drawnEdges() const { return m_edges; }
    int totalEdges() const { return m_totalEdges; }
    QString edgeCaption() const;
    // A node's square in view() coordinates (column 0 = the inputs).
    QRectF nodeRect(int column, int unit) const;
    QWidget* view() const { return m_view; }
    // A node's name ("hidden layer 1, unit 5", "output: class 1") and its map on the boundary's
    // colour scale.
    QString unitName(int column, int unit) const;
    QString columnName(int column) const;  // "inputs", "hidden 1", "output"
    PlaneMap unitMap(int column, int unit) const;
    // The node under the pointer (column -1 when none).
    std::pair<int, int> hovered() const { return m_hover; }
    int64_t snapshotStep() const { return m_step; }

  signals:
    void neuronHovered(const QString& name, const h158::ui::PlaneMap& map);
    void neuronLeft();

  protected:
    void redraw() override;

  private:
    friend class NetworkView;
    struct Node {
        PlaneMap map;  // positions 0..1 on the boundary's colour scale
        QImage image;  // the map, y up
    };
    void layoutNodes();
    void setHover(int column, int unit);
    void paint(QPainter& p);
    void paintEdges(QPainter& p);
    void paintFocus(QPainter& p);

    QWidget* m_view;
    QLabel* m_info;
    std::vector<int> m_widths;
    std::vector<std::vector<Node>> m_nodes;          // [column][unit]
    std::vector<QString> m_levelSets;                // per weight layer: "ternary", "none", ...
    std::vector<std::vector<Edge>> m_allEdges;       // per weight layer, every edge
    std::vector<Edge> m_edges;                       // the drawn ones
    std::vector<std::vector<QRectF>> m_rects;        // [column][unit], view coordinates
    QRectF m_focus;                                  // the enlarged map, when there is room
    int m_totalEdges = 0;
    std::pair<int, int> m_hover{-1, -1};
    int64_t m_step = 0;
};

}  // namespace h158::ui
