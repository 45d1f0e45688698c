// The workbench window: the configuration form and the runs list in docks on the left, the live
// views in two rows in the centre, Run / Pause / Step / Stop / Reset in a toolbar, a menu and on
// shortcuts, and a status bar with state, step, steps/s, ETA and progress. Batches from the
// worker are queued here and handed to the panels by a ~30 Hz timer, which also redraws them.
#pragma once

#include <QMainWindow>
#include <QPointer>
#include <QTimer>
#include <memory>

#include "core/config/config.h"
#include "core/train/lesson.h"
#include "ui/run_state.h"

class QAction;
class QComboBox;
class QLabel;
class QProcess;
class QSplitter;
class QTabWidget;

namespace h158::ui {

class BoundaryPanel;
class ClusterPanel;
class ConfigPanel;
class ConstraintPanel;
class LossPanel;
class LrPanel;
class MemoryPanel;
class Panel;
class QuantPanel;
class RunController;
class RunsPanel;
class SamplesPanel;
class StagesPanel;
class StatusView;
class WeightsPanel;
class LessonsDock;
class Presenter;
class PastRunLoader;
class RewindBar;
class RunSnapshots;

struct MainWindowOptions {
    QString workspace;        // empty: QSettings, else the user's data location + "/runs"
    bool useSettings = true;  // restore and save config, layout and workspace
    QString cliPath;          // hybrid158-cli for sweeps; empty: the one beside this program
};

class MainWindow : public QMainWindow {
    Q_OBJECT
  public:
    static constexpr int kRedrawMs = 33;
    // Most a redraw tick may spend on replots; the rest of the panels wait for the next tick.
    static constexpr int kRedrawBudgetMs = 5;
    // While a run is going each panel redraws at most this often (10 Hz): a curve that grows
    // step by step looks as smooth, and the training threads keep the CPU.
    static constexpr int kLivePanelIntervalMs = 100;

    explicit MainWindow(const MainWindowOptions& options = {}, QWidget* parent = nullptr);
    ~MainWindow() override;

    RunController* controller() const { return m_controller; }
    // Sizes the window to the screen it is on: 1600 x 1000, or less where the screen has less.
    void fitToScreen();
    // The Help menu's list of the run keys (rich text).
    QString shortcutsHelp() const;
    ConfigPanel* configPanel() const { return m_config; }
    RunsPanel* runsPanel() const { return m_runs; }
    MemoryPanel* memoryPanel() const { return m_memory; }
    LossPanel* lossPanel() const { return m_loss; }
    QList<Panel*> panels() const { return m_panels; }
    // A panel of the Mechanism page, in row `row` (0 = top) of that page; it is fed like every
    // other panel (rows, snapshots, overlays). Call from buildCentre, before it connects the
    // panels' maximize buttons.
    void addMechanismPanel(Panel* p, int row);
    QList<Panel*> mechanismPanels() const { return m_mechanismPanels; }
    StagesPanel* stagesPanel() const { return m_stages; }
    // The centre's pages: 0 Training (curves), 1 Mechanism.
    enum Page { TrainingPage = 0, MechanismPage = 1 };
    void showPage(int page);
    QAction* runAction() const { return m_runAct; }
    QAction* pauseAction() const { return m_pauseAct; }
    QAction* stepAction() const { return m_stepAct; }
    QAction* stepIntoAction() const { return m_stepIntoAct; }
    QComboBox* speedBox() const { return m_speed; }
    QAction* stopAction() const { return m_stopAct; }
    QAction* resetAction() const { return m_resetAct; }
    QAction* resumeFromCheckpointAction() const { return m_resumeAct; }
    QAction* sweepAction() const { return m_sweepAct; }
    // Starts `hybrid158-cli <arguments>` (a sweep into the workspace, SweepDialog::arguments):
    // each run that ends is listed in the Runs panel, the status bar follows the progress and
    // a banner gives the tally. False (and a banner) when one is running or it cannot start.
    bool startSweep(const QStringList& arguments);
    bool sweepRunning() const;
    QTimer* redrawTimer() { return &m_redraw; }
    // The longest a redraw tick has held the event loop (milliseconds), for the benchmark.
    double longestTickMs() const { return m_longestTickMs; }

    RunState state() const;
    // Rows of the live run that reached the window (the plots have them by the next tick).
    int64_t receivedSteps() const;
    // Every row of the live run received so far (null when no run is live).
    const std::vector<StepMetrics>* liveRows() const { return m_liveRows.get(); }
    QString liveRunDirectory() const;
    QString bannerText() const;
    QString statusText() const;
    QString workspace() const { return m_workspace; }
    void setWorkspace(const QString& dir);

    // Hands every queued batch to the panels and redraws them all now, then saves the window.
    bool saveScreenshot(const QString& path);
    // Presenter mode (presenter.h); the panels it hides are left out of the layout.
    Presenter* presenter() const { return m_presenter; }
    // Lays the panels out again for the current configuration (presenter mode changed).
    void relayout();

    // ---- Rewind (main_window_rewind.cpp) ----
    // The state panels (StateView: boundary, clusters, weights, weight map, precision, samples,
    // network) show one run: the live run while one is attached, else the run last selected in
    // the runs table. The rewind bar shows them at any step of it, from its snapshots: the live
    // run's kept as they arrive (RunSnapshots, in memory), a past run's read from its
    // snapshots.jsonl on a loader thread (PastRunLoader).
    RewindBar* rewindBar() const { return m_rewind; }
    // Shows the snapshots at or before `step` (-1: the newest; the live run is followed again).
    void rewindTo(int64_t step);
    void followLive();
    // The state panels follow the live run's newest snapshots.
    bool followsLive() const { return m_liveRunId != 0 && m_viewStep < 0; }
    // The runs-list entry whose state the panels show (the live run's while one is attached).
    int viewedRun() const { return m_liveRunId ? m_liveEntry : m_viewEntry; }
    // The step of the snapshots the state panels show (-1: none).
    int64_t shownStep() const { return m_shownStep; }
    // The live run's snapshots as kept for rewinding (null when no run is live).
    RunSnapshots* liveSnapshots() const { return m_liveSnapshots.get(); }
    PastRunLoader* pastRuns() const { return m_pastRuns; }

    // ---- Intervening (main_window_intervene.cpp) ----
    // While a run is active the form edits it: a live setting's change goes to the run at its
    // next step boundary (RunController::edit), comes back as an event (events.h) drawn on the
    // step plots; a refusal is said in the banner and the form shows the run's value again.
    const std::vector<RunEvent>& liveEvents() const { return m_liveEvents; }
    // Fork here…: loads the configuration `dir`'s run (empty: the live run) had at its last
    // checkpoint at or before `step` into the form, in fork mode (only live settings editable);
    // Run then starts the fork with the settings changed in the form. False (and a banner) when
    // the run has no checkpoint at or before it.
    bool prepareFork(const QString& dir, double step);
    bool forkPending() const { return !m_forkParent.isEmpty(); }
    int64_t forkStep() const { return m_forkStep; }
    void cancelFork();
    // The changes a fork would start with: the live settings the form changed ("key=value").
    QStringList forkChanges() const;

  public slots:
    void startRun();
    void togglePause();
    void stepRun();
    // One stage of a step (Step into): starts a paused run first on a fresh configuration.
    void stepIntoRun();
    // Frames the visible panels with these ids for a moment (a stage shown in the panels it
    // touches); the frames of the previous call go.
    void flashPanels(const QStringList& ids);
    QList<QWidget*> flashedPanels() const;
    void stopRun();
    void resetRun();
    // Continues the selected run of the Runs panel (or entry `id`) from its checkpoint, with its
    // curves so far; false (and a banner saying why) when it cannot.
    bool resumeRun(int id = 0);

    // ---- Lessons (main_window_lessons.cpp) ----
    // Opens a built-in lesson by name, or a lesson file, at `page` (1-based) in the Lessons
    // dock. False when the lesson has an error: the message (file, page, field) goes to *error,
    // or to the banner when error is null.
    bool openLesson(const QString& nameOrFile, int page = 1, QString* error = nullptr);
    LessonsDock* lessonsDock() const { return m_lessons; }
    // A lesson page's configuration: resets the run (if any), then fills the form with it.
    void loadLessonConfig(const QString& preset, const Config& cfg);
    // Runs until `cond` holds on a row of the live run, then pauses; a run is started with the
    // form's configuration when none is active. A condition on step is met exactly (the run is
    // stepped to it), any other at the first row that meets it (the run pauses a few steps on).
    // Returns an id; runUntilDone(id, reached) follows once it holds or the run has ended.
    int runUntil(const h158::LessonCondition& cond);
    void cancelRunUntil();

  signals:
    // The live run reached completed, stopped, diverged or failed.
    void runFinished(h158::ui::RunState state);
    // A runUntil() ended: the condition holds (reached) or the run ended first.
    void runUntilDone(int id, bool reached);
    // The sweep process ended (its exit code: 0 when every run completed).
    void sweepFinished(int exitCode);

  protected:
    void closeEvent(QCloseEvent* e) override;

  private:
    void buildActions();
    void buildCentre();
    void buildDocks();
    void buildLessonsDock();  // main_window_lessons.cpp
    void onUntilState(int runId, RunState s);
    void finishUntil(bool reached);
    void buildStatusBar();
    void restoreSettings();
    void saveSettings();
    bool beginRun(bool paused);
    void setupIntervening();                   // main_window_intervene.cpp
    void onRunEvents(const RunBatch& batch);   // events and refused edits of the live run
    bool beginFork(bool paused);
    void showEventsOfViewedRun();
    void attachLiveRun(int runId, int entryId, const Config& cfg,
                       std::shared_ptr<std::vector<StepMetrics>> rows);
    void onBatch(const RunBatchPtr& batch);
    void onState(int runId, RunState s, const QString& message, qint64 steps);
    void onTick();
    void drainPending();
    void updateActions();
    void updateStatus();
    void updateOverlays();
    void layoutPanels(const Config& cfg);
    void toggleMaximized(Panel* p);
    void chooseWorkspace();
    void showBanner(const QString& text, bool error);
    void openSweepDialog();
    void onSweepOutput();
    QWidget* buildRewindBar();
    void onCurrentRunChanged();
    // Shows past run `entryId` in the panels (laid out for its configuration); 0 or an entry
    // without a configuration goes back to the form's.
    void viewPastRun(int entryId);
    void viewLiveRun();  // a run was attached: the panels follow it
    void clearView();    // Reset: no run shown
    void resetView(std::shared_ptr<RunSnapshots> live);  // the two above
    // Draws the viewed run at the chosen step in the state panels (the window's tick calls it
    // after the user moved the slider; at most once a tick).
    void applyView();
    void updateRewindBar();
    void setStepCaptions(int64_t step, const QString& caption);
    // The configuration the panels are laid out for: the live run's, the viewed past run's, or
    // the form's.
    Config shownConfig() const;
    void stopSweep();  // at exit: the runs stop with a checkpoint (the sweep continues them)

    RunController* m_controller;
    QAction* m_sweepAct = nullptr;
    QProcess* m_sweep = nullptr;
    QByteArray m_sweepOutput;  // stderr not yet split into lines
    ConfigPanel* m_config = nullptr;
    RunsPanel* m_runs = nullptr;
    MemoryPanel* m_memory = nullptr;
    LossPanel* m_loss = nullptr;
    ConstraintPanel* m_constraint = nullptr;
    QuantPanel* m_quant = nullptr;
    ClusterPanel* m_cluster = nullptr;
    LrPanel* m_lr = nullptr;
    WeightsPanel* m_weights = nullptr;
    BoundaryPanel* m_boundary = nullptr;
    SamplesPanel* m_samples = nullptr;
    QList<Panel*> m_panels;
    QList<Panel*> m_topRow, m_bottomRow;
    QSplitter* m_rows = nullptr;
    QTabWidget* m_pages = nullptr;
    StagesPanel* m_stages = nullptr;
    // The panels the stage just taken changed, framed for a moment (flashPanels).
    QList<QPointer<QWidget>> m_stageFrames;
    QTimer m_stageFlash;
    QSplitter* m_mechanism = nullptr;  // rows (horizontal splitters) of the Mechanism page
    QList<Panel*> m_mechanismPanels;
    QSplitter* m_top = nullptr;
    QSplitter* m_bottom = nullptr;
    Panel* m_maximized = nullptr;
    QLabel* m_banner = nullptr;

    QAction* m_runAct = nullptr;
    QAction* m_pauseAct = nullptr;
    QAction* m_stepAct = nullptr;
    QAction* m_stepIntoAct = nullptr;
    QComboBox* m_speed = nullptr;  // steps per second of a running run (0: unthrottled)
    QAction* m_stopAct = nullptr;
    QAction* m_resetAct = nullptr;
    QAction* m_resumeAct = nullptr;

    StatusView* m_status = nullptr;

    MainWindowOptions m_options;
    QString m_workspace;
    QTimer m_redraw;

    // The live run: its controller id, runs-list entry, rows and what the panels still need.
    int m_liveRunId = 0;
    int m_liveEntry = 0;
    Config m_liveConfig;
    std::shared_ptr<std::vector<StepMetrics>> m_liveRows;
    std::map<int, int> m_entryOfRun;  // controller run id -> runs-list entry id
    std::map<int, std::shared_ptr<std::vector<StepMetrics>>> m_rowsOfRun;
    std::vector<StepMetrics> m_pendingRows;
    std::vector<std::shared_ptr<const Snapshot>> m_pendingSnapshots;
    std::vector<StageReport> m_pendingStages;
    std::shared_ptr<const WeightMap> m_pendingMap;
    RunState m_liveState = RunState::Idle;
    int m_nextPanel = 0;  // where the next tick's round-robin starts
    double m_longestTickMs = 0;
    QList<Panel*> m_shown;  // the panels the current layout shows (to keep sizes when unchanged)

    // Rewind (main_window_rewind.cpp).
    RewindBar* m_rewind = nullptr;
    PastRunLoader* m_pastRuns = nullptr;
    std::shared_ptr<RunSnapshots> m_liveSnapshots;  // the live run's, as they arrive
    int m_viewEntry = 0;        // the past run shown while no run is live (0: none)
    int m_lastCurrentRun = 0;   // the runs table's selection when last seen
    int64_t m_viewStep = -1;    // the step chosen on the bar (-1: the newest)
    int64_t m_shownStep = -1;   // the snapshots' step the panels show
    bool m_viewDirty = false;   // the next tick draws the view again
    Presenter* m_presenter = nullptr;

    // Intervening (main_window_intervene.cpp).
    std::vector<RunEvent> m_liveEvents;  // the live run's edits, scheduled ones too
    QString m_forkParent;                // fork mode: the parent run's directory (empty: off)
    int64_t m_forkStep = 0;
    Config m_forkBase;                   // the configuration at the fork's checkpoint

    // Lessons (main_window_lessons.cpp): the dock, and the run_until under way.
    LessonsDock* m_lessons = nullptr;
    h158::LessonCondition m_until;
    bool m_untilActive = false;
    int m_untilId = 0;
};

}  // namespace h158::ui
