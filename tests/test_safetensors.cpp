// safetensors reading and writing (core/model/safetensors.h) and model parameters in PyTorch's layout
// (core/model/param_file.h): round trips, the transposes, and every malformed file refused with its
// name and reason.
#include <QTemporaryDir>
#include <QTest>
#include <cstring>
#include <fstream>

#include "core/base/errors.h"
#include "core/model/gpt/gpt_model.h"
#include "core/model/param_file.h"
#include "core/model/safetensors.h"

using namespace h158;

namespace {

void writeRaw(const std::string& path, const std::string& header, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    const uint64_t n = header.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << header << data;
}

}  // namespace

class TestSafeTensors : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string path(const char* name) const { return (m_dir.path() + "/" + name).toStdString(); }

  private slots:
    void roundTrip();
    void externalLayout();
    void modelParametersRoundTrip();
    void refusesMalformed_data();
    void refusesMalformed();
    void refusesTruncated();
};

void TestSafeTensors::roundTrip() {
    const std::vector<TensorOut> t = {{"a", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"b.c", {1}, {-0.5f}}};
    writeSafeTensors(path("rt.safetensors"), t, {{"note", "hello"}});
    const SafeTensors st = SafeTensors::read(path("rt.safetensors"));
    QCOMPARE(st.names(), (std::vector<std::string>{"a", "b.c"}));
    QCOMPARE(st.entry("a").shape, (std::vector<int64_t>{2, 3}));
    QCOMPARE(st.floats("a"), t[0].values);
    QCOMPARE(st.doubles("b.c"), std::vector<double>{-0.5});
    QCOMPARE(st.metadata().at("note"), std::string("hello"));
    QVERIFY_THROWS_EXCEPTION(FileError, st.integers("a"));  // F32 is not an integer
    QVERIFY_THROWS_EXCEPTION(FileError, st.entry("missing"));
    QVERIFY(!QFile::exists(QString::fromStdString(path("rt.safetensors.tmp"))));
}

// An embedding table (C, V) column-major is PyTorch's (V, C) row-major: the same bytes; a
// Linear weight (out, in) column-major is the transpose of PyTorch's (out, in) row-major.
void TestSafeTensors::externalLayout() {
    ParamLayout L;
    const int emb = L.add("tok.weight", 2, 3, false, true, true);  // C = 2, V = 3
    const int lin = L.add("fc.weight", 2, 3, true);                // out 2, in 3
    const int vec = L.add("ln.bias", 2, 1, false, false);
    QCOMPARE(externalShape(L[emb]), (std::vector<int64_t>{3, 2}));
    QCOMPARE(externalShape(L[lin]), (std::vector<int64_t>{2, 3}));
    QCOMPARE(externalShape(L[vec]), (std::vector<int64_t>{2}));
    const float ours[6] = {0, 1, 2, 3, 4, 5};  // column-major (2, 3): W(r, c) = ours[r + 2c]
    float ext[6];
    toExternal(L[lin], ours, ext);
    // row-major (2, 3): ext[r * 3 + c] = W(r, c)
    for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 3; ++c) QCOMPARE(ext[r * 3 + c], ours[r + 2 * c]);
    float back[6];
    fromExternal(L[lin], ext, back);
    QVERIFY(std::memcmp(back, ours, sizeof ours) == 0);
    toExternal(L[emb], ours, ext);
    QVERIFY(std::memcmp(ext, ours, sizeof ours) == 0);
}

void TestSafeTensors::modelParametersRoundTrip() {
    GptModel m(GptShape{1, 8, 2, 4}, true);
    std::vector<float> w(size_t(m.layout().size())), back(w.size());
    Rng rng(5);
    m.init(w.data(), rng);
    saveParameters(m.layout(), w.data(), path("gpt.safetensors"));
    loadParameters(m.layout(), SafeTensors::read(path("gpt.safetensors")), "", back.data());
    QCOMPARE(back, w);
    const SafeTensors st = SafeTensors::read(path("gpt.safetensors"));
    QCOMPARE(st.entry("blocks.0.fc.weight").shape, (std::vector<int64_t>{32, 8}));
    QCOMPARE(st.entry("tok.weight").shape, (std::vector<int64_t>{256, 8}));

    // a non-finite value is refused with the tensor's name
    w[size_t(m.layout()[2].offset)] = std::nanf("");
    saveParameters(m.layout(), w.data(), path("nan.safetensors"));
    try {
        loadParameters(m.layout(), SafeTensors::read(path("nan.safetensors")), "", back.data());
        QFAIL("a NaN weight was accepted");
    } catch (const FileError& e) {
        QVERIFY2(QString(e.what()).contains(QString::fromStdString(m.layout()[2].name)), e.what());
    }
}

void TestSafeTensors::refusesMalformed_data() {
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<int>("dataBytes");
    QTest::addColumn<QString>("expect");
    QTest::newRow("not JSON") << QByteArray("{\"a\": ") << 0 << "malformed safetensors header";
    QTest::newRow("not an object") << QByteArray("[1, 2]") << 0 << "not a JSON object";
    QTest::newRow("missing fields") << QByteArray("{\"a\": {\"dtype\": \"F32\"}}") << 0
                                    << "needs dtype, shape and data_offsets";
    QTest::newRow("unknown dtype")
        << QByteArray("{\"a\": {\"dtype\": \"BF16\", \"shape\": [1], \"data_offsets\": [0, 2]}}")
        << 2 << "dtype \"BF16\"";
    QTest::newRow("negative shape")
        << QByteArray("{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}")
        << 4 << "shape entry -1";
    QTest::newRow("offsets past the end")
        << QByteArray("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}")
        << 8 << "outside the 8-byte data section";
    QTest::newRow("size does not match the shape")
        << QByteArray("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}")
        << 8 << "8 bytes for shape [3]";
    QTest::newRow("huge shape")
        << QByteArray("{\"a\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], "
                      "\"data_offsets\": [0, 8]}}")
        << 8 << "larger than the file";
}

void TestSafeTensors::refusesMalformed() {
    QFETCH(QByteArray, header);
    QFETCH(int, dataBytes);
    QFETCH(QString, expect);
    const std::string p = path("bad.safetensors");
    writeRaw(p, header.toStdString(), std::string(size_t(dataBytes), '\0'));
    try {
        SafeTensors::read(p);
        QFAIL("a malformed file was accepted");
    } catch (const FileError& e) {
        const QString msg = e.what();
        QVERIFY2(msg.startsWith(QString::fromStdString(p)) && msg.contains(expect), e.what());
    }
}

// Shorter than the 8-byte length, a length past the end, a missing file.
void TestSafeTensors::refusesTruncated() {
    const std::string p = path("short.safetensors");
    std::ofstream(p, std::ios::binary) << "abc";
    QVERIFY_THROWS_EXCEPTION(FileError, SafeTensors::read(p));
    {
        std::ofstream out(p, std::ios::binary);
        const uint64_t n = 1000;
        out.write(reinterpret_cast<const char*>(&n), 8);
        out << "{}";
    }
    try {
        SafeTensors::read(p);
        QFAIL("a header longer than the file was accepted");
    } catch (const FileError& e) {
        QVERIFY2(QString(e.what()).contains("header length 1000"), e.what());
    }
    try {
        SafeTensors::read(path("none.safetensors"));
        QFAIL("a missing file was read");
    } catch (const FileError& e) {
        QVERIFY2(QString(e.what()).contains("none.safetensors: cannot open"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestSafeTensors)
#include "test_safetensors.moc"
