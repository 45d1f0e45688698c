// The runs table (ui/runs_panel.h) over a real 2 x 2 x 3-seed sweep written by hybrid158-cli:
// diff-only columns, seed groups with mean ± std, sorting, text and state filters, overlays with
// legends naming the differences in distinct colours, the selected run drawn bold, a seed group
// drawn as mean and band, the config diff and the CSV export; forks listed under their parent with
// their fork step and edits, their curve joined to the parent's. Then the live workspace: a CLI
// run started beside an open window appears in its table and its curve grows while it runs.
#include <QCheckBox>
#include <QDialog>
#include <QDir>
#include <QFile>
#include <QTableWidget>
#include <QTreeView>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <qcustomplot.h>
#include <algorithm>
#include <cmath>
#include <set>

#include "cli_test_util.h"
#include "core/config/config.h"
#include "core/exp/events.h"
#include "core/exp/run_compare.h"
#include "ui/loss_panel.h"
#include "ui/main_window.h"
#include "ui/runs_panel.h"

using h158::ui::MainWindow;
using h158::ui::RunsPanel;
using h158::ui::RunState;

namespace {

// The first number of a cell ("0.0439 ± 0.0078" -> 0.0439); NaN for an empty cell.
double lead(const QString& cell) {
    bool ok = false;
    const double v = cell.section(QChar(' '), 0, 0).toDouble(&ok);
    return ok ? v : std::nan("");
}

int column(const RunsPanel& p, const QString& title) {
    QStringList titles{"Run", "State", "Step", "Fork", "Edits"};
    for (const std::string& l : h158::keyLabels(p.keyColumns())) titles << QString::fromStdString(l);
    titles << p.columnTitles();
    return int(titles.indexOf(title));
}

void writeFile(const QString& path, const QString& text) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text.toUtf8());
}

// A fork of the run in `parent` written by hand as forkRun writes one: the parent's config.json
// and summary.json, its metrics.csv rows after `step`, fork.json naming `parentPath` and the
// fork's change as an event at `step`.
void writeFork(const QString& dir, const QString& parent, const QString& parentPath, int step) {
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(QFile::copy(parent + "/config.json", dir + "/config.json"));
    QVERIFY(QFile::copy(parent + "/summary.json", dir + "/summary.json"));
    const QStringList lines =
        h158::test::readAll(parent + "/metrics.csv").split('\n', Qt::SkipEmptyParts);
    QString csv = lines.value(0) + '\n';
    for (qsizetype i = 1; i < lines.size(); ++i)
        if (lines[i].section(',', 0, 0).toInt() > step) csv += lines[i] + '\n';
    writeFile(dir + "/metrics.csv", csv);
    writeFile(dir + "/fork.json",
              QString(R"({"parent": "%1", "step": %2, "set": ["optim.lr=0.001"]})")
                  .arg(parentPath)
                  .arg(step));
    writeFile(dir + "/events.jsonl",
              QString(R"({"step":%1,"key":"optim.lr","old":0.01,"new":0.001,"by":"fork"})")
                      .arg(step) +
                  '\n');
}

// The index (column 0) of run `id` in the table's model, at any depth.
QModelIndex findRun(const QAbstractItemModel* m, int id, const QModelIndex& parent = {}) {
    for (int r = 0; r < m->rowCount(parent); ++r) {
        const QModelIndex i = m->index(r, 0, parent);
        if (i.data(h158::ui::kRunIdRole).toInt() == id) return i;
        if (const QModelIndex hit = findRun(m, id, i); hit.isValid()) return hit;
    }
    return {};
}

QCPGraph* graphNamed(QCustomPlot* plot, const QString& name) {
    for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->name() == name && plot->graph(i)->visible()) return plot->graph(i);
    return nullptr;
}

}  // namespace

class TestGuiRunsTable : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_ws;

  private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_ws = m_tmp.filePath("ws");
        const auto r = h158::test::cli({"sweep", "--preset", "spirals", "--set", "run.eval_every=10",
                                        "--grid", "optim.lr=0.003,0.01", "--grid",
                                        "trust.enabled=true,false", "--seeds", "3", "--jobs", "2",
                                        "--steps", "40", "--out", m_ws + "/lr-trust"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
    }

    void diffOnlyColumnsAndSeedGroups() {
        RunsPanel p;
        QCOMPARE(p.scanWorkspace(m_ws), 12);
        QVERIFY(p.grouped());  // the default
        // the settings that differ, in schema order, and nothing else
        std::vector<std::string> keys = p.keyColumns();
        std::sort(keys.begin(), keys.end());
        QCOMPARE(keys, (std::vector<std::string>{"optim.lr", "run.seed", "trust.enabled"}));
        const QList<QStringList> rows = p.shownRows();
        QCOMPARE(rows.size(), 4 + 12);  // four groups, each with its three runs
        const int loss = column(p, "Final loss");
        QVERIFY(loss > 0);
        int groups = 0;
        for (int r = 0; r < rows.size(); ++r) {
            if (rows[r][0].startsWith("  ")) continue;
            ++groups;
            QVERIFY2(rows[r][0].endsWith(" · 3 seeds"), qPrintable(rows[r][0]));
            QCOMPARE(rows[r][1], QString("3 completed"));
            QVERIFY2(rows[r][loss].contains(" ± "), qPrintable(rows[r][loss]));
            // the group's mean is its members' mean
            double sum = 0;
            for (int m = 1; m <= 3; ++m) sum += rows[r + m][loss].toDouble();
            QVERIFY(std::abs(lead(rows[r][loss]) - sum / 3) <= 1e-3 * std::abs(sum / 3));
        }
        QCOMPARE(groups, 4);
        // "All settings": a column for every setting of the schema
        p.setAllKeys(true);
        QCOMPARE(p.keyColumns().size(), h158::configSchema().size());
        p.setAllKeys(false);
        p.setGrouped(false);
        QCOMPARE(p.shownRows().size(), 12);
        QCOMPARE(p.keyColumns().size(), size_t(3));
    }

    void sortAndFilter() {
        RunsPanel p;
        p.scanWorkspace(m_ws);
        p.setGrouped(false);
        const int loss = column(p, "Final loss");
        p.sortBy(loss, Qt::AscendingOrder);
        QList<QStringList> rows = p.shownRows();
        for (int r = 1; r < rows.size(); ++r)
            QVERIFY2(rows[r - 1][loss].toDouble() <= rows[r][loss].toDouble(),
                     qPrintable(rows[r - 1][loss] + " > " + rows[r][loss]));
        p.sortBy(loss, Qt::DescendingOrder);
        rows = p.shownRows();
        QVERIFY(rows.first()[loss].toDouble() >= rows.last()[loss].toDouble());
        const int lr = column(p, "lr");
        p.sortBy(lr, Qt::AscendingOrder);  // numbers as numbers
        rows = p.shownRows();
        QCOMPARE(rows.first()[lr], QString("0.003"));
        QCOMPARE(rows.last()[lr], QString("0.01"));

        p.setFilterText("enabled=false");  // in the run names
        QCOMPARE(p.shownRunIds().size(), 6);
        p.setFilterText("seed=2");
        QCOMPARE(p.shownRunIds().size(), 4);
        p.setFilterText("");
        p.setStatusFilter("completed");
        QCOMPARE(p.shownRunIds().size(), 12);
        p.setStatusFilter("diverged");
        QCOMPARE(p.shownRunIds().size(), 0);
        p.setStatusFilter("");
        p.setGrouped(true);
        p.setFilterText("seed=1");  // one member of each group, under its group's row
        QCOMPARE(p.shownRunIds().size(), 4);
        QCOMPARE(p.shownRows().size(), 8);
    }

    void selectedRunsAreOverlaidInDistinctColours() {
        MainWindow w(h158::ui::MainWindowOptions{m_ws, false, {}});
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        RunsPanel* p = w.runsPanel();
        p->setGrouped(false);
        QCustomPlot* plot = w.lossPanel()->plot();
        const int before = plot->graphCount();
        const QList<int> ids = p->shownRunIds();
        QCOMPARE(ids.size(), 12);
        QSignalSpy changed(p, &RunsPanel::overlaysChanged);
        std::set<QRgb> colours;
        for (int id : ids) {
            p->setChecked(id, true);
            colours.insert(p->entry(id)->colour.rgb());
        }
        QCOMPARE(changed.count(), 12);
        QCOMPARE(int(colours.size()), 12);  // twelve runs, twelve colours
        QCOMPARE(plot->graphCount(), before + 12);
        // the legend names what differs, e.g. "enabled=on, lr=0.003, seed=0"
        const QString name = p->label(ids[0]);
        QVERIFY2(name.contains("lr=") && name.contains("enabled=") && name.contains("seed="),
                 qPrintable(name));
        QCPGraph* g = graphNamed(plot, name);
        QVERIFY(g);
        QVERIFY(plot->legend->hasItemWithPlottable(g));
        QCOMPARE(g->pen().color(), p->entry(ids[0])->colour);
        QCOMPARE(g->dataCount(), 40);
        // the selected run is drawn bold
        const double thin = g->pen().widthF();
        p->setCurrentRun(ids[0]);
        g = graphNamed(plot, name);
        QVERIFY(g);
        QVERIFY2(g->pen().widthF() > 1.5 * thin, qPrintable(QString::number(g->pen().widthF())));
        QCOMPARE(graphNamed(plot, p->label(ids[1]))->pen().widthF(), thin);
        for (int id : ids) p->setChecked(id, false);
        QCOMPARE(plot->graphCount(), before);
    }

    void aSeedGroupIsDrawnAsMeanAndBand() {
        MainWindow w(h158::ui::MainWindowOptions{m_ws, false, {}});
        RunsPanel* p = w.runsPanel();
        QVERIFY(p->grouped());
        QCustomPlot* plot = w.lossPanel()->plot();
        const int before = plot->graphCount();
        p->setGroupChecked(0, true);
        QCOMPARE(plot->graphCount(), before + 3);  // low, high, mean
        const QString name = p->shownRows().first()[0];
        QCPGraph* mean = graphNamed(plot, name);
        QVERIFY(mean);
        QVERIFY(plot->legend->hasItemWithPlottable(mean));
        QCPGraph* lo = plot->graph(before);
        QCPGraph* hi = plot->graph(before + 1);
        QCOMPARE(hi->channelFillGraph(), lo);
        QVERIFY(!plot->legend->hasItemWithPlottable(lo));
        QCOMPARE(mean->dataCount(), 40);
        for (int i = 0; i < mean->dataCount(); ++i) {
            const double m = mean->data()->at(i)->value;
            QVERIFY(lo->data()->at(i)->value <= m + 1e-12 && m <= hi->data()->at(i)->value + 1e-12);
        }
        // the band is not flat: three seeds differ
        bool spread = false;
        for (int i = 0; i < mean->dataCount(); ++i)
            spread = spread || hi->data()->at(i)->value > lo->data()->at(i)->value;
        QVERIFY(spread);
        // individual runs instead: the band goes, the members can be ticked one by one
        p->setGrouped(false);
        QCOMPARE(plot->graphCount(), before);
    }

    void configDiffAndCsvExport() {
        h158::Config a = h158::presetConfig("spirals"), b = a;
        h158::applySetting(b, "optim.lr=0.0215");
        const auto diff = RunsPanel::configDiff(a, b, true);
        QCOMPARE(diff.size(), size_t(1));
        QCOMPARE(diff[0][0], QString("optim.lr"));
        QCOMPARE(diff[0][2], QString("0.0215"));
        QCOMPARE(RunsPanel::configDiff(a, b, false).size(), h158::configSchema().size());

        RunsPanel p;
        p.scanWorkspace(m_ws);
        p.setGrouped(false);
        const QList<int> all = p.shownRunIds();
        QDialog* dialog = p.compareRuns(all[0], all[1]);
        QVERIFY(dialog);
        auto* table = dialog->findChild<QTableWidget*>();
        QVERIFY(table);
        const auto differ = RunsPanel::configDiff(*p.entry(all[0])->config,
                                                  *p.entry(all[1])->config, true);
        QCOMPARE(table->rowCount(), int(differ.size()));
        QVERIFY(table->rowCount() >= 1);
        QCOMPARE(table->horizontalHeaderItem(1)->text(), "A: " + p.label(all[0]));
        if (const QByteArray dir = qgetenv("H158_GRAB_DIR"); !dir.isEmpty())
            dialog->grab().save(QString::fromLocal8Bit(dir) + "/config-diff.png");
        dialog->findChild<QCheckBox*>()->setChecked(false);  // every setting
        QCOMPARE(table->rowCount(), int(h158::configSchema().size()));
        dialog->close();
        p.setGrouped(true);
        p.setFilterText("enabled=true");
        const QString path = m_tmp.filePath("runs.csv");
        QString error;
        QVERIFY2(p.exportCsv(path, &error), qPrintable(error));
        const QStringList lines = h158::test::readAll(path).trimmed().split('\n');
        QCOMPARE(lines.size(), 1 + 6);  // the shown runs only
        QVERIFY2(lines[0].startsWith("dir,group,"), qPrintable(lines[0]));
        QVERIFY(lines[0].contains("optim.lr") && lines[0].contains("final_loss"));
        for (int i = 1; i < lines.size(); ++i) QVERIFY(lines[i].contains(",completed,40,"));
        QVERIFY(!p.exportCsv(m_tmp.filePath("no/such/folder/runs.csv"), &error));
        QVERIFY2(error.contains("runs.csv"), qPrintable(error));
    }

    // Two seeds of a run, a fork of seed 0 at step 20 (its fork.json names the parent through
    // "..") and a fork whose parent is gone: the fork sits under its parent's row, inside the seed
    // group but not a member of it, with its fork step and its edit; its curve starts on the
    // parent's point at the fork step. The orphan stays at the top with a note.
    void forksSitUnderTheirParent() {
        const QString ws = m_tmp.filePath("fork-ws");
        for (const QString seed : {"0", "1"}) {
            const auto r = h158::test::cli({"run", "--preset", "spirals", "--steps", "40",
                                            "--seed", seed, "--out", ws + "/seed" + seed});
            QVERIFY2(r.code == 0, qPrintable(r.err));
        }
        constexpr int n = 20;
        writeFork(ws + "/fork", ws + "/seed0", ws + "/../fork-ws/seed0", n);
        writeFork(ws + "/orphan", ws + "/seed0", m_tmp.filePath("elsewhere/gone"), n);
        if (QTest::currentTestFailed()) return;

        RunsPanel p;
        QCOMPARE(p.scanWorkspace(ws), 4);
        QVERIFY(p.grouped());
        std::map<QString, int> ids;
        for (int id : p.shownRunIds()) ids[p.entry(id)->name] = id;
        QCOMPARE(int(ids.size()), 4);
        const int parent = ids["seed0"], fork = ids["fork"], orphan = ids["orphan"];
        QCOMPARE(p.entry(fork)->parentId, parent);
        QCOMPARE(p.entry(orphan)->parentId, 0);

        const QAbstractItemModel* m = p.findChild<QTreeView*>()->model();
        QModelIndex forkAt = findRun(m, fork);
        QCOMPARE(forkAt.parent().data(h158::ui::kRunIdRole).toInt(), parent);
        const QModelIndex group = forkAt.parent().parent();
        QVERIFY(group.isValid());
        QVERIFY2(group.data().toString().endsWith(" · 2 seeds"),
                 qPrintable(group.data().toString()));
        QCOMPARE(m->rowCount(group), 2);  // seed0 and seed1: a fork is no seed sibling
        const QModelIndex orphanAt = findRun(m, orphan);
        QVERIFY(!orphanAt.parent().isValid());
        const QList<QStringList> rows = p.shownRows();
        QVERIFY(std::any_of(rows.begin(), rows.end(),
                            [](const QStringList& r) { return r[0] == "    fork"; }));

        // the fork step, and the edit: counted, listed on hover
        QCOMPARE(forkAt.siblingAtColumn(RunsPanel::ColFork).data().toString(), QString("fork @20"));
        QCOMPARE(orphanAt.siblingAtColumn(RunsPanel::ColFork).data().toString(),
                 QString("fork @20 (parent not listed)"));
        QCOMPARE(forkAt.parent().siblingAtColumn(RunsPanel::ColFork).data().toString(), QString());
        QCOMPARE(forkAt.siblingAtColumn(RunsPanel::ColEdits).data().toString(), QString("1"));
        const h158::RunEvent edit{n, "optim.lr", 0.01, 0.001, "fork"};
        QCOMPARE(forkAt.siblingAtColumn(RunsPanel::ColEdits).data(Qt::ToolTipRole).toString(),
                 QString::fromStdString(edit.describe()));
        QCOMPARE(forkAt.parent().siblingAtColumn(RunsPanel::ColEdits).data().toString(), QString());

        // every run on its own: the fork under its parent, now at the top
        p.setGrouped(false);
        forkAt = findRun(m, fork);
        QCOMPARE(forkAt.parent().data(h158::ui::kRunIdRole).toInt(), parent);
        QVERIFY(!forkAt.parent().parent().isValid());
        QCOMPARE(p.shownRows().size(), 4);

        // the fork's curve starts at the parent's point at step 20, then goes on with its own rows
        p.setChecked(fork, true);
        std::vector<h158::ui::RunOverlay> o = p.overlays(0);
        QCOMPARE(o.size(), size_t(1));
        QVERIFY(o[0].rows && p.entry(parent)->rows && p.entry(fork)->rows);
        const std::vector<h158::StepMetrics>& parentRows = *p.entry(parent)->rows;
        const auto atN = std::find_if(parentRows.begin(), parentRows.end(),
                                      [](const h158::StepMetrics& r) { return r.step == n; });
        QVERIFY(atN != parentRows.end());
        QCOMPARE(o[0].rows->front().step, int64_t(n));
        QCOMPARE(o[0].rows->front().loss, atN->loss);
        QCOMPARE(o[0].rows->size(), p.entry(fork)->rows->size() + 1);
        QCOMPARE(o[0].rows->at(1).step, int64_t(n + 1));
        // the orphan's curve starts on its own
        p.setChecked(fork, false);
        p.setChecked(orphan, true);
        o = p.overlays(0);
        QCOMPARE(o.size(), size_t(1));
        QCOMPARE(o[0].rows->front().step, int64_t(n + 1));
    }

    // A CLI run started beside the open window: it appears in the table by itself (the folder
    // is watched), its curve grows while it runs, and it ends completed.
    void aRunStartedBesideTheWindowAppearsAndGrows() {
        const QString ws = m_tmp.filePath("live-ws");
        QDir().mkpath(ws);
        MainWindow w(h158::ui::MainWindowOptions{ws, false, {}});
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        RunsPanel* p = w.runsPanel();
        QCOMPARE(p->count(), 0);
        QProcess run;
        run.start(H158_CLI_PATH, {"run", "--preset", "spirals", "--steps", "400000", "--out",
                                  ws + "/beside"});
        QVERIFY(run.waitForStarted());
        QTRY_COMPARE_WITH_TIMEOUT(p->count(), 1, 20000);
        const int id = p->shownRunIds().value(0);
        QVERIFY(id);
        QCOMPARE(p->entry(id)->name, QString("beside"));
        p->setChecked(id, true);
        QCustomPlot* plot = w.lossPanel()->plot();
        QTRY_VERIFY_WITH_TIMEOUT(p->entry(id)->rows && p->entry(id)->rows->size() > 10, 20000);
        QTRY_VERIFY_WITH_TIMEOUT(graphNamed(plot, p->label(id)), 5000);
        const int seen = graphNamed(plot, p->label(id))->dataCount();
        QTRY_VERIFY_WITH_TIMEOUT(graphNamed(plot, p->label(id)) &&
                                     graphNamed(plot, p->label(id))->dataCount() > seen,
                                 20000);
        QTRY_COMPARE_WITH_TIMEOUT(p->entry(id)->state, RunState::Running, 5000);
        // stopped from outside: the table says so once its summary is there
        run.terminate();  // SIGTERM: the CLI stops the run and writes its summary
        QVERIFY(run.waitForFinished(60000));
        QTRY_VERIFY_WITH_TIMEOUT(p->entry(id)->state == RunState::Stopped, 20000);
        QVERIFY(p->entry(id)->step > 10);
    }
};

QTEST_MAIN(TestGuiRunsTable)
#include "test_gui_runs_table.moc"
