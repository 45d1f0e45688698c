#include "ui/history_bounds.h"

#include <qcustomplot.h>

namespace h158::ui {

bool thinGraph(QCPGraph* graph, int cap) {
    const auto data = graph->data();
    const int n = data->size();
    if (n <= cap) return false;
    QVector<QCPGraphData> kept;
    kept.reserve(n / 2 + 1);
    for (int i = 0; i < n; i += 2) kept.push_back(*(data->constBegin() + i));
    if (n % 2 == 0) kept.push_back(*(data->constEnd() - 1));
    data->set(kept, true);  // already sorted by key
    return true;
}

}  // namespace h158::ui
