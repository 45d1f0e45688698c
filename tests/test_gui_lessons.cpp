// The Lessons dock: every built-in lesson is walked to its last page on the real window, doing
// what each page waits for (pressing the action, changing the field, letting the run reach the
// condition or finish) and asserting Next stays disabled until then; highlights frame the named
// widgets and go when the page changes; run_until stops exactly at its step; a lesson naming an
// unknown panel is refused by name.
#include <QAbstractButton>
#include <QComboBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QToolBar>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/train/lesson.h"
#include "gui_test_util.h"
#include "ui/config_panel.h"
#include "ui/lessons_dock.h"
#include "ui/loss_panel.h"
#include "ui/panel.h"

using h158::ui::LessonsDock;
using h158::ui::MainWindow;
using h158::ui::RunState;
using namespace h158;
using namespace h158::test;

namespace {

constexpr int kTimeoutMs = 60000;  // generous for the sanitizer builds; Release takes ~1 s

QAction* actionNamed(MainWindow& w, const std::string& id) {
    for (QAction* a : w.findChildren<QAction*>(QString::fromStdString(id))) return a;
    return nullptr;
}

// Whether what a lesson calls `id` can be pressed now (exists and is enabled).
bool pressable(MainWindow& w, const std::string& id) {
    if (QAction* a = actionNamed(w, id)) return a->isEnabled();
    for (QAbstractButton* b : w.findChildren<QAbstractButton*>(QString::fromStdString(id)))
        return b->isEnabled();
    return false;
}

// Presses what a lesson calls `id` like the student would: the toolbar button of an action
// (or the action itself when it has none, for shortcut-only actions), or a panel's button.
bool press(MainWindow& w, const std::string& id) {
    if (QAction* a = actionNamed(w, id)) {
        if (!a->isEnabled()) return false;
        if (!clickAction(w, a)) a->trigger();
        return true;
    }
    for (QAbstractButton* b : w.findChildren<QAbstractButton*>(QString::fromStdString(id))) {
        if (!b->isEnabled()) return false;
        QTest::mouseClick(b, Qt::LeftButton);
        return true;
    }
    return false;
}

// A valid value of `key` different from its value in `c`, as the form's text.
QString otherValue(const Config& c, const std::string& key) {
    const FieldSpec* f = findField(key);
    const FieldValue v = f->get(c);
    switch (f->type) {
        case FieldType::Int: {
            const int64_t i = std::get<int64_t>(v);
            return QString::number(i + 1 <= int64_t(f->max) || f->max == 0 ? i + 1 : i - 1);
        }
        case FieldType::Double:
            return QString::number(std::get<double>(v) * 0.5);
        case FieldType::Bool:
            return std::get<bool>(v) ? QStringLiteral("false") : QStringLiteral("true");
        case FieldType::Choice:
            for (const auto& choice : f->choices)
                if (choice != std::get<std::string>(v)) return QString::fromStdString(choice);
            return {};
        default:
            return QString::fromStdString(std::get<std::string>(v) + "x");
    }
}

}  // namespace

class TestGuiLessons : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir m_tmp;

    std::unique_ptr<MainWindow> makeWindow(const QString& workspace) {
        auto w = std::make_unique<MainWindow>(
            h158::ui::MainWindowOptions{m_tmp.filePath(workspace), false, {}});
        w->show();
        if (!QTest::qWaitForWindowExposed(w.get())) return nullptr;
        return w;
    }

    // Makes the wait of the open page come true as a student would; Next must stay disabled
    // until the last thing it asks for is done.
    void satisfyWait(MainWindow& w, LessonsDock& dock, const LessonWait& wait) {
        QPushButton* next = dock.nextButton();
        switch (wait.kind) {
            case LessonWait::Kind::None:
                break;
            case LessonWait::Kind::Action:
                for (int i = 0; i < wait.count; ++i) {
                    QVERIFY2(!next->isEnabled(), "Next enabled before the presses");
                    // (QTRY evaluates its expression more than once: the press goes after it.)
                    QTRY_VERIFY_WITH_TIMEOUT(pressable(w, wait.action), kTimeoutMs);
                    QVERIFY(press(w, wait.action));
                    QVERIFY(syncWorker(w));
                }
                break;
            case LessonWait::Kind::Field: {
                QVERIFY2(!next->isEnabled(), "Next enabled before the field changed");
                const QString key = QString::fromStdString(wait.field);
                const QString text = wait.value ? QString::fromStdString(*wait.value)
                                                : otherValue(w.configPanel()->config(), wait.field);
                w.configPanel()->setFieldText(key, text);
                QVERIFY2(w.configPanel()->fieldError(key).isEmpty(), qPrintable(key));
                break;
            }
            case LessonWait::Kind::Until:
            case LessonWait::Kind::Finish: {
                const bool already = wait.kind == LessonWait::Kind::Finish
                                         ? w.liveRows() && isFinal(w.state())
                                         : w.liveRows() && !w.liveRows()->empty() &&
                                               wait.until.holds(w.liveRows()->back());
                if (!already) QVERIFY2(!next->isEnabled(), "Next enabled before the run got there");
                // The student presses Run (or Resume) when the run is not going.
                if (!dock.waitMet() && w.state() != RunState::Running)
                    QVERIFY(press(w, w.state() == RunState::Paused ? "pause" : "run"));
                break;
            }
        }
        QTRY_VERIFY_WITH_TIMEOUT(next->isEnabled(), kTimeoutMs);
        QVERIFY(dock.waitMet());
    }

  private slots:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    void walkEveryLesson_data() {
        QTest::addColumn<QString>("name");
        for (const LessonInfo& l : lessonList())
            QTest::newRow(l.name.c_str()) << QString::fromStdString(l.name);
    }
    void walkEveryLesson() {
        QFETCH(QString, name);
        auto w = makeWindow(name);
        QVERIFY(w);
        const Lesson lesson = builtinLesson(name.toStdString());
        LessonsDock* dock = w->lessonsDock();
        QSignalSpy ready(dock, &LessonsDock::pageReady);
        QSignalSpy finished(dock, &LessonsDock::lessonFinished);
        QString error;
        QVERIFY2(w->openLesson(name, 1, &error), qPrintable(error));
        QVERIFY(dock->isVisible());
        for (int k = 1; k <= int(lesson.pages.size()); ++k) {
            const LessonPage& page = lesson.pages[size_t(k - 1)];
            QCOMPARE(dock->page(), k);
            QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty() && ready.last().at(0).toInt() == k,
                                     kTimeoutMs);
            QVERIFY(dock->actionsDone());
            if (page.hasConfig) QVERIFY(toJson(w->configPanel()->config()) == toJson(page.config));
            for (const LessonAction& a : page.actions)
                if (a.kind == LessonAction::Kind::RunUntil && w->liveRows() && !isFinal(w->state()))
                    QVERIFY2(a.until.holds(w->liveRows()->back()), a.until.text().c_str());
            // Every id the page names is framed (when its widget exists on screen).
            QCOMPARE(dock->highlightedWidgets().size(), qsizetype(page.highlight.size()));
            satisfyWait(*w, *dock, page.wait);
            if (QTest::currentTestFailed()) {
                qWarning("lesson %s, page %d: %s", qPrintable(name), k, page.title.c_str());
                return;
            }
            QTest::mouseClick(dock->nextButton(), Qt::LeftButton);
        }
        QCOMPARE(finished.count(), 1);
        QVERIFY(!dock->nextButton()->isEnabled());
    }

    // The framed widgets are the named ones, and the frames go when the page changes.
    void highlightsFollowThePage() {
        auto w = makeWindow("highlight");
        QVERIFY(w);
        LessonsDock* dock = w->lessonsDock();
        QVERIFY(w->openLesson("ternary-basics", 4));
        const QList<QWidget*> framed = dock->highlightedWidgets();
        QCOMPARE(framed.size(), 3);  // pause, loss, quant
        QVERIFY(framed.contains(w->lossPanel()));
        QToolBar* tb = w->findChild<QToolBar*>();
        QVERIFY(framed.contains(tb->widgetForAction(w->pauseAction())));  // the button of "pause"
        auto frames = [&] {
            return w->lossPanel()->findChildren<h158::ui::HighlightFrame*>().size();
        };
        QCOMPARE(frames(), 1);
        QVERIFY(w->lossPanel()->findChild<h158::ui::HighlightFrame*>()->isVisible());
        QTest::mouseClick(dock->backButton(), Qt::LeftButton);
        QCOMPARE(dock->page(), 3);
        QCOMPARE(frames(), 0);
        QCOMPARE(dock->highlightedWidgets().size(), 1);
    }

    // run_until on a step stops exactly there (the run is stepped), whatever its speed.
    void runUntilStopsAtTheStep() {
        auto w = makeWindow("until");
        QVERIFY(w);
        QVERIFY(w->configPanel()->selectPreset("spirals"));
        w->configPanel()->setFieldText("run.steps", "100000");
        QSignalSpy done(w.get(), &MainWindow::runUntilDone);
        const int id = w->runUntil(parseCondition("37"));
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, kTimeoutMs);
        QCOMPARE(done.at(0).at(0).toInt(), id);
        QCOMPARE(done.at(0).at(1).toBool(), true);
        QVERIFY(syncWorker(*w));
        QCOMPARE(w->state(), RunState::Paused);
        QCOMPARE(w->receivedSteps(), int64_t(37));
        // From a running run too: it pauses, then steps to the target.
        QVERIFY(press(*w, "pause"));  // resume
        QTRY_VERIFY(w->state() == RunState::Running || w->receivedSteps() > 37);
        const int64_t target = w->controller()->stepsDone() + 600;
        w->runUntil(parseCondition(std::to_string(target)));
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, kTimeoutMs);
        QVERIFY(syncWorker(*w));
        if (done.at(1).at(1).toBool()) QCOMPARE(w->receivedSteps(), target);
    }

    void unknownPanelRefusedByName() {
        auto w = makeWindow("bad");
        QVERIFY(w);
        const QString path = m_tmp.filePath("bad-lesson.json");
        std::ofstream(path.toStdString()) << R"({"name": "bad", "title": "Bad", "summary": "s",
            "pages": [{"title": "One", "text": "Fine."},
                      {"title": "Two", "text": "Names a panel that is not there.",
                       "highlight": ["lossx"]}]})";
        QString error;
        QVERIFY(!w->openLesson(path, 1, &error));
        QCOMPARE(error, path + ": page 2: highlight: unknown panel 'lossx' (did you mean 'loss'?)");
        QVERIFY(!w->lessonsDock()->lesson());
        // From the File menu (no error out-parameter) the message goes to the banner.
        QVERIFY(!w->openLesson(path, 1));
        QVERIFY(w->bannerText().contains("page 2: highlight: unknown panel 'lossx'"));
        QVERIFY(!w->openLesson("ternary-basics", 9, &error));
        QCOMPARE(error, QString("built-in lesson 'ternary-basics': page 9: no such page (the "
                                "lesson has 5)"));
    }
};

QTEST_MAIN(TestGuiLessons)
#include "test_gui_lessons.moc"
