// Seed groups of the runs table: runs whose configurations are equal but for run.seed (and the
// settings that change no result, run_compare.h) are one row, their figures as mean ± sample
// std, drawn as their mean with a min–max band (run_overlays.h). A fork is no seed sibling of
// anything, its parent included: it is listed under its parent (runs_model.h).
#pragma once

#include <QColor>
#include <QList>
#include <QString>
#include <map>
#include <string>
#include <vector>

#include "core/config/config.h"

class QStandardItem;

namespace h158::ui {

struct RunEntry;

// Every setting but the seed and those that change no result, as the schema writes them.
QString seedGroupKey(const Config& c);
// Whether a run may be grouped: readable, with a configuration, and not a fork.
bool joinsSeedGroups(const RunEntry& e);

// The runs of `order` that may be grouped, by key, in order; a run alone is a group of one.
using SeedGroups = std::map<QString, std::vector<const RunEntry*>>;
SeedGroups findSeedGroups(const std::vector<const RunEntry*>& order);
// The key of the group `e` belongs to when it has two runs or more ("" when none).
QString seedGroupOf(const SeedGroups& groups, const RunEntry& e);

// Whether a group's row is ticked (drawn) and in what colour; kept by key across rebuilds.
struct SeedGroupMark {
    bool ticked = false;
    QColor colour;
};

// A group's row (cells as RunsModel::emptyRow gives them, `keys` its setting columns): what sets
// it apart from the other groups (`diffKeys` but the seed), its members' states, the furthest
// step, and its figures as mean ± std.
void fillSeedGroupRow(const QList<QStandardItem*>& cells, const QString& key,
                      const std::vector<const RunEntry*>& members,
                      const std::vector<std::string>& keys,
                      const std::vector<std::string>& diffKeys, const SeedGroupMark& mark);

}  // namespace h158::ui
