// The layers of core/ (core/layers.txt, lowest first): a file in one folder may include only
// files of its own folder or of folders listed before it. This test reads every #include under
// core/ and names each one that points up, at a missing file, or at no layer; it also holds the
// checker itself to a small tree with a known back-edge.
#include <QtTest>

namespace {

struct Layers {
    QStringList order;  // lowest first
    QString error;
};

Layers readLayers(const QString& path) {
    Layers l;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) {
        l.error = path + ": cannot open";
        return l;
    }
    int lineNo = 0;
    while (!f.atEnd()) {
        ++lineNo;
        const QString line = QString::fromUtf8(f.readLine()).section('#', 0, 0).trimmed();
        if (line.isEmpty()) continue;
        if (!QRegularExpression("^[a-z]+$").match(line).hasMatch() || l.order.contains(line)) {
            l.error = QString("%1:%2: '%3' is not a new folder name").arg(path).arg(lineNo).arg(line);
            return l;
        }
        l.order << line;
    }
    return l;
}

// One message per #include "core/..." that breaks the order, under root (a core/ folder whose
// includes are written "core/<layer>/...").
QStringList layeringViolations(const QString& root, const QStringList& order) {
    QStringList out;
    const QRegularExpression inc("^\\s*#\\s*include\\s*\"core/([^\"]+)\"");
    QDirIterator it(root, {"*.h", "*.cpp"}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QString rel = QDir(root).relativeFilePath(path);
        const QString own = rel.section('/', 0, 0);
        const qsizetype ownRank = order.indexOf(own);
        if (!rel.contains('/') || ownRank < 0) {
            out << rel + ": not in a layer folder (" + order.join(", ") + ")";
            continue;
        }
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) {
            out << rel + ": cannot open";
            continue;
        }
        int lineNo = 0;
        while (!f.atEnd()) {
            ++lineNo;
            const auto m = inc.match(QString::fromUtf8(f.readLine()));
            if (!m.hasMatch()) continue;
            const QString target = m.captured(1);
            const QString where = QString("%1:%2: ").arg(rel).arg(lineNo);
            const qsizetype rank = order.indexOf(target.section('/', 0, 0));
            if (!QFileInfo::exists(root + "/" + target))
                out << where + "core/" + target + " does not exist";
            else if (rank < 0)
                out << where + "core/" + target + " is in no layer";
            else if (rank > ownRank)
                out << where + own + " includes core/" + target + ", a layer above it";
        }
    }
    out.sort();
    return out;
}

void writeFile(const QString& path, const QByteArray& text) {
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

}  // namespace

class TestLayering : public QObject {
    Q_OBJECT
  private slots:
    void layersFileIsWellFormed() {
        const Layers l = readLayers(H158_SOURCE_DIR "/core/layers.txt");
        QVERIFY2(l.error.isEmpty(), qPrintable(l.error));
        QVERIFY(l.order.size() >= 5);
        QCOMPARE(l.order.first(), QString("base"));
        // every folder of core/ is a layer, and every layer a folder
        const QStringList dirs = QDir(H158_SOURCE_DIR "/core").entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        QCOMPARE(QStringList(dirs).join(','), [&] {
            QStringList s = l.order;
            s.sort();
            return s.join(',');
        }());
    }

    void coreIncludesOnlyDownward() {
        const Layers l = readLayers(H158_SOURCE_DIR "/core/layers.txt");
        QVERIFY2(l.error.isEmpty(), qPrintable(l.error));
        const QStringList v = layeringViolations(H158_SOURCE_DIR "/core", l.order);
        QVERIFY2(v.isEmpty(), qPrintable("\n" + v.join('\n')));
    }

    // The checker finds a back-edge, a missing file and a file outside the layers.
    void checkerFindsBackEdges() {
        QTemporaryDir dir;
        const QString c = dir.path() + "/core";
        writeFile(c + "/base/a.h", "#pragma once\n");
        writeFile(c + "/model/m.h", "#include \"core/base/a.h\"\n#include <vector>\n");
        writeFile(c + "/base/b.cpp", "#include \"core/base/a.h\"\n\n#include \"core/model/m.h\"\n");
        writeFile(c + "/model/n.cpp", "#include \"core/model/m.h\"\n#include \"core/base/gone.h\"\n");
        writeFile(c + "/loose.cpp", "\n");
        const QStringList v = layeringViolations(c, {"base", "model"});
        QCOMPARE(v.size(), 3);
        QCOMPARE(v[0], QString("base/b.cpp:3: base includes core/model/m.h, a layer above it"));
        QCOMPARE(v[1], QString("loose.cpp: not in a layer folder (base, model)"));
        QCOMPARE(v[2], QString("model/n.cpp:2: core/base/gone.h does not exist"));
        // in the right order there is no back-edge
        QCOMPARE(layeringViolations(c, {"model", "base"}).filter("layer above").size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestLayering)
#include "test_layering.moc"
