// The precision panel (ui/precision_panel.h) fed hand-made "precision" snapshots: the strip holds
// each allocation from its step until the next, the bars are the latest rises, a past run's
// sensitivity table draws too, beginRun clears, a uniform run is one colour with a note, and the
// rendered strip has the level's colour where the data says. H158_PRECISION_PNG=DIR also writes
// the rendered panel at two sizes there (to look at).
#include <qcustomplot.h>

#include <QLabel>
#include <QTest>
#include <set>

#include "core/train/sensitivity.h"
#include "ui/precision_panel.h"

using h158::QuantLevels;
using h158::Snapshot;
using h158::ui::PrecisionPanel;
using json = nlohmann::json;

Q_DECLARE_METATYPE(QuantLevels)

namespace {

const std::vector<std::string> kNames = {"blocks.0.qkv.weight", "blocks.0.proj.weight",
                                         "blocks.0.fc.weight", "blocks.0.out.weight"};

// Levels per allocation (steps 0, 50, 100) for the 4 tensors.
const std::vector<std::vector<std::string>> kLevels = {
    {"ternary", "ternary", "ternary", "ternary"},
    {"int8", "ternary", "five_level", "ternary"},
    {"none", "five_level", "ternary", "ternary"},
};

// rise of tensor t at level set l (ternary, five_level, int8) in the allocation at `step`.
double rise(int64_t step, int t, int l) {
    return 0.001 * double(step + 1) * double(4 - t) / double(1 + 3 * l) - (t == 3 ? 0.002 : 0);
}

Snapshot precision(int64_t step, const std::vector<std::string>& levels, bool adaptive) {
    json tensors = json::array(), rises = json::array();
    for (size_t t = 0; t < levels.size(); ++t) {
        tensors.push_back({{"name", kNames[t % kNames.size()]},
                           {"weights", 128 * 128},
                           {"level", levels[t]},
                           {"bits", h158::bitsPerWeight(h158::parseQuantLevels(levels[t]))}});
        rises.push_back({{"ternary", rise(step, int(t), 0)},
                         {"five_level", rise(step, int(t), 1)},
                         {"int8", rise(step, int(t), 2)}});
    }
    Snapshot s;
    s.step = step;
    s.kind = "precision";
    s.data = {{"tensors", tensors}, {"mean_bits", 2.1}, {"adaptive", adaptive}};
    s.data["budget"] = adaptive ? json(2.5) : json(nullptr);
    if (adaptive) {
        s.data["fp32_loss"] = 1.9;
        s.data["rises"] = rises;
    }
    return s;
}

h158::Config config(const std::string& weights) {
    h158::Config cfg;
    cfg.quant.weights = weights;
    return cfg;
}

// The adaptive run of the file's data: 3 allocations, rows up to step 150.
void feedAdaptive(PrecisionPanel& p) {
    p.beginRun(config("adaptive"), Qt::blue);
    for (int a = 0; a < 3; ++a) p.applySnapshot(precision(50 * a, kLevels[size_t(a)], true));
    h158::StepMetrics m;
    m.step = 150;
    p.appendRows({m});
}

std::set<QuantLevels> levelsShown(const PrecisionPanel& p, int64_t lastStep) {
    std::set<QuantLevels> seen;
    for (int r = 0; r < p.rowCount(); ++r)
        for (int64_t s = 0; s <= lastStep; ++s)
            if (auto l = p.levelAt(r, s)) seen.insert(*l);
    return seen;
}

}  // namespace

class TestGuiPrecisionPanel : public QObject {
    Q_OBJECT
  private slots:
    void appliesToQuantizedRunsOnly() {
        PrecisionPanel p;
        QVERIFY(!p.appliesTo(config("none")));
        QVERIFY(p.appliesTo(config("ternary")));
        QVERIFY(p.appliesTo(config("adaptive")));
    }

    void shortNames_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("shortName");
        QTest::newRow("gpt") << "blocks.0.qkv.weight"
                             << "b0.qkv";
        QTest::newRow("gpt group") << "blocks.11.attn.proj.weight"
                                   << "b11.proj";
        QTest::newRow("mlp") << "dense0.weight"
                             << "dense0";
        QTest::newRow("other") << "head.weight"
                               << "head";
    }
    void shortNames() {
        QFETCH(QString, name);
        QFETCH(QString, shortName);
        QCOMPARE(PrecisionPanel::shortTensorName(name.toStdString()), shortName);
    }

    // Each allocation holds from its step until the next; the last one until the latest step.
    void stripHoldsEachAllocation_data() {
        QTest::addColumn<int>("row");
        QTest::addColumn<int>("step");
        QTest::addColumn<QuantLevels>("level");
        QTest::newRow("b0.qkv at 0") << 0 << 0 << QuantLevels::Ternary;
        QTest::newRow("b0.qkv at 49") << 0 << 49 << QuantLevels::Ternary;
        QTest::newRow("b0.qkv at 50") << 0 << 50 << QuantLevels::Int8;
        QTest::newRow("b0.qkv at 99") << 0 << 99 << QuantLevels::Int8;
        QTest::newRow("b0.qkv at 100") << 0 << 100 << QuantLevels::None;
        QTest::newRow("b0.qkv at 150") << 0 << 150 << QuantLevels::None;
        QTest::newRow("b0.proj at 75") << 1 << 75 << QuantLevels::Ternary;
        QTest::newRow("b0.proj at 120") << 1 << 120 << QuantLevels::FiveLevel;
        QTest::newRow("b0.fc at 50") << 2 << 50 << QuantLevels::FiveLevel;
        QTest::newRow("b0.fc at 100") << 2 << 100 << QuantLevels::Ternary;
        QTest::newRow("b0.out at 100") << 3 << 100 << QuantLevels::Ternary;
    }
    void stripHoldsEachAllocation() {
        QFETCH(int, row);
        QFETCH(int, step);
        QFETCH(QuantLevels, level);
        PrecisionPanel p;
        feedAdaptive(p);
        QCOMPARE(p.rowCount(), 4);
        QCOMPARE(p.rowNames(), QStringList({"b0.qkv", "b0.proj", "b0.fc", "b0.out"}));
        QCOMPARE(p.segmentCount(), 3);
        const auto got = p.levelAt(row, step);
        QVERIFY(got.has_value());
        QCOMPARE(int(*got), int(level));
        QVERIFY(!p.levelAt(4, step).has_value());
        QVERIFY(!p.levelAt(-1, step).has_value());
    }

    void barsAreTheLatestRises() {
        PrecisionPanel p;
        feedAdaptive(p);
        QVERIFY(p.showsSensitivity());
        QVERIFY(p.sensitivityNote().isEmpty());
        const QuantLevels order[] = {QuantLevels::Ternary, QuantLevels::FiveLevel,
                                     QuantLevels::Int8};
        for (int l = 0; l < 3; ++l) {
            const QVector<double> bars = p.barValues(order[l]);
            QCOMPARE(bars.size(), 4);
            for (int t = 0; t < 4; ++t) QCOMPARE(bars[t], rise(100, t, l));
        }
        QVERIFY(p.barValues(QuantLevels::None).isEmpty());
        QVERIFY(p.infoText().contains("2.10"));
        QVERIFY(p.infoText().contains("budget 2.50"));
        QVERIFY(p.infoText().contains("3 allocations"));
        p.forceRedraw();
    }

    // A past run: its sensitivity.json's table gives the bars (alone - fp32) and, without a
    // precision snapshot, the strip's one segment of levels.
    void showsAPastRunsTable() {
        h158::SensitivityTable t;
        t.step = 600;
        t.fp32Loss = 2.0;
        for (int i = 0; i < 3; ++i) {
            h158::TensorSensitivity s;
            s.name = kNames[size_t(i)];
            s.weights = 1000;
            s.level = i == 1 ? QuantLevels::Int8 : QuantLevels::Ternary;
            s.alone = {2.5 - 0.1 * i, 2.2 - 0.05 * i, 2.01};
            if (i == 2) s.fp32 = 1.5;  // measured with the others at the run's levels
            t.tensors.push_back(s);
        }
        PrecisionPanel p;
        p.beginRun(config("ternary"), Qt::blue);
        p.showSensitivity(t);
        QCOMPARE(p.rowCount(), 3);
        QCOMPARE(p.segmentCount(), 1);
        QCOMPARE(int(*p.levelAt(1, 600)), int(QuantLevels::Int8));
        QVERIFY(p.showsSensitivity());
        const QVector<double> ternary = p.barValues(QuantLevels::Ternary);
        QCOMPARE(ternary.size(), 3);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(ternary[i], t.tensors[size_t(i)].alone[0] - (i == 2 ? 1.5 : 2.0));
        QCOMPARE(p.barValues(QuantLevels::Int8)[1], 2.01 - 2.0);
        p.forceRedraw();
    }

    void beginRunClears() {
        PrecisionPanel p;
        feedAdaptive(p);
        p.beginRun(config("ternary"), Qt::red);
        QCOMPARE(p.rowCount(), 0);
        QCOMPARE(p.segmentCount(), 0);
        QVERIFY(!p.levelAt(0, 0).has_value());
        QVERIFY(!p.showsSensitivity());
        for (QuantLevels l : {QuantLevels::Ternary, QuantLevels::FiveLevel, QuantLevels::Int8})
            QVERIFY(p.barValues(l).isEmpty());
        QVERIFY(!p.infoText().contains("budget"));
        p.forceRedraw();
    }

    void uniformRunShowsOneLevelAndTheNote() {
        PrecisionPanel p;
        p.beginRun(config("five_level"), Qt::blue);
        p.applySnapshot(
            precision(0, {"five_level", "five_level", "five_level", "five_level"}, false));
        h158::StepMetrics m;
        m.step = 40;
        p.appendRows({m});
        QCOMPARE(p.rowCount(), 4);
        QCOMPARE(levelsShown(p, 40), std::set<QuantLevels>{QuantLevels::FiveLevel});
        QVERIFY(!p.showsSensitivity());
        QVERIFY(p.sensitivityNote().contains("hybrid158-cli sensitivity --run DIR"));
        QVERIFY(p.infoText().startsWith("all five-level"));
        p.forceRedraw();
    }

    void emptyAndOddDataDoNotCrash() {
        PrecisionPanel p;
        p.forceRedraw();
        p.beginRun(config("adaptive"), Qt::blue);
        p.forceRedraw();
        Snapshot s;
        s.kind = "precision";
        s.data = json::object();
        p.applySnapshot(s);  // no tensors
        s.data = {{"tensors", {{{"name", "x.weight"}, {"level", "seven_level"}}}},
                  {"rises", {{{"ternary", "a"}}, 3, {{"int8", 0.1}}}},
                  {"mean_bits", nullptr}};
        s.step = 10;
        p.applySnapshot(s);  // an unknown level, malformed and extra rises
        QCOMPARE(p.rowCount(), 1);
        QVERIFY(!p.levelAt(0, 10).has_value());
        QVERIFY(p.barValues(QuantLevels::Ternary).isEmpty());
        s.data = json::array();
        p.applySnapshot(s);
        s.kind = "weights";
        p.applySnapshot(s);
        p.appendRows({});
        p.forceRedraw();
        QCOMPARE(p.segmentCount(), 1);
    }

    // What is drawn is what the data says: the cell of (tensor, step) has the level's colour, and
    // with 16 rows in a small panel the row labels are thinned until none touch.
    void rendersTheLevelsColoursAndReadableRows() {
        PrecisionPanel p;
        feedAdaptive(p);
        p.resize(520, 360);
        p.show();
        QVERIFY(QTest::qWaitForWindowExposed(&p));
        p.forceRedraw();
        QCustomPlot* plot = p.plot();
        QCPAxisRect* strip = plot->axisRects().value(0);
        QVERIFY(strip);
        QCPAxis* steps = strip->axis(QCPAxis::atBottom);
        QCPAxis* rows = strip->axis(QCPAxis::atLeft);
        const QImage img = plot->toPixmap(plot->width(), plot->height(), 1.0).toImage();
        for (auto [row, step] : std::initializer_list<std::pair<int, int>>{
                 {0, 75}, {0, 125}, {1, 25}, {2, 75}, {1, 140}}) {
            const QPoint at(int(steps->coordToPixel(step)), int(rows->coordToPixel(row)));
            const QColor want = PrecisionPanel::levelColour(*p.levelAt(row, step));
            QCOMPARE(img.pixelColor(at).name(), want.name());
        }
        QCOMPARE(plot->axisRects().size(), 2);  // the strip and the bars

        PrecisionPanel many;
        many.beginRun(config("adaptive"), Qt::blue);
        Snapshot s = precision(0, std::vector<std::string>(16, "ternary"), true);
        for (int t = 0; t < 16; ++t)
            s.data["tensors"][size_t(t)]["name"] =
                "blocks." + std::to_string(t / 4) + "." + std::to_string(t) + ".weight";
        many.applySnapshot(s);
        many.resize(300, 260);
        many.show();
        QVERIFY(QTest::qWaitForWindowExposed(&many));
        many.forceRedraw();
        QCPAxis* a = many.plot()->axisRects().value(0)->axis(QCPAxis::atLeft);
        const QVector<double> ticks = a->tickVector();
        QVERIFY2(ticks.size() >= 2 && ticks.size() < 16,
                 qPrintable(QString("%1 ticks, rect %2 px")
                                .arg(ticks.size())
                                .arg(many.plot()->axisRects().value(0)->height()) +
                            QString(" panel %1x%2 plot %3x%4 vp %5 vis %6")
                                .arg(many.width())
                                .arg(many.height())
                                .arg(many.plot()->width())
                                .arg(many.plot()->height())
                                .arg(many.plot()->viewport().height())
                                .arg(many.plot()->isVisible())));
        const int h = QFontMetrics(a->tickLabelFont()).height();
        for (int i = 1; i < ticks.size(); ++i)
            QVERIFY(std::abs(a->coordToPixel(ticks[i]) - a->coordToPixel(ticks[i - 1])) >= h + 2);

        const QString dir = qEnvironmentVariable("H158_PRECISION_PNG");
        if (!dir.isEmpty()) {
            p.resize(480, 430);
            p.forceRedraw();
            QVERIFY(p.grab().save(dir + "/precision-adaptive.png"));
            many.resize(300, 330);
            many.forceRedraw();
            QVERIFY(many.grab().save(dir + "/precision-16rows.png"));
            PrecisionPanel uniform;
            uniform.beginRun(config("ternary"), Qt::blue);
            uniform.applySnapshot(
                precision(0, {"ternary", "ternary", "ternary", "ternary"}, false));
            h158::StepMetrics m;
            m.step = 40;
            uniform.appendRows({m});
            uniform.resize(300, 330);
            uniform.show();
            QVERIFY(QTest::qWaitForWindowExposed(&uniform));
            uniform.forceRedraw();
            QVERIFY(uniform.grab().save(dir + "/precision-uniform.png"));
        }
    }
};

QTEST_MAIN(TestGuiPrecisionPanel)
#include "test_gui_precision_panel.moc"
