// The precision panel: which level set each quantized tensor uses over the steps (a strip per
// tensor, one segment per allocation from the trainer's "precision" snapshots), and beside it, on
// the same rows, the sensitivity the allocation used: the validation-loss rise when that tensor
// alone goes to ternary / five-level / int8 (the latest snapshot's `rises`, or a past run's
// sensitivity table). Colours are the level sets' in both views; the core measures, this draws.
#pragma once

#include <QSharedPointer>
#include <array>
#include <optional>
#include <vector>

#include "core/quant/weight_quantizer.h"
#include "ui/panel.h"
#include "ui/state_view.h"

class QCPAxisRect;
class QCPBars;
class QCPItemStraightLine;
class QCPLayoutGrid;
class QLabel;

namespace h158 {
struct SensitivityTable;
}

namespace h158::ui {

class PrecisionStrip;
class PrecisionRowTicker;

class PrecisionPanel : public Panel, public StateView {
    Q_OBJECT
  public:
    explicit PrecisionPanel(QWidget* parent = nullptr);

    bool appliesTo(const Config& cfg) const override;
    void beginRun(const Config& cfg, const QColor& runColour) override;
    void appendRows(const std::vector<StepMetrics>& rows) override;
    void applySnapshot(const Snapshot& s) override;
    // A measured table (a past run's DIR/sensitivity.json): its rises (alone minus the tensor's
    // fp32 loss, sensitivity.h) become the bars; when no precision snapshot came, its levels
    // become the strip (one segment at its step).
    void showSensitivity(const SensitivityTable& t);

    // The level-set colour used by the strip, the bars and the legend (Okabe–Ito, colour-blind
    // safe): fp32 blue, int8 sky blue, five-level orange, ternary vermillion.
    static QColor levelColour(QuantLevels l);
    // "blocks.0.qkv.weight" -> "b0.qkv", "blocks.1.attn.proj.weight" -> "b1.proj",
    // "dense0.weight" -> "dense0".
    static QString shortTensorName(const std::string& name);

    // What the views hold (for tests and the lead's wiring).
    int rowCount() const;
    QStringList rowNames() const;
    int segmentCount() const;
    // The level tensor `row` used at `step` (the allocation in force then); none before the
    // first allocation or outside the rows.
    std::optional<QuantLevels> levelAt(int row, int64_t step) const;
    // The bars' values for level set l (ternary, five_level or int8), one per row in row order;
    // empty when no sensitivity is shown.
    QVector<double> barValues(QuantLevels l) const;
    bool showsSensitivity() const { return m_hasRises; }
    QString infoText() const;
    QString sensitivityNote() const;  // empty while the bars are shown

  protected:
    void rescale() override;

  private:
    void setRows(const QStringList& names);
    void setRises(const std::vector<std::array<double, 3>>& rises);
    void clearRises();
    void showBars(bool on);
    void updateInfo();
    void afterLayout();

    QLabel* m_info;
    QLabel* m_note;
    QCPLayoutGrid* m_views = nullptr;  // the strip's rect and the bars' rect, side by side
    QCPAxisRect* m_stripRect = nullptr;
    QCPAxisRect* m_barRect = nullptr;
    PrecisionStrip* m_strip = nullptr;
    QSharedPointer<PrecisionRowTicker> m_rowTicker;
    QCPItemStraightLine* m_zeroLine = nullptr;  // the bars' zero
    std::array<QCPBars*, 4> m_keys{};  // the legend's entries: fp32, int8, five_level, ternary
    bool m_compactLegend = false;
    std::array<QCPBars*, 3> m_bars{};  // per kSensitivityLevels: ternary, five_level, int8
    bool m_hasRises = false;
    bool m_adaptive = false;
    double m_meanBits = kNoValue;
    double m_budget = kNoValue;
    QString m_uniformLevel;  // the configured level set when not adaptive
};

}  // namespace h158::ui
