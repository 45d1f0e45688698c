// Edits between steps and DIR/events.jsonl (events.h).
#include "core/exp/events.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/base/errors.h"

namespace h158 {
namespace fs = std::filesystem;

namespace {

// JSON of a field's type as --set text: numbers as the schema prints them.
std::string jsonText(const FieldSpec& f, const nlohmann::json& v) {
    Config c;
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer() && f.type == FieldType::Int)
        f.set(c, FieldValue(v.get<int64_t>()));
    else if (v.is_number())
        f.set(c, FieldValue(v.get<double>()));
    else
        throw ConfigError(f.key + ": " + v.dump() + " is not a value of this setting");
    return f.toString(c);
}

}  // namespace

nlohmann::json fieldJson(const FieldSpec& f, const Config& cfg) {
    return std::visit([](const auto& v) { return nlohmann::json(v); }, f.get(cfg));
}

void sortByStep(std::vector<RunEvent>& events) {
    std::stable_sort(events.begin(), events.end(),
                     [](const RunEvent& a, const RunEvent& b) { return a.step < b.step; });
}

nlohmann::json RunEvent::toJson() const {
    nlohmann::json j = nlohmann::json::object();
    j["step"] = step;
    j["key"] = key;
    j["old"] = before;
    j["new"] = after;
    j["by"] = by;
    return j;
}

std::string RunEvent::valueText() const {
    const FieldSpec* f = findField(key);
    if (!f) return after.is_string() ? after.get<std::string>() : after.dump();
    return jsonText(*f, after);
}

std::string RunEvent::describe() const {
    const FieldSpec* f = findField(key);
    auto text = [&](const nlohmann::json& v) {
        if (v.is_null()) return std::string("?");
        try {
            return f ? jsonText(*f, v) : v.dump();
        } catch (const std::exception&) {
            return v.dump();
        }
    };
    return "step " + std::to_string(step) + ": " + key + " " + text(before) + " -> " +
           text(after) + " (" + by + ")";
}

void checkLiveEdit(const Config& c, const std::string& key, const std::string& value,
                   int64_t stepsDone) {
    (void)liveEdit(c, key, value, stepsDone);
}

void applyEvent(Config& cfg, const RunEvent& e) {
    const FieldSpec* f = findField(e.key);
    if (!f) throw ConfigError("event: unknown key '" + e.key + "'");
    f->setFromString(cfg, e.valueText());
}

RunEvent parseAtOption(const std::string& text, const std::string& where) {
    const auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0)
        throw ConfigError(where + " " + text + ": expected STEP:key=value (e.g. 300:optim.lr=0.001)");
    int64_t step = -1;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + colon, step);
    if (ec != std::errc() || p != text.data() + colon || step < 0)
        throw ConfigError(where + " " + text + ": '" + text.substr(0, colon) +
                          "' is not a step (an integer >= 0)");
    const std::string assignment = text.substr(colon + 1);
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw ConfigError(where + " " + text + ": expected key=value after the step");
    RunEvent e;
    e.step = step;
    e.key = assignment.substr(0, eq);
    e.by = "--at";
    const std::string value = assignment.substr(eq + 1);
    // The key and value alone: unknown, not live or out of range are named here, the rest against
    // the run's configuration by scheduleEvents.
    const FieldSpec* f = findField(e.key);
    if (!f || !f->live) (void)liveEdit(Config{}, e.key, value, -1);  // throws, naming the key
    Config probe;
    f->setFromString(probe, value);
    e.after = fieldJson(*f, probe);
    return e;
}

std::vector<RunEvent> scheduleEvents(const Config& cfg, std::vector<RunEvent> events) {
    sortByStep(events);
    Config c = cfg;
    for (RunEvent& e : events) {
        const FieldSpec* f = findField(e.key);
        try {
            if (!f) throw ConfigError("unknown key '" + e.key + "'");
            e.before = fieldJson(*f, c);
            c = liveEdit(c, e.key, e.valueText(), e.step);
        } catch (const ConfigError& err) {
            throw ConfigError("the edit at step " + std::to_string(e.step) + ": " + err.what());
        }
        if (e.step >= c.run.steps)
            throw ConfigError("the edit at step " + std::to_string(e.step) + " of " + e.key +
                              ": the run ends at step " + std::to_string(c.run.steps));
    }
    return events;
}

std::vector<RunEvent> readEvents(const std::string& dir) {
    const fs::path path = fs::path(dir) / kEventsFile;
    std::vector<RunEvent> out;
    if (!fs::exists(path)) return out;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(path.string() + ": cannot open");
    std::string line;
    int64_t lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (line.empty()) continue;
        const std::string where = path.string() + ":" + std::to_string(lineNo);
        if (in.eof()) break;  // a line without its newline: a write cut short by a kill
        const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) throw FileError(where + ": not a JSON object");
        RunEvent e;
        if (!j.contains("step") || !j["step"].is_number_integer() || j["step"].get<int64_t>() < 0)
            throw FileError(where + ": step must be an integer >= 0");
        e.step = j["step"].get<int64_t>();
        if (!j.contains("key") || !j["key"].is_string()) throw FileError(where + ": key must be a string");
        e.key = j["key"].get<std::string>();
        const FieldSpec* f = findField(e.key);
        if (!f) throw FileError(where + ": unknown key '" + e.key + "'");
        if (!f->live) throw FileError(where + ": " + e.key + " cannot change during a run");
        e.before = j.value("old", nlohmann::json());
        if (!j.contains("new")) throw FileError(where + ": no new value");
        e.after = j["new"];
        e.by = j.contains("by") && j["by"].is_string() ? j["by"].get<std::string>() : "";
        try {
            Config c;
            f->setFromString(c, jsonText(*f, e.after));
        } catch (const std::exception& err) {
            throw FileError(where + ": " + err.what());
        }
        out.push_back(std::move(e));
    }
    sortByStep(out);
    return out;
}

void appendEvent(const std::string& dir, const RunEvent& e) {
    const fs::path path = fs::path(dir) / kEventsFile;
    std::ofstream out(path, std::ios::binary | std::ios::app);
    if (out) out << e.toJson().dump() << "\n" << std::flush;
    if (!out)
        throw FileError(path.string() + ": write failed (" + std::strerror(errno) + ")");
}

}  // namespace h158
