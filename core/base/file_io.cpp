// Whole-file reads and atomic writes (file_io.h).
#include "core/base/file_io.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/base/errors.h"
#include "core/base/types.h"

namespace h158 {

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(path + ": cannot open the file");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw FileError(path + ": read error");
    return bytes;
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
