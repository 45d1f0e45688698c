// The GPT's text samples, newest first, as they arrive during training (issue 4): step,
// sampling settings, the prompt in bold and the model's continuation.
#pragma once

#include "ui/panel.h"
#include "ui/state_view.h"

class QTextBrowser;

namespace h158::ui {

class SamplesPanel : public Panel, public StateView {
    Q_OBJECT
  public:
    static constexpr int kMaxSamples = 40;

    explicit SamplesPanel(QWidget* parent = nullptr);

    bool appliesTo(const Config& cfg) const override { return cfg.model.kind == "gpt"; }
    void beginRun(const Config& cfg, const QColor& runColour) override;
    void applySnapshot(const Snapshot& s) override;
    int sampleCount() const { return int(m_samples.size()); }

  protected:
    void redraw() override;

  private:
    QTextBrowser* m_text;
    QStringList m_samples;  // HTML, newest first
};

}  // namespace h158::ui
