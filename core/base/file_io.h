// Whole-file reads and writes for the core's own files (configurations, run summaries, models,
// tensor files): errors name the file.
#pragma once

#include <string>
#include <string_view>

namespace h158 {

// The file's bytes. Throws FileError naming the file when it cannot be opened or read.
std::string readFile(const std::string& path);

// Writes `bytes` to path + ".tmp" and renames it over `path`, so a reader sees the old file or
// the new one, never half of one. Throws FileError naming the file (the old file is then kept).
void writeFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace h158
