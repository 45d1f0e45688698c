// Following a live run's metrics.csv (core/exp/metrics_tail.h): rows arrive as their lines
// complete, a half-written line waits, the rows equal what a whole read gives bit for bit, a
// rewritten file starts over, and a bad line is an error naming the file and line.
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>

#include "core/base/errors.h"
#include "core/train/metrics.h"
#include "core/exp/metrics_tail.h"

using namespace h158;

namespace {

std::string header() {
    std::string h;
    for (const auto& c : metricsColumns()) h += (h.empty() ? "" : ",") + c;
    return h + "\n";
}

StepMetrics sample(int64_t step) {
    StepMetrics m;
    m.step = step;
    m.loss = 1.0 / double(step + 3);  // not a short decimal: the text must round-trip exactly
    m.lr = 3e-3;
    m.quant_error = 0.1 * double(step) + 1e-17;
    m.elapsed_ms = 12.5 * double(step);
    m.constrained = int(step % 2);
    return m;
}

void append(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << text;
}

}  // namespace

class TestMetricsTail : public QObject {
    Q_OBJECT
  private slots:
    void rowsArriveAsLinesComplete() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("metrics.csv").toStdString();
        MetricsTail tail(path);
        QVERIFY(tail.poll().empty());  // no file yet
        append(path, header());
        QVERIFY(tail.poll().empty());
        append(path, metricsCsvRow(sample(1)) + "\n" + metricsCsvRow(sample(2)) + "\n");
        std::vector<StepMetrics> got = tail.poll();
        QCOMPARE(got.size(), size_t(2));
        const std::string third = metricsCsvRow(sample(3));
        append(path, third.substr(0, 7));  // a row half written
        QVERIFY(tail.poll().empty());
        QVERIFY(tail.poll().empty());
        append(path, third.substr(7) + "\n");
        const std::vector<StepMetrics> more = tail.poll();
        QCOMPARE(more.size(), size_t(1));
        got.insert(got.end(), more.begin(), more.end());
        for (int i = 0; i < 3; ++i) {
            // bit for bit what was written
            QCOMPARE(metricsCsvRow(got[size_t(i)]), metricsCsvRow(sample(i + 1)));
            QCOMPARE(got[size_t(i)].loss, sample(i + 1).loss);
        }
        QVERIFY(!tail.restarted());
        QCOMPARE(tail.offset(), uint64_t(std::ifstream(path, std::ios::ate).tellg()));
    }

    // Each poll reads only what was added: a file grown by one row gives exactly that row.
    void readsOnlyTheNewBytes() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("metrics.csv").toStdString();
        std::string all = header();
        for (int s = 1; s <= 500; ++s) all += metricsCsvRow(sample(s)) + "\n";
        append(path, all);
        MetricsTail tail(path);
        QCOMPARE(tail.poll().size(), size_t(500));
        const uint64_t before = tail.offset();
        const std::string row = metricsCsvRow(sample(501)) + "\n";
        append(path, row);
        const std::vector<StepMetrics> one = tail.poll();
        QCOMPARE(one.size(), size_t(1));
        QCOMPARE(one[0].step, int64_t(501));
        QCOMPARE(tail.offset() - before, uint64_t(row.size()));
    }

    void aRewrittenFileStartsOver() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("metrics.csv").toStdString();
        append(path, header() + metricsCsvRow(sample(1)) + "\n" + metricsCsvRow(sample(2)) + "\n");
        MetricsTail tail(path);
        QCOMPARE(tail.poll().size(), size_t(2));
        std::ofstream(path, std::ios::binary | std::ios::trunc) << header() << metricsCsvRow(sample(7)) << "\n";
        const std::vector<StepMetrics> again = tail.poll();
        QVERIFY(tail.restarted());
        QCOMPARE(again.size(), size_t(1));
        QCOMPARE(again[0].step, int64_t(7));
    }

    void badLinesNameFileAndLine() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("metrics.csv").toStdString();
        append(path, header() + metricsCsvRow(sample(1)) + "\n1,2,3\n");
        MetricsTail tail(path);
        try {
            tail.poll();
            QFAIL("a short row parsed");
        } catch (const FileError& e) {
            QVERIFY2(QString(e.what()).contains(QString::fromStdString(path) + ":3:"), e.what());
        }
        const std::string other = dir.filePath("other.csv").toStdString();
        append(other, "time,value\n1,2\n");
        MetricsTail bad(other);
        try {
            bad.poll();
            QFAIL("a non-metrics header was taken");
        } catch (const FileError& e) {
            QVERIFY2(QString(e.what()).contains(":1: not a metrics header"), e.what());
        }
    }
};

QTEST_MAIN(TestMetricsTail)
#include "test_metrics_tail.moc"
