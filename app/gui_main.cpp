// hybrid158: the workbench window.
//   hybrid158 [--preset NAME | --config FILE] [--run] [--steps N] [--screenshot FILE.png]
//             [--workspace DIR] [--compare] [--scenario FILE] [--presenter] [--record FILE.gif]
//             [--lesson NAME|FILE [--page K]] [--view training|mechanism]
// With --screenshot it waits until the run has finished (or, without --run, until the window
// is shown), saves a PNG of the whole window and exits 0. Exit 2 on a usage or config error.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QTimer>
#include <cstdio>

#include "ui/config_panel.h"
#include "ui/lessons_dock.h"
#include "ui/main_window.h"
#include "ui/presenter.h"
#include "ui/recorder.h"
#include "ui/runs_panel.h"
#include "ui/scenario.h"
#include "ui/theme.h"

namespace {
int usageError(const QString& message) {
    std::fprintf(stderr, "hybrid158: %s\n", qPrintable(message));
    return 2;
}
}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("hybrid158"));

    QApplication::setApplicationVersion(QStringLiteral(H158_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("hybrid158"));
    h158::ui::applyLightTheme(app);

    QCommandLineParser cli;
    cli.setApplicationDescription(QStringLiteral("Workbench for 1.58-bit (ternary) training"));
    cli.addHelpOption();
    cli.addVersionOption();
    const QCommandLineOption preset(QStringLiteral("preset"), QStringLiteral("Built-in preset"),
                                    QStringLiteral("NAME"));
    const QCommandLineOption config(QStringLiteral("config"), QStringLiteral("Config JSON file"),
                                    QStringLiteral("FILE"));
    const QCommandLineOption run(QStringLiteral("run"), QStringLiteral("Start the run at once"));
    const QCommandLineOption steps(QStringLiteral("steps"), QStringLiteral("Override run.steps"),
                                   QStringLiteral("N"));
    const QCommandLineOption shot(
        QStringLiteral("screenshot"),
        QStringLiteral("Save a PNG of the window when the run has finished "
                       "(or once shown), then exit"),
        QStringLiteral("FILE.png"));
    const QCommandLineOption workspace(
        QStringLiteral("workspace"),
        QStringLiteral("Read and write runs in this folder (remembered for the next start)"),
        QStringLiteral("DIR"));
    const QCommandLineOption compare(
        QStringLiteral("compare"),
        QStringLiteral("Overlay every run (or seed group) of the workspace in the plots"));
    cli.addOptions({preset, config, run, steps, shot, workspace, compare});
    // Teaching: a saved demo, presenter mode, and an animation of the run.
    const QCommandLineOption scenario(
        QStringLiteral("scenario"),
        QStringLiteral("Open a scenario file (config, seed, layout, page, presenter, lesson)"),
        QStringLiteral("FILE"));
    const QCommandLineOption presenterMode(QStringLiteral("presenter"),
                                           QStringLiteral("Start in presenter mode"));
    const QCommandLineOption record(
        QStringLiteral("record"),
        QStringLiteral("Record the window while the run trains (with --run) as an animated GIF, "
                       "or an MP4 when ffmpeg is installed"),
        QStringLiteral("FILE.gif"));
    cli.addOptions({scenario, presenterMode, record});
    const QCommandLineOption lesson(
        QStringLiteral("lesson"),
        QStringLiteral("Open a lesson: a built-in one by name (hybrid158-cli lessons lists them) "
                       "or a lesson file"),
        QStringLiteral("NAME|FILE"));
    const QCommandLineOption lessonPage(QStringLiteral("page"),
                                        QStringLiteral("The lesson's page to open (default 1)"),
                                        QStringLiteral("K"));
    cli.addOptions({lesson, lessonPage});
    const QCommandLineOption view(
        QStringLiteral("view"),
        QStringLiteral("The centre page to show: training (the curves) or mechanism (weight map, "
                       "code flips, stages, network, K-Means)"),
        QStringLiteral("training|mechanism"));
    cli.addOption(view);
    if (!cli.parse(app.arguments())) return usageError(cli.errorText());
    if (cli.isSet(QStringLiteral("help"))) cli.showHelp(0);
    if (cli.isSet(QStringLiteral("version"))) cli.showVersion();
    if (cli.isSet(preset) && cli.isSet(config))
        return usageError(QStringLiteral("give --preset or --config, not both"));
    if (cli.isSet(scenario) && (cli.isSet(preset) || cli.isSet(config)))
        return usageError(QStringLiteral("give --scenario or --preset/--config, not both"));
    if (cli.isSet(record) && !cli.isSet(run))
        return usageError(QStringLiteral("--record needs --run (the recording ends with the run)"));
    if (cli.isSet(record)) {
        const QString err = h158::ui::Recorder::checkPath(cli.value(record));
        if (!err.isEmpty()) return usageError(err);
    }

    h158::ui::MainWindowOptions options;
    options.workspace = QDir(cli.value(workspace)).absolutePath();
    if (!cli.isSet(workspace)) options.workspace.clear();
    // A screenshot shows what the command line asks for, not the last session's saved layout.
    options.useSettings = !cli.isSet(shot);
    h158::ui::MainWindow window(options);
    if (cli.isSet(compare)) window.runsPanel()->checkAllShown();
    h158::ui::ConfigPanel* form = window.configPanel();
    if (cli.isSet(preset) && !form->selectPreset(cli.value(preset)))
        return usageError(QStringLiteral("unknown preset '%1'").arg(cli.value(preset)));
    if (cli.isSet(config)) {
        QString error;
        if (!form->loadFile(cli.value(config), &error)) return usageError(error);
    }
    if (cli.isSet(scenario)) {
        QString error;
        if (!h158::ui::openScenario(window, cli.value(scenario), &error)) return usageError(error);
    }
    if (cli.isSet(presenterMode)) window.presenter()->setActive(true);
    if (cli.isSet(view)) {
        const QString v = cli.value(view);
        if (v != QLatin1String("training") && v != QLatin1String("mechanism"))
            return usageError(QStringLiteral("--view must be training or mechanism, not '%1'").arg(v));
        window.showPage(v == QLatin1String("mechanism") ? h158::ui::MainWindow::MechanismPage
                                                        : h158::ui::MainWindow::TrainingPage);
    }
    if (cli.isSet(lessonPage) && !cli.isSet(lesson))
        return usageError(QStringLiteral("--page goes with --lesson"));
    if (cli.isSet(lesson)) {
        bool ok = true;
        const int page = cli.isSet(lessonPage) ? cli.value(lessonPage).toInt(&ok) : 1;
        if (!ok) return usageError(QStringLiteral("--page expects a number, got '%1'")
                                       .arg(cli.value(lessonPage)));
        QString error;
        if (!window.openLesson(cli.value(lesson), page, &error)) return usageError(error);
    }
    if (cli.isSet(steps)) {
        form->setFieldText(QStringLiteral("run.steps"), cli.value(steps));
        const QString err = form->fieldError(QStringLiteral("run.steps"));
        if (!err.isEmpty()) return usageError(err);
    }
    if (cli.isSet(run) && !form->isValid())
        return usageError(form->errors().value(0, QStringLiteral("invalid configuration")));
    // The same picture whatever was saved (a scenario brings its own size).
    if (cli.isSet(shot) && !cli.isSet(scenario)) window.fitToScreen();
    window.show();

    const QString screenshot = cli.value(shot);
    h158::ui::Recorder* recorder = nullptr;
    if (cli.isSet(record)) {
        recorder = new h158::ui::Recorder(&window, &window, cli.value(record));
        QString error;
        if (!recorder->start(&error)) return usageError(error);
        QObject::connect(recorder, &h158::ui::Recorder::finished, &window,
                         [](bool, const QString& message) {
                             std::fprintf(stderr, "hybrid158: %s\n", qPrintable(message));
                         });
    }
    auto saveAndQuit = [&window, screenshot, recorder] {
        if (!window.saveScreenshot(screenshot)) {
            std::fprintf(stderr, "hybrid158: cannot write %s\n", qPrintable(screenshot));
            QApplication::exit(1);
            return;
        }
        // After the screenshot's redraw, so the animation ends on the same picture.
        if (recorder && recorder->recording() && !recorder->finish()) {
            QApplication::exit(1);
            return;
        }
        QApplication::exit(0);
    };
    if (cli.isSet(run)) {
        if (!screenshot.isEmpty())
            QObject::connect(&window, &h158::ui::MainWindow::runFinished, &window,
                             [saveAndQuit] { QTimer::singleShot(0, saveAndQuit); });
        QTimer::singleShot(0, &window, &h158::ui::MainWindow::startRun);
    } else if (!screenshot.isEmpty() && cli.isSet(lesson)) {
        // The page's actions first (a run to step N, say), then the picture.
        QObject::connect(window.lessonsDock(), &h158::ui::LessonsDock::pageReady, &window,
                         [saveAndQuit] { QTimer::singleShot(300, saveAndQuit); });
    } else if (!screenshot.isEmpty()) {
        QTimer::singleShot(100, &window, saveAndQuit);
    }
    return app.exec();
}
