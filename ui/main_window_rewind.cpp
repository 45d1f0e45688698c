// The main window's rewind: the state panels at any step of the live run or of a past run,
// drawn from the snapshots kept for it (snapshot_store.h), and the rewind bar under the plots.
#include <algorithm>
#include <cmath>

#include "ui/cluster_panel.h"
#include "ui/config_panel.h"
#include "ui/main_window.h"
#include "ui/rewind_bar.h"
#include "ui/run_controller.h"
#include "ui/runs_panel.h"
#include "ui/samples_panel.h"
#include "ui/snapshot_store.h"
#include "ui/state_view.h"

namespace h158::ui {

namespace {

const QColor kPastRunColour(120, 120, 120);

// The rows a state panel needs to show step `step`: the last ClusterPanel::kRecentSteps steps
// (the recent batches strip, the precision strip's end) and, when none of them has one, the last
// validation row before them (the accuracy in the boundary's caption).
std::vector<StepMetrics> rewindRows(const std::vector<StepMetrics>& rows, int64_t step) {
    const auto end = std::upper_bound(rows.begin(), rows.end(), step,
                                      [](int64_t s, const StepMetrics& m) { return s < m.step; });
    const auto begin =
        std::lower_bound(rows.begin(), end, step - ClusterPanel::kRecentSteps + 1,
                         [](const StepMetrics& m, int64_t s) { return m.step < s; });
    std::vector<StepMetrics> out;
    const auto validated = [](const StepMetrics& m) { return std::isfinite(m.val_accuracy); };
    if (std::none_of(begin, end, validated)) {
        auto it = begin;
        for (int n = 0; it != rows.begin() && n < 20000; ++n)
            if (validated(*--it)) {
                out.push_back(*it);
                break;
            }
    }
    out.insert(out.end(), begin, end);
    return out;
}

}  // namespace

QWidget* MainWindow::buildRewindBar() {
    m_rewind = new RewindBar;
    m_pastRuns = new PastRunLoader(this);
    connect(m_rewind, &RewindBar::stepChosen, this, [this](qint64 step) { rewindTo(step); });
    connect(m_rewind, &RewindBar::liveRequested, this, &MainWindow::followLive);
    connect(m_pastRuns, &PastRunLoader::loaded, this, [this](const QString& dir) {
        const RunEntry* e = m_liveRunId ? nullptr : m_runs->entry(m_viewEntry);
        if (!e || e->dir != dir) return;
        m_viewDirty = true;
        updateRewindBar();
    });
    return m_rewind;
}

void MainWindow::rewindTo(int64_t step) {
    if (m_liveRunId == 0 && m_viewEntry == 0) return;
    m_viewStep = std::max<int64_t>(step, -1);
    if (m_viewStep >= 0) m_rewind->setStep(m_viewStep);
    m_rewind->setFollowing(m_viewStep < 0 && m_liveRunId != 0);
    m_viewDirty = true;
    updateRewindBar();
}

void MainWindow::followLive() {
    rewindTo(-1);
}

void MainWindow::onCurrentRunChanged() {
    // updateRun() reports too: only a new selection counts
    const int id = m_runs->currentRun();
    if (id == m_lastCurrentRun) return;
    m_lastCurrentRun = id;
    showEventsOfViewedRun();  // the selected run's edits on the step plots (no live run)
    // a live run keeps the panels (its curves would go with a new layout)
    if (id == 0 || id == m_viewEntry || m_liveRunId != 0 || isActive(m_controller->state()))
        return;
    viewPastRun(id);
}

void MainWindow::viewPastRun(int entryId) {
    if (const RunEntry* old = m_runs->entry(m_viewEntry))
        if (const auto r = m_pastRuns->get(old->dir)) r->snapshots->releaseParsed();
    const RunEntry* e = m_runs->entry(entryId);
    if (!e || !e->config) e = nullptr;
    m_viewEntry = e ? entryId : 0;
    m_viewStep = -1;
    m_shownStep = -1;
    const Config cfg = e ? *e->config : m_config->config();
    const QColor colour = e && e->colour.isValid() ? e->colour : kPastRunColour;
    for (Panel* p : m_panels) p->beginRun(cfg, colour);
    setStepCaptions(-1, {});
    layoutPanels(cfg);
    updateOverlays();
    if (e) m_pastRuns->load(e->dir);
    m_viewDirty = e != nullptr;
    updateRewindBar();
}

void MainWindow::viewLiveRun() {
    resetView(std::make_shared<RunSnapshots>());
}

void MainWindow::clearView() {
    resetView(nullptr);
}

// No past run shown, no step chosen; the live run's store is `live` (null: no live run).
void MainWindow::resetView(std::shared_ptr<RunSnapshots> live) {
    if (const RunEntry* old = m_runs->entry(m_viewEntry))
        if (const auto r = m_pastRuns->get(old->dir)) r->snapshots->releaseParsed();
    const bool following = live != nullptr;
    m_liveSnapshots = std::move(live);
    m_viewEntry = 0;
    m_viewStep = -1;
    m_shownStep = -1;
    m_viewDirty = false;
    setStepCaptions(-1, {});
    m_rewind->setFollowing(following);
    updateRewindBar();
}

Config MainWindow::shownConfig() const {
    if (m_liveRunId) return m_liveConfig;
    if (const RunEntry* e = m_viewEntry ? m_runs->entry(m_viewEntry) : nullptr; e && e->config)
        return *e->config;
    return m_config->config();
}

void MainWindow::setStepCaptions(int64_t step, const QString& caption) {
    for (Panel* p : m_panels)
        if (auto* v = dynamic_cast<StateView*>(p)) v->setStepCaption(step, caption);
}

// Draws the state panels again for the chosen step: each from scratch (beginRun), the rows of
// the steps just before it, then the snapshot of each kind at or before it (for precision and
// samples, those before it too: the panels draw their history).
void MainWindow::applyView() {
    m_viewDirty = false;
    const bool live = m_liveRunId != 0;
    const RunEntry* e = m_runs->entry(live ? m_liveEntry : m_viewEntry);
    if (!e) return;
    std::shared_ptr<PastRun> past;
    Config cfg;
    const std::vector<StepMetrics>* rows = nullptr;
    RunSnapshots* snaps = nullptr;
    if (live) {
        cfg = m_liveConfig;
        rows = m_liveRows.get();
        snaps = m_liveSnapshots.get();
    } else {
        past = m_pastRuns->get(e->dir);
        if (!past || !e->config) return;  // loaded() draws it
        cfg = *e->config;
        rows = &past->rows;
        snaps = past->snapshots.get();
    }
    if (!snaps) return;
    const int64_t newest = std::max(snaps->lastStep(), rows && !rows->empty() ? rows->back().step : 0);
    const int64_t want = m_viewStep < 0 ? newest : std::min(m_viewStep, newest);
    m_shownStep = snaps->stepAtOrBefore(want);
    QString caption;  // none while following the live run: the panels' own captions
    if (m_shownStep < 0 && (!live || m_viewStep >= 0))
        caption = tr("no snapshot at or before step %1").arg(want);
    else if (!live)
        caption = tr("step %1 of %2 · %3").arg(m_shownStep).arg(cfg.run.steps).arg(e->name);
    else if (m_viewStep >= 0)
        caption = tr("step %1 of %2 (rewound)").arg(m_shownStep).arg(cfg.run.steps);

    std::vector<RunSnapshots::Ptr> shown;
    for (const std::string& kind : snaps->kinds()) {
        if (kind == "precision" || kind == "samples") {
            const size_t most =
                kind == "samples" ? size_t(SamplesPanel::kMaxSamples) : snaps->count(kind);
            for (auto& s : snaps->upTo(kind, want, most)) shown.push_back(std::move(s));
        } else if (auto s = snaps->at(kind, want)) {
            shown.push_back(std::move(s));
        }
    }
    const QColor colour = e->colour.isValid() ? e->colour : kPastRunColour;
    const std::vector<StepMetrics> feed = rows ? rewindRows(*rows, want) : std::vector<StepMetrics>{};
    for (Panel* p : m_panels) {
        auto* v = dynamic_cast<StateView*>(p);
        if (!v) continue;
        if (v->fromSnapshots() && p->appliesTo(cfg)) {
            p->beginRun(cfg, colour);
            if (!feed.empty()) p->appendRows(feed);
            for (const auto& s : shown) p->applySnapshot(*s);
        }
        v->setStepCaption(m_shownStep, caption);
    }
    updateRewindBar();
}

void MainWindow::updateRewindBar() {
    if (!m_rewind || !m_runs) return;
    const bool live = m_liveRunId != 0;
    const RunEntry* e = m_runs->entry(viewedRun());
    if (!e) {
        m_rewind->setRun(0, 1, false, false);
        m_rewind->setText(tr("Select a run in the table to see its state at any step"));
        return;
    }
    const Config cfg = live ? m_liveConfig : e->config.value_or(Config{});
    const int64_t total = cfg.run.steps;
    QString text;
    int64_t last = 0;
    if (live) {
        last = std::max<int64_t>(receivedSteps(), m_liveSnapshots ? m_liveSnapshots->lastStep() : 0);
        const bool running = isActive(m_controller->state());
        text = m_viewStep >= 0 ? tr("step %1 of %2 (rewound) · %3 at %4")
                                     .arg(m_shownStep)
                                     .arg(total)
                                     .arg(running ? tr("live") : tr("ended"))
                                     .arg(last)
               : running ? tr("live · step %1 of %2").arg(last).arg(total)
                         : tr("newest · step %1 of %2").arg(last).arg(total);
    } else if (const auto past = m_pastRuns->get(e->dir); !past) {
        last = e->step;
        text = tr("%1 · reading its snapshots…").arg(e->name);
    } else {
        last = std::max(past->snapshots->lastStep(),
                        past->rows.empty() ? int64_t(0) : past->rows.back().step);
        text = past->snapshots->count() == 0
                   ? tr("%1 · no snapshots (run.snapshot_every = 0)").arg(e->name)
                   : tr("%1 · step %2 of %3").arg(e->name).arg(m_shownStep).arg(total);
    }
    m_rewind->setRun(last, cfg.run.snapshot_every, live, true);
    if (!live && m_viewStep < 0) m_rewind->setStep(last);
    m_rewind->setText(text);
}

}  // namespace h158::ui
