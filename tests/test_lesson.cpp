// Lessons (core/train/lesson.h): every built-in lesson parses and names only known metrics and
// config keys; malformed lessons are refused with the file, the page and the field named; the
// conditions read the same metric values metrics.csv holds; a lesson file round trips from disk.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/base/errors.h"
#include "core/train/lesson.h"

using namespace h158;
using nlohmann::json;

namespace {

// A valid two-page lesson; each malformed row below changes one thing in it.
json goodLesson() {
    return json::parse(R"({
      "name": "demo", "title": "Demo", "summary": "A lesson for the tests",
      "pages": [
        {"title": "Load", "text": "Loads spirals.",
         "config": {"preset": "spirals", "set": {"run.steps": 50, "optim.lr": 0.02}},
         "actions": ["run", {"run_until": 20}, {"show": "mechanism"}],
         "highlight": ["loss", "boundary"],
         "wait": {"action": "step", "count": 2}},
        {"title": "Wait", "text": "Until the loss falls.",
         "wait": {"until": "loss < 0.3", "hint": "Watch the loss."}}
      ]})");
}

QString errorOf(const json& j, const std::string& source = "lessons/x.json") {
    try {
        parseLesson(j, source);
    } catch (const ConfigError& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

}  // namespace

class TestLesson : public QObject {
    Q_OBJECT

  private slots:
    void everyBuiltinLessonParses() {
        const auto list = lessonList();
        QVERIFY2(list.size() >= 7, "issue 22 asks for at least seven lessons");
        std::set<std::string> names;
        for (const LessonInfo& info : list) {
            QVERIFY2(names.insert(info.name).second, info.name.c_str());
            QVERIFY2(!info.summary.empty() && !info.title.empty(), info.name.c_str());
            Lesson l;
            try {
                l = builtinLesson(info.name);
            } catch (const std::exception& e) {
                QFAIL(e.what());
            }
            QCOMPARE(l.name, info.name);
            QVERIFY(!l.pages.empty());
            QVERIFY2(l.pages.front().hasConfig, "a lesson's first page sets up its run");
            for (const LessonPage& p : l.pages) {
                QVERIFY2(!p.title.empty() && !p.text.empty(), p.title.c_str());
                // A page is a few sentences, not an essay.
                QVERIFY2(p.text.size() < 600, (info.name + ": " + p.title).c_str());
                if (p.hasConfig) QVERIFY(validationErrors(p.config).empty());
                if (p.wait.kind != LessonWait::Kind::None) QVERIFY(!p.wait.hint.empty());
            }
        }
        // The first one in the list is the first lesson of the issue.
        QCOMPARE(list.front().name, std::string("ternary-basics"));
    }

    void findLessonByNameOrFile() {
        QCOMPARE(findLesson("ternary-basics").name, std::string("ternary-basics"));
        QTemporaryDir dir;
        const std::string path = dir.filePath("mine.json").toStdString();
        std::ofstream(path) << goodLesson().dump(2);
        const Lesson l = findLesson(path);
        QCOMPARE(l.source, path);
        QCOMPARE(int(l.pages.size()), 2);
        const LessonPage& p = l.pages[0];
        QVERIFY(p.hasConfig);
        QCOMPARE(p.preset, std::string("spirals"));
        QCOMPARE(p.config.run.steps, int64_t(50));
        QCOMPARE(p.config.optim.lr, 0.02);
        QCOMPARE(p.config.data.kind, std::string("spirals"));  // the rest is the preset's
        QCOMPARE(int(p.actions.size()), 3);
        QVERIFY(p.actions[0].kind == LessonAction::Kind::Press && p.actions[0].id == "run");
        QVERIFY(p.actions[1].kind == LessonAction::Kind::RunUntil && p.actions[1].until.onStep());
        QCOMPARE(p.actions[1].until.value, 20.0);
        QVERIFY(p.actions[2].kind == LessonAction::Kind::Show && p.actions[2].id == "mechanism");
        QVERIFY(p.wait.kind == LessonWait::Kind::Action && p.wait.count == 2);
        QCOMPARE(p.wait.hint, std::string("Press Step 2 times."));
        QCOMPARE(l.pages[1].wait.hint, std::string("Watch the loss."));

        const auto missing = dir.filePath("none.json").toStdString();
        QVERIFY_THROWS_EXCEPTION(FileError, findLesson(missing));
        std::ofstream(dir.filePath("bad.json").toStdString()) << "{\n  \"name\": \n}";
        try {
            loadLessonFile(dir.filePath("bad.json").toStdString());
            QFAIL("malformed JSON accepted");
        } catch (const FileError& e) {
            QVERIFY2(QString(e.what()).contains("bad.json:3: malformed JSON"), e.what());
        }
        try {
            findLesson("ternary-basic");
            QFAIL("unknown lesson accepted");
        } catch (const ConfigError& e) {
            QVERIFY2(QString(e.what()).contains("did you mean 'ternary-basics'"), e.what());
        }
    }

    void malformedLessonNamesFilePageAndField_data() {
        QTest::addColumn<QString>("pointer");  // JSON pointer of the change
        QTest::addColumn<QString>("value");    // JSON text put there ("-" removes it)
        QTest::addColumn<QString>("message");  // expected start of the message

        QTest::newRow("missing pages") << "/pages"
                                       << "-"
                                       << "lessons/x.json: missing field 'pages'";
        QTest::newRow("empty pages") << "/pages"
                                     << "[]"
                                     << "lessons/x.json: pages: must be a non-empty list";
        QTest::newRow("unknown top field")
            << "/titel"
            << "\"x\""
            << "lessons/x.json: unknown field 'titel' (did you mean 'title'?)";
        QTest::newRow("missing summary") << "/summary"
                                         << "-"
                                         << "lessons/x.json: missing field 'summary'";
        QTest::newRow("page not an object") << "/pages/1"
                                            << "3"
                                            << "lessons/x.json: page 2: must be an object";
        QTest::newRow("bad page field")
            << "/pages/1/hilight"
            << "[\"loss\"]"
            << "lessons/x.json: page 2: unknown field 'hilight' (did you mean 'highlight'?)";
        QTest::newRow("missing text") << "/pages/1/text"
                                      << "-"
                                      << "lessons/x.json: page 2: missing field 'text'";
        QTest::newRow("empty title") << "/pages/0/title"
                                     << "\"\""
                                     << "lessons/x.json: page 1: title: must be a non-empty string";
        QTest::newRow("unknown config key") << "/pages/0/config/set"
                                            << R"({"optim.lrr": 0.1})"
                                            << "lessons/x.json: page 1: config.set: unknown config "
                                               "key 'optim.lrr' (did you mean 'optim.lr'?)";
        QTest::newRow("bad value") << "/pages/0/config/set"
                                   << R"({"optim.lr": -1})"
                                   << "lessons/x.json: page 1: config.set: optim.lr must be > 0";
        QTest::newRow("bad choice")
            << "/pages/0/config/set"
            << R"({"quant.weights": "binary"})"
            << "lessons/x.json: page 1: config.set: quant.weights must be one of";
        QTest::newRow("inconsistent config")
            << "/pages/0/config/set"
            << R"({"model.kind": "gpt"})"
            << "lessons/x.json: page 1: config: data.kind must be 'text' for model.kind=gpt";
        QTest::newRow("unknown preset")
            << "/pages/0/config/preset"
            << "\"spiral\""
            << "lessons/x.json: page 1: config.preset: unknown preset 'spiral'";
        QTest::newRow("config field") << "/pages/0/config/sets"
                                      << "{}"
                                      << "lessons/x.json: page 1: config: unknown field 'sets'";
        QTest::newRow("bad wait kind") << "/pages/0/wait"
                                       << R"({"press": "step"})"
                                       << "lessons/x.json: page 1: wait: unknown field 'press'";
        QTest::newRow("two wait kinds") << "/pages/0/wait"
                                        << R"({"action": "step", "finish": true})"
                                        << "lessons/x.json: page 1: wait: give exactly one of "
                                           "action, field, until, finish (got 2)";
        QTest::newRow("no wait kind") << "/pages/0/wait"
                                      << R"({"hint": "Do it"})"
                                      << "lessons/x.json: page 1: wait: give exactly one of "
                                         "action, field, until, finish (got 0)";
        QTest::newRow("bad count")
            << "/pages/0/wait/count"
            << "0"
            << "lessons/x.json: page 1: wait.count: must be an integer from 1 to 1000";
        QTest::newRow("wait field unknown") << "/pages/0/wait"
                                            << R"({"field": "trust.radios"})"
                                            << "lessons/x.json: page 1: wait.field: unknown config "
                                               "key 'trust.radios' (did you mean 'trust.radius'?)";
        QTest::newRow("wait value bad")
            << "/pages/0/wait"
            << R"({"field": "trust.radius", "value": "wide"})"
            << "lessons/x.json: page 1: wait.value: trust.radius must be a number";
        QTest::newRow("unknown metric")
            << "/pages/1/wait/until"
            << "\"losss < 0.3\""
            << "lessons/x.json: page 2: wait.until: unknown metric 'losss' (did you mean 'loss'?)";
        QTest::newRow("no comparison")
            << "/pages/1/wait/until"
            << "\"loss 0.3\""
            << "lessons/x.json: page 2: wait.until: expected METRIC OP NUMBER";
        QTest::newRow("no number") << "/pages/1/wait/until"
                                   << "\"loss < low\""
                                   << "lessons/x.json: page 2: wait.until: expected a number after "
                                      "the comparison, got 'low'";
        QTest::newRow("bad run_until")
            << "/pages/0/actions/1"
            << R"({"run_until": "step = 4"})"
            << "lessons/x.json: page 1: actions: item 2: run_until: expected METRIC OP NUMBER";
        QTest::newRow("bad action")
            << "/pages/0/actions/0"
            << "5"
            << "lessons/x.json: page 1: actions: item 1: expected an action id";
        QTest::newRow("bad show") << "/pages/0/actions/2"
                                  << R"({"show": "weights"})"
                                  << "lessons/x.json: page 1: actions: item 3: show: must be "
                                     "\"training\" or \"mechanism\"";
        QTest::newRow("highlight not ids")
            << "/pages/0/highlight"
            << "[1]"
            << "lessons/x.json: page 1: highlight: must be a list of panel ids";
    }
    void malformedLessonNamesFilePageAndField() {
        QFETCH(QString, pointer);
        QFETCH(QString, value);
        QFETCH(QString, message);
        json j = goodLesson();
        const json::json_pointer ptr(pointer.toStdString());
        if (value == "-")
            j.at(ptr.parent_pointer()).erase(ptr.back());
        else
            j[ptr] = json::parse(value.toStdString());
        const QString got = errorOf(j);
        QVERIFY2(got.startsWith(message), qPrintable("got: " + got));
    }

    // The GUI checks the ids against its own panels and actions with the same naming.
    void unknownIdsNamed() {
        const std::vector<std::string> panels = {"loss", "boundary"};
        const std::vector<std::string> actions = {"run", "pause", "step", "stop", "reset"};
        checkLessonIds(parseLesson(goodLesson(), "lessons/x.json"), panels, actions);  // fine
        auto refused = [&](const char* pointer, const char* value) {
            json j = goodLesson();
            j[json::json_pointer(pointer)] = json::parse(value);
            try {
                checkLessonIds(parseLesson(j, "lessons/x.json"), panels, actions);
            } catch (const ConfigError& e) {
                return QString(e.what());
            }
            return QString();
        };
        QCOMPARE(refused("/pages/1/highlight", R"(["lossx"])"),
                 QString("lessons/x.json: page 2: highlight: unknown panel 'lossx' (did you mean "
                         "'loss'?)"));
        QCOMPARE(refused("/pages/0/actions/0", R"("stpe")"),
                 QString("lessons/x.json: page 1: actions: item 1: unknown action 'stpe' (did you "
                         "mean 'step'?)"));
        QCOMPARE(refused("/pages/0/wait/action", R"("rewind")"),
                 QString("lessons/x.json: page 1: wait.action: unknown action 'rewind'"));
    }

    void conditionsReadTheMetrics_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("holds");
        QTest::newRow("step number") << "12" << true;
        QTest::newRow("step number ahead") << "13" << false;
        QTest::newRow("step >=") << "step >= 12" << true;
        QTest::newRow("step >") << "step > 12" << false;
        QTest::newRow("loss <") << "loss < 0.3" << true;
        QTest::newRow("loss <=, spaces") << "  loss<=0.25 " << true;
        QTest::newRow("loss >") << "loss > 0.25" << false;
        QTest::newRow("constrained") << "constrained > 0" << true;
        QTest::newRow("empty cell never holds") << "val_loss < 100" << false;
        QTest::newRow("a later column") << "step_ratio >= 0.5" << true;
    }
    void conditionsReadTheMetrics() {
        QFETCH(QString, text);
        QFETCH(bool, holds);
        StepMetrics m;
        m.step = 12;
        m.loss = 0.25;
        m.constrained = 1;
        m.step_ratio = 0.5;
        const LessonCondition c = parseCondition(text.toStdString());
        QCOMPARE(c.holds(m), holds);
    }

    void metricValueMatchesTheCsv() {
        StepMetrics m;
        m.step = 7;
        m.loss = 1.5;
        m.cluster = 3;
        m.weight_bits = 1.58;
        QCOMPARE(metricValue(m, "step"), 7.0);
        QCOMPARE(metricValue(m, "loss"), 1.5);
        QCOMPARE(metricValue(m, "cluster"), 3.0);
        QCOMPARE(metricValue(m, "weight_bits"), 1.58);
        QVERIFY(std::isnan(metricValue(m, "val_loss")));
        // Every column of metrics.csv can be named, the last one too.
        QVERIFY_THROWS_NO_EXCEPTION(metricValue(m, metricsColumns().back()));
        QVERIFY_THROWS_EXCEPTION(Error, metricValue(m, "nope"));
        QCOMPARE(parseCondition("loss<0.3").text(), std::string("loss < 0.3"));
    }

    void fieldWaits() {
        json j = goodLesson();
        j["pages"][0]["wait"] = json::parse(R"({"field": "quant.weights", "value": "none"})");
        j["pages"][1]["wait"] = json::parse(R"({"field": "trust.radius"})");
        const Lesson l = parseLesson(j, "x.json");
        const Config before = l.pages[0].config;
        Config now = before;
        QVERIFY(!l.pages[0].wait.fieldSatisfied(before, now));
        QVERIFY(!l.pages[1].wait.fieldSatisfied(before, now));
        now.trust.radius = 0.2;
        QVERIFY(l.pages[1].wait.fieldSatisfied(before, now));
        QVERIFY(!l.pages[0].wait.fieldSatisfied(before, now));
        now.quant.weights = "none";
        QVERIFY(l.pages[0].wait.fieldSatisfied(before, now));
        QCOMPARE(l.pages[0].wait.hint,
                 std::string("Set quant.weights to none in the Configuration."));
    }
};

QTEST_APPLESS_MAIN(TestLesson)
#include "test_lesson.moc"
