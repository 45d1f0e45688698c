// One training step in stages (Step into): the eight stages of the trainer's step as a list, the
// stage just taken with its sentence of explanation and its figures per tensor (the proposed step
// against the trust region's limit, the flips by cause...), all read from the trainer's
// StageReport. Play runs the stages on a timer (slow motion); the panel names the views each
// stage changes, and asks the window to mark them.
#pragma once

#include <QTimer>

#include "ui/panel.h"

class QComboBox;
class QLabel;
class QListWidget;
class QPushButton;
class QTableWidget;

namespace h158::ui {

class StagesPanel : public Panel {
    Q_OBJECT
  public:
    explicit StagesPanel(QWidget* parent = nullptr);

    void beginRun(const Config& cfg, const QColor& runColour) override;
    void applyStage(const StageReport& r) override;

    // The panel ids a stage's figures show up in (the loss curve for the forward pass, ...).
    static QStringList panelsOf(StepStage s);
    // What the panel shows now, for tests: the last report's stage (-1: none) and its table.
    int shownStage() const { return m_shown; }
    const QTableWidget* table() const { return m_table; }
    QString explanation() const;
    bool playing() const { return m_play.isActive(); }
    void setPlaying(bool on);
    // Milliseconds between two stages while playing.
    int playInterval() const { return m_play.interval(); }

  signals:
    // Take the next stage (the window runs Step into).
    void stageRequested();
    // The views the stage just taken changed (ids as in lessons and presenter mode).
    void panelsTouched(const QStringList& ids);

  protected:
    void redraw() override;
    bool eventFilter(QObject* watched, QEvent* e) override;

  private:
    void fillTable(const StageReport& r);
    void fitList();

    QListWidget* m_list;
    QLabel* m_title;
    QLabel* m_text;
    QTableWidget* m_table;
    QPushButton* m_playButton;
    QComboBox* m_pace;
    QTimer m_play;
    int m_shown = -1;
    int64_t m_step = 0;
};

}  // namespace h158::ui
