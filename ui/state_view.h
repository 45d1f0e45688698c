// A panel that shows a run's state at one step (its snapshots: the decision boundary, clusters,
// weights, weight map, precision, samples, network) rather than curves over the steps. The rewind
// bar shows any step of a run in these panels, and each names the step it shows in a badge in
// its title bar.
#pragma once

#include <QString>
#include <cstdint>

class QHBoxLayout;
class QLabel;
class QWidget;

namespace h158::ui {

class StateView {
  public:
    // Names the step shown: "step 300" in an amber badge in the title bar, `caption` ("step 300
    // of 1500 (rewound)") in its tooltip; step -1 with a caption: no snapshot at that step yet.
    // An empty caption hides the badge: the panel follows the live run.
    virtual void setStepCaption(int64_t step, const QString& caption);
    QString stepCaption() const { return m_caption; }
    QString stepBadge() const;  // the badge's text, empty while hidden
    int stepBadgeWidth() const;  // the room it takes in the title bar (0 while hidden)
    // Whether the window can draw it again from a run's snapshots (beginRun, the rows up to the
    // step, the snapshots at it). The weight map cannot: its cells come from the live trainer
    // only, and it says so while another step is shown.
    virtual bool fromSnapshots() const { return true; }

  protected:
    ~StateView() = default;
    // Puts the badge into the panel's title bar, after the title (call once, from the panel);
    // `yields` (e.g. a caption that would not fit beside it) is hidden while the badge shows.
    void addStepBadge(QHBoxLayout* header, QWidget* yields = nullptr);

  private:
    QLabel* m_badge = nullptr;
    QWidget* m_yields = nullptr;
    QString m_caption;
};

}  // namespace h158::ui
