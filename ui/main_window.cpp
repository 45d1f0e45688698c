#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QFileDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QToolBar>
#include <QVBoxLayout>
#include <climits>
#include <nlohmann/json.hpp>

#include "core/train/run_session.h"
#include "ui/boundary_panel.h"
#include "ui/cluster_panel.h"
#include "ui/config_panel.h"
#include "ui/constraint_panel.h"
#include "ui/loss_panel.h"
#include "ui/lr_panel.h"
#include "ui/memory_panel.h"
#include "ui/quant_panel.h"
#include "ui/run_controller.h"
#include "ui/runs_panel.h"
#include "ui/samples_panel.h"
#include "ui/status_view.h"
#include "ui/weights_panel.h"

namespace h158::ui {

namespace {}  // namespace

MainWindow::MainWindow(const MainWindowOptions& options, QWidget* parent)
    : QMainWindow(parent), m_controller(new RunController(this)), m_options(options) {
    setWindowTitle(QStringLiteral("hybrid158"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/hybrid158-256.png")));
    setObjectName(QStringLiteral("hybrid158MainWindow"));
    buildCentre();
    buildDocks();
    buildActions();
    buildStatusBar();
    resize(1600, 1000);

    connect(m_controller, &RunController::batchReady, this, &MainWindow::onBatch);
    connect(m_controller, &RunController::stateChanged, this, &MainWindow::onState);
    connect(m_config, &ConfigPanel::validityChanged, this, &MainWindow::updateActions);
    connect(m_config, &ConfigPanel::configChanged, this, [this] {
        if (!isActive(m_controller->state()) && m_liveRunId == 0) layoutPanels(m_config->config());
    });
    connect(m_runs, &RunsPanel::overlaysChanged, this, &MainWindow::updateOverlays);
    connect(m_runs, &RunsPanel::changeWorkspaceRequested, this, &MainWindow::chooseWorkspace);
    m_redraw.setTimerType(Qt::PreciseTimer);
    m_redraw.setInterval(kRedrawMs);
    connect(&m_redraw, &QTimer::timeout, this, &MainWindow::onTick);
    m_redraw.start();

    restoreSettings();
    for (Panel* p : m_panels) p->beginRun(m_config->config(), QColor(120, 120, 120));
    layoutPanels(m_config->config());
    m_memory->setConfig(m_config->config());
    updateActions();
    updateStatus();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildCentre() {
    m_loss = new LossPanel;
    m_boundary = new BoundaryPanel;
    m_samples = new SamplesPanel;
    m_cluster = new ClusterPanel;
    m_weights = new WeightsPanel;
    m_constraint = new ConstraintPanel;
    m_quant = new QuantPanel;
    m_lr = new LrPanel;
    m_topRow = {m_loss, m_boundary, m_samples, m_cluster};
    m_bottomRow = {m_constraint, m_quant, m_lr, m_weights};
    m_panels = m_topRow + m_bottomRow;

    auto* centre = new QWidget;
    auto* v = new QVBoxLayout(centre);
    v->setContentsMargins(4, 4, 4, 4);
    v->setSpacing(4);
    m_banner = new QLabel;
    m_banner->setWordWrap(true);
    m_banner->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_banner->hide();
    v->addWidget(m_banner);
    m_rows = new QSplitter(Qt::Vertical);
    m_top = new QSplitter(Qt::Horizontal);
    m_bottom = new QSplitter(Qt::Horizontal);
    for (Panel* p : m_topRow) m_top->addWidget(p);
    for (Panel* p : m_bottomRow) m_bottom->addWidget(p);
    for (QSplitter* s : {m_rows, m_top, m_bottom}) {
        s->setChildrenCollapsible(false);
        s->setHandleWidth(5);
    }
    m_rows->addWidget(m_top);
    m_rows->addWidget(m_bottom);
    v->addWidget(m_rows, 1);
    setCentralWidget(centre);
    for (Panel* p : m_panels)
        connect(p, &Panel::maximizeToggled, this, &MainWindow::toggleMaximized);
}

void MainWindow::buildDocks() {
    m_config = new ConfigPanel;
    m_config->setMinimumWidth(340);
    auto* configDock = new QDockWidget(tr("Configuration"), this);
    configDock->setObjectName(QStringLiteral("configDock"));
    configDock->setWidget(m_config);
    configDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, configDock);
    m_runs = new RunsPanel;
    auto* runsDock = new QDockWidget(tr("Runs"), this);
    runsDock->setObjectName(QStringLiteral("runsDock"));
    runsDock->setWidget(m_runs);
    runsDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, runsDock);
    splitDockWidget(configDock, runsDock, Qt::Vertical);
    m_memory = new MemoryPanel;
    auto* memoryDock = new QDockWidget(tr("Memory"), this);
    memoryDock->setObjectName(QStringLiteral("memoryDock"));
    memoryDock->setWidget(m_memory);
    memoryDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                            QDockWidget::DockWidgetClosable);
    tabifyDockWidget(runsDock, memoryDock);
    runsDock->raise();
    resizeDocks({configDock, runsDock}, {690, 250}, Qt::Vertical);
    resizeDocks({configDock}, {370}, Qt::Horizontal);
}

void MainWindow::buildActions() {
    QStyle* st = style();
    m_runAct = new QAction(st->standardIcon(QStyle::SP_MediaPlay), tr("&Run"), this);
    m_runAct->setShortcuts({QKeySequence(Qt::Key_F5), QKeySequence(Qt::CTRL | Qt::Key_Return)});
    m_runAct->setToolTip(tr("Start a new run with this configuration (F5)"));
    m_pauseAct = new QAction(st->standardIcon(QStyle::SP_MediaPause), tr("&Pause"), this);
    m_pauseAct->setShortcut(QKeySequence(Qt::Key_Space));
    m_pauseAct->setToolTip(tr("Pause or resume the run (Space)"));
    m_stepAct = new QAction(st->standardIcon(QStyle::SP_MediaSkipForward), tr("&Step"), this);
    m_stepAct->setShortcuts({QKeySequence(Qt::Key_F10), QKeySequence(Qt::CTRL | Qt::Key_Right)});
    m_stepAct->setToolTip(tr("Exactly one training step while paused (F10)"));
    m_stopAct = new QAction(st->standardIcon(QStyle::SP_MediaStop), tr("S&top"), this);
    m_stopAct->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F5));
    m_stopAct->setToolTip(tr("End the run as stopped; everything written so far stays (Shift+F5)"));
    m_resetAct = new QAction(st->standardIcon(QStyle::SP_BrowserReload), tr("R&eset"), this);
    m_resetAct->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    m_resetAct->setToolTip(
        tr("Stop the run and clear the views, ready to run again (Ctrl+Shift+R)"));
    connect(m_runAct, &QAction::triggered, this, &MainWindow::startRun);
    connect(m_pauseAct, &QAction::triggered, this, &MainWindow::togglePause);
    connect(m_stepAct, &QAction::triggered, this, &MainWindow::stepRun);
    connect(m_stopAct, &QAction::triggered, this, &MainWindow::stopRun);
    connect(m_resetAct, &QAction::triggered, this, &MainWindow::resetRun);

    QToolBar* tb = addToolBar(tr("Run"));
    tb->setObjectName(QStringLiteral("runToolBar"));
    tb->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    tb->setMovable(false);
    tb->addActions({m_runAct, m_pauseAct, m_stepAct, m_stopAct, m_resetAct});

    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(st->standardIcon(QStyle::SP_DialogOpenButton), tr("&Open config…"),
                    QKeySequence::Open, m_config, &ConfigPanel::openFile);
    file->addAction(st->standardIcon(QStyle::SP_DialogSaveButton), tr("&Save config…"),
                    QKeySequence::Save, m_config, &ConfigPanel::saveFileAs);
    file->addAction(tr("Reset config to &preset"), m_config, &ConfigPanel::resetToPreset);
    file->addSeparator();
    file->addAction(tr("Choose &workspace…"), this, &MainWindow::chooseWorkspace);
    file->addAction(tr("Save &window as PNG…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(
            this, tr("Save window"), QStringLiteral("hybrid158.png"), tr("PNG image (*.png)"));
        if (!f.isEmpty()) saveScreenshot(f);
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addActions({m_runAct, m_pauseAct, m_stepAct, m_stopAct, m_resetAct});
    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (QDockWidget* d : findChildren<QDockWidget*>()) view->addAction(d->toggleViewAction());
    view->addAction(tr("Show &all views"), this, [this] {
        if (m_maximized) toggleMaximized(m_maximized);
    });
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About hybrid158"), this, [this] {
        QMessageBox::about(this, tr("About hybrid158"),
                           tr("<h3>hybrid158</h3><p>A workbench for 1.58-bit (ternary) training: "
                              "ternary quantization-aware training, K-Means data and parameter "
                              "clustering, an auxiliary network that predicts the learning rate "
                              "and the trust radius, and trust-region constrained steps.</p>"
                              "<p>Runs are written to the workspace in the same format as "
                              "<tt>hybrid158-cli run</tt>.</p>"));
    });
}

void MainWindow::buildStatusBar() {
    m_status = new StatusView(statusBar());
}

void MainWindow::restoreSettings() {
    QString ws = m_options.workspace;
    if (m_options.useSettings) {
        QSettings s(QStringLiteral("hybrid158"), QStringLiteral("hybrid158"));
        restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
        restoreState(s.value(QStringLiteral("window/state")).toByteArray());
        const QString preset = s.value(QStringLiteral("config/preset")).toString();
        if (!preset.isEmpty()) m_config->selectPreset(preset);
        const QString json = s.value(QStringLiteral("config/json")).toString();
        if (!json.isEmpty()) {
            try {
                m_config->setConfig(fromJson(nlohmann::json::parse(json.toStdString()), Config{},
                                             "saved settings"));
            } catch (const std::exception&) {
                // a config from an older version: keep the preset
            }
        }
        if (ws.isEmpty()) ws = s.value(QStringLiteral("workspace")).toString();
    }
    if (ws.isEmpty())
        ws = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
             QStringLiteral("/runs");
    setWorkspace(ws);
}

void MainWindow::saveSettings() {
    if (!m_options.useSettings) return;
    QSettings s(QStringLiteral("hybrid158"), QStringLiteral("hybrid158"));
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("config/preset"), m_config->presetName());
    s.setValue(QStringLiteral("config/json"),
               QString::fromStdString(toJson(m_config->config()).dump()));
    s.setValue(QStringLiteral("workspace"), m_workspace);
}

void MainWindow::closeEvent(QCloseEvent* e) {
    saveSettings();
    QMainWindow::closeEvent(e);
}

void MainWindow::setWorkspace(const QString& dir) {
    m_workspace = dir;
    QDir().mkpath(dir);
    m_runs->clearPastRuns();
    m_runs->scanWorkspace(dir);
}

void MainWindow::chooseWorkspace() {
    const QString d = QFileDialog::getExistingDirectory(this, tr("Workspace folder"), m_workspace);
    if (!d.isEmpty()) setWorkspace(d);
}

RunState MainWindow::state() const {
    return m_controller->state();
}

int64_t MainWindow::receivedSteps() const {
    return m_liveRows ? int64_t(m_liveRows->size()) : 0;
}

QString MainWindow::liveRunDirectory() const {
    const RunEntry* e = m_runs->entry(m_liveEntry);
    return e ? e->dir : QString();
}

QString MainWindow::bannerText() const {
    return m_banner->isVisible() ? m_banner->text() : QString();
}

QString MainWindow::statusText() const {
    return m_status->text();
}

void MainWindow::startRun() {
    if (m_controller->state() == RunState::Paused) {
        m_controller->resume();
        return;
    }
    beginRun(false);
}

bool MainWindow::beginRun(bool paused) {
    if (isActive(m_controller->state()) || !m_config->isValid()) return false;
    const Config cfg = m_config->config();
    QDir().mkpath(m_workspace);
    const QString dir =
        QString::fromStdString(newRunDirectory(m_workspace.toStdString(), cfg.run.name));
    const int runId = m_controller->start(cfg, dir, paused);
    if (runId == 0) return false;
    auto rows = std::make_shared<std::vector<StepMetrics>>();
    m_liveEntry = m_runs->addSessionRun(dir, cfg.run.steps, rows);
    m_entryOfRun[runId] = m_liveEntry;
    m_rowsOfRun[runId] = rows;
    m_liveRunId = runId;
    m_liveRows = rows;
    m_liveConfig = cfg;
    m_liveState = RunState::Starting;
    m_pendingRows.clear();
    m_pendingSnapshots.clear();
    m_status->restartRate();
    m_banner->hide();
    if (m_maximized && !m_maximized->appliesTo(cfg)) toggleMaximized(m_maximized);
    const QColor colour = m_runs->entry(m_liveEntry)->colour;
    for (Panel* p : m_panels) p->beginRun(cfg, colour);
    layoutPanels(cfg);
    updateOverlays();
    m_memory->setConfig(cfg);
    setWindowTitle(QStringLiteral("hybrid158 — %1").arg(QString::fromStdString(cfg.run.name)));
    updateActions();
    return true;
}

void MainWindow::togglePause() {
    m_controller->togglePause();
}

void MainWindow::stepRun() {
    if (m_controller->state() == RunState::Paused) {
        m_controller->step();
    } else if (!isActive(m_controller->state())) {
        // Like the Playground: Step on a fresh configuration starts a paused run and steps once.
        if (beginRun(true)) m_controller->step();
    }
}

void MainWindow::stopRun() {
    m_controller->stop();
}

void MainWindow::resetRun() {
    m_controller->reset();
    m_liveRunId = 0;
    m_liveEntry = 0;
    m_liveRows.reset();
    m_pendingRows.clear();
    m_pendingSnapshots.clear();
    m_status->restartRate();
    m_banner->hide();
    for (Panel* p : m_panels) p->beginRun(m_config->config(), QColor(120, 120, 120));
    layoutPanels(m_config->config());
    updateOverlays();
    setWindowTitle(QStringLiteral("hybrid158"));
    updateActions();
    updateStatus();
}

void MainWindow::onBatch(const RunBatchPtr& ptr) {
    const RunBatch& batch = *ptr;
    const auto rows = m_rowsOfRun.find(batch.runId);
    if (rows != m_rowsOfRun.end())
        rows->second->insert(rows->second->end(), batch.rows.begin(), batch.rows.end());
    if (batch.runId != m_liveRunId) return;
    m_pendingRows.insert(m_pendingRows.end(), batch.rows.begin(), batch.rows.end());
    for (const Snapshot& s : batch.snapshots) addLatest(m_pendingSnapshots, s);
}

void MainWindow::onState(int runId, RunState s, const QString& message, qint64 steps) {
    const auto entry = m_entryOfRun.find(runId);
    if (entry != m_entryOfRun.end() && s != RunState::Idle) {
        const RunEntry* e = m_runs->entry(entry->second);
        const double fin = isFinal(s) && e ? readFinalLoss(e->dir) : kNoValue;
        m_runs->updateRun(entry->second, s, steps, fin);
    }
    if (runId == m_liveRunId && s != RunState::Idle) {
        m_liveState = s;
        if (s == RunState::Diverged)
            showBanner(tr("The run diverged and was stopped. %1").arg(message), true);
        else if (s == RunState::Failed)
            showBanner(tr("The run failed: %1").arg(message), true);
    }
    const bool running = m_controller->state() == RunState::Running;
    for (Panel* p : m_panels) p->setLiveQuality(running);
    updateActions();
    updateStatus();
    if (runId == m_liveRunId && isFinal(s)) {
        drainPending();
        emit runFinished(s);
    }
}

void MainWindow::drainPending() {
    if (!m_pendingRows.empty()) {
        for (Panel* p : m_panels)
            if (p->appliesTo(m_liveConfig)) p->appendRows(m_pendingRows);
        m_pendingRows.clear();
    }
    if (!m_pendingSnapshots.empty()) {
        for (const Snapshot& s : m_pendingSnapshots)
            for (Panel* p : m_panels)
                if (p->appliesTo(m_liveConfig)) p->applySnapshot(s);
        m_pendingSnapshots.clear();
    }
}

// One tick: hand the queued rows to the panels (addData only), then replot the panels that
// changed, round robin, until the tick's budget is spent. A replot costs 2–15 ms, so all panels
// at 30 Hz would keep the UI thread busy and hold the event loop for one long stretch; with the
// budget the loop stays responsive and training keeps its CPU, and a panel skipped now is drawn
// first on the next tick.
void MainWindow::onTick() {
    QElapsedTimer spent;
    spent.start();
    drainPending();
    const int n = int(m_panels.size());
    const int minInterval = m_liveState == RunState::Running ? kLivePanelIntervalMs : 0;
    for (int i = 0; i < n && spent.elapsed() < kRedrawBudgetMs; ++i) {
        Panel* p = m_panels[(m_nextPanel + i) % n];
        if (p->refresh(minInterval)) m_nextPanel = (m_nextPanel + i + 1) % n;
    }
    updateStatus();
    m_longestTickMs = std::max(m_longestTickMs, double(spent.nsecsElapsed()) * 1e-6);
}

bool MainWindow::saveScreenshot(const QString& path) {
    drainPending();
    updateStatus();
    for (Panel* p : m_panels)
        if (p->isVisible()) p->forceRedraw();
    return grab().save(path, "PNG");
}

void MainWindow::updateActions() {
    const RunState s = m_controller->state();
    const bool active = isActive(s);
    const bool valid = m_config->isValid();
    m_runAct->setEnabled(!active && valid);
    m_pauseAct->setEnabled(s == RunState::Running || s == RunState::Paused);
    const bool paused = s == RunState::Paused;
    m_pauseAct->setText(paused ? tr("Resume") : tr("&Pause"));
    m_pauseAct->setIcon(
        style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
    m_stepAct->setEnabled(paused || (!active && valid));
    m_stopAct->setEnabled(active);
    m_resetAct->setEnabled(s != RunState::Idle || m_liveRunId != 0);
    m_runAct->setToolTip(valid ? tr("Start a new run with this configuration (F5)")
                               : tr("Fix the marked fields of the configuration first"));
}

void MainWindow::updateStatus() {
    const RunState s = m_liveRunId ? m_liveState : m_controller->state();
    const int64_t total = m_liveRunId ? m_liveConfig.run.steps : m_config->config().run.steps;
    m_status->update(s, receivedSteps(), total, m_liveRows.get());
}

void MainWindow::updateOverlays() {
    const std::vector<RunOverlay> o = m_runs->overlays(m_liveEntry);
    for (Panel* p : m_panels) p->setOverlays(o);
}

void MainWindow::layoutPanels(const Config& cfg) {
    QList<Panel*> shown;
    for (Panel* p : m_panels)
        if (p->appliesTo(cfg) && (!m_maximized || m_maximized == p)) shown << p;
    if (shown == m_shown) return;  // keep what the user did to the splitters
    m_shown = shown;
    for (Panel* p : m_panels) p->setVisible(shown.contains(p));
    auto count = [&](const QList<Panel*>& row) {
        int n = 0;
        for (Panel* p : row) n += p->isVisibleTo(this) ? 1 : 0;
        return n;
    };
    m_top->setVisible(count(m_topRow) > 0);
    m_bottom->setVisible(count(m_bottomRow) > 0);
    for (QSplitter* s : {m_top, m_bottom}) {
        QList<int> sizes;
        for (int i = 0; i < s->count(); ++i) sizes << 1000;
        s->setSizes(sizes);
    }
    m_rows->setSizes({1000, 1000});
}

void MainWindow::toggleMaximized(Panel* p) {
    m_maximized = m_maximized == p ? nullptr : p;
    layoutPanels(m_liveRunId ? m_liveConfig : m_config->config());
}

void MainWindow::showBanner(const QString& text, bool error) {
    m_banner->setText(text);
    m_banner->setStyleSheet(
        error ? QStringLiteral("background:#fdecea; color:#b71c1c; border:1px solid "
                               "#f5c2c0; border-radius:3px; padding:6px;")
              : QStringLiteral("background:#e8f1fb; color:#0d47a1; border:1px solid "
                               "#bcd6f2; border-radius:3px; padding:6px;"));
    m_banner->show();
}

}  // namespace h158::ui
