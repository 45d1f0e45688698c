// Where the runs table finds runs: the run directories of a workspace (a folder holding
// config.json) and of each sweep folder in it (a folder holding sweep.json), and the folders to
// watch for runs still to appear.
#pragma once

#include <QString>
#include <QStringList>
#include <vector>

namespace h158::ui {

struct WorkspaceRun {
    QString name;  // the directory's name, "sweep/run" in a sweep folder
    QString dir;   // absolute
};
// The workspace's runs newest first (by modification time), each sweep folder's by name.
std::vector<WorkspaceRun> workspaceRuns(const QString& workspace);
// The workspace (new runs, new sweeps), each sweep folder (its runs appear one by one) and each
// folder that has no config.json yet (a run being created).
QStringList workspaceWatchPaths(const QString& workspace);

}  // namespace h158::ui
