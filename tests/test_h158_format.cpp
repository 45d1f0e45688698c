// Tests of the .h158 container: bit-exact round trips of every tensor kind (ternary, five-level,
// int8, fp32, mixed in one file), five-level packing and int8 code bytes by hand, and refusal of
// truncated, corrupted, foreign and crafted files (without allocating what a bad size field asks
// for).
#include <QTemporaryDir>
#include <QTest>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <new>

#include "core/io/h158_format.h"
#include "core/base/errors.h"
#include "core/base/rng.h"
#include "core/quant/weight_quantizer.h"

using namespace h158;

// The largest single allocation while g_track is set: a refused file must not make the reader
// allocate what its size fields claim.
namespace {
std::atomic<bool> g_track{false};
std::atomic<size_t> g_maxAlloc{0};
void* allocate(size_t n) {
    if (g_track.load(std::memory_order_relaxed)) {
        size_t m = g_maxAlloc.load(std::memory_order_relaxed);
        while (n > m && !g_maxAlloc.compare_exchange_weak(m, n)) {
        }
    }
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
}  // namespace
void* operator new(size_t n) {
    return allocate(n);
}
void* operator new[](size_t n) {
    return allocate(n);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
    std::free(p);
}

namespace {

using Bytes = std::vector<uint8_t>;

QuantizedTensor quantized(int64_t rows, int64_t cols, QuantLevels levels, QuantGranularity g,
                          uint64_t seed, std::vector<float>* dequant = nullptr) {
    Rng rng(seed);
    std::vector<float> w(static_cast<size_t>(rows * cols));
    for (auto& v : w) v = float(rng.normal(0.0, 0.05));
    std::vector<float> out(w.size());
    QuantizedTensor q;
    quantizeWeights(w.data(), rows, cols, levels, g, {}, q, out.data());
    if (dequant) *dequant = out;
    return q;
}

// One tensor of every kind and scale layout, with row lengths of every residue mod 5 and mod 3.
H158Model sampleModel() {
    H158Model m;
    m.header = {{"format", kH158FormatName}, {"note", "test"}, {"list", {1, 2.5, "x"}}};
    std::vector<float> f(3 * 7);
    Rng rng(1);
    for (auto& v : f) v = float(rng.normal());
    f[0] = -0.0f;
    f[1] = 1e-40f;  // subnormal
    f[2] = std::numeric_limits<float>::quiet_NaN();
    f[3] = std::numeric_limits<float>::infinity();
    m.tensors.push_back(h158Fp32("fp32", f.data(), 3, 7));
    const auto T = QuantLevels::Ternary, F = QuantLevels::FiveLevel;
    const auto Tens = QuantGranularity::Tensor, Row = QuantGranularity::Row;
    m.tensors.push_back(
        h158Quantized("tern.tensor", quantized(5, 13, T, Tens, 2), H158Scales::PerTensor));
    m.tensors.push_back(h158Quantized("tern.row", quantized(4, 10, T, Row, 3), H158Scales::PerRow));
    m.tensors.push_back(h158Quantized("tern.col", quantized(7, 1, T, Row, 4), H158Scales::PerRow));
    m.tensors.push_back(
        h158Quantized("five.tensor", quantized(3, 7, F, Tens, 5), H158Scales::PerTensor));
    m.tensors.push_back(h158Quantized("five.row", quantized(6, 4, F, Row, 6), H158Scales::PerRow));
    m.tensors.push_back(h158Quantized("blocks.0.a.name.of.forty-seven.bytes.xxxxxxxxxx",
                                      quantized(2, 5, T, Tens, 7), H158Scales::PerTensor));
    const auto I = QuantLevels::Int8;
    m.tensors.push_back(
        h158Quantized("int8.tensor", quantized(5, 9, I, Tens, 8), H158Scales::PerTensor));
    m.tensors.push_back(h158Quantized("int8.row", quantized(6, 11, I, Row, 9), H158Scales::PerRow));
    return m;
}

// An empty vector's data() may be null, and memcmp on a null pointer is undefined even for 0 bytes.
bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

void writeFile(const QString& path, const Bytes& b) {
    std::ofstream out(path.toStdString(), std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// The FileError message of parsing b, or "" when it parses.
QString refusal(const Bytes& b, const std::string& where = "mem.h158") {
    try {
        parseH158(b, where);
    } catch (const FileError& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

void putU64(Bytes& b, size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i) b[at + size_t(i)] = uint8_t(v >> (8 * i));
}
void putU32(Bytes& b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + size_t(i)] = uint8_t(v >> (8 * i));
}
uint64_t getU64(const Bytes& b, size_t at) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | b[at + size_t(i)];
    return v;
}
// A crafted file: fields changed and the checksum made right again.
void reseal(Bytes& b) {
    putU64(b, 8, fnv1a64(std::span<const uint8_t>(b).subspan(16)));
}

}  // namespace

class TestH158Format : public QObject {
    Q_OBJECT
  private slots:
    void fiveLevelPackingByHand();
    void fiveLevelRoundTrip();
    void int8CodesByHand();
    void int8RoundTrip_data();
    void int8RoundTrip();
    void int8MinusOneTwentyEightRefused();
    void roundTripBitExact();
    void roundTripThroughFile();
    void fileBytesMatchesLayout();
    void writerRefusesBadTensors();
    void truncatedRefused();
    void flippedByteRefused();
    void foreignRefused_data();
    void foreignRefused();
    void absurdFieldsRefused_data();
    void absurdFieldsRefused();
    void mistypedHeaderRefused_data();
    void mistypedHeaderRefused();
};

void TestH158Format::fiveLevelPackingByHand() {
    // byte = sum (c_i + 2) 5^i, least significant first; unused digits hold code 0 (digit 2).
    Bytes out(1);
    const std::vector<int8_t> a = {-2, -1, 0};
    packFiveLevel(a, out);
    QCOMPARE(int(out[0]), 0 + 1 * 5 + 2 * 25);
    const std::vector<int8_t> b = {2, 2, 2};
    packFiveLevel(b, out);
    QCOMPARE(int(out[0]), 124);
    const std::vector<int8_t> c = {1};
    packFiveLevel(c, out);
    QCOMPARE(int(out[0]), 3 + 2 * 5 + 2 * 25);
    const std::vector<int8_t> bad = {3};
    QVERIFY_THROWS_EXCEPTION(Error, packFiveLevel(bad, out));
    std::vector<int8_t> back(3);
    const Bytes invalid = {125};
    QVERIFY_THROWS_EXCEPTION(Error, unpackFiveLevel(invalid, back));
}

void TestH158Format::fiveLevelRoundTrip() {
    Rng rng(9);
    for (int n = 0; n <= 40; ++n) {
        std::vector<int8_t> codes(static_cast<size_t>(n));
        for (auto& c : codes) c = int8_t(int(rng.below(5)) - 2);
        Bytes packed(size_t(packedFiveLevelSize(n)));
        packFiveLevel(codes, packed);
        for (uint8_t byte : packed) QVERIFY(byte < 125);
        std::vector<int8_t> back(static_cast<size_t>(n));
        unpackFiveLevel(packed, back);
        QCOMPARE(back, codes);
    }
}

// An int8 code is its two's-complement byte, row by row in column order (row stride = cols).
void TestH158Format::int8CodesByHand() {
    QuantizedTensor q;
    q.rows = 2;
    q.cols = 3;
    q.levels = QuantLevels::Int8;
    q.codes = {-127, 5, 0, -1, 127, 2};  // (2, 3) column-major: row 0 = -127 0 127, row 1 = 5 -1 2
    q.rowScale = VecF::Constant(2, 0.25f);
    const H158Tensor t = h158Quantized("i", q, H158Scales::PerTensor);
    QCOMPARE(t.kind, H158Kind::Int8);
    QCOMPARE(t.rowStride(), int64_t(3));
    QCOMPARE(t.packed, (Bytes{0x81, 0x00, 0x7f, 0x05, 0xff, 0x02}));
    QCOMPARE(t.payloadBytes(), int64_t(4 + 6));
    QCOMPARE(t.codes(), q.codes);
    QCOMPARE(t.dequantized()(0, 0), -127 * 0.25f);
    QCOMPARE(t.dequantized()(1, 2), 2 * 0.25f);
    // -128 is outside the format's codes: the writer refuses it too, naming the tensor.
    q.codes[3] = -128;
    try {
        h158Quantized("w.int8", q, H158Scales::PerRow);
        QFAIL("code -128 was packed");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("w.int8") && QString(e.what()).contains("-128"),
                 e.what());
    }
}

void TestH158Format::int8RoundTrip_data() {
    QTest::addColumn<int>("granularity");  // QuantGranularity
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::newRow("per tensor") << int(QuantGranularity::Tensor) << 7 << 13;
    QTest::newRow("per row") << int(QuantGranularity::Row) << 9 << 4;
    QTest::newRow("one column") << int(QuantGranularity::Row) << 5 << 1;
}

// Codes, scales and the dequantized values come back bit for bit, through the bytes and a file.
void TestH158Format::int8RoundTrip() {
    QFETCH(int, granularity);
    QFETCH(int, rows);
    QFETCH(int, cols);
    const auto g = QuantGranularity(granularity);
    const H158Scales scales =
        g == QuantGranularity::Tensor ? H158Scales::PerTensor : H158Scales::PerRow;
    std::vector<float> deq;
    const QuantizedTensor q = quantized(rows, cols, QuantLevels::Int8, g, 21, &deq);
    // The codes reach the ends of the range (the absmax weight of a group codes to +-127).
    int maxAbs = 0;
    for (int8_t c : q.codes) maxAbs = std::max(maxAbs, std::abs(int(c)));
    QCOMPARE(maxAbs, 127);
    H158Model m;
    m.header = {{"format", kH158FormatName}};
    m.tensors.push_back(h158Quantized("w", q, scales));
    QTemporaryDir dir;
    const std::string path = (dir.path() + "/i.h158").toStdString();
    writeH158(m, path);
    const H158Model r = readH158(path);
    QCOMPARE(r.tensors.size(), size_t(1));
    const H158Tensor& t = r.tensors[0];
    QCOMPARE(t.kind, H158Kind::Int8);
    QCOMPARE(t.scales, scales);
    QCOMPARE(t.codes(), q.codes);
    QCOMPARE(int64_t(t.scale.size()), scales == H158Scales::PerTensor ? int64_t(1) : int64_t(rows));
    const VecF s = t.rowScale();
    QVERIFY(std::memcmp(s.data(), q.rowScale.data(), size_t(rows) * 4) == 0);
    const MatF w = t.dequantized();
    QVERIFY(std::memcmp(w.data(), deq.data(), deq.size() * 4) == 0);
    QCOMPARE(t.payloadBytes(), int64_t(4 * t.scale.size()) + int64_t(rows) * cols);
    QCOMPARE(serializeH158(r), serializeH158(m));
}

// A code byte 0x80 (-128), with the checksum made right, is refused naming the file, the tensor
// and the byte's offset; 0x81 (-127) in the same place is read.
void TestH158Format::int8MinusOneTwentyEightRefused() {
    const Bytes good = serializeH158(sampleModel());
    const size_t table = size_t(getU64(good, 40));
    const H158Model m = sampleModel();
    size_t entry = 0;
    for (size_t i = 0; i < m.tensors.size(); ++i)
        if (m.tensors[i].name == "int8.row") entry = table + i * 96;
    QVERIFY(entry > 0);
    // 6 row scales, then the code bytes: row 1, column 2 is byte 11 + 2 of them.
    const size_t at = size_t(getU64(good, entry + 72)) + 6 * 4 + 13;
    Bytes b = good;
    b[at] = 0x81;
    reseal(b);
    QCOMPARE(refusal(b), QString());
    QCOMPARE(parseH158(b, "mem").find("int8.row")->codes()[size_t(2 * 6 + 1)], int8_t(-127));
    b[at] = 0x80;
    reseal(b);
    const QString msg = refusal(b);
    QVERIFY2(msg.startsWith("mem.h158: tensor int8.row: ") && msg.contains("0x80") &&
                 msg.contains("file offset " + QString::number(at)) &&
                 msg.contains("row 1, column 2"),
             qPrintable(msg));
}

// sampleModel mixes every kind in one file, as a mixed-precision model does.
void TestH158Format::roundTripBitExact() {
    const H158Model m = sampleModel();
    const Bytes bytes = serializeH158(m);
    const H158Model r = parseH158(bytes, "mem");
    QVERIFY(r.header == m.header);
    QCOMPARE(r.tensors.size(), m.tensors.size());
    for (size_t i = 0; i < m.tensors.size(); ++i) {
        const H158Tensor &a = m.tensors[i], &b = r.tensors[i];
        QCOMPARE(b.name, a.name);
        QCOMPARE(b.kind, a.kind);
        QCOMPARE(b.scales, a.scales);
        QCOMPARE(b.rows, a.rows);
        QCOMPARE(b.cols, a.cols);
        QVERIFY2(sameBits(b.values, a.values), a.name.c_str());
        QVERIFY2(sameBits(b.scale, a.scale), a.name.c_str());
        QCOMPARE(b.packed, a.packed);
    }
    // The serialization is canonical: the same model gives the same bytes.
    QCOMPARE(serializeH158(r), bytes);

    // Codes and values come back as the quantizer made them, bit for bit.
    std::vector<float> deq;
    const QuantizedTensor q =
        quantized(4, 10, QuantLevels::Ternary, QuantGranularity::Row, 3, &deq);
    const H158Tensor* t = r.find("tern.row");
    QVERIFY(t);
    QCOMPARE(t->codes(), q.codes);
    const MatF w = t->dequantized();
    QVERIFY(std::memcmp(w.data(), deq.data(), deq.size() * 4) == 0);
    const QuantizedTensor q5 =
        quantized(3, 7, QuantLevels::FiveLevel, QuantGranularity::Tensor, 5, &deq);
    QCOMPARE(r.find("five.tensor")->codes(), q5.codes);
    const MatF w5 = r.find("five.tensor")->dequantized();
    QVERIFY(std::memcmp(w5.data(), deq.data(), deq.size() * 4) == 0);
    const QuantizedTensor q8 = quantized(6, 11, QuantLevels::Int8, QuantGranularity::Row, 9, &deq);
    QCOMPARE(r.find("int8.row")->codes(), q8.codes);
    const MatF w8 = r.find("int8.row")->dequantized();
    QVERIFY(std::memcmp(w8.data(), deq.data(), deq.size() * 4) == 0);
    // The GEMV operand is the row-packed matrix of packing.h.
    const PackedTernaryMatrix p = r.find("tern.tensor")->packedTernary();
    const QuantizedTensor qt = quantized(5, 13, QuantLevels::Ternary, QuantGranularity::Tensor, 2);
    QCOMPARE(unpackTernaryMatrix(p), qt.codes);
    QCOMPARE(p.rowScale, qt.rowScale);
}

void TestH158Format::roundTripThroughFile() {
    QTemporaryDir dir;
    const std::string path = (dir.path() + "/m.h158").toStdString();
    const H158Model m = sampleModel();
    writeH158(m, path);
    const H158Model r = readH158(path);
    QCOMPARE(serializeH158(r), serializeH158(m));
    QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));
}

// The size the memory table uses is the size the writer writes.
void TestH158Format::fileBytesMatchesLayout() {
    const H158Model m = sampleModel();
    std::vector<H158TensorPlan> plans;
    for (const auto& t : m.tensors) plans.push_back({t.kind, t.scales, t.rows, t.cols});
    const Bytes bytes = serializeH158(m);
    QCOMPARE(h158FileBytes(int64_t(m.header.dump().size()), plans), int64_t(bytes.size()));
    // Payload sizes: ternary (5, 13): scale + 5 rows x 3 bytes; five-level per row (6, 4): 6
    // scales + 6 rows x 2 bytes; fp32 (3, 7): 84 bytes.
    QCOMPARE(m.find("tern.tensor")->payloadBytes(), int64_t(4 + 5 * 3));
    QCOMPARE(m.find("five.row")->payloadBytes(), int64_t(6 * 4 + 6 * 2));
    QCOMPARE(m.find("fp32")->payloadBytes(), int64_t(84));
    // int8 (6, 11) per row: 6 scales + 66 code bytes.
    QCOMPARE(m.find("int8.row")->payloadBytes(), int64_t(6 * 4 + 6 * 11));
    // Payloads are 64-byte aligned.
    const uint64_t tableOffset = getU64(bytes, 40);
    for (size_t i = 0; i < m.tensors.size(); ++i)
        QCOMPARE(getU64(bytes, size_t(tableOffset) + i * 96 + 72) % 64, uint64_t(0));
}

void TestH158Format::writerRefusesBadTensors() {
    std::vector<float> f(4, 1.0f);
    QVERIFY_THROWS_EXCEPTION(Error, h158Fp32(std::string(48, 'n'), f.data(), 2, 2));
    QVERIFY_THROWS_EXCEPTION(Error, h158Fp32("", f.data(), 2, 2));
    QVERIFY_THROWS_EXCEPTION(Error, h158Fp32("empty", f.data(), 0, 2));
    // Per-tensor scales need one scale for all rows.
    const QuantizedTensor q = quantized(4, 10, QuantLevels::Ternary, QuantGranularity::Row, 3);
    QVERIFY_THROWS_EXCEPTION(Error, h158Quantized("t", q, H158Scales::PerTensor));
    H158Model m;
    m.header = {{"format", kH158FormatName}};
    m.tensors.push_back(h158Fp32("a", f.data(), 2, 2));
    m.tensors.push_back(h158Fp32("a", f.data(), 2, 2));
    QVERIFY_THROWS_EXCEPTION(Error, serializeH158(m));
}

// Cut at every tenth of its length, the file is refused as truncated (or empty).
void TestH158Format::truncatedRefused() {
    QTemporaryDir dir;
    const Bytes bytes = serializeH158(sampleModel());
    for (int k = 0; k < 10; ++k) {
        const Bytes cut(bytes.begin(), bytes.begin() + long(bytes.size() * size_t(k) / 10));
        const QString path = dir.path() + QString("/cut%1.h158").arg(k);
        writeFile(path, cut);
        QString msg;
        try {
            readH158(path.toStdString());
        } catch (const FileError& e) {
            msg = e.what();
        }
        QVERIFY2(msg.startsWith(path + ": "), qPrintable(msg));
        QVERIFY2(msg.contains(k == 0 ? "empty" : "truncated"), qPrintable(msg));
        QVERIFY(refusal(cut).contains(k == 0 ? "empty" : "truncated"));
    }
}

// Any single corrupted byte is refused: the magic, the version and the size by their own checks,
// everything else by the checksum.
void TestH158Format::flippedByteRefused() {
    const Bytes bytes = serializeH158(sampleModel());
    for (size_t i = 0; i < bytes.size(); ++i) {
        Bytes b = bytes;
        b[i] ^= 0x5a;
        const QString msg = refusal(b);
        const char* want = i < 4    ? "not an H158"
                           : i < 8  ? "version"
                           : i < 16 ? "checksum"
                           : i < 24 ? "header says"
                                    : "checksum mismatch";
        QVERIFY2(msg.startsWith("mem.h158: ") && msg.contains(want),
                 qPrintable(QString("byte %1: '%2'").arg(i).arg(msg)));
    }
}

void TestH158Format::foreignRefused_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("want");
    // A PNG's signature and the start of its IHDR chunk (sizeof: the literal holds zero bytes).
    static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0";
    QTest::newRow("png") << QByteArray(png, sizeof png - 1) << "PNG image";
    QTest::newRow("text") << QByteArray("hello, this is a text file\nnot a model\n") << "text";
    QTest::newRow("json") << QByteArray("{\"format\": \"hybrid158-h158\"}") << "not an H158";
    QTest::newRow("empty") << QByteArray() << "empty";
    QTest::newRow("magic only") << QByteArray("H158") << "truncated";
    QTest::newRow("zeros") << QByteArray(4096, '\0') << "not an H158";
}

void TestH158Format::foreignRefused() {
    QFETCH(QByteArray, content);
    QFETCH(QString, want);
    QTemporaryDir dir;
    const QString path = dir.path() + "/foreign.h158";
    writeFile(path, Bytes(content.begin(), content.end()));
    QString msg;
    try {
        readH158(path.toStdString());
    } catch (const FileError& e) {
        msg = e.what();
    }
    QVERIFY2(msg.startsWith(path + ": ") && msg.contains(want), qPrintable(msg));
    // Not a file at all.
    QVERIFY_THROWS_EXCEPTION(FileError, readH158((dir.path() + "/absent.h158").toStdString()));
    QVERIFY_THROWS_EXCEPTION(FileError, readH158(dir.path().toStdString()));
}

void TestH158Format::absurdFieldsRefused_data() {
    QTest::addColumn<int>("field");  // which change (see absurdFieldsRefused)
    QTest::addColumn<QString>("want");
    QTest::newRow("file size 2^62") << 0 << "truncated";
    QTest::newRow("header bytes 2^62") << 1 << "JSON header";
    QTest::newRow("tensor count 2^40") << 2 << "tensor count";
    QTest::newRow("table offset") << 3 << "table offset";
    QTest::newRow("rows x cols overflow") << 4 << "overflows";
    QTest::newRow("rows 2^40") << 5 << "needs";
    QTest::newRow("offset 2^63") << 6 << "past the end";
    QTest::newRow("fp32 2^31 x 2^30, bytes 2^63") << 7 << "past the end";
    QTest::newRow("unknown kind") << 8 << "unknown kind";
    QTest::newRow("name not terminated") << 9 << "zero-terminated";
    QTest::newRow("packed byte 250") << 10 << "packed byte";
    QTest::newRow("version 2") << 11 << "version";
    QTest::newRow("overlapping payloads") << 12 << "overlaps";
    QTest::newRow("bad JSON header") << 13 << "JSON header";
    QTest::newRow("rows 2^63") << 14 << "invalid shape";
}

// Crafted files whose checksum is right but whose fields are not: refused by name, and the
// reader never allocates more than a small multiple of the file.
void TestH158Format::absurdFieldsRefused() {
    QFETCH(int, field);
    QFETCH(QString, want);
    Bytes b = serializeH158(sampleModel());
    const size_t table = size_t(getU64(b, 40));
    const size_t e0 = table, e1 = table + 96;  // fp32 (3, 7) entry, then "tern.tensor"
    switch (field) {
        case 0:
            putU64(b, 16, uint64_t(1) << 62);
            break;
        case 1:
            putU64(b, 32, uint64_t(1) << 62);
            break;
        case 2:
            putU64(b, 48, uint64_t(1) << 40);
            break;
        case 3:
            putU64(b, 40, 1u << 20);
            break;
        case 4:
            putU64(b, e0 + 56, uint64_t(1) << 61), putU64(b, e0 + 64, uint64_t(1) << 61);
            break;
        case 5:
            putU64(b, e0 + 56, uint64_t(1) << 40);
            break;
        case 6:
            putU64(b, e1 + 72, uint64_t(1) << 63);
            break;
        case 7:
            putU64(b, e0 + 56, uint64_t(1) << 31), putU64(b, e0 + 64, uint64_t(1) << 30);
            putU64(b, e0 + 80, uint64_t(1) << 63);
            break;
        case 8:
            putU32(b, e1 + 48, 7);
            break;
        case 9:
            std::memset(b.data() + e1, 'A', 48);
            break;
        case 10:
            b[size_t(getU64(b, e1 + 72)) + 4] = 250;
            break;  // first packed byte
        case 11:
            putU32(b, 4, 2);
            break;
        case 12:
            putU64(b, e1 + 72, getU64(b, e0 + 72));
            break;
        case 13:
            b[64] = '[';
            break;
        case 14:
            putU64(b, e0 + 56, uint64_t(1) << 63);
            break;
    }
    if (field != 0) reseal(b);
    g_maxAlloc = 0;
    g_track = true;
    const QString msg = refusal(b);
    g_track = false;
    QVERIFY2(msg.startsWith("mem.h158: ") && msg.contains(want), qPrintable(msg));
    QVERIFY(g_maxAlloc.load() > 0);  // the tracker sees the reader's allocations
    QVERIFY2(g_maxAlloc.load() < 64 * b.size() + (1u << 16),
             qPrintable(QString("largest allocation %1 bytes").arg(g_maxAlloc.load())));
}

void TestH158Format::mistypedHeaderRefused_data() {
    QTest::addColumn<QString>("header");
    // The first is what fuzz/fuzz_h158 found (fuzz/corpus/h158/crash-format-object.h158): a
    // "format" that is not a string made the reader throw nlohmann's type_error.
    QTest::newRow("format an object") << R"({"format": {"aux": {"enabled": true}}})";
    QTest::newRow("format a number") << R"({"format": 158})";
    QTest::newRow("format null") << R"({"format": null})";
    QTest::newRow("no format") << R"({"version": 1})";
    QTest::newRow("an array") << R"(["hybrid158-h158"])";
    QTest::newRow("a string") << R"("hybrid158-h158")";
}

// A well-formed file whose JSON header is not ours is refused by name, whatever its types.
void TestH158Format::mistypedHeaderRefused() {
    QFETCH(QString, header);
    H158Model m = sampleModel();
    m.header = nlohmann::json::parse(header.toStdString());
    const QString msg = refusal(serializeH158(m));
    QVERIFY2(msg == "mem.h158: JSON header is not a hybrid158-h158 header", qPrintable(msg));
}

QTEST_APPLESS_MAIN(TestH158Format)
#include "test_h158_format.moc"
