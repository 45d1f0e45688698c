// hybrid158-cli run -> export -> generate end to end, the same for a mixed-precision model (its
// block linears at ternary, five-level, int8 and fp32), the memory table of a configuration and
// of a file, and the exit codes and messages for missing, corrupt, truncated and foreign files.
#include <QtTest>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/io/h158_format.h"
#include "core/quant/weight_quantizer.h"

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
    void mixedModelEndToEnd();
    void memoryOfAnAdaptiveConfig();
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

// The run's ternary model made mixed (block 0: qkv ternary, proj fp32, fc int8, out five-level;
// the header says quant.weights=adaptive), as a run directory: memory counts its file exactly,
// export reports each kind and the mean bits, generate runs it.
void TestCliExport::mixedModelEndToEnd() {
    using namespace h158;
    QTemporaryDir tmp;
    const QString run = tmp.path() + "/mixed";
    QVERIFY(QDir().mkpath(run));
    H158Model m = readH158((m_run + "/weights.h158").toStdString());
    auto requantize = [&](const std::string& name, QuantLevels levels) {
        for (H158Tensor& t : m.tensors) {
            if (t.name != name) continue;
            const MatF w = t.dequantized();
            if (levels == QuantLevels::None) {
                t = h158Fp32(name, w.data(), t.rows, t.cols);
                return;
            }
            QuantizedTensor q;
            quantizeWeights(w.data(), t.rows, t.cols, levels, QuantGranularity::Tensor, {}, q,
                            nullptr);
            t = h158Quantized(name, q, H158Scales::PerTensor);
            return;
        }
        QFAIL(name.c_str());
    };
    requantize("blocks.0.proj.weight", QuantLevels::None);
    requantize("blocks.0.fc.weight", QuantLevels::Int8);
    requantize("blocks.0.out.weight", QuantLevels::FiveLevel);
    m.header["config"]["quant"]["weights"] = "adaptive";
    writeH158(m, (run + "/weights.h158").toStdString());
    auto config = nlohmann::json::parse(readAll(m_run + "/config.json").toStdString());
    config["quant"]["weights"] = "adaptive";
    writeAll(run + "/config.json", QByteArray::fromStdString(config.dump(2)));
    for (const char* f : {"metrics.csv", "summary.json"})
        QVERIFY(QFile::copy(m_run + "/" + f, run + "/" + f));
    const qint64 size = QFileInfo(run + "/weights.h158").size();

    // memory --model / --run: one row, "mixed" with its kinds, then the exact size.
    for (const QStringList& args : {QStringList{"memory", "--model", run + "/weights.h158"},
                                    QStringList{"memory", "--run", run}}) {
        const Result r = cli(args);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QStringList lines = QString::fromUtf8(r.out).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2 + 1 + 1);
        QVERIFY2(lines[2].contains("| 11.3k mixed (3.1k ternary, 4.1k five_level, 4.1k int8) |"),
                 qPrintable(lines[2]));
        QCOMPARE(lines[3], run + "/weights.h158: " + QString::number(size) + " bytes");
    }

    const QString out = tmp.path() + "/mixed.h158";
    const Result e = cli({"export", "--run", run, "--out", out});
    QVERIFY2(e.code == 0, qPrintable(e.err));
    const auto j = nlohmann::json::parse(e.out.toStdString());
    const int64_t C = 32;
    QCOMPARE(j["ternary_weights"].get<int64_t>(), 3 * C * C);
    QCOMPARE(j["five_level_weights"].get<int64_t>(), 4 * C * C);
    QCOMPARE(j["five_level_bytes"].get<int64_t>(), 32 * 43 + 4);  // rows of 128 codes, 3 a byte
    QCOMPARE(j["int8_weights"].get<int64_t>(), 4 * C * C);
    QCOMPARE(j["int8_bytes"].get<int64_t>(), 4 * C * C + 4);
    QCOMPARE(j["int8_bits_per_weight"].get<double>(),
             std::round(8.0 * double(4 * C * C + 4) / double(4 * C * C) * 1e4) / 1e4);
    // mean bits over the 12 C^2 block-linear weights: 3 ternary, 1 fp32, 4 int8, 4 five-level
    const double meanBits = (3 * std::log2(3.0) + 32 + 4 * 8 + 4 * std::log2(5.0)) / 12;
    QCOMPARE(j["mean_bits"].get<double>(), std::round(meanBits * 1e4) / 1e4);
    QCOMPARE(j["file_bytes"].get<int64_t>(), qint64(size));
    QCOMPARE(QFileInfo(out).size(), size);
    QCOMPARE(j["quant"].get<std::string>(), std::string("adaptive"));

    const Result g = cli({"generate", "--model", out, "--prompt", "7+5=", "--tokens", "40"});
    QVERIFY2(g.code == 0, qPrintable(g.err));
    QCOMPARE(g.out.size(), qsizetype(4 + 40 + 1));
    QVERIFY2(g.err.contains("block linears mixed: 1 packed_ternary_gemv") &&
                 g.err.contains("1 five_level_gemv") && g.err.contains("2 float (dequantized)"),
             qPrintable(g.err));
}

// An adaptive configuration's levels, and so its file size, come from training: the row says so.
void TestCliExport::memoryOfAnAdaptiveConfig() {
    const Result r = cli({"memory", "--preset", "gpt-s", "--set", "quant.weights=adaptive"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QStringList lines = QString::fromUtf8(r.out).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2 + 5);
    QVERIFY2(lines[2].startsWith("| gpt-s") && lines[2].contains(" adaptive |") &&
                 lines[2].endsWith("| after training | after training |"),
             qPrintable(lines[2]));
    const Result help = cli({"memory", "--help"});
    QCOMPARE(help.code, 0);
    QVERIFY(help.out.contains("--model") && help.out.contains("--run") &&
            help.out.contains("after training"));
    const Result both = cli({"memory", "--model", "x.h158", "--preset", "gpt-s"});
    QCOMPARE(both.code, 2);
    QVERIFY2(both.err.contains("take no configuration"), qPrintable(both.err));
    const Result absent = cli({"memory", "--model", "/nonexistent/x.h158"});
    QCOMPARE(absent.code, 2);
    QVERIFY2(absent.err.contains("/nonexistent/x.h158: no such file"), qPrintable(absent.err));
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
