#include "ui/run_workspace.h"

#include <QDir>
#include <QFileInfo>

namespace h158::ui {

std::vector<WorkspaceRun> workspaceRuns(const QString& workspace) {
    std::vector<WorkspaceRun> runs;
    const auto subdirs =
        QDir(workspace).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Time);
    for (const QFileInfo& d : subdirs) {
        const QString path = d.absoluteFilePath();
        if (QFileInfo::exists(path + "/config.json")) {
            runs.push_back({d.fileName(), path});
        } else if (QFileInfo::exists(path + "/sweep.json")) {
            const auto members =
                QDir(path).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
            for (const QFileInfo& m : members)
                if (QFileInfo::exists(m.absoluteFilePath() + "/config.json"))
                    runs.push_back({d.fileName() + "/" + m.fileName(), m.absoluteFilePath()});
        }
    }
    return runs;
}

QStringList workspaceWatchPaths(const QString& workspace) {
    QStringList paths{workspace};
    const auto subdirs = QDir(workspace).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QFileInfo& d : subdirs) {
        const QString path = d.absoluteFilePath();
        if (QFileInfo::exists(path + "/config.json")) continue;
        paths << path;
        if (QFileInfo::exists(path + "/sweep.json"))
            for (const QFileInfo& m : QDir(path).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot))
                if (!QFileInfo::exists(m.absoluteFilePath() + "/config.json"))
                    paths << m.absoluteFilePath();
    }
    return paths;
}

}  // namespace h158::ui
