// Lesson files: parsing and checking (the format is specified in lesson.h), the built-in
// lessons compiled in from resources/lessons, and metric conditions on a step's row.
#include "core/train/lesson.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <utility>

#include "core/base/errors.h"
#include "core/base/file_io.h"

namespace h158 {

extern const std::pair<std::string_view, std::string_view> kEmbeddedLessons[];
extern const int kEmbeddedLessonCount;

namespace {

using nlohmann::json;

size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1 : 0)});
            diag = up;
        }
    }
    return row[b.size()];
}

// " (did you mean 'x'?)" when an option is within a third of the word's length, else "".
std::string suggestion(const std::string& word, const std::vector<std::string>& options) {
    const size_t near = std::max<size_t>(2, word.size() / 3);
    std::string best;
    size_t bestD = near + 1;
    for (const auto& o : options)
        if (const size_t d = editDistance(word, o); d < bestD) bestD = d, best = o;
    return best.empty() ? std::string() : " (did you mean '" + best + "'?)";
}

std::string joined(const std::vector<std::string>& items) {
    std::string s;
    for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
    return s;
}

// Throws ConfigError "WHERE: message".
[[noreturn]] void refuse(const std::string& where, const std::string& message) {
    throw ConfigError(where + ": " + message);
}

void checkKeys(const json& j, const std::vector<std::string>& allowed, const std::string& where) {
    for (const auto& [key, value] : j.items())
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
            refuse(where, "unknown field '" + key + "'" + suggestion(key, allowed) +
                              " (fields: " + joined(allowed) + ")");
}

std::string requiredString(const json& j, const std::string& key, const std::string& where) {
    const auto it = j.find(key);
    if (it == j.end()) refuse(where, "missing field '" + key + "'");
    if (!it->is_string() || it->get<std::string>().empty())
        refuse(where + ": " + key, "must be a non-empty string");
    return it->get<std::string>();
}

// A scalar JSON value as the text --set takes ("0.01", "true", "ternary").
std::string settingText(const json& v, const std::string& where) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    if (v.is_number()) return formatNumber(v.get<double>());
    refuse(where, "must be a number, a string or true/false, got " + v.dump());
}

std::vector<std::string> configKeys() {
    std::vector<std::string> keys;
    for (const auto& f : configSchema()) keys.push_back(f.key);
    return keys;
}

const FieldSpec& configField(const std::string& key, const std::string& where) {
    const FieldSpec* f = findField(key);
    if (!f) refuse(where, "unknown config key '" + key + "'" + suggestion(key, configKeys()));
    return *f;
}

void parseConfig(const json& j, LessonPage& page, const std::string& lessonName, const Lesson& l,
                 int k) {
    const std::string where = l.where(k, "config");
    if (!j.is_object()) refuse(where, "must be an object {\"preset\": ..., \"set\": {...}}");
    checkKeys(j, {"preset", "set"}, where);
    page.preset = "seed-linear";
    if (const auto p = j.find("preset"); p != j.end()) {
        if (!p->is_string()) refuse(where + ".preset", "must be a preset name");
        page.preset = p->get<std::string>();
    }
    try {
        page.config = presetConfig(page.preset);
    } catch (const ConfigError& e) {
        refuse(where + ".preset", e.what());
    }
    page.config.run.name = lessonName;
    if (const auto s = j.find("set"); s != j.end()) {
        if (!s->is_object()) refuse(where + ".set", "must be an object of \"key\": value");
        for (const auto& [key, value] : s->items()) {
            const std::string at = where + ".set";
            const FieldSpec& f = configField(key, at);
            try {
                f.setFromString(page.config, settingText(value, at + ": " + key));
            } catch (const ConfigError& e) {
                refuse(at, e.what());
            }
        }
    }
    const auto errors = validationErrors(page.config);
    if (!errors.empty()) refuse(where, errors.front());
    page.hasConfig = true;
}

LessonCondition conditionOf(const json& v, const std::string& where) {
    try {
        if (v.is_number_integer()) return parseCondition(std::to_string(v.get<int64_t>()));
        if (v.is_string()) return parseCondition(v.get<std::string>());
    } catch (const ConfigError& e) {
        refuse(where, e.what());
    }
    refuse(where, "must be a condition such as \"loss < 0.3\" or a step number, got " + v.dump());
}

void parseActions(const json& j, LessonPage& page, const Lesson& l, int k) {
    const std::string where = l.where(k, "actions");
    if (!j.is_array()) refuse(where, "must be a list such as [\"run\", {\"run_until\": 200}]");
    int n = 0;
    for (const json& a : j) {
        const std::string at = where + ": item " + std::to_string(++n);
        LessonAction act;
        if (a.is_string() && !a.get<std::string>().empty()) {
            act.kind = LessonAction::Kind::Press;
            act.id = a.get<std::string>();
        } else if (a.is_object() && a.size() == 1 && a.contains("run_until")) {
            act.kind = LessonAction::Kind::RunUntil;
            act.until = conditionOf(a.at("run_until"), at + ": run_until");
        } else if (a.is_object() && a.size() == 1 && a.contains("show")) {
            act.kind = LessonAction::Kind::Show;
            const json& s = a.at("show");
            if (!s.is_string() || (s != "training" && s != "mechanism"))
                refuse(at + ": show", "must be \"training\" or \"mechanism\", got " + s.dump());
            act.id = s.get<std::string>();
        } else {
            refuse(at,
                   "expected an action id such as \"run\", {\"run_until\": CONDITION} or "
                   "{\"show\": \"training\" | \"mechanism\"}, got " +
                       a.dump());
        }
        page.actions.push_back(std::move(act));
    }
}

std::string actionLabel(const std::string& id) {
    if (id == "step_into") return "Step into";
    std::string s = id;
    if (!s.empty()) s[0] = char(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
}

void defaultHint(LessonWait& w) {
    switch (w.kind) {
        case LessonWait::Kind::Action:
            w.hint = "Press " + actionLabel(w.action) +
                     (w.count > 1 ? " " + std::to_string(w.count) + " times." : ".");
            break;
        case LessonWait::Kind::Field:
            w.hint = w.value ? "Set " + w.field + " to " + *w.value + " in the Configuration."
                             : "Change " + w.field + " in the Configuration.";
            break;
        case LessonWait::Kind::Until:
            w.hint = "Let the run go on until " + w.until.text() +
                     " (press Run, or Resume when it is paused).";
            break;
        case LessonWait::Kind::Finish:
            w.hint = "Let the run finish (press Run, or Resume when it is paused).";
            break;
        case LessonWait::Kind::None:
            break;
    }
}

void parseWait(const json& j, LessonPage& page, const Lesson& l, int k) {
    const std::string where = l.where(k, "wait");
    if (!j.is_object()) refuse(where, "must be an object such as {\"action\": \"step\"}");
    checkKeys(j, {"action", "count", "field", "value", "until", "finish", "hint"}, where);
    int kinds = 0;
    for (const char* kind : {"action", "field", "until", "finish"}) kinds += j.contains(kind);
    if (kinds != 1)
        refuse(where, "give exactly one of action, field, until, finish (got " +
                          std::to_string(kinds) + ")");
    LessonWait& w = page.wait;
    if (j.contains("count") && !j.contains("action")) refuse(where + ".count", "goes with action");
    if (j.contains("value") && !j.contains("field")) refuse(where + ".value", "goes with field");
    if (const auto a = j.find("action"); a != j.end()) {
        if (!a->is_string() || a->get<std::string>().empty())
            refuse(where + ".action", "must be an action id such as \"step\"");
        w.kind = LessonWait::Kind::Action;
        w.action = a->get<std::string>();
        if (const auto c = j.find("count"); c != j.end()) {
            if (!c->is_number_integer() || c->get<int64_t>() < 1 || c->get<int64_t>() > 1000)
                refuse(where + ".count", "must be an integer from 1 to 1000, got " + c->dump());
            w.count = int(c->get<int64_t>());
        }
    } else if (const auto f = j.find("field"); f != j.end()) {
        if (!f->is_string()) refuse(where + ".field", "must be a config key such as \"optim.lr\"");
        w.kind = LessonWait::Kind::Field;
        w.field = f->get<std::string>();
        const FieldSpec& spec = configField(w.field, where + ".field");
        if (const auto v = j.find("value"); v != j.end()) {
            Config probe = page.hasConfig ? page.config : Config{};
            try {
                spec.setFromString(probe, settingText(*v, where + ".value"));
            } catch (const ConfigError& e) {
                refuse(where + ".value", e.what());
            }
            w.value = spec.toString(probe);
        }
    } else if (const auto u = j.find("until"); u != j.end()) {
        w.kind = LessonWait::Kind::Until;
        w.until = conditionOf(*u, where + ".until");
    } else {
        if (j.at("finish") != true) refuse(where + ".finish", "must be true");
        w.kind = LessonWait::Kind::Finish;
    }
    if (const auto h = j.find("hint"); h != j.end()) {
        if (!h->is_string() || h->get<std::string>().empty())
            refuse(where + ".hint", "must be a non-empty string");
        w.hint = h->get<std::string>();
    } else {
        defaultHint(w);
    }
}

LessonPage parsePage(const json& j, const Lesson& l, int k) {
    const std::string where = l.source + ": page " + std::to_string(k);
    if (!j.is_object()) refuse(where, "must be an object with title and text");
    checkKeys(j, {"title", "text", "config", "actions", "highlight", "wait"}, where);
    LessonPage page;
    page.title = requiredString(j, "title", where);
    page.text = requiredString(j, "text", where);
    if (const auto c = j.find("config"); c != j.end()) parseConfig(*c, page, l.name, l, k);
    if (const auto a = j.find("actions"); a != j.end()) parseActions(*a, page, l, k);
    if (const auto h = j.find("highlight"); h != j.end()) {
        const json list = h->is_string() ? json::array({*h}) : *h;
        if (!list.is_array()) refuse(l.where(k, "highlight"), "must be a list of panel ids");
        for (const json& id : list) {
            if (!id.is_string() || id.get<std::string>().empty())
                refuse(l.where(k, "highlight"), "must be a list of panel ids, got " + id.dump());
            page.highlight.push_back(id.get<std::string>());
        }
    }
    if (const auto w = j.find("wait"); w != j.end()) parseWait(*w, page, l, k);
    return page;
}

// "01-ternary-basics" -> "ternary-basics": the order prefix of a built-in's file name.
std::string nameOfStem(std::string_view stem) {
    size_t i = 0;
    while (i < stem.size() && std::isdigit(static_cast<unsigned char>(stem[i]))) ++i;
    if (i > 0 && i < stem.size() && stem[i] == '-') stem.remove_prefix(i + 1);
    return std::string(stem);
}

json parseBuiltin(std::string_view name, std::string_view text) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw ConfigError("built-in lesson '" + std::string(name) + "' is malformed: " + e.what());
    }
}

std::vector<std::string> builtinNames() {
    std::vector<std::string> names;
    for (int i = 0; i < kEmbeddedLessonCount; ++i)
        names.push_back(nameOfStem(kEmbeddedLessons[i].first));
    return names;
}

void checkId(const std::string& id, const std::vector<std::string>& known, const std::string& what,
             const std::string& where) {
    if (std::find(known.begin(), known.end(), id) == known.end())
        refuse(where, "unknown " + what + " '" + id + "'" + suggestion(id, known));
}

}  // namespace

// ---- conditions ---------------------------------------------------------------------------

double metricValue(const StepMetrics& row, const std::string& column) {
    if (column == "step") return double(row.step);
    const std::vector<std::string> columns = metricsColumns();
    const auto it = std::find(columns.begin(), columns.end(), column);
    if (it == columns.end()) throw Error("unknown metric '" + column + "'");
    // The row as metrics.csv holds it: every column, present and future, by its name.
    const std::string csv = metricsCsvRow(row);
    size_t begin = 0;
    for (auto c = columns.begin(); c != it; ++c) {
        begin = csv.find(',', begin);
        if (begin == std::string::npos) return std::numeric_limits<double>::quiet_NaN();
        ++begin;
    }
    const size_t end = std::min(csv.find(',', begin), csv.size());
    double v = std::numeric_limits<double>::quiet_NaN();
    const auto r = std::from_chars(csv.data() + begin, csv.data() + end, v);
    return r.ec == std::errc() ? v : std::numeric_limits<double>::quiet_NaN();
}

bool LessonCondition::holds(const StepMetrics& row) const {
    const double v = metricValue(row, metric);
    if (std::isnan(v)) return false;
    switch (op) {
        case Op::Less:
            return v < value;
        case Op::LessEqual:
            return v <= value;
        case Op::Greater:
            return v > value;
        case Op::GreaterEqual:
            return v >= value;
    }
    return false;
}

std::string LessonCondition::text() const {
    static const char* const ops[] = {"<", "<=", ">", ">="};
    return metric + " " + ops[int(op)] + " " + formatNumber(value);
}

LessonCondition parseCondition(const std::string& text) {
    const auto isSpace = [](char c) { return c == ' ' || c == '\t'; };
    LessonCondition c;
    std::string_view s = text;
    while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
    int64_t steps = 0;
    if (const auto r = std::from_chars(s.data(), s.data() + s.size(), steps);
        !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) {
        if (steps < 1) throw ConfigError("a step must be at least 1, got " + text);
        c.value = double(steps);
        return c;
    }
    const size_t opAt = s.find_first_of("<>");
    if (opAt == std::string_view::npos)
        throw ConfigError(
            "expected METRIC OP NUMBER (OP one of < <= > >=) or a step number, got '" + text + "'");
    std::string_view metric = s.substr(0, opAt);
    while (!metric.empty() && isSpace(metric.back())) metric.remove_suffix(1);
    const bool orEqual = opAt + 1 < s.size() && s[opAt + 1] == '=';
    c.op = s[opAt] == '<'
               ? (orEqual ? LessonCondition::Op::LessEqual : LessonCondition::Op::Less)
               : (orEqual ? LessonCondition::Op::GreaterEqual : LessonCondition::Op::Greater);
    std::string_view number = s.substr(opAt + (orEqual ? 2 : 1));
    while (!number.empty() && isSpace(number.front())) number.remove_prefix(1);
    c.metric = std::string(metric);
    std::vector<std::string> columns = metricsColumns();
    if (std::find(columns.begin(), columns.end(), c.metric) == columns.end())
        throw ConfigError("unknown metric '" + c.metric + "'" + suggestion(c.metric, columns) +
                          " (the columns of metrics.csv)");
    const auto r = std::from_chars(number.data(), number.data() + number.size(), c.value);
    if (number.empty() || r.ec != std::errc() || r.ptr != number.data() + number.size() ||
        !std::isfinite(c.value))
        throw ConfigError("expected a number after the comparison, got '" + std::string(number) +
                          "'");
    return c;
}

// ---- waits --------------------------------------------------------------------------------

bool LessonWait::fieldSatisfied(const Config& before, const Config& now) const {
    const FieldSpec* f = findField(field);
    if (kind != Kind::Field || !f) return false;
    return value ? f->toString(now) == *value : f->toString(now) != f->toString(before);
}

// ---- lessons ------------------------------------------------------------------------------

std::string Lesson::where(int page, const std::string& field) const {
    return source + ": page " + std::to_string(page) + ": " + field;
}

Lesson parseLesson(const json& j, const std::string& source) {
    Lesson l;
    l.source = source;
    if (!j.is_object())
        refuse(source, "a lesson must be a JSON object with name, title, summary, pages");
    checkKeys(j, {"name", "title", "summary", "pages"}, source);
    l.name = requiredString(j, "name", source);
    l.title = requiredString(j, "title", source);
    l.summary = requiredString(j, "summary", source);
    const auto pages = j.find("pages");
    if (pages == j.end()) refuse(source, "missing field 'pages'");
    if (!pages->is_array() || pages->empty())
        refuse(source + ": pages", "must be a non-empty list");
    int k = 0;
    for (const json& p : *pages) l.pages.push_back(parsePage(p, l, ++k));
    return l;
}

Lesson loadLessonFile(const std::string& path) {
    checkFileToRead(path);  // a directory is refused by name (file_io.h)
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(path + ": cannot open the lesson file");
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        const size_t at = std::min<size_t>(e.byte, text.size());
        const long line = 1 + std::count(text.begin(), text.begin() + long(at), '\n');
        throw FileError(path + ":" + std::to_string(line) + ": malformed JSON: " + e.what());
    } catch (const json::exception& e) {
        throw FileError(path + ": malformed JSON: " + e.what());
    }
    return parseLesson(j, path);
}

std::vector<LessonInfo> lessonList() {
    std::vector<LessonInfo> out;
    for (int i = 0; i < kEmbeddedLessonCount; ++i) {
        const auto& [stem, text] = kEmbeddedLessons[i];
        const json j = parseBuiltin(stem, text);
        out.push_back(
            {nameOfStem(stem), j.value("title", std::string()), j.value("summary", std::string())});
    }
    return out;
}

Lesson builtinLesson(const std::string& name) {
    for (int i = 0; i < kEmbeddedLessonCount; ++i) {
        const auto& [stem, text] = kEmbeddedLessons[i];
        if (nameOfStem(stem) != name) continue;
        Lesson l = parseLesson(parseBuiltin(stem, text), "built-in lesson '" + name + "'");
        if (l.name != name)
            refuse(l.source + ": name",
                   "must be '" + name + "' (its file name), got '" + l.name + "'");
        return l;
    }
    throw ConfigError("unknown lesson '" + name + "'" + suggestion(name, builtinNames()) +
                      " (built-in lessons: " + joined(builtinNames()) + "; or give a .json file)");
}

Lesson findLesson(const std::string& nameOrFile) {
    const auto names = builtinNames();
    if (std::find(names.begin(), names.end(), nameOrFile) != names.end())
        return builtinLesson(nameOrFile);
    if (std::ifstream(nameOrFile).good() || nameOrFile.find('/') != std::string::npos ||
        nameOrFile.ends_with(".json"))
        return loadLessonFile(nameOrFile);
    return builtinLesson(nameOrFile);  // throws, naming the built-in ones
}

void checkLessonIds(const Lesson& l, const std::vector<std::string>& panels,
                    const std::vector<std::string>& actions) {
    std::vector<std::string> targets = panels;
    targets.insert(targets.end(), actions.begin(), actions.end());
    for (size_t i = 0; i < l.pages.size(); ++i) {
        const int k = int(i) + 1;
        const LessonPage& p = l.pages[i];
        for (const auto& id : p.highlight) checkId(id, targets, "panel", l.where(k, "highlight"));
        int n = 0;
        for (const auto& a : p.actions) {
            ++n;
            if (a.kind == LessonAction::Kind::Press)
                checkId(a.id, actions, "action", l.where(k, "actions: item " + std::to_string(n)));
        }
        if (p.wait.kind == LessonWait::Kind::Action)
            checkId(p.wait.action, actions, "action", l.where(k, "wait.action"));
    }
}

}  // namespace h158
