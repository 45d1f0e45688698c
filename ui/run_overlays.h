// The curves the scalar plots draw for the runs ticked in the runs table (RunOverlay, panel.h): a
// run's rows as a line in its colour, a seed group's members as their mean with a min–max band.
// A fork's metrics.csv holds only its steps after the fork step, so its line starts at its
// parent's point at that step and continues the parent's curve from there.
#pragma once

#include <QColor>
#include <QString>
#include <memory>
#include <vector>

#include "core/train/metrics.h"
#include "ui/panel.h"

namespace h158::ui {

struct RunEntry;

// Reads what a past run's metrics.csv gained since the last call into e.rows (MetricsTail, from
// the start on the first call; thinned as the live run's rows are); nothing for a run of this
// session, whose rows the window collects. A file that does not parse stops being followed: the
// reason is returned (empty when all is well).
QString followRunRows(RunEntry& e);

// `rows` with the parent's row at forkStep put first (the parent's last row before it when its
// rows were thinned), so the line continues the parent's curve; `rows` itself when the parent
// has no row up to forkStep or `rows` already starts there.
std::shared_ptr<const std::vector<StepMetrics>> joinedToParent(
    const std::shared_ptr<const std::vector<StepMetrics>>& rows,
    const std::vector<StepMetrics>& parentRows, int64_t forkStep);

// A ticked run's line (rows null while none are loaded); `parent` the listed run it forks from,
// its rows loaded, or null.
RunOverlay runLine(const RunEntry& e, const QString& label, bool highlight, const RunEntry* parent);
// A ticked seed group: its members' rows, drawn as mean and band.
RunOverlay seedGroupBand(const QString& name, const QColor& colour,
                         const std::vector<const RunEntry*>& members, bool highlight);

// Bands under lines, the highlighted (bold) lines last: the order the plots draw overlays in.
std::vector<RunOverlay> drawingOrder(std::vector<RunOverlay> bands, std::vector<RunOverlay> lines);

}  // namespace h158::ui
