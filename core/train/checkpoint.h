// Checkpoint files: a trainer's state (Trainer::saveState) in the safetensors format, one tensor
// per StateArchive entry (F32, F64 or I64, shape [n]), with metadata naming the format, the step,
// the run's configuration, a checksum of the values and one of the data file the run reads.
// Written through a temporary file, fsync'ed and renamed, so a kill at any moment leaves the old
// checkpoint or the new one.
#pragma once

#include <string>

#include "core/train/trainer.h"

namespace h158 {

inline constexpr const char* kCheckpointFile = "checkpoint.safetensors";

// Throws FileError naming the file when it cannot be written, Error when the run cannot be
// continued (completed, diverged, failed). `eventsApplied`: how many of the run directory's
// events (core/exp/events.h) the trainer's configuration holds, for resume and fork.
void writeCheckpoint(const std::string& path, const Trainer& trainer, int64_t eventsApplied = 0);

// What a checkpoint's header says, read without its tensors: its step, the configuration the
// trainer had (edits included) and the events it had applied. Throws FileError naming the file.
struct CheckpointInfo {
    int64_t step = 0;
    Config config;
    int64_t eventsApplied = 0;
};
CheckpointInfo readCheckpointInfo(const std::string& path);

// The step the checkpoint at `path` holds (0 when there is none or it is unreadable).
int64_t checkpointStep(const std::string& path) noexcept;

// Restores `trainer` (built from the run's config) from `path`. Throws FileError naming the file
// and what is wrong: missing, not a hybrid158 checkpoint, damaged (checksum), written for another
// configuration (the first setting that differs) or another data file, or an entry that does
// not fit. Returns the step it continues from.
int64_t restoreCheckpoint(const std::string& path, Trainer& trainer);

}  // namespace h158
