// The rewind bar under the plots: a slider over the steps of the run whose state the panels show
// (the live run, or with none the run selected in the runs table), a line that says which step
// they show, and Live, which returns to following the live run. Moving the slider only tells
// the window which step to show (stepChosen); the window draws it from the snapshots it keeps.
#pragma once

#include <QWidget>
#include <cstdint>

class QLabel;
class QSlider;
class QToolButton;

namespace h158::ui {

class RewindBar : public QWidget {
    Q_OBJECT
  public:
    explicit RewindBar(QWidget* parent = nullptr);

    // The run scrubbed: steps 0..lastStep (what it has reached so far), snapshots every `every`
    // steps (the slider's step), and whether it is live (Live can follow it). enabled false: no
    // run to scrub (the slider is off and the line says why).
    void setRun(int64_t lastStep, int64_t every, bool live, bool enabled);
    // Following: the slider sits at the newest step and moves with it; Live is down.
    void setFollowing(bool on);
    bool following() const { return m_following; }
    // Moves the slider to `step` without telling the window (stepChosen is for the user's moves).
    void setStep(int64_t step);
    int64_t step() const;
    void setText(const QString& text);  // what the panels show, beside the slider
    QString text() const;

    QSlider* slider() const { return m_slider; }
    QToolButton* liveButton() const { return m_live; }

  signals:
    // The user moved the slider to `step` (dragging, keys, clicks on the groove).
    void stepChosen(qint64 step);
    void liveRequested();

  private:
    QSlider* m_slider;
    QLabel* m_text;
    QToolButton* m_live;
    bool m_following = false;
    bool m_setting = false;  // the window moves the slider: not the user's choice
};

}  // namespace h158::ui
