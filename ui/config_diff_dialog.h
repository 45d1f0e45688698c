// The side-by-side configuration diff of two runs (the runs table's "Compare configurations"): a
// row per setting, key and both values, the settings that differ first and in bold, with a toggle
// between those only and every setting.
#pragma once

#include <QString>
#include <array>
#include <vector>

#include "core/config/config.h"

class QDialog;
class QWidget;

namespace h158::ui {

// The rows (key, a, b as the schema writes them), differences first, then the rest unless
// onlyDifferences.
std::vector<std::array<QString, 3>> configDiffRows(const Config& a, const Config& b,
                                                   bool onlyDifferences);

// One run of the comparison: its name and directory, the legend label its column is titled by.
struct ConfigDiffSide {
    QString name;
    QString dir;
    QString label;
    Config config;
};
// Shows the diff as a non-modal dialog that deletes itself when closed.
QDialog* showConfigDiff(QWidget* parent, const ConfigDiffSide& a, const ConfigDiffSide& b);

}  // namespace h158::ui
