// Numeric CSV files: a reader for tables of numbers (optional header, ',' ';' or tab separated,
// blank and '#' comment lines skipped) and writers for matrices and cluster labels.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/types.h"

namespace h158 {

struct CsvTable {
    std::vector<std::string> names;  // one per column: the header's, or "c0", "c1", ...
    MatF values;                     // (columns, rows): a data row is a sample, i.e. a column here
    std::vector<int64_t> lines;      // (rows) 1-based line of each data row in the file
    bool hasHeader = false;
    char separator = ',';
};

// Reads a numeric CSV file. The separator is the first of ',' ';' '\t' found on the first
// non-comment line; that line is a header when none of its cells is a number (one with numbers
// and a bad cell is an error). Cells may be
// padded with spaces and wrapped in double quotes (quoted separators are not supported). Every
// cell must be a finite float. Throws h158::FileError naming the file, the 1-based line and
// column: a missing file, a directory (checkFileToRead), a bad cell, a row with the wrong number
// of cells, no data rows. `key` (the config key or option the path came from, e.g.
// "data.csv_file") leads the messages about the file itself.
CsvTable readCsv(const std::string& path, std::string_view key = {});
// The same on text in memory; `source` names it in messages.
CsvTable parseCsv(std::string_view text, const std::string& source);

// Writes values (columns, rows) as a CSV with a header of `names` (one per row of values; any
// separator, quote or line break in a name becomes '_'), one line per column of values, floats in
// their shortest exact form (readCsv gets the same bits back). Throws FileError.
void writeCsv(const std::string& path, const std::vector<std::string>& names, const MatF& values);
// Writes one integer per line under the header `column` (e.g. cluster labels). Throws FileError.
void writeLabelsCsv(const std::string& path, const std::vector<int>& labels,
                    const std::string& column = "cluster");

}  // namespace h158
