// Numeric CSV reading (std::from_chars, line and column in every error) and writing.
#include "core/data/csv.h"
#include "core/base/errors.h"
#include "core/base/file_io.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace h158 {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// The cell without padding and one pair of surrounding double quotes.
std::string_view unquote(std::string_view s) {
    s = trim(s);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = trim(s.substr(1, s.size() - 2));
    return s;
}

// "c<i>", the name of an unnamed column (appended, not prepended: GCC 12 warns falsely on
// "c" + std::string, bug 105329).
std::string columnName(size_t i) {
    std::string s = "c";
    s += std::to_string(i);
    return s;
}

bool skippable(std::string_view line) {
    line = trim(line);
    return line.empty() || line.front() == '#';
}

enum class Parse { Ok, NotNumber, OutOfRange, NonFinite };

Parse parseFloat(std::string_view cell, float& out) {
    cell = unquote(cell);
    if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
    if (cell.empty()) return Parse::NotNumber;
    const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), out);
    if (ec == std::errc::result_out_of_range) return Parse::OutOfRange;
    if (ec != std::errc() || end != cell.data() + cell.size()) return Parse::NotNumber;
    return std::isfinite(out) ? Parse::Ok : Parse::NonFinite;
}

// Splits a line into cells at `sep` (views into the line).
void split(std::string_view line, char sep, std::vector<std::string_view>& cells) {
    cells.clear();
    size_t start = 0;
    for (;;) {
        const size_t at = line.find(sep, start);
        if (at == std::string_view::npos) {
            cells.push_back(line.substr(start));
            return;
        }
        cells.push_back(line.substr(start, at - start));
        start = at + 1;
    }
}

// A header cell the reader reads back as written: separators, quotes and line breaks become '_'.
std::string safeName(std::string_view s) {
    std::string out(s);
    for (char& ch : out)
        if (ch == ',' || ch == ';' || ch == '\t' || ch == '"' || ch == '\n' || ch == '\r') ch = '_';
    return out;
}

std::ofstream openForWriting(const std::string& path) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw FileError("cannot write '" + path + "': " + std::strerror(errno));
    return out;
}

void finish(std::ofstream& out, const std::string& path) {
    out.close();
    if (!out) throw FileError("cannot write '" + path + "': write failed");
}

}  // namespace

CsvTable parseCsv(std::string_view text, const std::string& source) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
    CsvTable t;
    std::vector<float> values;  // row-major (rows, columns) == column-major (columns, rows)
    std::vector<std::string_view> cells;
    size_t columns = 0;
    int64_t firstLine = 0;
    bool first = true;
    int64_t lineNo = 0;
    for (size_t pos = 0; pos < text.size();) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        const std::string_view line = text.substr(pos, eol - pos);
        pos = eol + 1;
        ++lineNo;
        if (skippable(line)) continue;
        const auto where = [&](size_t col) {
            std::string s =
                source + ":" + std::to_string(lineNo) + ": column " + std::to_string(col + 1);
            if (col < t.names.size() && t.hasHeader) s += " (\"" + t.names[col] + "\")";
            return s;
        };
        if (first) {
            t.separator = line.find(',') != std::string_view::npos    ? ','
                          : line.find(';') != std::string_view::npos  ? ';'
                          : line.find('\t') != std::string_view::npos ? '\t'
                                                                      : ',';
            split(line, t.separator, cells);
            columns = cells.size();
            firstLine = lineNo;
            first = false;
            // A header has no number in it; a first line with numbers and a bad cell is a data
            // row with an error (read as a header, it would drop a sample without a word).
            float v;
            size_t numbers = 0, firstBad = columns;
            for (size_t i = 0; i < columns; ++i) {
                if (parseFloat(cells[i], v) == Parse::Ok) ++numbers;
                else if (firstBad == columns) firstBad = i;
            }
            t.hasHeader = numbers == 0;
            if (!t.hasHeader && numbers < columns)
                throw FileError(where(firstBad) + ": '" + std::string(unquote(cells[firstBad])) +
                                "' is not a number (the first line is a header only when none of "
                                "its cells is a number)");
            if (t.hasHeader) {
                for (size_t i = 0; i < columns; ++i) {
                    const std::string_view name = unquote(cells[i]);
                    t.names.emplace_back(name.empty() ? columnName(i) : std::string(name));
                }
                continue;
            }
        } else {
            split(line, t.separator, cells);
        }
        if (cells.size() != columns)
            throw FileError(source + ":" + std::to_string(lineNo) + ": " +
                            std::to_string(cells.size()) + " cells, expected " +
                            std::to_string(columns) + " as on line " + std::to_string(firstLine));
        for (size_t i = 0; i < columns; ++i) {
            float v = 0.0f;
            switch (parseFloat(cells[i], v)) {
                case Parse::Ok:
                    break;
                case Parse::NotNumber:
                    throw FileError(where(i) + ": '" + std::string(trim(cells[i])) +
                                    "' is not a number");
                case Parse::OutOfRange:
                    throw FileError(where(i) + ": '" + std::string(trim(cells[i])) +
                                    "' is outside the float range");
                case Parse::NonFinite:
                    throw FileError(where(i) + ": '" + std::string(trim(cells[i])) +
                                    "' is not a finite number");
            }
            values.push_back(v);
        }
        t.lines.push_back(lineNo);
    }
    if (t.lines.empty()) throw FileError(source + ": no data rows");
    if (!t.hasHeader)
        for (size_t i = 0; i < columns; ++i) t.names.push_back(columnName(i));
    t.values = CMapMat<float>(values.data(), int64_t(columns), int64_t(t.lines.size()));
    return t;
}

CsvTable readCsv(const std::string& path, std::string_view key) {
    checkFileToRead(path, key);
    const std::string by = key.empty() ? std::string() : std::string(key) + ": ";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(by + "cannot open CSV file '" + path + "': " + std::strerror(errno));
    std::string text;
    try {
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } catch (const std::ios_base::failure&) {  // libstdc++ throws on a failed read(2)
        throw FileError(by + "cannot read CSV file '" + path + "': " + std::strerror(errno));
    }
    if (in.bad()) throw FileError(by + "cannot read CSV file '" + path + "'");
    return parseCsv(text, path);
}

void writeCsv(const std::string& path, const std::vector<std::string>& names, const MatF& values) {
    if (int64_t(names.size()) != values.rows())
        throw Error("writeCsv: " + std::to_string(names.size()) + " names for " +
                    std::to_string(values.rows()) + " columns");
    std::string text;
    for (size_t i = 0; i < names.size(); ++i) {
        if (i) text += ',';
        text += safeName(names[i]);
    }
    text += '\n';
    char buf[32];
    for (int64_t j = 0; j < values.cols(); ++j) {
        for (int64_t i = 0; i < values.rows(); ++i) {
            if (i) text += ',';
            const auto r = std::to_chars(buf, buf + sizeof buf, values(i, j));
            text.append(buf, r.ptr);
        }
        text += '\n';
    }
    std::ofstream out = openForWriting(path);
    out.write(text.data(), std::streamsize(text.size()));
    finish(out, path);
}

void writeLabelsCsv(const std::string& path, const std::vector<int>& labels,
                    const std::string& column) {
    std::string text = safeName(column);
    text += '\n';
    char buf[16];
    for (int l : labels) {
        const auto r = std::to_chars(buf, buf + sizeof buf, l);
        text.append(buf, r.ptr);
        text += '\n';
    }
    std::ofstream out = openForWriting(path);
    out.write(text.data(), std::streamsize(text.size()));
    finish(out, path);
}

}  // namespace h158
