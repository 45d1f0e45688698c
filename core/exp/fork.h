// Forks: a new run started from another run's checkpoint at step N, with changes.
//
// A run keeps past checkpoints for forks (run.keep_checkpoints): DIR/checkpoints/step-NNNNNNNN.
// safetensors, a hard link to each checkpoint.safetensors it writes (no second copy on disk). When
// more than keep_checkpoints are held, every other one is dropped (the spacing doubles), so those
// kept still span the whole run; the newest is always kept. They stay when the run completes.
//
// A fork directory is a run directory (run_session.h) plus DIR/fork.json:
//   {"parent": "<the parent's directory, absolute>", "step": N, "set": ["key=value", ...]}
// Its config.json is the parent's configuration at step N (its events up to N applied), its
// events.jsonl starts with the changes as events at step N (by "fork"; a change to a key that
// cannot change during a run is refused by name) and then the parent's events after N (by
// "parent"), so a fork with no change continues exactly as its parent did. Its metrics.csv and
// snapshots.jsonl hold the rows after N only; its checkpoint.safetensors starts as the state at N.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/exp/run_session.h"

namespace h158 {

inline constexpr const char* kForkFile = "fork.json";
inline constexpr const char* kCheckpointsDir = "checkpoints";

// DIR/checkpoints/step-NNNNNNNN.safetensors
std::string keptCheckpointPath(const std::string& dir, int64_t step);
// The steps of DIR/checkpoints/step-N.safetensors by their names, ascending.
std::vector<int64_t> keptCheckpointSteps(const std::string& dir);
// The steps DIR holds a checkpoint of (kept ones and checkpoint.safetensors), ascending.
std::vector<int64_t> checkpointSteps(const std::string& dir);

// The checkpoint of `dir` at `step` (the latest or a kept one); throws FileError naming the step
// and listing the steps that have one.
std::string forkCheckpointPath(const std::string& dir, int64_t step);

struct ForkInfo {
    std::string parent;             // absolute directory of the parent run
    int64_t step = 0;               // the parent's step the fork starts from
    std::vector<std::string> set;   // the changes, "key=value"
};
// DIR/fork.json, or nullopt when DIR is not a fork; throws FileError naming the file and member
// when it is malformed.
std::optional<ForkInfo> readForkInfo(const std::string& dir);

// Starts the fork: checks everything (the parent's checkpoint at `step`, listing the steps that
// have one when it has none; each change, by name) before it creates `out` (which must not hold a
// run), then writes config.json, fork.json, events.jsonl and the first checkpoint. The session
// continues with step + 1.
std::unique_ptr<RunSession> forkRun(const std::string& parentDir, int64_t step,
                                    const std::vector<std::string>& set, const std::string& out);

}  // namespace h158
