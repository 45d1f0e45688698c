// What the workbench keeps of a long run: every row up to a bound, then every second one, and so
// on. metrics.csv on disk keeps every row; memory and the curves on screen stay bounded however
// many steps a run takes (run.steps goes up to 10 million).
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "core/train/metrics.h"

class QCPGraph;

namespace h158::ui {

inline constexpr size_t kMaxKeptRows = size_t(1) << 17;  // rows of one run held in memory
inline constexpr int kMaxCurvePoints = 1 << 16;           // points of one curve in a plot

// When v holds more than cap elements, keeps the ones at even positions, the last one, and every
// one for which alsoKeep(x) holds as long as those are at most cap / 4 (the validation rows: a
// sparse curve is not thinned with the dense ones while it is small). Each call halves at most
// once, so appending and thinning after every batch costs O(1) per element amortized. Earlier
// elements have been halved more often: the newest stretch of a run is drawn in the most detail.
// Returns whether it thinned.
template <class T, class Pred>
bool thinHalf(std::vector<T>& v, size_t cap, Pred alsoKeep) {
    if (v.size() <= cap) return false;
    size_t marked = 0;
    for (const T& x : v) marked += alsoKeep(x) ? 1 : 0;
    const bool keepMarked = marked <= cap / 4;
    size_t out = 0;
    for (size_t i = 0; i < v.size(); ++i)
        if (i % 2 == 0 || i + 1 == v.size() || (keepMarked && alsoKeep(v[i]))) v[out++] = v[i];
    v.resize(out);
    return true;
}

// thinHalf for a run's rows, keeping its validation rows.
inline bool thinRows(std::vector<StepMetrics>& rows, size_t cap = kMaxKeptRows) {
    return thinHalf(rows, cap, [](const StepMetrics& m) { return std::isfinite(m.val_loss); });
}

// thinHalf for a curve: a graph with more than cap points keeps every second point and its last.
bool thinGraph(QCPGraph* graph, int cap = kMaxCurvePoints);

}  // namespace h158::ui
