// Edits of a run's settings between steps, and the run directory's record of them.
//
// A setting the schema marks live (FieldSpec::live: the learning rate and its schedule, the trust
// region, the auxiliary NN's switch and bounds, clustering refreshes, TernGrad, evaluation and
// snapshot intervals, run.steps, text samples) can change while a run runs; the others shape the
// model, the data or the random streams and are refused by name. An edit made when S steps are
// done applies before step S + 1: an event "at step S".
//
// DIR/events.jsonl: one JSON object per line, in the order they were made (a reader sorts them by
// step, stably):
//   {"step": S, "key": "optim.lr", "old": 0.01, "new": 0.003, "by": "workbench" | "--at" | "fork"
//    | "parent"}
// old and new are JSON of the field's type (number, boolean or string). Events scheduled ahead
// (`run --at`, the parent's later events a fork replays) are written when the run starts, those
// made in the workbench when they are made. Resume and fork rebuild the configuration a
// checkpoint was taken under from the checkpoint itself, and replay the events it had not yet
// applied (checkpoint.h: events_applied).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config/config.h"

namespace h158 {

inline constexpr const char* kEventsFile = "events.jsonl";

struct RunEvent {
    int64_t step = 0;       // applies before step + 1
    std::string key;        // "optim.lr"
    nlohmann::json before;  // the value it replaced
    nlohmann::json after;   // the value it set
    std::string by;         // workbench | --at | fork | parent

    nlohmann::json toJson() const;
    // The value as --set / --at text ("0.003", "true", "cosine").
    std::string valueText() const;
    // "step 300: optim.lr 0.01 -> 0.003 (workbench)"
    std::string describe() const;
};

// "STEP:key=value" as given to --at; throws ConfigError naming `where` and what is wrong (no step,
// a step < 0, no '=', an unknown key, a key that cannot change during a run, a value out of
// range). The event's before is left null (scheduleEvents fills it).
RunEvent parseAtOption(const std::string& text, const std::string& where = "--at");

// Checks that `key` may change during a run and `value` (text) fits it; throws ConfigError naming
// the key. `stepsDone` bounds run.steps (it must stay above the steps already done).
void checkLiveEdit(const Config& c, const std::string& key, const std::string& value,
                   int64_t stepsDone);

// Sorts events stably by step and fills each one's before with the value the configuration holds
// just before it (cfg with the earlier events applied); checks each edit with checkLiveEdit
// (ConfigError naming the event's key and step).
std::vector<RunEvent> scheduleEvents(const Config& cfg, std::vector<RunEvent> events);

// The value of field `f` in cfg as JSON of its type (an event's old and new).
nlohmann::json fieldJson(const FieldSpec& f, const Config& cfg);
// Sorts events by step, keeping the order of those at one step (the order they apply in).
void sortByStep(std::vector<RunEvent>& events);

// Applies an event's value to cfg (the field's setFromString). Throws ConfigError.
void applyEvent(Config& cfg, const RunEvent& e);

// DIR/events.jsonl read back, sorted by step (stable); empty when the file is missing. Throws
// FileError naming the file and line of a malformed line, an unknown or non-live key, or a value
// that does not fit its key.
std::vector<RunEvent> readEvents(const std::string& dir);
// Appends one line and flushes; throws FileError naming the file when the write fails.
void appendEvent(const std::string& dir, const RunEvent& e);

}  // namespace h158
