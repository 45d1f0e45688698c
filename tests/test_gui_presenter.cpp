// Presenter mode, scenario files and SVG export: entering presenter mode scales the window's and
// the plots' fonts and pens and hides the panels and docks the teacher did not choose; leaving it
// puts every value and panel back. A scenario saved and reopened gives the same configuration,
// visible panels, page and presenter settings; a malformed one is refused naming the field.
#include <qcustomplot.h>

#include <QAbstractSpinBox>
#include <QApplication>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolBar>

#include "core/train/lesson.h"
#include "gui_test_util.h"
#include "ui/config_panel.h"
#include "ui/lessons_dock.h"
#include "ui/loss_panel.h"
#include "ui/plot_utils.h"
#include "ui/presenter.h"
#include "ui/scenario.h"

using h158::ui::MainWindow;
using h158::ui::Presenter;
using h158::ui::PresenterSettings;

namespace {
QStringList visiblePanels(const MainWindow& w) {
    QStringList ids;
    for (h158::ui::Panel* p : w.panels())
        if (p->isVisible()) ids << Presenter::idOf(p);
    return ids;
}

QDockWidget* dock(const MainWindow& w, const QString& id) {
    for (QDockWidget* d : w.findChildren<QDockWidget*>())
        if (Presenter::idOf(d) == id) return d;
    return nullptr;
}

QCPGraph* firstLine(QCustomPlot* plot) {
    for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->pen().style() != Qt::NoPen && plot->graph(i)->pen().widthF() > 0)
            return plot->graph(i);
    return nullptr;
}
}  // namespace

class TestGuiPresenter : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir m_tmp;
    h158::ui::MainWindowOptions options() const {
        h158::ui::MainWindowOptions o;
        o.workspace = m_tmp.filePath(QStringLiteral("runs"));
        o.useSettings = false;
        return o;
    }

  private slots:
    void presenterScalesAndRestores() {
        MainWindow w(options());
        QVERIFY(w.configPanel()->selectPreset(QStringLiteral("spirals")));
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QCustomPlot* plot = w.lossPanel()->plot();
        QCPAxis* axis = plot->axisRect(0)->axis(QCPAxis::atBottom);
        QCPGraph* line = firstLine(plot);
        QVERIFY(line);
        const double tickPt = axis->tickLabelFont().pointSizeF();
        const double labelPt = axis->labelFont().pointSizeF();
        const double width = line->pen().widthF();
        const double windowPt = w.font().pointSizeF();
        const QSize iconBefore = plot->findChildren<QCPLegend*>().value(0)->iconSize();
        // The panel's title (the card has a style sheet, which stops Qt's font propagation).
        const QLabel* title = w.lossPanel()->findChild<QLabel*>();
        QVERIFY(title);
        const double titlePt = title->font().pointSizeF();
        const double spinPt = w.configPanel()
                                  ->findChild<QAbstractSpinBox*>()
                                  ->findChild<QLineEdit*>()
                                  ->font()
                                  .pointSizeF();
        const QStringList shownBefore = visiblePanels(w);
        QVERIFY(shownBefore.contains(QStringLiteral("boundary")));
        QVERIFY(shownBefore.size() > 3);
        QVERIFY(dock(w, QStringLiteral("runs"))->isVisible());

        // Its keys are its own (F11 is Step into).
        QAction* toggle = w.presenter()->toggleAction();
        QVERIFY(!toggle->shortcuts().isEmpty());
        for (QAction* a : w.findChildren<QAction*>())
            for (const QKeySequence& k : toggle->shortcuts())
                QVERIFY2(a == toggle || !a->shortcuts().contains(k), qPrintable(a->text()));

        PresenterSettings s;
        s.fontScale = 1.7;  // not a whole factor: sizes in whole pixels are rounded
        s.lineScale = 2.5;
        s.shown = {QStringLiteral("loss"), QStringLiteral("boundary"), QStringLiteral("config")};
        w.presenter()->setSettings(s);
        w.presenter()->toggleAction()->trigger();  // as the View menu / Ctrl+Shift+P does
        QVERIFY(w.presenter()->active());
        w.lossPanel()->forceRedraw();

        QCOMPARE(axis->tickLabelFont().pointSizeF(), 1.7 * tickPt);
        QCOMPARE(axis->labelFont().pointSizeF(), 1.7 * labelPt);
        QCOMPARE(line->pen().widthF(), 2.5 * width);
        QCOMPARE(w.font().pointSizeF(), 1.7 * windowPt);
        QCOMPARE(title->font().pointSizeF(), 1.7 * titlePt);
        // A spin box's editor in the configuration form (under its style sheet) too.
        QAbstractSpinBox* spin = w.configPanel()->findChild<QAbstractSpinBox*>();
        QVERIFY(spin);
        QLineEdit* spinEdit = spin->findChild<QLineEdit*>();
        QCOMPARE(spinEdit->font().pointSizeF(), 1.7 * spinPt);
        // Replots do not compound the scale (sizes rounded to whole pixels included).
        QCPLegend* legend = plot->findChildren<QCPLegend*>().value(0);
        QVERIFY(legend);
        const QSize icon = legend->iconSize();
        for (int i = 0; i < 3; ++i) plot->replot(QCustomPlot::rpImmediateRefresh);
        QCOMPARE(legend->iconSize(), icon);
        QCOMPARE(axis->tickLabelFont().pointSizeF(), 1.7 * tickPt);
        QCOMPARE(line->pen().widthF(), 2.5 * width);
        QCOMPARE(visiblePanels(w),
                 (QStringList{QStringLiteral("loss"), QStringLiteral("boundary")}));
        QVERIFY(!dock(w, QStringLiteral("runs"))->isVisible());
        QVERIFY(dock(w, QStringLiteral("config"))->isVisible());
        QVERIFY(!w.findChild<QToolBar*>()->isVisible());

        // A pen the panel sets while the mode is on is scaled from the panel's new value.
        line->setPen(QPen(line->pen().color(), 3.0));
        plot->replot(QCustomPlot::rpImmediateRefresh);
        QCOMPARE(line->pen().widthF(), 7.5);

        w.presenter()->toggleAction()->trigger();
        QVERIFY(!w.presenter()->active());
        plot->replot(QCustomPlot::rpImmediateRefresh);
        QCOMPARE(axis->tickLabelFont().pointSizeF(), tickPt);
        QCOMPARE(axis->labelFont().pointSizeF(), labelPt);
        QCOMPARE(line->pen().widthF(), 3.0);
        QCOMPARE(w.font().pointSizeF(), windowPt);
        QCOMPARE(title->font().pointSizeF(), titlePt);
        QCOMPARE(spinEdit->font().pointSizeF(), spinPt);
        QCOMPARE(legend->iconSize(), iconBefore);
        QCOMPARE(visiblePanels(w), shownBefore);
        QVERIFY(dock(w, QStringLiteral("runs"))->isVisible());
        QVERIFY(w.findChild<QToolBar*>()->isVisible());
    }

    void settingsDialogChoosesPanels() {
        MainWindow w(options());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        bool handled = false, okDisabledWhenNone = false;
        QTimer poll;  // the dialog runs its own loop: answer it once it is up
        connect(&poll, &QTimer::timeout, &w, [&] {
            auto* d = qobject_cast<QDialog*>(QApplication::activeModalWidget());
            if (!d || handled) return;
            handled = true;
            auto* list = d->findChild<QListWidget*>(QStringLiteral("shownList"));
            auto* box = d->findChild<QDialogButtonBox*>();
            for (int i = 0; i < list->count(); ++i) list->item(i)->setCheckState(Qt::Unchecked);
            okDisabledWhenNone = !box->button(QDialogButtonBox::Ok)->isEnabled();
            for (int i = 0; i < list->count(); ++i) {
                const QString id = list->item(i)->data(Qt::UserRole).toString();
                if (id == QLatin1String("loss") || id == QLatin1String("status"))
                    list->item(i)->setCheckState(Qt::Checked);
            }
            d->findChild<QDoubleSpinBox*>(QStringLiteral("fontScale"))->setValue(2.2);
            QTest::mouseClick(box->button(QDialogButtonBox::Ok), Qt::LeftButton);
        });
        poll.start(10);
        QVERIFY(w.presenter()->editSettings());
        QVERIFY(handled);
        QVERIFY(okDisabledWhenNone);
        QCOMPARE(w.presenter()->settings().shown,
                 (QStringList{QStringLiteral("loss"), QStringLiteral("status")}));
        QCOMPARE(w.presenter()->settings().fontScale, 2.2);
        w.presenter()->setActive(true);
        QCOMPARE(visiblePanels(w), QStringList{QStringLiteral("loss")});
        QVERIFY(!w.findChild<QToolBar*>()->isVisible());
    }

    void scenarioRoundTrip() {
        const QString path = m_tmp.filePath(QStringLiteral("demo.json"));
        QString err;
        QStringList shownA;
        nlohmann::json configA;
        {
            MainWindow a(options());
            QVERIFY(a.configPanel()->selectPreset(QStringLiteral("spirals")));
            a.configPanel()->setFieldText(QStringLiteral("run.seed"), QStringLiteral("7"));
            a.configPanel()->setFieldText(QStringLiteral("run.steps"), QStringLiteral("123"));
            a.show();
            QVERIFY(QTest::qWaitForWindowExposed(&a));
            PresenterSettings s;
            s.fontScale = 1.8;
            s.lineScale = 3.0;
            s.shown = {QStringLiteral("loss"), QStringLiteral("weights"), QStringLiteral("runs")};
            a.presenter()->setSettings(s);
            a.presenter()->setActive(true);
            a.showPage(MainWindow::MechanismPage);
            a.showPage(MainWindow::TrainingPage);
            shownA = visiblePanels(a);
            configA = h158::toJson(a.configPanel()->config());
            QVERIFY(h158::ui::writeScenario(path, h158::ui::captureScenario(a), &err));
        }
        QCOMPARE(shownA, (QStringList{QStringLiteral("loss"), QStringLiteral("weights")}));

        MainWindow b(options());
        b.show();
        QVERIFY(QTest::qWaitForWindowExposed(&b));
        QVERIFY2(h158::ui::openScenario(b, path, &err), qPrintable(err));
        QCOMPARE(h158::toJson(b.configPanel()->config()), configA);
        QCOMPARE(b.configPanel()->config().run.seed, int64_t(7));
        QCOMPARE(b.configPanel()->presetName(), QStringLiteral("spirals"));
        QVERIFY(b.presenter()->active());
        QCOMPARE(b.presenter()->settings().fontScale, 1.8);
        QCOMPARE(b.presenter()->settings().lineScale, 3.0);
        QCOMPARE(b.presenter()->settings().shown,
                 (QStringList{QStringLiteral("loss"), QStringLiteral("weights"),
                              QStringLiteral("runs")}));
        QCOMPARE(visiblePanels(b), shownA);
        QVERIFY(dock(b, QStringLiteral("runs"))->isVisible());
        QVERIFY(!dock(b, QStringLiteral("config"))->isVisible());
        QCOMPARE(b.findChild<QTabWidget*>(QStringLiteral("centrePages"))->currentIndex(),
                 int(MainWindow::TrainingPage));

        // The page and the lesson go through the file too (the JSON, without the lessons dock).
        h158::ui::Scenario s = h158::ui::captureScenario(b);
        s.page = MainWindow::MechanismPage;
        s.lessonSource = QStringLiteral("quantization");
        s.lessonPage = 3;
        const h158::ui::Scenario back =
            h158::ui::scenarioFromJson(h158::ui::scenarioToJson(s), QStringLiteral("x.json"));
        QCOMPARE(back.page, int(MainWindow::MechanismPage));
        QCOMPARE(back.lessonSource, QStringLiteral("quantization"));
        QCOMPARE(back.lessonPage, 3);
        QCOMPARE(back.windowState, s.windowState);
        QCOMPARE(back.windowSize, s.windowSize);
        QVERIFY(back.presenterSettings == s.presenterSettings);
        QCOMPARE(back.config, s.config);
        // [] shows everything; no key, the default choice.
        s.presenterSettings.shown.clear();
        nlohmann::json j = h158::ui::scenarioToJson(s);
        QVERIFY(h158::ui::scenarioFromJson(j, QStringLiteral("x.json"))
                    .presenterSettings.shown.isEmpty());
        j["presenter"].erase("shown");
        QCOMPARE(h158::ui::scenarioFromJson(j, QStringLiteral("x.json")).presenterSettings.shown,
                 PresenterSettings{}.shown);
    }

    void scenarioReopensLessonPage() {
        const QString path = m_tmp.filePath(QStringLiteral("lesson.json"));
        QString err;
        {
            MainWindow a(options());
            a.show();
            QVERIFY(QTest::qWaitForWindowExposed(&a));
            QVERIFY2(a.openLesson(QStringLiteral("ternary-basics"), 2, &err), qPrintable(err));
            const h158::ui::Scenario s = h158::ui::captureScenario(a);
            QCOMPARE(s.lessonSource, QStringLiteral("ternary-basics"));
            QCOMPARE(s.lessonPage, 2);
            QVERIFY(h158::ui::writeScenario(path, s, &err));
            a.stopRun();
        }
        MainWindow b(options());
        b.show();
        QVERIFY(QTest::qWaitForWindowExposed(&b));
        QVERIFY2(h158::ui::openScenario(b, path, &err), qPrintable(err));
        QVERIFY(b.lessonsDock()->lesson());
        QCOMPARE(b.lessonsDock()->lesson()->name, std::string("ternary-basics"));
        QCOMPARE(b.lessonsDock()->page(), 2);
        b.stopRun();
    }

    void malformedScenarioNamesField_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("field");
        QTest::newRow("not a scenario")
            << QByteArray(R"({"run": {"steps": 3}})") << "hybrid158_scenario";
        QTest::newRow("unknown key")
            << QByteArray(R"({"hybrid158_scenario": 1, "colour": 2})") << "'colour'";
        QTest::newRow("font scale")
            << QByteArray(R"({"hybrid158_scenario": 1, "presenter": {"font_scale": 9}})")
            << "presenter.font_scale";
        QTest::newRow("shown id")
            << QByteArray(R"({"hybrid158_scenario": 1, "presenter": {"shown": ["loss", 3]}})")
            << "presenter.shown[1]";
        QTest::newRow("page") << QByteArray(R"({"hybrid158_scenario": 1, "page": "slides"})")
                              << "'page'";
        QTest::newRow("config key")
            << QByteArray(R"({"hybrid158_scenario": 1, "config": {"optim": {"lr": "fast"}}})")
            << "'config'";
        QTest::newRow("state")
            << QByteArray(R"({"hybrid158_scenario": 1, "window": {"state": "not base64!"}})")
            << "window.state";
        QTest::newRow("lesson") << QByteArray(R"({"hybrid158_scenario": 1, "lesson": {"page": 2}})")
                                << "lesson.source";
        QTest::newRow("seed") << QByteArray(R"({"hybrid158_scenario": 1, "seed": -4})") << "'seed'";
        QTest::newRow("not json") << QByteArray("{\"hybrid158_scenario\": ") << "not JSON";
    }
    void malformedScenarioNamesField() {
        QFETCH(QByteArray, json);
        QFETCH(QString, field);
        const QString path = m_tmp.filePath(QStringLiteral("bad-scenario.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(json);
        f.close();
        h158::ui::Scenario s;
        QString err;
        QVERIFY(!h158::ui::readScenario(path, &s, &err));
        QVERIFY2(err.contains(QStringLiteral("bad-scenario.json")), qPrintable(err));
        QVERIFY2(err.contains(field), qPrintable(err));
    }

    void svgExport() {
        MainWindow w(options());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const QString path = m_tmp.filePath(QStringLiteral("loss.svg"));
        QVERIFY(w.lossPanel()->interaction()->exportSvg(path));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray svg = f.readAll();
        QVERIFY(svg.contains("<svg"));
        QVERIFY(svg.contains("</svg>"));
        QVERIFY(svg.contains("<path") || svg.contains("<polyline"));  // the drawing itself
    }
};

QTEST_MAIN(TestGuiPresenter)
#include "test_gui_presenter.moc"
