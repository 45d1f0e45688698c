// hybrid158-cli run -> export -> generate end to end, the memory table, and the exit codes and
// messages for missing, corrupt, truncated and foreign files.
#include <QtTest>
#include <nlohmann/json.hpp>

using namespace Qt::StringLiterals;

namespace {

struct Result {
    int code;
    QByteArray out;
    QString err;
};

Result cli(const QStringList& args, int timeoutMs = 300000) {
    QProcess p;
    p.start(H158_CLI_PATH, args);
    p.waitForFinished(timeoutMs);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            QString::fromUtf8(p.readAllStandardError())};
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeAll(const QString& path, const QByteArray& b) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(b);
}

// A tiny gpt: 1 layer, d 32 (12 * 32^2 = 12288 ternary weights), 2 heads, context 32.
const QStringList kTiny = {"--set", "model.layers=1",    "--set", "model.d_model=32",
                           "--set", "model.heads=2",     "--set", "model.context=32",
                           "--set", "cluster.data_k=0",  "--set", "run.batch_size=8",
                           "--set", "run.eval_every=10", "--set", "sample.every=0"};

}  // namespace

class TestCliExport : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void exportWritesThePackedModel();
    void generateFromTheExport();
    void memoryTable();
    void exportErrors_data();
    void exportErrors();
    void generateRefusesBadFiles_data();
    void generateRefusesBadFiles();

  private:
    QTemporaryDir m_dir;
    QString m_run, m_model;
};

void TestCliExport::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_run = m_dir.path() + "/run";
    m_model = m_dir.path() + "/tiny.h158";
    const Result r = cli(QStringList{"run", "--preset", "gpt-s"} + kTiny +
                         QStringList{"--steps", "20", "--seed", "1", "--out", m_run});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(QFile::exists(m_run + "/weights.h158"));
    const auto sum = nlohmann::json::parse(readAll(m_run + "/summary.json").toStdString());
    QCOMPARE(sum.value("weights", ""), std::string("weights.h158"));
}

void TestCliExport::exportWritesThePackedModel() {
    const Result r = cli({"export", "--run", m_run, "--out", m_model});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const auto j = nlohmann::json::parse(r.out.toStdString());
    const int64_t C = 32, ternary = 12 * C * C;
    QCOMPARE(j["ternary_weights"].get<int64_t>(), ternary);
    // Rows packed 5 trits per byte: qkv 96 x 7, proj 32 x 7, fc 128 x 7, out 32 x 26 bytes, and
    // one fp32 scale per tensor.
    const int64_t packed = 96 * 7 + 32 * 7 + 128 * 7 + 32 * 26;
    QCOMPARE(j["ternary_bytes"].get<int64_t>(), packed + 4 * 4);
    QCOMPARE(j["bits_per_weight"].get<double>(),
             std::round(8.0 * double(packed + 16) / double(ternary) * 1e4) / 1e4);
    QVERIFY(j["bits_per_weight"].get<double>() >= 1.6);
    const int64_t params = 2 * 256 * C + 32 * C + 12 * C * C + 4 * C + 2 * C;
    QCOMPARE(j["fp32_bytes_equivalent"].get<int64_t>(), 4 * params);
    QCOMPARE(j["file_bytes"].get<int64_t>(), QFileInfo(m_model).size());
    QCOMPARE(j["parameters"].get<int64_t>(), params);
    // The export is the run's weights file, checked and rewritten byte for byte.
    QCOMPARE(readAll(m_model), readAll(m_run + "/weights.h158"));
}

void TestCliExport::generateFromTheExport() {
    if (!QFile::exists(m_model))
        QCOMPARE(cli({"export", "--run", m_run, "--out", m_model}).code, 0);
    const QStringList args = {
        "generate", "--model", m_model,         "--prompt", "7+5=",    "--tokens", "60",
        "--seed",   "4",       "--temperature", "0.8",      "--top-k", "20"};
    const Result a = cli(args), b = cli(args);
    QVERIFY2(a.code == 0, qPrintable(a.err));
    QVERIFY(a.out.startsWith("7+5="));
    QCOMPARE(a.out.size(), qsizetype(4 + 60 + 1));
    QVERIFY(a.out.endsWith('\n'));
    QCOMPARE(a.out, b.out);
    QVERIFY2(a.err.contains("tokens/s") && a.err.contains("packed_ternary_gemv"),
             qPrintable(a.err));
    QCOMPARE(cli({"generate", "--model", m_model, "--prompt", "", "--tokens", "0"}).out,
             QByteArray("\n"));
}

void TestCliExport::memoryTable() {
    const Result r = cli({"memory", "--preset", "gpt-s"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QStringList lines = QString::fromUtf8(r.out).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2 + 5);
    QVERIFY(lines[0].contains("fp32") && lines[0].contains("fp16") &&
            lines[0].contains("ideal 1.58-bit") && lines[0].contains(".h158"));
    QVERIFY(lines[2].startsWith("| gpt-s"));
    for (const char* n : {"| 100M |", "| 1B |", "| 7B |", "| 13B |"})
        QVERIFY2(r.out.contains(n), n);
    QCOMPARE(cli({"memory", "--preset", "nope"}).code, 2);
    QCOMPARE(cli({"memory", "--config", m_run + "/config.json"}).code, 0);
}

void TestCliExport::exportErrors_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    QTest::newRow("no --out") << QStringList{"export", "--run", "RUN"} << "--out";
    QTest::newRow("no --run") << QStringList{"export", "--out", "X"} << "--run";
    QTest::newRow("absent run") << QStringList{"export", "--run", "/nonexistent/run", "--out", "X"}
                                << "/nonexistent/run";
    QTest::newRow("no weights") << QStringList{"export", "--run", "NOWEIGHTS", "--out", "X"}
                                << "weights.h158: missing";
    QTest::newRow("corrupt weights")
        << QStringList{"export", "--run", "CORRUPT", "--out", "X"} << "checksum mismatch";
}

void TestCliExport::exportErrors() {
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    QTemporaryDir tmp;
    // Copies of the run: without its weights, and with one byte of them changed.
    for (const QString& kind : {u"NOWEIGHTS"_s, u"CORRUPT"_s}) {
        const QString d = tmp.path() + "/" + kind;
        QDir().mkpath(d);
        for (const char* f : {"config.json", "metrics.csv", "summary.json"})
            QVERIFY(QFile::copy(m_run + "/" + f, d + "/" + f));
        if (kind == "CORRUPT") {
            QByteArray w = readAll(m_run + "/weights.h158");
            w[w.size() / 2] = char(w[w.size() / 2] ^ 1);
            writeAll(d + "/weights.h158", w);
        }
    }
    for (QString& a : args) {
        if (a == "RUN") a = m_run;
        if (a == "NOWEIGHTS" || a == "CORRUPT") a = tmp.path() + "/" + a;
        if (a == "X") a = tmp.path() + "/out.h158";
    }
    const Result r = cli(args);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    QVERIFY(!QFile::exists(tmp.path() + "/out.h158"));
}

void TestCliExport::generateRefusesBadFiles_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing") << "missing"
                             << "no such file";
    QTest::newRow("corrupt") << "corrupt"
                             << "checksum mismatch";
    QTest::newRow("truncated") << "truncated"
                               << "truncated";
    QTest::newRow("text") << "text"
                          << "not an H158 model file";
    QTest::newRow("linear model") << "linear"
                                  << "model.kind is linear, not gpt";
    QTest::newRow("bad tokens") << "tokens"
                                << "--tokens";
}

void TestCliExport::generateRefusesBadFiles() {
    QFETCH(QString, kind);
    QFETCH(QString, message);
    QTemporaryDir tmp;
    const QString path = tmp.path() + "/model.h158";
    const QByteArray good = readAll(m_run + "/weights.h158");
    QStringList extra = {"--tokens", "10"};
    if (kind == "corrupt") {
        QByteArray b = good;
        b[b.size() - 10] = char(b[b.size() - 10] ^ 0x40);
        writeAll(path, b);
    } else if (kind == "truncated") {
        writeAll(path, good.left(good.size() * 7 / 10));
    } else if (kind == "text") {
        writeAll(path, "just some text\n");
    } else if (kind == "linear") {
        const QString run = tmp.path() + "/lin";
        QCOMPARE(cli({"run", "--preset", "seed-linear", "--steps", "3", "--out", run}).code, 0);
        QVERIFY(QFile::copy(run + "/weights.h158", path));
        // export works for any model kind
        const Result e = cli({"export", "--run", run, "--out", tmp.path() + "/lin.h158"});
        QVERIFY2(e.code == 0, qPrintable(e.err));
        QCOMPARE(nlohmann::json::parse(e.out.toStdString())["model"].get<std::string>(),
                 std::string("linear"));
    } else if (kind == "tokens") {
        writeAll(path, good);
        extra = {"--tokens", "-3"};
    }
    const Result r = cli(QStringList{"generate", "--model", path, "--prompt", "a"} + extra);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    if (kind != "tokens") QVERIFY2(r.err.contains(path), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
}

QTEST_GUILESS_MAIN(TestCliExport)
#include "test_cli_export.moc"
