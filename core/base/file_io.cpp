// Whole-file reads and atomic writes (file_io.h).
#include "core/base/file_io.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/base/errors.h"
#include "core/base/types.h"

namespace h158 {

namespace {

// "KEY: PATH", or "PATH" without a key: how an error names the file.
std::string named(const std::string& path, std::string_view key) {
    return key.empty() ? path : std::string(key) + ": " + path;
}

}  // namespace

void checkFileToRead(const std::string& path, std::string_view key, FileNeed need) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);  // follows links: a link to a directory too
    if (fs::is_directory(st)) throw FileError(named(path, key) + ": is a directory, not a file");
    if (need == FileNeed::Stream) return;
    if (ec || !fs::exists(st)) throw FileError(named(path, key) + ": no such file");
    if (!fs::is_regular_file(st)) throw FileError(named(path, key) + ": not a regular file");
}

std::string readFile(const std::string& path, std::string_view key) {
    checkFileToRead(path, key);
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw FileError(named(path, key) + ": cannot open the file: " + std::strerror(errno));
    try {
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (in.bad()) throw FileError(named(path, key) + ": read error");
        return bytes;
    } catch (const std::ios_base::failure&) {
        // libstdc++'s filebuf throws on a failed read(2) (EIO; EISDIR when the path became a
        // directory after the check) even with exceptions off
        throw FileError(named(path, key) + ": read error: " + std::strerror(errno));
    }
}

void writeFileAtomically(const std::string& path, std::string_view bytes) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw FileError(tmp + ": cannot write");
        out.write(bytes.data(), std::streamsize(bytes.size()));
        out.flush();
        if (!out) throw FileError(tmp + ": write failed");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw FileError(path + ": cannot replace: " + ec.message());
}

}  // namespace h158
