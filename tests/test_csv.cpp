// Tests of the numeric CSV reader and writers: header detection, separators, skipped lines,
// exact float round trips, and errors that name the file, line and column.
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <functional>
#include <limits>

#include "core/config/config.h"
#include "core/data/csv.h"
#include "core/data/dataset.h"
#include "core/base/errors.h"
#include "core/base/rng.h"

using namespace h158;

namespace {

QString errorOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const FileError& e) {
        return QString::fromStdString(e.what());
    } catch (const Error& e) {
        return "not a FileError: " + QString::fromStdString(e.what());
    }
    return {};
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

class TestCsv : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;

  private slots:
    // A class label past the limit is refused with its file and line, before a 5000-way layer.
    void classLabelsAreBounded() {
        QTemporaryDir dir;
        const QString path = dir.filePath("c.csv");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("x,y,label\n0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,5000\n0.7,0.8,1\n0.9,1.0,0\n");
        f.close();
        Config c = presetConfig("spirals");
        c.data.kind = "csv";
        c.data.csv_file = path.toStdString();
        c.data.csv_target = "label";
        c.data.csv_task = "classification";
        try {
            makeDataset(c);
            QFAIL("accepted");
        } catch (const FileError& e) {
            QVERIFY2(QString(e.what()).contains("c.csv:4: class label must be an integer in [0, 999], got 5000"), e.what());
        }
    }
    // A first line with numbers and one bad cell is a broken data row, not a header.
    void firstRowWithABadCellIsAnError() {
        try {
            parseCsv("1,2,x\n3,4,5\n", "t.csv");
            QFAIL("read as a header");
        } catch (const FileError& e) {
            QVERIFY2(QString(e.what()).startsWith("t.csv:1: column 3"), e.what());
        }
        const CsvTable h = parseCsv("a,b,c\n3,4,5\n", "t.csv");
        QVERIFY(h.hasHeader);
        QCOMPARE(h.values.cols(), 1);
    }
    void parsesLayouts_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("header");
        QTest::addColumn<QStringList>("names");
        QTest::addColumn<QList<int>>("lines");
        const QStringList ab{"a", "b"}, generated{"c0", "c1"};
        QTest::newRow("header") << "a,b\n1,2\n3,4.5\n" << true << ab << QList<int>{2, 3};
        QTest::newRow("no header") << "1,2\n3,4.5\n" << false << generated << QList<int>{1, 2};
        QTest::newRow("semicolon") << "a;b\n1;2\n3;4.5\n" << true << ab << QList<int>{2, 3};
        QTest::newRow("tab") << "a\tb\n1\t2\n3\t4.5\n" << true << ab << QList<int>{2, 3};
        QTest::newRow("CRLF, no final newline")
            << "a,b\r\n1,2\r\n3,4.5" << true << ab << QList<int>{2, 3};
        QTest::newRow("comments and blank lines")
            << "# made by hand\n\na,b\n  \n1,2\n# between\n3,4.5\n\n"
            << true << ab << QList<int>{5, 7};
        QTest::newRow("quotes and padding") << "\"a\", \"b\"\n \"1\" , +2 \n3,  4.5\n"
                                            << true << ab << QList<int>{2, 3};
        QTest::newRow("byte order mark") << "\xEF\xBB\xBF"
                                            "a,b\n1,2\n3,4.5\n"
                                         << true << ab << QList<int>{2, 3};
        QTest::newRow("exponents") << "1e0,2E+0\n0.3e1,45e-1\n"
                                   << false << generated << QList<int>{1, 2};
    }
    void parsesLayouts() {
        QFETCH(QString, text);
        QFETCH(bool, header);
        QFETCH(QStringList, names);
        QFETCH(QList<int>, lines);
        const CsvTable t = parseCsv(text.toStdString(), "mem");
        QCOMPARE(t.hasHeader, header);
        QCOMPARE(int(t.names.size()), names.size());
        for (int i = 0; i < names.size(); ++i)
            QCOMPARE(QString::fromStdString(t.names[size_t(i)]), names[i]);
        QCOMPARE(t.values.rows(), int64_t(2));  // (columns, rows): a row is a sample column
        QCOMPARE(t.values.cols(), int64_t(2));
        QCOMPARE(t.values(0, 0), 1.0f);
        QCOMPARE(t.values(1, 0), 2.0f);
        QCOMPARE(t.values(0, 1), 3.0f);
        QCOMPARE(t.values(1, 1), 4.5f);
        QCOMPARE(int(t.lines.size()), lines.size());
        for (int i = 0; i < lines.size(); ++i) QCOMPARE(t.lines[size_t(i)], int64_t(lines[i]));
    }

    void singleColumnAndUnnamedHeaderCells() {
        const CsvTable one = parseCsv("v\n1\n-2\n", "mem");
        QCOMPARE(one.values.rows(), int64_t(1));
        QCOMPARE(one.values.cols(), int64_t(2));
        QCOMPARE(one.values(0, 1), -2.0f);
        const CsvTable t = parseCsv("x,,z\n1,2,3\n", "mem");
        QCOMPARE(t.names, (std::vector<std::string>{"x", "c1", "z"}));
    }

    void errorsNameFileLineAndColumn_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("needle");
        QTest::newRow("bad cell") << "a,b\n1,2\n3,x4\n"
                                  << "data.csv:3: column 2 (\"b\"): 'x4' is not a number";
        QTest::newRow("trailing separator") << "1,2\n3,4\n5,6,\n"
                                            << "data.csv:3: 3 cells, expected 2 as on line 1";
        QTest::newRow("empty cell") << "a,b\n1,\n"
                                    << "data.csv:2: column 2 (\"b\"): '' is not a number";
        QTest::newRow("too few cells") << "# c\na,b,c\n1,2,3\n\n4,5\n"
                                       << "data.csv:5: 2 cells, expected 3 as on line 2";
        QTest::newRow("not finite") << "a\n1\nnan\n"
                                    << "data.csv:3: column 1 (\"a\"): 'nan' is not a finite number";
        QTest::newRow("infinite") << "a,b\n1,-inf\n"
                                  << "data.csv:2: column 2 (\"b\"): '-inf' is not a finite number";
        QTest::newRow("out of range")
            << "a\n1e39\n"
            << "data.csv:2: column 1 (\"a\"): '1e39' is outside the float range";
        QTest::newRow("trailing junk") << "a\n1.5.2\n"
                                       << "data.csv:2: column 1 (\"a\"): '1.5.2' is not a number";
        QTest::newRow("header only") << "a,b\n# nothing\n"
                                     << "data.csv: no data rows";
        QTest::newRow("empty file") << ""
                                    << "data.csv: no data rows";
    }
    void errorsNameFileLineAndColumn() {
        QFETCH(QString, text);
        QFETCH(QString, needle);
        const std::string path = m_dir.filePath("data.csv").toStdString();
        {
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            out << text.toStdString();
        }
        const QString msg = errorOf([&] { readCsv(path); });
        QVERIFY2(msg.contains(needle), qPrintable(msg));
        QVERIFY2(msg.startsWith(QString::fromStdString(path)), qPrintable(msg));
    }

    void missingFileIsNamed() {
        const QString msg = errorOf([] { readCsv("/no/such/dir/points.csv"); });
        QVERIFY2(msg.contains("'/no/such/dir/points.csv'"), qPrintable(msg));
    }

    void floatsRoundTripExactly() {
        Rng rng(3);
        MatF m(4, 300);
        for (int64_t i = 0; i < m.size(); ++i)
            m.data()[i] = float(rng.normal() * std::pow(10.0, rng.uniform(-30, 30)));
        m(0, 0) = std::numeric_limits<float>::min();
        m(1, 0) = std::numeric_limits<float>::max();
        m(2, 0) = -0.0f;
        m(3, 0) = std::numeric_limits<float>::denorm_min();
        const std::string path = m_dir.filePath("m.csv").toStdString();
        writeCsv(path, {"w", "x,y", "say \"hi\"", "z"}, m);
        const CsvTable t = readCsv(path);
        QVERIFY(t.hasHeader);
        // Separators and quotes in names become '_' (the reader does not parse quoted separators).
        QCOMPARE(t.names, (std::vector<std::string>{"w", "x_y", "say _hi_", "z"}));
        QVERIFY(t.values == m);  // bit for bit (shortest round-trip formatting)
    }

    void writesLabels() {
        const std::string path = m_dir.filePath("labels.csv").toStdString();
        writeLabelsCsv(path, {2, 0, 1, 1});
        QCOMPARE(QString::fromStdString(slurp(path)), QString("cluster\n2\n0\n1\n1\n"));
        const CsvTable t = readCsv(path);
        QCOMPARE(t.names, (std::vector<std::string>{"cluster"}));
        QCOMPARE(t.values.cols(), int64_t(4));
    }

    void writeErrorsAreFileErrors() {
        const QString msg = errorOf([] { writeLabelsCsv("/no/such/dir/labels.csv", {1}); });
        QVERIFY2(msg.contains("/no/such/dir/labels.csv") && !msg.startsWith("not a"),
                 qPrintable(msg));
        const QString shape = errorOf([] { writeCsv("/tmp/x.csv", {"a"}, MatF::Zero(2, 2)); });
        QVERIFY2(shape.contains("1 names for 2 columns"), qPrintable(shape));
    }
};

QTEST_APPLESS_MAIN(TestCsv)
#include "test_csv.moc"
