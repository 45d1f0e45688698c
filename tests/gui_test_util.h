// Helpers shared by the GUI suites: a window on a temporary workspace with no saved settings,
// clicks on the real toolbar buttons, and a round trip through the worker's queue.
#pragma once

#include <QAction>
#include <QFile>
#include <QSignalSpy>
#include <QTest>
#include <QTextStream>
#include <QToolBar>
#include <QToolButton>

#include "ui/main_window.h"
#include "ui/run_controller.h"

namespace h158::test {

// Clicks the toolbar button of `action` like a user would (fails the test if it is disabled).
inline bool clickAction(ui::MainWindow& w, QAction* action) {
    for (QToolBar* tb : w.findChildren<QToolBar*>()) {
        if (auto* b = qobject_cast<QToolButton*>(tb->widgetForAction(action))) {
            if (!b->isEnabled()) return false;
            QTest::mouseClick(b, Qt::LeftButton);
            return true;
        }
    }
    return false;
}

// Returns once the worker has handled every command sent before, and the window every report
// the worker made before that.
inline bool syncWorker(ui::MainWindow& w, int timeoutMs = 20000) {
    QSignalSpy spy(w.controller(), &ui::RunController::synced);
    const int token = w.controller()->sync();
    for (int waited = 0; waited < timeoutMs; waited += 10) {
        for (const auto& args : spy)
            if (args.at(0).toInt() == token) return true;
        spy.wait(10);
    }
    return false;
}

// Waits for `n` ticks of the window's redraw timer: the observation window for "nothing changes".
inline bool waitTicks(ui::MainWindow& w, int n) {
    QSignalSpy ticks(w.redrawTimer(), &QTimer::timeout);
    for (int i = 0; i < 200 && ticks.count() < n; ++i) ticks.wait(100);
    return ticks.count() >= n;
}

// metrics.csv as rows of cells, the elapsed_ms column dropped (to compare two runs' rows).
inline QList<QStringList> csvWithoutElapsed(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) return {};
    QList<QStringList> rows;
    int elapsed = -1;
    while (!f.atEnd()) {
        const QString line = QString::fromUtf8(f.readLine()).trimmed();
        if (line.isEmpty()) continue;
        QStringList cells = line.split(',');
        if (rows.isEmpty()) elapsed = int(cells.indexOf("elapsed_ms"));
        if (elapsed >= 0 && elapsed < cells.size()) cells.removeAt(elapsed);
        rows << cells;
    }
    return rows;
}

inline int countLines(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) return -1;
    int n = 0;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine();
        if (!line.trimmed().isEmpty()) ++n;
    }
    return n;
}

}  // namespace h158::test
