// The Lessons dock: a lesson's pages one at a time, their actions, highlights and waits.
#include "ui/lessons_dock.h"

#include <QAbstractButton>
#include <QAction>
#include <QComboBox>
#include <QDockWidget>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

#include "core/base/errors.h"
#include "ui/config_panel.h"
#include "ui/main_window.h"
#include "ui/panel.h"
#include "ui/run_controller.h"
#include "ui/theme.h"

namespace h158::ui {

namespace {

std::vector<std::string> toStd(const QStringList& list) {
    std::vector<std::string> out;
    for (const QString& s : list) out.push_back(s.toStdString());
    return out;
}

// What a lesson presses: a named action of the window (run, step...) or a named button of a
// panel (kmeansAssign...).
QAction* actionNamed(const QWidget* window, const QString& id) {
    for (QAction* a : window->findChildren<QAction*>(id))
        if (a->objectName() == id) return a;
    return nullptr;
}
QAbstractButton* buttonNamed(const QWidget* window, const QString& id) {
    for (QAbstractButton* b : window->findChildren<QAbstractButton*>(id))
        if (b->objectName() == id) return b;
    return nullptr;
}

// The box under the page text: what to do (waiting), or that it is done.
const char* const kTodoStyle =
    "QLabel { background:#fff4dc; border:1px solid %1; border-radius:4px; padding:6px; }";
const char* const kDoneStyle =
    "QLabel { background:#e3f4ee; border:1px solid %1; border-radius:4px; padding:6px; }";

}  // namespace

// ---- HighlightFrame -----------------------------------------------------------------------

HighlightFrame::HighlightFrame(QWidget* target) : QWidget(target) {
    setObjectName(QStringLiteral("lessonHighlight"));
    setAttribute(Qt::WA_TransparentForMouseEvents);
    setAttribute(Qt::WA_NoSystemBackground);
    setFocusPolicy(Qt::NoFocus);
    target->installEventFilter(this);
    setGeometry(target->rect());
    raise();
    show();
}

bool HighlightFrame::eventFilter(QObject* watched, QEvent* e) {
    if (watched == parent()) {
        if (e->type() == QEvent::Resize) setGeometry(parentWidget()->rect());
        if (e->type() == QEvent::ChildAdded) raise();  // stay above what the panel adds later
    }
    return false;
}

void HighlightFrame::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    QPen pen(colours::lessonHighlight, 4);
    p.setPen(pen);
    p.setBrush(Qt::NoBrush);
    p.drawRoundedRect(QRectF(rect()).adjusted(2, 2, -2, -2), 4, 4);
}

// ---- LessonsDock --------------------------------------------------------------------------

LessonsDock::LessonsDock(MainWindow* window) : m_window(window) {
    setObjectName(QStringLiteral("lessonsView"));
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(8, 8, 8, 8);
    v->setSpacing(8);

    m_list = new QComboBox;
    m_list->setObjectName(QStringLiteral("lessonList"));
    m_list->setToolTip(tr("The built-in lessons (File ▸ Open lesson… loads one from a file)"));
    m_list->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_list->setMinimumContentsLength(16);
    int n = 0;
    for (const LessonInfo& l : h158::lessonList())
        m_list->addItem(tr("%1. %2").arg(++n).arg(QString::fromStdString(l.title)),
                        QString::fromStdString(l.name));
    m_list->setCurrentIndex(-1);
    m_list->setPlaceholderText(tr("Choose a lesson…"));
    // A built-in lesson by name, or a file's by its path: (re)opened at its first page.
    connect(m_list, &QComboBox::activated, this,
            [this](int i) { m_window->openLesson(m_list->itemData(i).toString(), 1); });
    v->addWidget(m_list);

    m_lessonTitle = new QLabel;
    m_lessonTitle->setWordWrap(true);
    m_lessonTitle->setStyleSheet(QStringLiteral("color:#555;"));
    v->addWidget(m_lessonTitle);

    m_pageTitle = new QLabel;
    m_pageTitle->setObjectName(QStringLiteral("lessonPageTitle"));
    m_pageTitle->setWordWrap(true);
    QFont f = m_pageTitle->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.2);
    m_pageTitle->setFont(f);
    v->addWidget(m_pageTitle);

    m_text = new QLabel;
    m_text->setObjectName(QStringLiteral("lessonText"));
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::PlainText);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_text->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    QFont tf = m_text->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.08);
    m_text->setFont(tf);
    v->addWidget(m_text);

    m_todo = new QLabel;
    m_todo->setObjectName(QStringLiteral("lessonTodo"));
    m_todo->setWordWrap(true);
    m_todo->hide();
    v->addWidget(m_todo);
    v->addStretch(1);

    auto* nav = new QHBoxLayout;
    m_back = new QPushButton(tr("‹ Back"));
    m_back->setObjectName(QStringLiteral("lessonBack"));
    m_next = new QPushButton(tr("Next ›"));
    m_next->setObjectName(QStringLiteral("lessonNext"));
    m_next->setDefault(true);
    m_counter = new QLabel;
    m_counter->setAlignment(Qt::AlignCenter);
    nav->addWidget(m_back);
    nav->addWidget(m_counter, 1);
    nav->addWidget(m_next);
    v->addLayout(nav);
    connect(m_back, &QPushButton::clicked, this, &LessonsDock::back);
    connect(m_next, &QPushButton::clicked, this, &LessonsDock::next);

    // The two asynchronous actions report back here: a press is done once the worker has
    // handled it (sync token), a run_until once the window says so.
    connect(m_window->controller(), &RunController::synced, this, [this](int token) {
        if (token != m_awaitToken) return;
        m_awaitToken = 0;
        doNextAction();
    });
    connect(m_window, &MainWindow::runUntilDone, this, [this](int id, bool) {
        if (id != m_awaitUntil) return;
        m_awaitUntil = 0;
        doNextAction();
    });
    updateControls();
}

QStringList LessonsDock::panelIds() const {
    QStringList ids;
    for (Panel* p : m_window->panels())
        if (!p->objectName().isEmpty()) ids << p->objectName();
    for (QDockWidget* d : m_window->findChildren<QDockWidget*>())
        if (!d->objectName().isEmpty()) ids << d->objectName();
    ids.removeDuplicates();
    return ids;
}

QStringList LessonsDock::actionIds() const {
    QStringList ids;
    for (QAction* a : m_window->findChildren<QAction*>())
        if (!a->objectName().isEmpty() && !a->objectName().startsWith(QLatin1String("qt_")))
            ids << a->objectName();
    for (QAbstractButton* b : m_window->findChildren<QAbstractButton*>())
        if (!b->objectName().isEmpty() && !b->objectName().startsWith(QLatin1String("qt_")))
            ids << b->objectName();
    ids.removeDuplicates();
    return ids;
}

bool LessonsDock::open(const Lesson& lesson, int page, QString* error) {
    try {
        checkLessonIds(lesson, toStd(panelIds()), toStd(actionIds()));
        if (page < 1 || page > int(lesson.pages.size()))
            throw ConfigError(lesson.source + ": page " + std::to_string(page) +
                              ": no such page (the lesson has " +
                              std::to_string(lesson.pages.size()) + ")");
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    clearPage();
    m_lesson = lesson;
    m_open = true;
    const QString name = QString::fromStdString(lesson.name);
    int index = m_list->findData(name);
    if (index < 0 || lesson.source.rfind("built-in", 0) != 0) {
        // A lesson from a file: listed after the built-in ones, by its title.
        index = m_list->findData(QString::fromStdString(lesson.source));
        if (index < 0) {
            m_list->addItem(QString::fromStdString(lesson.title),
                            QString::fromStdString(lesson.source));
            index = m_list->count() - 1;
        }
    }
    m_list->setCurrentIndex(index);
    m_lessonTitle->setText(QString::fromStdString(lesson.summary));
    showPage(page, true);
    return true;
}

void LessonsDock::clearPage() {
    ++m_generation;
    for (const auto& c : m_pageConnections) disconnect(c);
    m_pageConnections.clear();
    for (const auto& f : m_frames)
        if (f) delete f.data();
    m_frames.clear();
    m_awaitToken = 0;
    m_awaitUntil = 0;
    m_window->cancelRunUntil();
}

void LessonsDock::showPage(int k, bool restoreConfig) {
    clearPage();
    m_page = k;
    const LessonPage& p = m_lesson.pages[size_t(k - 1)];
    m_pageTitle->setText(QString::fromStdString(p.title));
    m_text->setText(QString::fromStdString(p.text));

    // A page without a configuration keeps the window as the pages before left it; opened
    // directly (--page K) it takes the configuration of the nearest page before it that has one.
    bool loaded = false;
    for (int j = k; j >= 1 && (j == k || restoreConfig); --j) {
        const LessonPage& q = m_lesson.pages[size_t(j - 1)];
        if (!q.hasConfig) continue;
        m_window->loadLessonConfig(QString::fromStdString(q.preset), q.config);
        loaded = true;
        break;
    }
    m_configAtOpen = m_window->configPanel()->config();
    highlight(p.highlight);
    beginWait();
    m_nextAction = 0;
    m_actionsDone = false;
    if (loaded) {
        // The run was reset: let the worker settle first, so that "run" starts a new one.
        m_awaitToken = m_window->controller()->sync();
    } else {
        const int gen = m_generation;
        QTimer::singleShot(0, this, [this, gen] {
            if (gen == m_generation) doNextAction();
        });
    }
    updateControls();
}

void LessonsDock::highlight(const std::vector<std::string>& ids) {
    const LessonPage& p = m_lesson.pages[size_t(m_page - 1)];
    const bool shows = std::any_of(p.actions.begin(), p.actions.end(), [](const LessonAction& a) {
        return a.kind == LessonAction::Kind::Show;
    });
    bool pageChosen = shows;
    for (const std::string& id : ids) {
        QWidget* w = targetOf(QString::fromStdString(id));
        if (!w) continue;
        m_frames << new HighlightFrame(w);
        // The first panel named picks the centre's page (unless the page shows one itself).
        if (auto* panel = qobject_cast<Panel*>(w); panel && !pageChosen) {
            m_window->showPage(m_window->mechanismPanels().contains(panel)
                                   ? MainWindow::MechanismPage
                                   : MainWindow::TrainingPage);
            pageChosen = true;
        }
    }
}

QWidget* LessonsDock::targetOf(const QString& id) const {
    for (Panel* p : m_window->panels())
        if (p->objectName() == id) return p;
    for (QDockWidget* d : m_window->findChildren<QDockWidget*>())
        if (d->objectName() == id) return d;
    if (QAction* a = actionNamed(m_window, id))
        for (QToolBar* tb : m_window->findChildren<QToolBar*>())
            if (QWidget* b = tb->widgetForAction(a)) return b;
    return buttonNamed(m_window, id);
}

QList<QWidget*> LessonsDock::highlightedWidgets() const {
    QList<QWidget*> out;
    for (const auto& f : m_frames)
        if (f) out << f->parentWidget();
    return out;
}

void LessonsDock::doNextAction() {
    if (!m_open) return;
    const LessonPage& p = m_lesson.pages[size_t(m_page - 1)];
    if (m_nextAction >= p.actions.size()) {
        m_actionsDone = true;
        updateControls();
        emit pageReady(m_page);
        return;
    }
    const LessonAction& a = p.actions[m_nextAction++];
    switch (a.kind) {
        case LessonAction::Kind::Press:
            m_pressing = true;
            if (QAction* act = actionNamed(m_window, QString::fromStdString(a.id)))
                act->trigger();  // a disabled action ignores it, as it ignores a click
            else if (QAbstractButton* b = buttonNamed(m_window, QString::fromStdString(a.id));
                     b && b->isEnabled())
                b->click();
            m_pressing = false;
            m_awaitToken = m_window->controller()->sync();
            break;
        case LessonAction::Kind::Show:
            m_window->showPage(a.id == "mechanism" ? MainWindow::MechanismPage
                                                   : MainWindow::TrainingPage);
            doNextAction();
            break;
        case LessonAction::Kind::RunUntil:
            m_awaitUntil = m_window->runUntil(a.until);
            break;
    }
}

void LessonsDock::beginWait() {
    const LessonWait& w = m_lesson.pages[size_t(m_page - 1)].wait;
    m_waitMet = w.kind == LessonWait::Kind::None;
    m_presses = 0;
    switch (w.kind) {
        case LessonWait::Kind::None:
            break;
        case LessonWait::Kind::Action: {
            const auto pressed = [this, count = w.count] {
                if (m_pressing) return;
                if (++m_presses >= count) setWaitMet();
                updateControls();
            };
            const QString id = QString::fromStdString(w.action);
            if (QAction* act = actionNamed(m_window, id))
                m_pageConnections << connect(act, &QAction::triggered, this, pressed);
            else if (QAbstractButton* b = buttonNamed(m_window, id))
                m_pageConnections << connect(b, &QAbstractButton::clicked, this, pressed);
            break;
        }
        case LessonWait::Kind::Field:
            m_pageConnections << connect(
                m_window->configPanel(), &ConfigPanel::configChanged, this, [this, &w] {
                    if (w.fieldSatisfied(m_configAtOpen, m_window->configPanel()->config()))
                        setWaitMet();
                });
            m_waitMet = w.fieldSatisfied(m_configAtOpen, m_window->configPanel()->config());
            break;
        case LessonWait::Kind::Until:
            m_pageConnections << connect(m_window->controller(), &RunController::batchReady, this,
                                         [this](const RunBatchPtr& b) {
                                             if (b->runId == m_window->controller()->currentRunId())
                                                 checkRows(b->rows);
                                         });
            if (const auto* rows = m_window->liveRows(); rows && !rows->empty())
                checkRows({rows->back()});
            break;
        case LessonWait::Kind::Finish:
            m_pageConnections << connect(m_window, &MainWindow::runFinished, this,
                                         [this] { setWaitMet(); });
            if (m_window->liveRows() && isFinal(m_window->state())) m_waitMet = true;
            break;
    }
}

void LessonsDock::checkRows(const std::vector<StepMetrics>& rows) {
    const LessonWait& w = m_lesson.pages[size_t(m_page - 1)].wait;
    for (const StepMetrics& r : rows)
        if (w.until.holds(r)) {
            setWaitMet();
            return;
        }
}

void LessonsDock::setWaitMet() {
    if (m_waitMet) return;
    m_waitMet = true;
    updateControls();
    emit waitCompleted(m_page);
}

QString LessonsDock::hintText() const {
    return m_todo->isVisible() ? m_todo->text() : QString();
}

void LessonsDock::updateControls() {
    const int pages = m_open ? int(m_lesson.pages.size()) : 0;
    m_back->setEnabled(m_open && m_page > 1);
    m_next->setEnabled(m_open && m_waitMet);
    m_next->setText(m_open && m_page == pages ? tr("Finish") : tr("Next ›"));
    m_counter->setText(m_open ? tr("Page %1 of %2").arg(m_page).arg(pages) : QString());
    if (!m_open) {
        m_pageTitle->setText(tr("Lessons"));
        m_text->setText(
            tr("Choose a lesson above. Each walks you through one idea of 1.58-bit "
               "training in a few short pages: it sets up the run, frames the "
               "panels it talks about, and waits while you try things."));
        m_todo->hide();
        return;
    }
    const LessonWait& w = m_lesson.pages[size_t(m_page - 1)].wait;
    const QString hl = colours::lessonHighlight.name();
    if (w.kind == LessonWait::Kind::None) {
        m_todo->hide();
    } else if (!m_waitMet) {
        QString text = QString::fromStdString(w.hint);
        if (w.kind == LessonWait::Kind::Action && w.count > 1)
            text += tr(" (%1 of %2)").arg(m_presses).arg(w.count);
        m_todo->setText(tr("▶ ") + text);
        m_todo->setStyleSheet(QString::fromLatin1(kTodoStyle).arg(hl));
        m_todo->show();
    } else {
        m_todo->setText(m_page < pages ? tr("✓ Done. Press Next.")
                                       : tr("✓ Done. Press Finish to end the lesson."));
        m_todo->setStyleSheet(QString::fromLatin1(kDoneStyle).arg(QStringLiteral("#009E73")));
        m_todo->show();
    }
}

void LessonsDock::next() {
    if (!m_open || !m_waitMet) return;
    if (m_page < int(m_lesson.pages.size())) {
        showPage(m_page + 1, false);
        return;
    }
    clearPage();
    m_todo->setText(tr("Lesson complete. Choose another one above, or press Back to look again."));
    m_todo->setStyleSheet(QString::fromLatin1(kDoneStyle).arg(QStringLiteral("#009E73")));
    m_todo->show();
    m_next->setEnabled(false);
    emit lessonFinished();
}

void LessonsDock::back() {
    if (m_open && m_page > 1) showPage(m_page - 1, false);
}

}  // namespace h158::ui
