#include "ui/run_overlays.h"

#include <algorithm>

#include "core/exp/metrics_tail.h"
#include "ui/history_bounds.h"
#include "ui/runs_model.h"

namespace h158::ui {

QString followRunRows(RunEntry& e) {
    if (e.session) return {};
    if (!e.rows) {
        e.rows = std::make_shared<std::vector<StepMetrics>>();
        e.tail = std::make_shared<MetricsTail>((e.dir + "/metrics.csv").toStdString());
    }
    if (!e.tail) return {};
    try {
        std::vector<StepMetrics> more = e.tail->poll();
        if (e.tail->restarted()) e.rows->clear();
        e.rows->insert(e.rows->end(), more.begin(), more.end());
        while (thinRows(*e.rows)) {
        }
    } catch (const std::exception& ex) {
        e.tail.reset();  // stop following a file that does not parse
        return QString::fromStdString(ex.what());
    }
    return {};
}

std::shared_ptr<const std::vector<StepMetrics>> joinedToParent(
    const std::shared_ptr<const std::vector<StepMetrics>>& rows,
    const std::vector<StepMetrics>& parentRows, int64_t forkStep) {
    if (!rows || (!rows->empty() && rows->front().step <= forkStep)) return rows;
    // the parent's last row at or before the fork step (rows are in step order)
    const auto after =
        std::upper_bound(parentRows.begin(), parentRows.end(), forkStep,
                         [](int64_t step, const StepMetrics& m) { return step < m.step; });
    if (after == parentRows.begin()) return rows;
    auto joined = std::make_shared<std::vector<StepMetrics>>();
    joined->reserve(rows->size() + 1);
    joined->push_back(*std::prev(after));
    joined->insert(joined->end(), rows->begin(), rows->end());
    return joined;
}

RunOverlay runLine(const RunEntry& e, const QString& label, bool highlight,
                   const RunEntry* parent) {
    RunOverlay o{label, e.colour, e.rows, {}, highlight, e.dir};
    if (parent && parent->rows && !e.parent.isEmpty())
        o.rows = joinedToParent(o.rows, *parent->rows, e.forkStep);
    return o;
}

RunOverlay seedGroupBand(const QString& name, const QColor& colour,
                         const std::vector<const RunEntry*>& members, bool highlight) {
    RunOverlay o;
    o.colour = colour;
    o.name = name;
    o.highlight = highlight;
    for (const RunEntry* m : members)
        if (m->rows) o.members.push_back(m->rows);
    return o;
}

std::vector<RunOverlay> drawingOrder(std::vector<RunOverlay> bands, std::vector<RunOverlay> lines) {
    std::vector<RunOverlay> out = std::move(bands);
    std::vector<RunOverlay> bold;
    for (RunOverlay& o : lines) (o.highlight ? bold : out).push_back(std::move(o));
    for (RunOverlay& o : bold) out.push_back(std::move(o));
    return out;
}

}  // namespace h158::ui
