// The window's side of sweeps: the Sweep dialog, the `hybrid158-cli sweep` process it starts,
// and its runs listed in the Runs panel as each one ends.
#include <signal.h>

#include <QCoreApplication>
#include <QDir>
#include <QProcess>
#include <QStatusBar>

#include "ui/main_window.h"
#include "ui/runs_panel.h"
#include "ui/sweep_dialog.h"
#include "ui/config_panel.h"

namespace h158::ui {

bool MainWindow::sweepRunning() const {
    return m_sweep && m_sweep->state() != QProcess::NotRunning;
}

void MainWindow::openSweepDialog() {
    if (sweepRunning()) {
        showBanner(tr("A sweep is running; it must end before another starts."), true);
        return;
    }
    SweepDialog d(m_config->config(), m_config->presetName(), m_workspace, this);
    if (d.exec() == QDialog::Accepted) startSweep(d.arguments());
}

bool MainWindow::startSweep(const QStringList& arguments) {
    if (sweepRunning()) {
        showBanner(tr("A sweep is running; it must end before another starts."), true);
        return false;
    }
    QDir().mkpath(m_workspace);
    const QString cli = m_options.cliPath.isEmpty()
                            ? QCoreApplication::applicationDirPath() + QStringLiteral("/hybrid158-cli")
                            : m_options.cliPath;
    delete m_sweep;
    m_sweep = new QProcess(this);
    m_sweepOutput.clear();
    m_sweep->setProgram(cli);
    m_sweep->setArguments(arguments);
    m_sweep->setWorkingDirectory(QDir::currentPath());
    connect(m_sweep, &QProcess::readyReadStandardError, this, &MainWindow::onSweepOutput);
    connect(m_sweep, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
        onSweepOutput();
        m_runs->scanWorkspace(m_workspace);
        const QString tally = QString::fromUtf8(m_sweep->readAllStandardOutput()).trimmed();
        if (status == QProcess::NormalExit && code == 0)
            showBanner(tr("The sweep completed: %1").arg(tally), false);
        else
            showBanner(tr("The sweep ended with exit code %1: %2")
                           .arg(status == QProcess::NormalExit ? code : -1)
                           .arg(tally.isEmpty() ? QString::fromUtf8(m_sweepOutput) : tally),
                       true);
        m_sweepAct->setEnabled(true);
        emit sweepFinished(status == QProcess::NormalExit ? code : -1);
    });
    m_sweep->start();
    if (!m_sweep->waitForStarted(10000)) {
        showBanner(tr("Cannot start %1: %2").arg(cli, m_sweep->errorString()), true);
        return false;
    }
    m_sweepAct->setEnabled(false);
    statusBar()->showMessage(tr("Sweep started: %1").arg(arguments.join(QLatin1Char(' '))), 5000);
    return true;
}

void MainWindow::onSweepOutput() {
    if (!m_sweep) return;
    m_sweepOutput += m_sweep->readAllStandardError();
    bool runEnded = false;
    for (int nl = m_sweepOutput.indexOf('\n'); nl >= 0; nl = m_sweepOutput.indexOf('\n')) {
        const QString line = QString::fromUtf8(m_sweepOutput.left(nl)).trimmed();
        m_sweepOutput.remove(0, nl + 1);
        if (line.startsWith(QLatin1Char('['))) {  // "[3/12] 003-lr=... completed  loss ..."
            runEnded = true;
            statusBar()->showMessage(tr("Sweep: %1").arg(line));
        }
    }
    if (runEnded) m_runs->scanWorkspace(m_workspace);
}

void MainWindow::stopSweep() {
    if (!sweepRunning()) return;
    // SIGINT: the sweep passes it on and its runs stop with a checkpoint, so the same sweep
    // continues them later.
    ::kill(pid_t(m_sweep->processId()), SIGINT);
    if (!m_sweep->waitForFinished(20000)) m_sweep->kill();
}

}  // namespace h158::ui
