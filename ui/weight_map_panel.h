// The weight map: one quantized tensor cell by cell, its latent weights as a diverging heat map
// and/or its codes in the three code colours, the cells whose code flipped in the last N steps
// marked by cause, and a tooltip that tells a cell's latent value, scale, code and how far it
// must move to flip. It draws the trainer's own WeightMap (trainer.h); nothing is re-quantized.
#pragma once

#include <memory>
#include <optional>

#include "core/train/trainer.h"
#include "ui/panel.h"
#include "ui/state_view.h"

class QCPAxisRect;
class QCPColorMap;
class QCPColorScale;
class QCPGraph;
class QCPLayoutGrid;
class QComboBox;
class QLabel;
class QSpinBox;

namespace h158::ui {

class WeightMapPanel : public Panel, public StateView {
    Q_OBJECT
  public:
    enum class Mode { Latent, Codes, SideBySide };

    explicit WeightMapPanel(QWidget* parent = nullptr);

    void beginRun(const Config& cfg, const QColor& runColour) override;
    // Fills the tensor chooser from a "weights" snapshot (the matrices, with their layout index).
    void applySnapshot(const Snapshot& s) override;
    // Draws `map` when it is of the chosen tensor (others are ignored).
    void applyWeightMap(const WeightMap& map) override;

    // The layout index of the chosen tensor, -1 when none.
    int tensorIndex() const;
    QStringList tensorNames() const;
    void selectTensor(const QString& name);
    Mode mode() const;
    void setMode(Mode m);
    // Cells whose code flipped at one of the last n steps are marked (0: no marks).
    int recentSteps() const;
    void setRecentSteps(int n);

    // One cell as the tooltip tells it, from the map's own latent weights, row scales and codes.
    struct CellInfo {
        int row = 0, col = 0;
        float latent = 0;
        bool quantized = false;
        float scale = 0;  // the row's scale: the value of code 1 (gamma for ternary)
        int code = 0;
        int limit = 0;  // largest |code| of the level set
        // The nearest rounding threshold (c ± 0.5)·scale, clipped at the outer levels: how far
        // the latent weight must move (distance, in weight units) and which way (+1 up, -1
        // down) for its code to become `target`.
        double distance = 0;
        int direction = 0;
        int target = 0;
        int32_t lastFlip = -1;  // step whose update last flipped it, -1 never
        FlipCause cause = FlipCause::None;
    };
    std::optional<CellInfo> cellInfo(int row, int col) const;
    QString cellToolTip(int row, int col) const;
    // The centre of cell (row, col) in the plot's pixels, on the codes map (`codes`) or the
    // latent one; (-1, -1) when that map is not shown.
    QPointF cellPixel(int row, int col, bool codes) const;
    // The cells (col = x, row = y) marked as flipped in the last N steps with this cause.
    QVector<QPoint> flipMarks(FlipCause cause) const;
    // The text of the last hover tooltip (also shown with QToolTip).
    QString hoverText() const { return m_hoverText; }
    const WeightMap* currentMap() const { return m_map.get(); }
    QSize sizeHint() const override { return {520, 380}; }  // room for two maps side by side
    // Another step than the live run's latest is shown (a caption): snapshots keep no cells, so
    // the panel says so (and keeps taking the live maps, drawn again when the caption goes).
    void setStepCaption(int64_t step, const QString& caption) override;
    bool fromSnapshots() const override { return false; }

  signals:
    // The panel wants weight maps of this layout tensor (-1: none, e.g. while it is hidden).
    void weightMapTensorRequested(int tensor);

  protected:
    void rescale() override;
    void resizeEvent(QResizeEvent* e) override;
    void showEvent(QShowEvent* e) override;
    void hideEvent(QHideEvent* e) override;

  private:
    struct TensorEntry {
        QString name;
        int index = -1;
        bool quantized = false;
    };
    void arrange();
    void fillMaps();
    void updateMarks();
    void sizeMarks();
    void describe();
    void request();
    void onHover(QMouseEvent* e);

    QComboBox* m_tensor;
    QComboBox* m_modeBox;
    QSpinBox* m_recent;
    QLabel* m_info;
    QCPLayoutGrid* m_grid = nullptr;  // the maps and the colour scale
    QCPAxisRect* m_latentRect = nullptr;
    QCPAxisRect* m_codeRect = nullptr;
    QCPColorMap* m_latentMap = nullptr;
    QCPColorMap* m_codeMap = nullptr;
    QCPColorScale* m_scale = nullptr;
    // Flip marks per map (0 latent, 1 codes): the weight moved / the scale moved.
    QCPGraph* m_markWeight[2] = {nullptr, nullptr};
    QCPGraph* m_markScale[2] = {nullptr, nullptr};
    // Legend entries (no data): codes −1, 0, +1, and the two marks at a readable size.
    QCPGraph* m_swatch[3] = {nullptr, nullptr, nullptr};
    QCPGraph* m_markLegend[2] = {nullptr, nullptr};
    std::vector<TensorEntry> m_tensors;
    std::shared_ptr<const WeightMap> m_map;
    int m_requested = -1;
    QString m_keepName;   // the tensor chosen in the previous run, chosen again when it exists
    int m_arranged = -1;  // what arrange() last laid out (maps shown, stacked)
    QString m_hoverText;
};

}  // namespace h158::ui
