// The constraint panel's legend at the size the window gives the panel: every entry's text fits
// its rect, across and down (whole at 1600 x 1000, shortened or elided when narrower), and
// hovering an entry shows its full text.
#include <qcustomplot.h>

#include <QTemporaryDir>
#include <QTest>
#include <QToolTip>

#include "gui_test_util.h"
#include "ui/config_panel.h"
#include "ui/constraint_panel.h"

using h158::ui::ConstraintPanel;
using h158::ui::MainWindow;
using namespace h158::test;

class TestGuiConstraintPanel : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir m_tmp;

    std::unique_ptr<MainWindow> makeWindow() {
        auto w = std::make_unique<MainWindow>(
            h158::ui::MainWindowOptions{m_tmp.filePath("workspace"), false, {}});
        w->show();
        if (!QTest::qWaitForWindowExposed(w.get())) return nullptr;
        return w;
    }

    static ConstraintPanel* constraintPanel(MainWindow& w) {
        for (auto* p : w.panels())
            if (auto* c = qobject_cast<ConstraintPanel*>(p)) return c;
        return nullptr;
    }

  private slots:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    // After a spirals run (trust.mode=tensor: five entries), at each window size: the icon, its
    // padding and the text's advance fit the item's rect, a line of text fits its height, and the
    // item lies inside the plot.
    // `whole`: no text is elided (at 1600 x 1000 every entry reads in full or in its brief form).
    void legendTextsFitThePanel_data() {
        QTest::addColumn<QSize>("window");
        QTest::addColumn<bool>("whole");
        QTest::newRow("1600x1000") << QSize(1600, 1000) << true;
        QTest::newRow("1366x768") << QSize(1366, 768) << false;
    }
    void legendTextsFitThePanel() {
        QFETCH(QSize, window);
        QFETCH(bool, whole);
        auto w = makeWindow();
        QVERIFY(w);
        QVERIFY(w->configPanel()->selectPreset("spirals"));
        w->configPanel()->setFieldText("run.steps", "100");
        QSignalSpy finished(w.get(), &MainWindow::runFinished);
        QVERIFY(clickAction(*w, w->runAction()));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        w->resize(window);
        QCoreApplication::sendPostedEvents();  // the layouts' requests
        ConstraintPanel* panel = constraintPanel(*w);
        QVERIFY(panel && panel->isVisible());
        panel->forceRedraw();

        QCustomPlot* plot = panel->plot();
        QCPLegend* legend = plot->legend;
        QVERIFY(legend->visible());
        int entries = 0;
        for (int i = 0; i < legend->itemCount(); ++i) {  // the grid's cells: the last may be empty
            auto* item = qobject_cast<QCPPlottableLegendItem*>(legend->item(i));
            if (!item) continue;
            ++entries;
            const QString text = item->plottable()->name();
            const int need = legend->iconSize().width() + legend->iconTextPadding() +
                             QFontMetrics(item->font()).horizontalAdvance(text);
            const QString where = QString("'%1' at %2x%3 (panel %4 px wide)")
                                      .arg(text)
                                      .arg(window.width())
                                      .arg(window.height())
                                      .arg(panel->width());
            QVERIFY2(!text.isEmpty(), qPrintable(where));
            QVERIFY2(need <= item->rect().width(),
                     qPrintable(where + QString(": needs %1 px, has %2").arg(need).arg(item->rect().width())));
            QVERIFY2(item->rect().height() >= QFontMetrics(item->font()).height(),
                     qPrintable(where + QString(": %1 px high").arg(item->rect().height())));
            QVERIFY2(plot->viewport().contains(item->outerRect()),
                     qPrintable(where + ": outside the plot"));
            if (whole) QVERIFY2(!text.contains(QChar(0x2026)), qPrintable(where + ": elided"));
        }
        QCOMPARE(entries, 5);

        // the full text is the entry's tooltip
        auto* first = qobject_cast<QCPPlottableLegendItem*>(legend->item(0));
        const QString tip = panel->legendTip(qobject_cast<QCPGraph*>(first->plottable()));
        QVERIFY2(tip.startsWith("rate (last 50 steps)"), qPrintable(tip));
        const QPointF at = first->rect().center();
        QMouseEvent move(QEvent::MouseMove, at, plot->mapToGlobal(at), Qt::NoButton,
                         Qt::NoButton, Qt::NoModifier);
        QCoreApplication::sendEvent(plot, &move);
        QTRY_COMPARE(QToolTip::text(), tip);
    }
};

QTEST_MAIN(TestGuiConstraintPanel)
#include "test_gui_constraint_panel.moc"
