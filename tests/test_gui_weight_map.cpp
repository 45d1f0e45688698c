// The weight map and code-flips views held to a real trainer (spirals, ternary per row): the
// rendered code of every cell is the colour of the core's code, the hover tooltip names the
// core's latent value and code and a flip distance that really is the distance to the nearest
// code change (checked with the core's codeAt), the flip marks are exactly the cells the core
// says flipped in the last N steps, the flips curves hold the rows' code_flips, and in the window
// the panel asks the run for its tensor and shows the map of the step just taken.
#include <qcustomplot.h>

#include <QImage>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <memory>

#include "core/config/config.h"
#include "core/quant/code_flips.h"
#include "core/train/trainer.h"
#include "gui_test_util.h"
#include "ui/config_panel.h"
#include "ui/flips_panel.h"
#include "ui/theme.h"
#include "ui/weight_map_panel.h"

using h158::Config;
using h158::FlipCause;
using h158::Snapshot;
using h158::StepMetrics;
using h158::Trainer;
using h158::WeightMap;
using h158::ui::FlipsPanel;
using h158::ui::WeightMapPanel;
using namespace h158::test;

namespace {

Config spirals() {
    Config c = h158::presetConfig("spirals");
    c.run.steps = 40;
    c.run.snapshot_every = 5;
    c.run.eval_every = 0;
    return c;
}

// Runs `steps` steps and returns their rows; `weights` gets the latest weights snapshot.
std::vector<StepMetrics> run(Trainer& t, int steps, Snapshot& weights) {
    std::vector<StepMetrics> rows;
    for (int i = 0; i < steps; ++i) rows.push_back(t.step());
    for (Snapshot& s : t.takeSnapshots())
        if (s.kind == "weights") weights = std::move(s);
    return rows;
}

QString num(double v) {
    return QString::number(v, 'g', 4).replace('-', QChar(0x2212));
}

QColor codeColour(int code) {
    return code < 0   ? h158::ui::colours::levelNeg
           : code > 0 ? h158::ui::colours::levelPos
                      : h158::ui::colours::levelZero;
}

// One unit in the last place of v (the spacing of floats near it).
double ulp(float v) {
    const float a = std::abs(v);
    return double(std::nextafter(a, INFINITY)) - double(a);
}

}  // namespace

class TestGuiWeightMap : public QObject {
    Q_OBJECT
  private:
    std::unique_ptr<Trainer> m_trainer;
    std::vector<StepMetrics> m_rows;
    Snapshot m_weights;
    WeightMap m_map;

    // A panel that shows the trainer's first quantized matrix, at a size with large cells.
    std::unique_ptr<WeightMapPanel> makePanel() {
        auto p = std::make_unique<WeightMapPanel>();
        p->resize(900, 700);
        p->beginRun(spirals(), Qt::blue);
        p->applySnapshot(m_weights);
        p->applyWeightMap(m_map);
        p->show();
        if (!QTest::qWaitForWindowExposed(p.get())) return nullptr;
        return p;
    }

  private slots:
    void initTestCase() {
        m_trainer = std::make_unique<Trainer>(spirals());
        m_rows = run(*m_trainer, 12, m_weights);
        QVERIFY(m_weights.kind == "weights");
        // The chooser offers the matrices and starts on the first quantized one (dense1).
        WeightMapPanel probe;
        probe.applySnapshot(m_weights);
        QVERIFY(probe.tensorIndex() >= 0);
        m_map = m_trainer->weightMap(probe.tensorIndex());
        QCOMPARE(m_map.levels, h158::QuantLevels::Ternary);
        QCOMPARE(m_map.step, int64_t(12));
        QVERIFY(probe.tensorNames().contains(QString::fromStdString(m_map.name)));
    }

    void codesAreDrawnInTheCoresColours() {
        auto p = makePanel();
        QVERIFY(p);
        QCOMPARE(p->currentMap()->step, m_map.step);
        p->setRecentSteps(0);  // no marks over the cells
        QSet<int> seen;
        for (auto mode : {WeightMapPanel::Mode::Codes, WeightMapPanel::Mode::SideBySide}) {
            p->setMode(mode);
            p->forceRedraw();
            const QImage img = p->plot()->grab().toImage();
            for (int64_t c = 0; c < m_map.cols; ++c)
                for (int64_t r = 0; r < m_map.rows; ++r) {
                    const int code = m_map.codes[size_t(r + c * m_map.rows)];
                    seen.insert(code);
                    const QPoint at = p->cellPixel(int(r), int(c), true).toPoint();
                    QVERIFY2(img.rect().contains(at),
                             qPrintable(QString("cell %1,%2").arg(r).arg(c)));
                    QCOMPARE(img.pixelColor(at).rgb(), codeColour(code).rgb());
                }
        }
        QCOMPARE(seen.size(), 3);  // all three codes occur, so each colour was checked
        // Side by side also draws the latent map: a positive weight leans blue, a negative red.
        const QImage img = p->plot()->grab().toImage();
        float lim = 0;
        for (float w : m_map.latent) lim = std::max(lim, std::abs(w));
        for (int64_t c = 0; c < m_map.cols; ++c)
            for (int64_t r = 0; r < m_map.rows; ++r) {
                const float w = m_map.latent[size_t(r + c * m_map.rows)];
                const QColor px = img.pixelColor(p->cellPixel(int(r), int(c), false).toPoint());
                if (std::abs(w) < 3 * lim / 254)
                    continue;  // the white level (of 255) and its neighbours
                QCOMPARE(px.blue() > px.red(), w > 0);
            }
        p->setMode(WeightMapPanel::Mode::Latent);
        QCOMPARE(p->cellPixel(0, 0, true), QPointF(-1, -1));  // no codes map in Latent mode
    }

    void tooltipTellsTheDistanceToAFlip() {
        auto p = makePanel();
        QVERIFY(p);
        p->setMode(WeightMapPanel::Mode::Codes);
        p->forceRedraw();
        const int limit = h158::codeLimit(m_map.levels);
        int checked = 0;
        for (int64_t c = 0; c < m_map.cols; ++c)
            for (int64_t r = 0; r < m_map.rows; ++r) {
                const size_t i = size_t(r + c * m_map.rows);
                const float w = m_map.latent[i], s = m_map.rowScale[size_t(r)];
                const int code = m_map.codes[i];
                QCOMPARE(int(h158::codeAt(w, s, limit)), code);  // the map is self-consistent
                const auto info = p->cellInfo(int(r), int(c));
                QVERIFY(info && info->quantized);
                QCOMPARE(info->latent, w);
                QCOMPARE(info->scale, s);
                QCOMPARE(info->code, code);
                QVERIFY(info->direction == 1 || info->direction == -1);
                QCOMPARE(info->target, code + info->direction);
                QVERIFY(std::abs(info->target) <= limit);  // +1 only falls, −1 only rises
                // Moving by the distance (plus a few float spacings) flips the code, a little
                // less does not, and the same move the other way does not either: the nearest.
                const double d = info->distance, eps = std::max(1e-6 * d, 4 * ulp(w));
                if (d <= 4 * eps) continue;  // at the threshold itself, float rounding decides
                const double dir = info->direction;
                QCOMPARE(int(h158::codeAt(float(w + dir * (d + eps)), s, limit)), info->target);
                QCOMPARE(int(h158::codeAt(float(w + dir * (d - eps)), s, limit)), code);
                QCOMPARE(int(h158::codeAt(float(w - dir * (d - eps)), s, limit)), code);
                ++checked;
            }
        QVERIFY(checked > int(m_map.latent.size()) / 2);
        // Hover a few cells as a user does: the tooltip names the core's numbers.
        const std::pair<int, int> cells[] = {
            {0, 0}, {3, 7}, {int(m_map.rows) - 1, int(m_map.cols) - 2}};
        for (const auto& [r, c] : cells) {
            const QPoint at = p->cellPixel(r, c, true).toPoint();
            QTest::mouseMove(p->plot(), at);
            QTRY_VERIFY(p->hoverText().startsWith(QString("row %1, column %2\n").arg(r).arg(c)));
            const size_t i = size_t(r + int64_t(c) * m_map.rows);
            const auto info = p->cellInfo(r, c);
            const QString tip = p->hoverText();
            QVERIFY2(tip.contains("latent w = " + num(m_map.latent[i])), qPrintable(tip));
            QVERIFY2(tip.contains("γ = " + num(m_map.rowScale[size_t(r)])), qPrintable(tip));
            const int code = m_map.codes[i];
            const QString codeText = code > 0 ? "+1" : code < 0 ? "−1" : "0";
            QVERIFY2(tip.contains("code " + codeText), qPrintable(tip));
            QVERIFY2(tip.contains((info->direction > 0 ? "rises by " : "falls by ") +
                                  num(info->distance)),
                     qPrintable(tip));
        }
    }

    // Marks: exactly the cells whose lastFlip is one of the last N steps, by the core's cause.
    void recentFlipsAreMarked() {
        auto p = makePanel();
        QVERIFY(p);
        int total = 0;
        for (int n : {1, 5, 100}) {
            p->setRecentSteps(n);
            QSet<QPair<int, int>> weight, scale;
            for (size_t i = 0; i < m_map.lastFlip.size(); ++i) {
                const int32_t f = m_map.lastFlip[i];
                if (f < 0 || f <= m_map.step - n) continue;
                const QPair<int, int> cell(int(int64_t(i) / m_map.rows),
                                           int(int64_t(i) % m_map.rows));
                (FlipCause(m_map.flipCause[i]) == FlipCause::Scale ? scale : weight).insert(cell);
            }
            QSet<QPair<int, int>> shownWeight, shownScale;
            for (const QPoint& q : p->flipMarks(FlipCause::Weight))
                shownWeight.insert({q.x(), q.y()});
            for (const QPoint& q : p->flipMarks(FlipCause::Scale))
                shownScale.insert({q.x(), q.y()});
            QCOMPARE(shownWeight, weight);
            QCOMPARE(shownScale, scale);
            QCOMPARE(p->flipMarks(FlipCause::Weight).size(), weight.size());
            total = int(weight.size() + scale.size());
        }
        QVERIFY(total > 0);  // 12 steps of training flipped something
        p->setRecentSteps(0);
        QVERIFY(p->flipMarks(FlipCause::Weight).isEmpty() &&
                p->flipMarks(FlipCause::Scale).isEmpty());
        // A map of another tensor (or of the old run) is not drawn over the chosen one.
        WeightMap other = m_map;
        other.name = "not.this.one";
        other.step = 999;
        p->applyWeightMap(other);
        QCOMPARE(p->currentMap()->step, m_map.step);
    }

    // A wide matrix (a GPT MLP's 128×512) puts the codes under the latent weights, a tall or
    // square one beside them. H158_WEIGHT_MAP_PNG=DIR writes the renderings there (to look at).
    void wideMatricesStack() {
        auto p = makePanel();
        QVERIFY(p);
        p->setMode(WeightMapPanel::Mode::SideBySide);
        p->forceRedraw();
        QVERIFY(p->cellPixel(0, 0, true).x() > p->cellPixel(0, int(m_map.cols) - 1, false).x());
        const QString dir = qEnvironmentVariable("H158_WEIGHT_MAP_PNG");
        if (!dir.isEmpty()) p->plot()->savePng(dir + "/weight_map_spirals.png");
        WeightMap wide = m_map;  // the same weights, tiled into 32 × 128
        wide.cols = m_map.cols * 4;
        wide.latent.resize(size_t(wide.rows * wide.cols));
        wide.codes.resize(wide.latent.size());
        wide.lastFlip.resize(wide.latent.size());
        wide.flipCause.resize(wide.latent.size());
        for (size_t i = 0; i < wide.latent.size(); ++i) {
            const size_t j = i % m_map.latent.size();
            wide.latent[i] = m_map.latent[j];
            wide.codes[i] = m_map.codes[j];
            wide.lastFlip[i] = m_map.lastFlip[j];
            wide.flipCause[i] = m_map.flipCause[j];
        }
        p->applyWeightMap(wide);
        p->forceRedraw();
        QCOMPARE(p->currentMap()->cols, wide.cols);
        QVERIFY(p->cellPixel(0, 0, true).y() > p->cellPixel(int(wide.rows) - 1, 0, false).y());
        if (!dir.isEmpty()) p->plot()->savePng(dir + "/weight_map_wide.png");
    }

    void flipsCurvesHoldTheRows() {
        FlipsPanel p;
        Config off = spirals();
        off.quant.weights = "none";
        QVERIFY(!p.appliesTo(off));
        QVERIFY(p.appliesTo(spirals()));
        p.beginRun(spirals(), Qt::blue);
        p.setLogScale(false);
        p.appendRows(m_rows);
        QCOMPARE(p.totalGraph()->dataCount(), int(m_rows.size()));
        bool anyFlips = false;
        for (size_t k = 0; k < m_rows.size(); ++k) {
            const StepMetrics& m = m_rows[k];
            QVERIFY(std::isfinite(m.code_flips) && std::isfinite(m.code_flips_scale));
            anyFlips = anyFlips || m.code_flips > 0;
            QCOMPARE(p.totalGraph()->data()->at(int(k))->key, double(m.step));
            QCOMPARE(p.totalGraph()->data()->at(int(k))->value, m.code_flips);
            QCOMPARE(p.scaleGraph()->data()->at(int(k))->value, m.code_flips_scale);
            QCOMPARE(p.weightGraph()->data()->at(int(k))->value, m.code_flips - m.code_flips_scale);
        }
        QVERIFY(anyFlips);
        // On the log axis a step without flips is a gap; back on the linear axis it is 0 again.
        p.setLogScale(true);
        for (size_t k = 0; k < m_rows.size(); ++k) {
            const double v = p.scaleGraph()->data()->at(int(k))->value;
            QVERIFY(m_rows[k].code_flips_scale > 0 ? v == m_rows[k].code_flips_scale
                                                   : std::isnan(v));
        }
        p.setLogScale(false);
        for (size_t k = 0; k < m_rows.size(); ++k)
            QCOMPARE(p.scaleGraph()->data()->at(int(k))->value, m_rows[k].code_flips_scale);

        // The bars: one per quantized tensor, stacked to the snapshot's flip_rate.
        p.applySnapshot(m_weights);
        QStringList quantized;
        std::vector<double> rates;
        for (const auto& t : m_weights.data["tensors"])
            if (t.value("quantized", false)) {
                quantized << QString::fromStdString(t["name"].get<std::string>());
                rates.push_back(t["flip_rate"].get<double>());
            }
        QCOMPARE(p.barNames(), quantized);
        if (const QString dir = qEnvironmentVariable("H158_WEIGHT_MAP_PNG"); !dir.isEmpty()) {
            for (int width : {300, 520}) {
                p.resize(width, 300);
                p.show();
                QVERIFY(QTest::qWaitForWindowExposed(&p));
                p.forceRedraw();
                p.plot()->savePng(dir + QString("/flips_%1.png").arg(width));
            }
        }
        for (int k = 0; k < quantized.size(); ++k)
            QVERIFY(std::abs(p.weightBars()->data()->at(k)->value +
                             p.scaleBars()->data()->at(k)->value - rates[size_t(k)]) <=
                    1e-12 * std::max(1.0, rates[size_t(k)]));
    }

    // In the window: the Mechanism page's map panel asks the paused run for its tensor and
    // shows the map of the step just taken.
    void windowFeedsTheMap() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        h158::ui::MainWindow w(h158::ui::MainWindowOptions{tmp.filePath("ws"), false, {}});
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.configPanel()->selectPreset("spirals"));
        w.configPanel()->setFieldText("run.steps", "20");
        w.configPanel()->setFieldText("run.snapshot_every", "5");
        w.showPage(h158::ui::MainWindow::MechanismPage);
        auto* panel = w.findChild<WeightMapPanel*>("weightmap");
        QVERIFY(panel);
        QVERIFY(w.findChild<FlipsPanel*>("flips"));
        for (int i = 1; i <= 3; ++i) {
            QVERIFY(clickAction(w, w.stepAction()));
            QTRY_COMPARE(w.receivedSteps(), int64_t(i));
        }
        QTRY_VERIFY(panel->currentMap() && panel->currentMap()->step == 3);
        QCOMPARE(panel->currentMap()->tensor, panel->tensorIndex());
        QVERIFY(clickAction(w, w.stopAction()));
        QTRY_COMPARE(w.state(), h158::ui::RunState::Stopped);
        // Another matrix of the stopped run, chosen later, arrives too (the fp32 input layer:
        // latent weights, no codes).
        const QString other = panel->tensorNames().first();
        QVERIFY(other != QString::fromStdString(panel->currentMap()->name));
        panel->selectTensor(other);
        QTRY_VERIFY(panel->currentMap() &&
                    QString::fromStdString(panel->currentMap()->name) == other);
        QCOMPARE(panel->currentMap()->levels, h158::QuantLevels::None);
        QVERIFY(!panel->cellInfo(0, 0)->quantized);
    }
};

QTEST_MAIN(TestGuiWeightMap)
#include "test_gui_weight_map.moc"
