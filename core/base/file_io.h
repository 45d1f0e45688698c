// Whole-file reads and writes for the core's own files (configurations, run summaries, models,
// tensor files), and the check every reader makes of a path it was given: errors name the file.
#pragma once

#include <string>
#include <string_view>

namespace h158 {

// What a reader needs of the path: any file it can read as a stream (a regular file, a FIFO such
// as `--config <(...)`, /dev/stdin), or a regular file (one whose size it reads first).
enum class FileNeed { Stream, Regular };

// The one check of a path a user gave for a file to read, made before it is opened: a directory
// is refused with FileError "KEY: PATH: is a directory, not a file" (without "KEY: " when `key`
// is empty; the key is the config key or option the path came from). With FileNeed::Regular a
// missing path ("no such file") and a FIFO or device ("not a regular file") are refused too;
// with Stream a missing path passes, for the reader's open to report in its own words.
void checkFileToRead(const std::string& path, std::string_view key = {},
                     FileNeed need = FileNeed::Stream);

// The file's bytes, its path checked by checkFileToRead first. Throws FileError naming the file
// (after "KEY: " when `key` is given) when it cannot be opened or read.
std::string readFile(const std::string& path, std::string_view key = {});

// Writes `bytes` to path + ".tmp" and renames it over `path`, so a reader sees the old file or
// the new one, never half of one. Throws FileError naming the file (the old file is then kept).
void writeFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace h158
