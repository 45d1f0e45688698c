// GUI benchmark (a separate executable, not a test):
//  (a) training throughput with the window showing every live view vs a headless RunSession on
//      the same preset and steps (target >= 95%);
//  (b) the longest gap of a 1 ms QTimer heartbeat on the UI thread while training (< 50 ms);
//  (c) panning a 1,000,000-point loss curve: time per replot.
// Usage: bench_gui [--preset NAME]... [--steps N] [--threads T] [--repeat R] [--points P]
// Run it under Xvfb (or QT_QPA_PLATFORM=offscreen). Prints a table and one JSON line.
// Diagnostics: H158_BENCH_VERBOSE=1 prints each panel's mean replot time, H158_BENCH_REDRAW_MS
// sets the redraw period, H158_BENCH_HIDDEN=1 trains with the window hidden (no drawing),
// H158_BENCH_PAGE=mechanism trains with the Mechanism page shown (weight map, code flips, stages,
// network, K-Means) instead of the training curves.
// "training-thread CPU headless/gui" compares the CPU the training thread used for the same
// steps: near 1 means the GUI adds no work to training, and any lower wall-clock ratio comes
// from the machine's other load taking the CPU.
#include <qcustomplot.h>
#include <unistd.h>

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/exp/run_session.h"
#include "ui/config_panel.h"
#include "ui/loss_panel.h"
#include "ui/main_window.h"
#include "ui/panel.h"
#include "ui/theme.h"

namespace {

using h158::ui::MainWindow;

double threadCpuSeconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// CPU seconds (user + system) of this process's thread named `name`, from /proc (10 ms ticks).
double namedThreadCpuSeconds(const QByteArray& name) {
    QDir tasks(QStringLiteral("/proc/self/task"));
    for (const QString& tid : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(tasks.filePath(tid + "/comm"));
        if (!comm.open(QIODevice::ReadOnly) || !name.startsWith(comm.readAll().trimmed())) continue;
        QFile stat(tasks.filePath(tid + "/stat"));
        if (!stat.open(QIODevice::ReadOnly)) continue;
        const QByteArray line = stat.readAll();
        const QList<QByteArray> f = line.mid(line.lastIndexOf(')') + 2).split(' ');
        if (f.size() > 12)
            return (f[11].toDouble() + f[12].toDouble()) / double(sysconf(_SC_CLK_TCK));
    }
    return 0;
}

struct HeadlessResult {
    double seconds = 0, cpuSeconds = 0;
};

HeadlessResult headlessRun(const h158::Config& cfg, const QString& dir) {
    QElapsedTimer t;
    const double cpu0 = threadCpuSeconds();
    t.start();
    h158::RunSession s(cfg, dir.toStdString());
    while (!s.finished()) s.step();
    s.finish();
    return {double(t.nsecsElapsed()) * 1e-9, threadCpuSeconds() - cpu0};
}

struct GuiResult {
    double seconds = 0;
    double maxGapMs = 0;   // longest heartbeat gap: our handlers plus any OS preemption
    double maxTickMs = 0;  // longest redraw tick (the window's own work)
    int64_t steps = 0;
    double workerCpuSeconds = 0;  // CPU time of the training thread
    double uiCpuShare = 0;        // CPU time of the UI thread / wall time
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// With `heartbeat`, a 1 ms timer measures the event loop's longest gap (it costs the UI thread
// ~1000 wakeups a second, so the throughput runs go without it).
GuiResult guiRun(const QString& preset, const h158::Config& cfg, const QString& workspace,
                 bool heartbeatOn) {
    MainWindow w(h158::ui::MainWindowOptions{workspace, false, {}});
    w.resize(1600, 1000);
    if (!qEnvironmentVariableIsSet("H158_BENCH_HIDDEN")) w.show();
    w.configPanel()->selectPreset(preset);
    w.configPanel()->setConfig(cfg);
    if (qEnvironmentVariableIsSet("H158_BENCH_REDRAW_MS"))
        w.redrawTimer()->setInterval(qEnvironmentVariableIntValue("H158_BENCH_REDRAW_MS"));
    if (qEnvironmentVariable("H158_BENCH_PAGE") == QLatin1String("mechanism"))
        w.showPage(MainWindow::MechanismPage);
    for (int i = 0; i < 20; ++i) QCoreApplication::processEvents();

    GuiResult r;
    QElapsedTimer beat, total;
    QTimer heartbeat;
    heartbeat.setTimerType(Qt::PreciseTimer);
    heartbeat.setInterval(1);
    QObject::connect(&heartbeat, &QTimer::timeout, [&] {
        r.maxGapMs = std::max(r.maxGapMs, double(beat.nsecsElapsed()) * 1e-6);
        beat.start();
    });
    QEventLoop loop;
    QObject::connect(&w, &MainWindow::runFinished, &loop, &QEventLoop::quit);
    const double cpu0 = threadCpuSeconds();
    total.start();
    beat.start();
    if (heartbeatOn) heartbeat.start();
    w.startRun();
    loop.exec();
    r.seconds = double(total.nsecsElapsed()) * 1e-9;
    r.uiCpuShare = (threadCpuSeconds() - cpu0) / r.seconds;
    r.workerCpuSeconds = namedThreadCpuSeconds("hybrid158-trainer");
    heartbeat.stop();
    r.steps = w.receivedSteps();
    r.maxTickMs = w.longestTickMs();
    if (qEnvironmentVariableIsSet("H158_BENCH_VERBOSE"))
        for (auto* p : w.panels())
            if (p->plot())
                std::printf("  %-22s replot %.2f ms (avg)\n", qPrintable(p->title()),
                            p->plot()->replotTime(true));
    return r;
}

struct PanResult {
    double fillMs = 0, fullMs = 0, panMeanMs = 0, panMaxMs = 0;
};

PanResult panMillion(int points) {
    h158::ui::LossPanel panel;
    panel.resize(800, 500);
    panel.show();
    h158::Config cfg;
    panel.beginRun(cfg, h158::ui::runColour(0));
    std::vector<h158::StepMetrics> rows(static_cast<size_t>(points));
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < points; ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const double noise = double(x % 10000) / 10000.0 - 0.5;
        auto& m = rows[size_t(i)];
        m.step = i + 1;
        m.loss = 2.0 * std::exp(-i / double(points / 5)) + 0.2 + 0.1 * noise;
        m.val_loss = (i % 1000 == 0) ? m.loss : h158::kNoValue;
        m.elapsed_ms = i * 0.5;
    }
    PanResult r;
    QElapsedTimer t;
    t.start();
    panel.appendRows(rows);
    r.fillMs = double(t.nsecsElapsed()) * 1e-6;
    QCustomPlot* plot = panel.plot();
    panel.forceRedraw();
    t.start();
    plot->replot(QCustomPlot::rpImmediateRefresh);
    r.fullMs = double(t.nsecsElapsed()) * 1e-6;
    // Pan a window of 20% of the curve across it, 2% per frame, like a mouse drag.
    const double width = points * 0.2;
    const int frames = 40;
    double sum = 0;
    for (int f = 0; f < frames; ++f) {
        const double lo = f * points * 0.02;
        plot->xAxis->setRange(lo, lo + width);
        t.start();
        plot->replot(QCustomPlot::rpImmediateRefresh);
        const double ms = double(t.nsecsElapsed()) * 1e-6;
        sum += ms;
        r.panMaxMs = std::max(r.panMaxMs, ms);
    }
    r.panMeanMs = sum / frames;
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    h158::ui::applyLightTheme(app);
    QStringList presets;
    int64_t steps = 0;
    int repeat = 2;
    int points = 1000000;
    int threads = -1;  // -1: the preset's run.threads
    const QStringList args = app.arguments();
    for (int i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == "--preset")
            presets << args[i + 1];
        else if (args[i] == "--steps")
            steps = args[i + 1].toLongLong();
        else if (args[i] == "--repeat")
            repeat = args[i + 1].toInt();
        else if (args[i] == "--points")
            points = args[i + 1].toInt();
        else if (args[i] == "--threads")
            threads = args[i + 1].toInt();
    }
    if (presets.isEmpty()) presets << "spirals";
    QTemporaryDir tmp;
    nlohmann::json out = nlohmann::json::object();
    int n = 0;
    for (const QString& preset : presets) {
        h158::Config cfg = h158::presetConfig(preset.toStdString());
        if (steps > 0) cfg.run.steps = steps;
        if (threads >= 0) cfg.run.threads = threads;
        // Alternating headless and GUI runs so that both see the same machine load; the ratio
        // of each pair, then the median over the pairs.
        std::vector<double> ratios, headless, gui;
        double worstGap = 0, worstTick = 0;
        std::vector<double> uiShare, cpuRatios;
        for (int r = 0; r < repeat; ++r) {
            const HeadlessResult hr = headlessRun(cfg, tmp.filePath(QString("h%1").arg(n++)));
            const double h = hr.seconds;
            const GuiResult g = guiRun(preset, cfg, tmp.filePath(QString("g%1").arg(n++)), false);
            headless.push_back(cfg.run.steps / h);
            gui.push_back(g.steps / g.seconds);
            ratios.push_back(h / g.seconds);
            uiShare.push_back(g.uiCpuShare);
            if (g.workerCpuSeconds > 0) cpuRatios.push_back(hr.cpuSeconds / g.workerCpuSeconds);
            worstTick = std::max(worstTick, g.maxTickMs);
        }
        for (int r = 0; r < std::max(1, repeat / 2); ++r) {
            const GuiResult g = guiRun(preset, cfg, tmp.filePath(QString("b%1").arg(n++)), true);
            worstGap = std::max(worstGap, g.maxGapMs);
            worstTick = std::max(worstTick, g.maxTickMs);
        }
        const double ratio = median(ratios);
        std::printf(
            "%-8s %6lld steps x%d  headless %7.1f steps/s  gui %7.1f steps/s (medians)  "
            "ratio %.3f (pairs: min %.3f max %.3f)  max heartbeat gap %.1f ms  longest tick %.1f "
            "ms  UI thread CPU %.0f%%  training-thread CPU headless/gui %.3f\n",
            qPrintable(preset), (long long)cfg.run.steps, repeat, median(headless), median(gui),
            ratio, *std::min_element(ratios.begin(), ratios.end()),
            *std::max_element(ratios.begin(), ratios.end()), worstGap, worstTick,
            100 * median(uiShare), median(cpuRatios));
        out[preset.toStdString()] = {{"steps", cfg.run.steps},
                                     {"repeat", repeat},
                                     {"headless_steps_per_s", median(headless)},
                                     {"gui_steps_per_s", median(gui)},
                                     {"throughput_ratio", ratio},
                                     {"throughput_ratios", ratios},
                                     {"max_heartbeat_gap_ms", worstGap},
                                     {"longest_tick_ms", worstTick},
                                     {"ui_thread_cpu_share", median(uiShare)},
                                     {"train_cpu_ratio", median(cpuRatios)}};
    }
    const PanResult p = panMillion(points);
    std::printf(
        "pan %d points: addData %.0f ms, full view replot %.1f ms, pan replot mean %.1f ms "
        "max %.1f ms\n",
        points, p.fillMs, p.fullMs, p.panMeanMs, p.panMaxMs);
    out["pan"] = {{"points", points},
                  {"add_ms", p.fillMs},
                  {"full_replot_ms", p.fullMs},
                  {"pan_replot_mean_ms", p.panMeanMs},
                  {"pan_replot_max_ms", p.panMaxMs}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
}
