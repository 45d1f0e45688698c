// Helpers shared by the suites that drive hybrid158-cli as a user would: run it and collect its
// exit code and output, read a file whole.
#pragma once

#include <QFile>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace h158::test {

struct CliResult {
    int code;  // -1 when the process crashed or did not end in time
    QString out, err;
};

inline CliResult cli(const QStringList& args, int timeoutMs = 120000) {
    QProcess p;
    p.start(H158_CLI_PATH, args);
    p.waitForFinished(timeoutMs);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

inline QString readAll(const QString& path) {
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    return QString::fromUtf8(f.readAll());
}

}  // namespace h158::test
