// What every fuzz target checks: a reader returns a value or throws the core's error type
// (h158::Error or the subclass its header names) with a message that says where; anything else
// (another exception, a wrong or empty message) aborts the process, which libFuzzer reports as a
// crash together with the input. Crashes, sanitizer reports, hangs (-timeout) and huge
// allocations (-malloc_limit_mb) are libFuzzer's own findings.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <typeinfo>

#include "core/base/errors.h"

namespace h158::fuzz {

[[noreturn]] inline void violation(const std::string& what) {
    std::fprintf(stderr, "\n==== contract violation: %s\n", what.c_str());
    std::fflush(stderr);
    std::abort();
}

inline void require(bool ok, const std::string& what) {
    if (!ok) violation(what);
}

// Runs f(); a value (f returns) is fine. An exception must be an E whose message contains
// `names` (the file, the key); anything else is a violation.
template <class E = Error, class F>
bool returnsOrRefuses(const char* call, std::string_view names, F&& f) {
    names = names.substr(0, names.find('\0'));  // what() is a C string: it ends at a zero byte
    try {
        f();
        return true;
    } catch (const E& e) {
        const std::string_view msg = e.what();
        require(!msg.empty(), std::string(call) + " threw " + typeid(e).name() +
                                  " with an empty message");
        require(msg.find(names) != std::string_view::npos,
                std::string(call) + ": the message does not name '" + std::string(names) +
                    "': " + std::string(msg));
        return false;
    } catch (const std::exception& e) {
        violation(std::string(call) + " threw " + typeid(e).name() + " (not " + typeid(E).name() +
                  "): " + e.what());
    } catch (...) {
        violation(std::string(call) + " threw a non-std exception");
    }
}

// Runs f(), which must not throw: what a reader's header promises of a value it returned.
template <class F>
void mustNotThrow(const char* call, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        violation(std::string(call) + " threw " + typeid(e).name() + ": " + e.what());
    }
}

// One scratch directory per process (removed at a normal exit), so the targets that read paths
// write each input to the same few files instead of creating new ones.
inline const std::filesystem::path& scratchDir() {
    // Never destroyed: the atexit handler below runs after the statics are gone.
    static const auto* dir = [] {
        auto* d = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                            ("h158-fuzz-" + std::to_string(::getpid())));
        std::filesystem::create_directories(*d);
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(scratchDir(), ec);
        });
        return d;
    }();
    return *dir;
}

inline void writeBytes(const std::filesystem::path& path, const void* data, size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char*>(data), std::streamsize(size));
    out.close();
    if (!out) violation("cannot write the scratch file " + path.string());
}

}  // namespace h158::fuzz
