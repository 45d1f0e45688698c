// The main window: its panels, docks, actions, settings and workspace. Run control is in
// main_window_run.cpp.
#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <algorithm>
#include <QElapsedTimer>
#include <QFile>
#include <QFileDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <QVBoxLayout>
#include <climits>
#include <nlohmann/json.hpp>

#include "core/exp/run_session.h"
#include "ui/boundary_panel.h"
#include "ui/cluster_panel.h"
#include "ui/flips_panel.h"
#include "ui/kmeans_panel.h"
#include "ui/config_panel.h"
#include "ui/constraint_panel.h"
#include "ui/loss_panel.h"
#include "ui/lr_panel.h"
#include "ui/memory_panel.h"
#include "ui/network_panel.h"
#include "ui/precision_panel.h"
#include "ui/presenter.h"
#include "ui/quant_panel.h"
#include "ui/recorder.h"
#include "ui/rewind_bar.h"
#include "ui/run_controller.h"
#include "ui/runs_panel.h"
#include "ui/samples_panel.h"
#include "ui/scenario.h"
#include "ui/snapshot_store.h"
#include "ui/stages_panel.h"
#include "ui/status_view.h"
#include "ui/weight_map_panel.h"
#include "ui/weights_panel.h"

namespace h158::ui {


MainWindow::MainWindow(const MainWindowOptions& options, QWidget* parent)
    : QMainWindow(parent), m_controller(new RunController(this)), m_options(options) {
    setWindowTitle(QStringLiteral("hybrid158"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/hybrid158-256.png")));
    setObjectName(QStringLiteral("hybrid158MainWindow"));
    buildCentre();
    buildDocks();
    m_presenter = new Presenter(this);
    buildActions();
    setupIntervening();
    buildStatusBar();
    layoutPanels(m_config->config());  // size for the panels this config shows, not for all
    fitToScreen();

    connect(m_controller, &RunController::batchReady, this, &MainWindow::onBatch);
    connect(m_controller, &RunController::stateChanged, this, &MainWindow::onState);
    connect(m_config, &ConfigPanel::validityChanged, this, &MainWindow::updateActions);
    connect(m_config, &ConfigPanel::configChanged, this, [this] {
        if (!isActive(m_controller->state()) && m_liveRunId == 0) layoutPanels(shownConfig());
    });
    // K-Means move by move clusters the data of the form, run or not.
    if (auto* kmeans = findChild<KMeansPanel*>(QStringLiteral("kmeans")))
        connect(m_config, &ConfigPanel::configChanged, kmeans,
                [this, kmeans] { kmeans->setConfig(m_config->config()); });
    connect(m_runs, &RunsPanel::overlaysChanged, this, &MainWindow::updateOverlays);
    connect(m_runs, &RunsPanel::changeWorkspaceRequested, this, &MainWindow::chooseWorkspace);
    connect(m_runs, &RunsPanel::resumeRequested, this, [this](int id) { resumeRun(id); });
    connect(m_runs, &RunsPanel::currentRunChanged, this, &MainWindow::updateActions);
    connect(m_runs, &RunsPanel::currentRunChanged, this, &MainWindow::onCurrentRunChanged);
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

MainWindow::~MainWindow() {
    stopSweep();
}

void MainWindow::buildCentre() {
    m_loss = new LossPanel;
    m_boundary = new BoundaryPanel;
    m_samples = new SamplesPanel;
    m_cluster = new ClusterPanel;
    m_weights = new WeightsPanel;
    m_constraint = new ConstraintPanel;
    m_quant = new QuantPanel;
    m_lr = new LrPanel;
    auto* precision = new PrecisionPanel;  // fed like the others, through m_panels
    m_topRow = {m_loss, m_boundary, m_samples, m_cluster, precision};
    m_bottomRow = {m_constraint, m_quant, m_lr, m_weights};
    m_panels = m_topRow + m_bottomRow;
    // The panel ids lessons, presenter mode and scenario files name (README, "Panel ids").
    const std::pair<Panel*, const char*> ids[] = {
        {m_loss, "loss"},       {m_boundary, "boundary"},     {m_samples, "samples"},
        {m_cluster, "clusters"}, {precision, "precision"},    {m_constraint, "constraint"},
        {m_quant, "quant"},     {m_lr, "lr"},                 {m_weights, "weights"}};
    for (const auto& [panel, id] : ids) panel->setObjectName(QLatin1String(id));

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
    // Two pages: the training curves, and the views that show the mechanism (the weights cell by
    // cell, code flips, the network, one step in stages, K-Means move by move). Panels of the
    // second page are added by addMechanismPanel, in m_mechanismRows.
    m_pages = new QTabWidget;
    m_pages->setObjectName(QStringLiteral("centrePages"));
    m_pages->setDocumentMode(true);
    m_pages->addTab(m_rows, tr("Training"));
    m_mechanism = new QSplitter(Qt::Vertical);
    m_mechanism->setChildrenCollapsible(false);
    m_mechanism->setHandleWidth(5);
    m_pages->addTab(m_mechanism, tr("Mechanism"));
    auto* weightMap = new WeightMapPanel;
    connect(weightMap, &WeightMapPanel::weightMapTensorRequested, m_controller,
            &RunController::setWeightMapTensor);
    addMechanismPanel(weightMap, 0);
    addMechanismPanel(new FlipsPanel, 0);
    m_stages = new StagesPanel;  // Step into: the stages of one step, explained
    // Through the action, so that a lesson waiting for Step into sees this button's presses too.
    connect(m_stages, &StagesPanel::stageRequested, this, [this] { m_stepIntoAct->trigger(); });
    addMechanismPanel(m_stages, 0);
    // each stage is shown in the panels it touches: they are framed for a moment
    m_stageFlash.setSingleShot(true);
    m_stageFlash.setInterval(1500);
    connect(&m_stageFlash, &QTimer::timeout, this, [this] { flashPanels({}); });
    connect(m_stages, &StagesPanel::panelsTouched, this, &MainWindow::flashPanels);
    // the network diagram: hovering a unit shows its map in the decision-boundary panel
    auto* network = new NetworkPanel;
    connect(network, &NetworkPanel::neuronHovered, m_boundary, &BoundaryPanel::showNeuronMap);
    connect(network, &NetworkPanel::neuronLeft, m_boundary, &BoundaryPanel::clearNeuronMap);
    addMechanismPanel(network, 1);
    addMechanismPanel(new KMeansPanel, 1);  // K-Means move by move, on the data of the config
    v->addWidget(m_pages, 1);
    v->addWidget(buildRewindBar());
    setCentralWidget(centre);
    for (Panel* p : m_panels)
        connect(p, &Panel::maximizeToggled, this, &MainWindow::toggleMaximized);
}

void MainWindow::addMechanismPanel(Panel* p, int row) {
    while (m_mechanism->count() <= row) {
        auto* s = new QSplitter(Qt::Horizontal);
        s->setChildrenCollapsible(false);
        s->setHandleWidth(5);
        m_mechanism->addWidget(s);
    }
    static_cast<QSplitter*>(m_mechanism->widget(row))->addWidget(p);
    m_panels << p;  // buildCentre connects every panel's maximize button
    m_mechanismPanels << p;
}

void MainWindow::showPage(int page) { m_pages->setCurrentIndex(page); }

void MainWindow::buildDocks() {
    m_config = new ConfigPanel;
    m_config->setMinimumWidth(340);
    auto* configDock = new QDockWidget(tr("Configuration"), this);
    configDock->setObjectName(QStringLiteral("config"));  // the dock ids are panel ids too
    configDock->setWidget(m_config);
    configDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, configDock);
    // The runs table is wide (a column per differing setting, then the figures): it sits under
    // the plots, and the configuration form keeps the whole left side.
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    m_runs = new RunsPanel;
    auto* runsDock = new QDockWidget(tr("Runs"), this);
    runsDock->setObjectName(QStringLiteral("runs"));
    runsDock->setWidget(m_runs);
    runsDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::BottomDockWidgetArea, runsDock);
    m_memory = new MemoryPanel;
    auto* memoryDock = new QDockWidget(tr("Memory"), this);
    memoryDock->setObjectName(QStringLiteral("memory"));
    memoryDock->setWidget(m_memory);
    memoryDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                            QDockWidget::DockWidgetClosable);
    tabifyDockWidget(runsDock, memoryDock);
    runsDock->raise();
    resizeDocks({configDock}, {370}, Qt::Horizontal);
    buildLessonsDock();
}

void MainWindow::buildActions() {
    QStyle* st = style();
    m_runAct = new QAction(st->standardIcon(QStyle::SP_MediaPlay), tr("&Run"), this);
    m_runAct->setShortcuts({QKeySequence(Qt::Key_F5), QKeySequence(Qt::CTRL | Qt::Key_Return)});
    m_runAct->setToolTip(tr("Start a new run with this configuration (F5)"));
    m_pauseAct = new QAction(st->standardIcon(QStyle::SP_MediaPause), tr("&Pause"), this);
    // Space is the quick key, but a text field types it; F8 pauses wherever the focus is (every
    // run shortcut is a function key or a Ctrl chord, which the fields do not use).
    m_pauseAct->setShortcuts({QKeySequence(Qt::Key_F8), QKeySequence(Qt::Key_Space)});
    m_pauseAct->setToolTip(tr("Pause or resume the run (F8 anywhere; Space outside text fields)"));
    m_stepAct = new QAction(st->standardIcon(QStyle::SP_MediaSkipForward), tr("&Step"), this);
    m_stepAct->setShortcuts({QKeySequence(Qt::Key_F10), QKeySequence(Qt::CTRL | Qt::Key_Right)});
    m_stepAct->setToolTip(tr("Exactly one training step while paused (F10)"));
    m_stepIntoAct = new QAction(st->standardIcon(QStyle::SP_ArrowDown), tr("Step &into"), this);
    m_stepIntoAct->setShortcuts({QKeySequence(Qt::Key_F11), QKeySequence(Qt::CTRL | Qt::Key_Down)});
    m_stepIntoAct->setToolTip(tr("One stage of a training step: forward, backward, the auxiliary "
                                 "network, the proposed step, the trust region, the update, "
                                 "re-quantization (F11); the Mechanism page explains each"));
    m_stopAct = new QAction(st->standardIcon(QStyle::SP_MediaStop), tr("S&top"), this);
    m_stopAct->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F5));
    m_stopAct->setToolTip(tr("End the run as stopped; everything written so far stays (Shift+F5)"));
    m_resetAct = new QAction(st->standardIcon(QStyle::SP_BrowserReload), tr("R&eset"), this);
    m_resetAct->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    m_resetAct->setToolTip(
        tr("Stop the run and clear the views, ready to run again (Ctrl+Shift+R)"));
    // The action ids lessons name (wait for a press, press one).
    m_runAct->setObjectName(QStringLiteral("run"));
    m_pauseAct->setObjectName(QStringLiteral("pause"));
    m_stepAct->setObjectName(QStringLiteral("step"));
    m_stopAct->setObjectName(QStringLiteral("stop"));
    m_resetAct->setObjectName(QStringLiteral("reset"));
    m_stepIntoAct->setObjectName(QStringLiteral("step_into"));
    connect(m_runAct, &QAction::triggered, this, &MainWindow::startRun);
    connect(m_pauseAct, &QAction::triggered, this, &MainWindow::togglePause);
    connect(m_stepAct, &QAction::triggered, this, &MainWindow::stepRun);
    connect(m_stepIntoAct, &QAction::triggered, this, &MainWindow::stepIntoRun);
    connect(m_stopAct, &QAction::triggered, this, &MainWindow::stopRun);
    connect(m_resetAct, &QAction::triggered, this, &MainWindow::resetRun);
    m_resumeAct = new QAction(tr("Resume from &checkpoint"), this);
    m_resumeAct->setToolTip(tr("Continue the selected stopped, interrupted or failed run from its "
                               "checkpoint; its metrics go on as if it had never stopped"));
    connect(m_resumeAct, &QAction::triggered, this, [this] { resumeRun(); });
    m_sweepAct = new QAction(tr("S&weep…"), this);
    m_sweepAct->setToolTip(tr("Run a grid of settings × seeds from this configuration, as "
                              "hybrid158-cli sweep does, into a folder of the workspace"));
    connect(m_sweepAct, &QAction::triggered, this, &MainWindow::openSweepDialog);

    QToolBar* tb = addToolBar(tr("Run"));
    tb->setObjectName(QStringLiteral("runToolBar"));
    tb->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    tb->setMovable(false);
    tb->addActions({m_runAct, m_pauseAct, m_stepAct, m_stepIntoAct, m_stopAct, m_resetAct});
    // How fast a running run goes: the spirals demo takes 1,500 steps in about a second, faster
    // than a class can watch. The steps are the same at any speed.
    tb->addSeparator();
    auto* speedLabel = new QLabel(tr(" Speed "));
    tb->addWidget(speedLabel);
    m_speed = new QComboBox;
    m_speed->setObjectName(QStringLiteral("speed"));
    m_speed->setToolTip(tr("Steps per second while running (the results do not depend on it)"));
    for (double v : {0.0, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 300.0})
        m_speed->addItem(v == 0 ? tr("unthrottled") : tr("%1 steps/s").arg(v), v);
    speedLabel->setBuddy(m_speed);
    tb->addWidget(m_speed);
    connect(m_speed, &QComboBox::currentIndexChanged, this,
            [this] { m_controller->setSpeed(m_speed->currentData().toDouble()); });

    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(st->standardIcon(QStyle::SP_DialogOpenButton), tr("&Open config…"),
                    QKeySequence::Open, m_config, &ConfigPanel::openFile);
    file->addAction(st->standardIcon(QStyle::SP_DialogSaveButton), tr("&Save config…"),
                    QKeySequence::Save, m_config, &ConfigPanel::saveFileAs);
    file->addAction(tr("Reset config to &preset"), m_config, &ConfigPanel::resetToPreset);
    file->addSeparator();
    file->addAction(tr("Open &lesson…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Open lesson"), QString(),
                                                       tr("Lesson (*.json)"));
        if (!f.isEmpty()) openLesson(f, 1);
    });
    file->addSeparator();
    file->addAction(tr("Choose &workspace…"), this, &MainWindow::chooseWorkspace);
    file->addAction(tr("Save &window as PNG…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(
            this, tr("Save window"), QStringLiteral("hybrid158.png"), tr("PNG image (*.png)"));
        if (!f.isEmpty()) saveScreenshot(f);
    });
    addScenarioActions(this, file);
    addRecordActions(this, file);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addActions({m_runAct, m_pauseAct, m_stepAct, m_stepIntoAct, m_stopAct, m_resetAct});
    run->addSeparator();
    run->addAction(m_resumeAct);
    run->addAction(m_sweepAct);
    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (QDockWidget* d : findChildren<QDockWidget*>()) view->addAction(d->toggleViewAction());
    view->addAction(tr("Show &all views"), this, [this] {
        if (m_maximized) toggleMaximized(m_maximized);
    });
    m_presenter->addMenuActions(view);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Keyboard shortcuts"), this, [this] {
        QMessageBox::information(this, tr("Keyboard shortcuts"), shortcutsHelp());
    });
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

QString MainWindow::shortcutsHelp() const {
    QString rows;
    for (QAction* a : {m_runAct, m_pauseAct, m_stepAct, m_stepIntoAct, m_stopAct, m_resetAct}) {
        QStringList keys;
        for (const QKeySequence& k : a->shortcuts())
            keys << k.toString(QKeySequence::NativeText).toHtmlEscaped();
        rows += QStringLiteral("<tr><td>%1</td><td>&nbsp;&nbsp;%2</td></tr>")
                    .arg(a->text().remove(QLatin1Char('&')), keys.join(QStringLiteral(", ")));
    }
    return tr("<p>The run keys work wherever the focus is, also in a field of the "
              "configuration: they are function keys and Ctrl chords, which the fields do not "
              "use. Space pauses too, except in a text field, where it types a space.</p>"
              "<table>%1</table>")
        .arg(rows);
}

void MainWindow::fitToScreen() {
    // 1600 x 1000 where the screen has room, else the screen's free area (a 1366 x 768 laptop);
    // the window frame takes the margin.
    QSize size(1600, 1000);
    if (const QScreen* s = screen()) {
        const QSize room = s->availableGeometry().size() - QSize(16, 40);
        size = size.boundedTo(room).expandedTo(minimumSizeHint());
    }
    resize(size);
    // The runs table takes about a quarter of the height: 250 px at 1000, ~150 on a laptop.
    if (auto* runs = findChild<QDockWidget*>(QStringLiteral("runs")))
        resizeDocks({runs}, {std::clamp(size.height() / 4 - 10, 140, 250)}, Qt::Vertical);
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
    if (m_liveRunId == 0 && m_viewEntry != 0) viewPastRun(0);  // its entry goes with the list
    m_runs->clearPastRuns();
    m_runs->scanWorkspace(dir);
}

void MainWindow::chooseWorkspace() {
    const QString d = QFileDialog::getExistingDirectory(this, tr("Workspace folder"), m_workspace);
    if (!d.isEmpty()) setWorkspace(d);
}

bool MainWindow::saveScreenshot(const QString& path) {
    drainPending();
    if (m_viewDirty) applyView();
    updateStatus();
    updateRewindBar();
    for (Panel* p : m_panels)
        if (p->isVisible()) p->forceRedraw();
    return grab().save(path, "PNG");
}

void MainWindow::layoutPanels(const Config& cfg) {
    QList<Panel*> shown;
    for (Panel* p : m_panels)
        if (p->appliesTo(cfg) && (!m_maximized || m_maximized == p) &&
            (!m_presenter || m_presenter->shows(p)))
            shown << p;
    if (shown == m_shown) return;  // keep what the user did to the splitters
    m_shown = shown;
    for (Panel* p : m_panels) p->setVisible(shown.contains(p));
    auto count = [&](const QList<Panel*>& row) {
        int n = 0;
        for (Panel* p : row) n += p->isHidden() ? 0 : 1;  // not isVisibleTo: the row may be hidden
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
    layoutPanels(shownConfig());
}

void MainWindow::relayout() {
    layoutPanels(shownConfig());
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
