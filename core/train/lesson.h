// Lessons: a guided path through the workbench, written by teachers as JSON files (the format
// below), parsed and checked here; the GUI's Lessons dock (ui/lessons_dock.h) plays them.
// Built-in lessons are resources/lessons/NAME.json, compiled in like the presets.
//
// The file format. A lesson is one JSON object:
//
//   {
//     "name":    "ternary-basics",            identifier (a built-in's is its file name without
//                                             the order prefix: 01-ternary-basics.json)
//     "title":   "Ternary quantization of one layer",
//     "summary": "absmean scale, the thresholds ±γ/2 and the codes -1/0/+1",   one line
//     "pages":   [ PAGE, ... ]                at least one
//   }
//
// A PAGE is an object with a title and a few sentences of text, and optionally:
//
//   "config":    {"preset": "spirals", "set": {"run.steps": 300, "quant.weights": "none"}}
//                The configuration the page loads into the form when it opens (the current run
//                is reset first): the preset (default seed-linear) with the keys of "set"
//                changed, each by its dotted key as `hybrid158-cli config` prints them. The
//                configuration is validated as a whole, like a --config file.
//   "actions":   ["run", {"run_until": "code_flips < 0.01"}, {"show": "mechanism"}, ...]
//                Done in order when the page opens, each once the previous one took effect:
//                  "ACTION"                  presses the run action with that id: run, pause,
//                                            step, step_into, stop, reset (or a panel's named
//                                            button, such as kmeansAssign)
//                  {"run_until": CONDITION}  runs (starting a run when none is live) until the
//                                            condition holds on a step's row, then pauses
//                  {"show": "training" | "mechanism"}   shows that page of the centre
//   "highlight": ["loss", "quant"]
//                Ids of the panels, docks or run actions the text talks about; each gets a
//                coloured frame while the page is open. Panels: loss, boundary, samples,
//                clusters, precision, constraint, quant, lr, weights, weightmap, flips, network,
//                stages, kmeans; docks: config, runs, memory; actions and buttons as above.
//   "wait":      what the student does before Next is enabled; one of
//                  {"action": "step", "count": 3}     press the action or button (count times,
//                                                     default 1)
//                  {"field": "trust.radius"}          change that field of the configuration
//                  {"field": "quant.weights", "value": "none"}   ... to that value
//                  {"until": CONDITION}               the live run reaches it
//                  {"finish": true}                   the live run ends (completed or stopped)
//                plus an optional "hint": the sentence telling the student what to do (a default
//                is made from the wait otherwise).
//
// A CONDITION is "METRIC OP NUMBER", OP one of < <= > >=, METRIC a column of metrics.csv
// ("step >= 200", "loss < 0.3", "code_flips < 0.01", "constrained > 0"); a bare integer N means
// "step >= N". It holds on a row where the metric has a value that satisfies it. A condition on
// step is met exactly (the run is stepped to it); any other one at the first row that meets it.
//
// Errors name the file, the page (1-based) and the field:
//   "lessons/x.json: page 3: highlight: unknown panel 'lossx'"
// The core checks the structure, the conditions and the configuration; the ids of panels and
// actions are checked by the GUI against its own when the lesson is opened (checkLessonIds),
// with the same naming.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/train/metrics.h"

namespace h158 {

struct LessonCondition {
    enum class Op { Less, LessEqual, Greater, GreaterEqual };
    std::string metric = "step";  // a metrics.csv column
    Op op = Op::GreaterEqual;
    double value = 0;

    // The metric of `row` satisfies the comparison (false when the row has no value for it).
    bool holds(const StepMetrics& row) const;
    bool onStep() const { return metric == "step"; }
    std::string text() const;  // "loss < 0.3"
};

// "loss < 0.3" or "200" (step >= 200); throws ConfigError saying what is wrong (no location).
LessonCondition parseCondition(const std::string& text);
// The value of a metrics.csv column on `row` (NaN when empty); throws Error for an unknown one.
double metricValue(const StepMetrics& row, const std::string& column);

struct LessonAction {
    enum class Kind { Press, RunUntil, Show };
    Kind kind = Kind::Press;
    std::string id;         // Press: the action id; Show: "training" | "mechanism"
    LessonCondition until;  // RunUntil
};

struct LessonWait {
    enum class Kind { None, Action, Field, Until, Finish };
    Kind kind = Kind::None;
    std::string action;                // Action: the action id
    int count = 1;                     // Action: presses needed
    std::string field;                 // Field: the dotted config key
    std::optional<std::string> value;  // Field: the value wanted, as the field prints it
    LessonCondition until;             // Until
    std::string hint;  // what to tell the student; filled with a default when the file has none

    // Field: whether the configuration `now` meets the wait, `before` being the one the page
    // opened with (a change when no value is given, else that value).
    bool fieldSatisfied(const Config& before, const Config& now) const;
};

struct LessonPage {
    std::string title;
    std::string text;
    bool hasConfig = false;
    std::string preset;  // hasConfig: the preset the config starts from
    Config config;       // hasConfig: the resolved, validated configuration
    std::vector<LessonAction> actions;
    std::vector<std::string> highlight;
    LessonWait wait;
};

struct Lesson {
    std::string name;
    std::string title;
    std::string summary;
    std::string source;  // the file, or "built-in lesson 'NAME'": the start of every message
    std::vector<LessonPage> pages;

    // "SOURCE: page K: FIELD" (page 1-based), the prefix of a message about that field.
    std::string where(int page, const std::string& field) const;
};

// Parses and checks a lesson; `source` starts every message. Throws ConfigError.
Lesson parseLesson(const nlohmann::json& j, const std::string& source);
// Reads a lesson file: FileError when missing or not JSON, ConfigError when not a lesson.
Lesson loadLessonFile(const std::string& path);

struct LessonInfo {
    std::string name;
    std::string title;
    std::string summary;
};
// The built-in lessons in teaching order: resources/lessons/NN-NAME.json, sorted by NN.
std::vector<LessonInfo> lessonList();
Lesson builtinLesson(const std::string& name);  // ConfigError naming the built-in ones
// A built-in lesson's name, else a file path.
Lesson findLesson(const std::string& nameOrFile);

// Checks the ids of panels and actions a lesson names against the ones that exist (the GUI's);
// throws ConfigError naming the page and field: "...: page 3: highlight: unknown panel 'lossx'".
void checkLessonIds(const Lesson& lesson, const std::vector<std::string>& panels,
                    const std::vector<std::string>& actions);

}  // namespace h158
