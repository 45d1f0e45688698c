// hybrid158: the workbench window.
//   hybrid158 [--preset NAME | --config FILE] [--run] [--steps N] [--screenshot FILE.png]
//             [--workspace DIR] [--compare]
// With --screenshot it waits until the run has finished (or, without --run, until the window
// is shown), saves a PNG of the whole window and exits 0. Exit 2 on a usage or config error.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QTimer>
#include <cstdio>

#include "ui/config_panel.h"
#include "ui/main_window.h"
#include "ui/runs_panel.h"
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
    if (!cli.parse(app.arguments())) return usageError(cli.errorText());
    if (cli.isSet(QStringLiteral("help"))) cli.showHelp(0);
    if (cli.isSet(QStringLiteral("version"))) cli.showVersion();
    if (cli.isSet(preset) && cli.isSet(config))
        return usageError(QStringLiteral("give --preset or --config, not both"));

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
    if (cli.isSet(steps)) {
        form->setFieldText(QStringLiteral("run.steps"), cli.value(steps));
        const QString err = form->fieldError(QStringLiteral("run.steps"));
        if (!err.isEmpty()) return usageError(err);
    }
    if (cli.isSet(run) && !form->isValid())
        return usageError(form->errors().value(0, QStringLiteral("invalid configuration")));
    if (cli.isSet(shot)) window.fitToScreen();  // the same picture whatever was saved
    window.show();

    const QString screenshot = cli.value(shot);
    auto saveAndQuit = [&window, screenshot] {
        if (!window.saveScreenshot(screenshot)) {
            std::fprintf(stderr, "hybrid158: cannot write %s\n", qPrintable(screenshot));
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
    } else if (!screenshot.isEmpty()) {
        QTimer::singleShot(100, &window, saveAndQuit);
    }
    return app.exec();
}
