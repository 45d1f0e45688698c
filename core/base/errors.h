// The errors of the core: it reports every problem by throwing one of these, and the message says
// what and where.
#pragma once

#include <charconv>
#include <stdexcept>
#include <string>

namespace h158 {

struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// A configuration value out of range or of the wrong kind; the message names the field.
struct ConfigError : Error {
    using Error::Error;
};
// A file that is missing, malformed or of the wrong kind; the message names the file (and line).
struct FileError : Error {
    using Error::Error;
};

// v as the shortest text that reads back as v ("0.1", "1e-05", "nan"), for messages.
inline std::string formatNumber(double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

}  // namespace h158
