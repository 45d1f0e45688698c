// The Lessons dock: plays a lesson (core/train/lesson.h) in the window. It lists the built-in
// lessons, shows one page at a time (title, text, page counter, Back / Next), and opening a page
// loads its configuration, does its actions in order, frames the panels it names, and, when the
// page waits for the student, keeps Next disabled and says what to do until the wait is met.
#pragma once

#include <QPointer>
#include <QWidget>

#include "core/train/lesson.h"
#include "ui/run_state.h"

class QComboBox;
class QLabel;
class QPushButton;

namespace h158::ui {

class MainWindow;

// A coloured frame over a widget (a panel, dock or toolbar button) that a lesson page talks
// about: a child of the widget that follows its size, drawn on top, transparent to the mouse.
class HighlightFrame : public QWidget {
    Q_OBJECT
  public:
    explicit HighlightFrame(QWidget* target);

  protected:
    bool eventFilter(QObject* watched, QEvent* e) override;
    void paintEvent(QPaintEvent*) override;
};

class LessonsDock : public QWidget {
    Q_OBJECT
  public:
    explicit LessonsDock(MainWindow* window);

    // Opens `lesson` at `page` (1-based) after checking the panel and action ids it names
    // against the window's; false with the message (file, page, field) in *error.
    bool open(const Lesson& lesson, int page, QString* error = nullptr);
    const Lesson* lesson() const { return m_open ? &m_lesson : nullptr; }
    int page() const { return m_page; }  // 1-based, 0 when none is open
    // The wait of the open page is met (always true for a page that does not wait).
    bool waitMet() const { return m_waitMet; }
    // The page's actions are all done (a run_until reached or given up).
    bool actionsDone() const { return m_actionsDone; }
    QString hintText() const;
    // The widgets each highlighted id framed (for tests and screenshots).
    QList<QWidget*> highlightedWidgets() const;

    QPushButton* nextButton() const { return m_next; }
    QPushButton* backButton() const { return m_back; }
    QComboBox* lessonList() const { return m_list; }

    // The ids a lesson may name: the window's panels and docks, and its named actions.
    QStringList panelIds() const;
    QStringList actionIds() const;

  public slots:
    void next();
    void back();

  signals:
    // The page's actions are done (emitted once per page opened).
    void pageReady(int page);
    // The wait of the open page became met.
    void waitCompleted(int page);
    // Next was pressed on the last page.
    void lessonFinished();

  private:
    void showPage(int page, bool restoreConfig);
    void clearPage();
    void highlight(const std::vector<std::string>& ids);
    void doNextAction();
    void beginWait();
    void checkRows(const std::vector<StepMetrics>& rows);
    void setWaitMet();
    void updateControls();
    QWidget* targetOf(const QString& id) const;

    MainWindow* m_window;
    QComboBox* m_list;
    QLabel* m_lessonTitle;
    QLabel* m_pageTitle;
    QLabel* m_text;
    QLabel* m_todo;
    QLabel* m_counter;
    QPushButton* m_back;
    QPushButton* m_next;

    Lesson m_lesson;
    bool m_open = false;
    int m_page = 0;
    size_t m_nextAction = 0;
    bool m_actionsDone = true;
    bool m_waitMet = true;
    bool m_pressing = false;  // the page itself is pressing an action (not the student)
    int m_presses = 0;
    int m_awaitToken = 0;  // the sync token a pressed action waits for (0: none)
    int m_awaitUntil = 0;  // the run_until the page waits for (MainWindow::runUntil id, 0: none)
    Config m_configAtOpen;
    int m_generation = 0;  // bumped per page: stale callbacks of an earlier page do nothing
    QList<QPointer<HighlightFrame>> m_frames;
    QList<QMetaObject::Connection> m_pageConnections;
};

}  // namespace h158::ui
