// The main window's lesson hooks: the Lessons dock, opening a lesson, loading a page's
// configuration, and running until a condition holds (a lesson's run_until).
#include <QDockWidget>
#include <QMetaObject>
#include <algorithm>
#include <cmath>

#include "ui/config_panel.h"
#include "ui/lessons_dock.h"
#include "ui/main_window.h"
#include "ui/run_controller.h"

namespace h158::ui {


void MainWindow::buildLessonsDock() {
    m_lessons = new LessonsDock(this);
    auto* dock = new QDockWidget(tr("Lessons"), this);
    dock->setObjectName(QStringLiteral("lessons"));
    dock->setWidget(m_lessons);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                      QDockWidget::DockWidgetClosable);
    addDockWidget(Qt::RightDockWidgetArea, dock);
    dock->hide();  // until a lesson is opened (or View ▸ Lessons)
    connect(m_controller, &RunController::stateChanged, this,
            [this](int runId, RunState s, const QString&, qint64) { onUntilState(runId, s); });
}

bool MainWindow::openLesson(const QString& nameOrFile, int page, QString* error) {
    QString message;
    try {
        const Lesson lesson = findLesson(nameOrFile.toStdString());
        if (m_lessons->open(lesson, page, &message)) {
            auto* dock = findChild<QDockWidget*>(QStringLiteral("lessons"));
            const bool wasHidden = dock->isHidden();
            dock->show();
            dock->raise();
            if (wasHidden) resizeDocks({dock}, {std::clamp(width() / 5, 260, 340)}, Qt::Horizontal);
            return true;
        }
    } catch (const std::exception& e) {
        message = QString::fromStdString(e.what());
    }
    if (error)
        *error = message;
    else
        showBanner(tr("Cannot open the lesson: %1").arg(message), true);
    return false;
}

void MainWindow::loadLessonConfig(const QString& preset, const Config& cfg) {
    cancelRunUntil();
    if (m_liveRunId != 0 || isActive(m_controller->state())) resetRun();
    m_config->selectPreset(preset);
    m_config->setConfig(cfg);
}

int MainWindow::runUntil(const LessonCondition& cond) {
    cancelRunUntil();
    const int id = ++m_untilId;
    m_until = cond;
    m_untilActive = true;
    const RunState s = m_controller->state();
    if (isActive(s) && m_liveRows && !m_liveRows->empty() && cond.holds(m_liveRows->back())) {
        if (s == RunState::Running) m_controller->pause();
        finishUntil(true);
        return id;
    }
    // No run to go on with: a new one from the form, paused until the worker has the condition.
    if (!isActive(s) && !beginRun(true)) {
        finishUntil(false);
        return id;
    }
    // The worker checks every row and pauses right after the first that meets the condition
    // (a condition on step stops exactly there), whatever the machine's load or the speed.
    m_controller->runUntil(cond);
    return id;
}

void MainWindow::cancelRunUntil() {
    if (m_untilActive) m_controller->runUntil(std::nullopt);
    m_untilActive = false;
}

// The worker reports Paused after the rows of the step it paused at (both in order).
void MainWindow::onUntilState(int runId, RunState s) {
    if (!m_untilActive || runId != m_liveRunId) return;
    const bool holds = m_liveRows && !m_liveRows->empty() && m_until.holds(m_liveRows->back());
    if (isFinal(s))
        finishUntil(holds);
    else if (s == RunState::Paused && holds)
        finishUntil(true);
}

void MainWindow::finishUntil(bool reached) {
    m_untilActive = false;
    const int id = m_untilId;
    // Queued: the caller (a lesson's action list) goes on from the event loop, not from here.
    QMetaObject::invokeMethod(
        this, [this, id, reached] { emit runUntilDone(id, reached); }, Qt::QueuedConnection);
}

}  // namespace h158::ui
