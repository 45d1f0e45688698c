// Code flips over time: the fraction of the quantized weights whose code changed at each step
// (code_flips), split into the flips the weight's own move caused and those the scale's move
// caused (code_flips_scale), and each tensor's flip rate since the previous weights snapshot.
#pragma once

#include <QSharedPointer>

#include "ui/panel.h"

class QCheckBox;
class QCPAxisRect;
class QCPAxisTickerText;
class QCPBars;
class QCPGraph;
class QLabel;
class QMouseEvent;

namespace h158::ui {

class FlipsPanel : public Panel {
    Q_OBJECT
  public:
    explicit FlipsPanel(QWidget* parent = nullptr);

    bool appliesTo(const Config& cfg) const override;  // quantization on
    void beginRun(const Config& cfg, const QColor& runColour) override;
    void appendRows(const std::vector<StepMetrics>& rows) override;
    void applySnapshot(const Snapshot& s) override;
    void setOverlays(const std::vector<RunOverlay>& overlays) override;

    // A logarithmic rate axis (default); steps without flips are then left out of the curves.
    void setLogScale(bool log);
    bool logScale() const;
    QCPGraph* totalGraph() const { return m_total; }
    QCPGraph* weightGraph() const { return m_weight; }
    QCPGraph* scaleGraph() const { return m_scale; }
    // The per-tensor bars: names top to bottom, and each tensor's rate by cause.
    QStringList barNames() const { return m_barNames; }
    QCPBars* weightBars() const { return m_barWeight; }
    QCPBars* scaleBars() const { return m_barScale; }
    QSize sizeHint() const override { return {380, 300}; }

  protected:
    void rescale() override;
    void resizeEvent(QResizeEvent* e) override;

  private:
    void labelBars();
    void onHover(QMouseEvent* e);

    QCheckBox* m_log;
    QLabel* m_info;
    QCPAxisRect* m_barRect = nullptr;
    QCPGraph* m_total = nullptr;
    QCPGraph* m_weight = nullptr;
    QCPGraph* m_scale = nullptr;
    QCPBars* m_barWeight = nullptr;  // stacked: the scale's part on top of the weight's
    QCPBars* m_barScale = nullptr;
    QSharedPointer<QCPAxisTickerText> m_barTicker;
    QStringList m_barNames;
    QStringList m_barTips;  // hover text per bar
    int m_labelStride = 0;  // a label on every k-th bar
    std::vector<RunOverlay> m_overlays;
    int64_t m_lastStep = -1;
};

}  // namespace h158::ui
