// Fuzz target of the CSV dataset reader: parseCsv on the input in memory (csv.h), then the file
// through makeCsvData (tabular_data.h), the path data.kind=csv takes, as regression and as
// classification. parseCsv must throw FileError naming the source, makeCsvData an h158::Error;
// a table it returns must be what csv.h promises (finite values, one name per column, one line
// number per row, in increasing order).
#include <cmath>

#include "core/config/config.h"
#include "core/data/csv.h"
#include "core/data/tabular_data.h"
#include "fuzz/fuzz_contract.h"

using namespace h158;
using namespace h158::fuzz;

namespace {

void checkTable(const CsvTable& t) {
    require(t.values.cols() >= 1, "a table without data rows");
    require(int64_t(t.names.size()) == t.values.rows(), "one name per column");
    require(int64_t(t.lines.size()) == t.values.cols(), "one line number per row");
    for (size_t i = 1; i < t.lines.size(); ++i)
        require(t.lines[i] > t.lines[i - 1], "line numbers increase");
    require(t.values.allFinite(), "every value finite");
    require(t.separator == ',' || t.separator == ';' || t.separator == '\t', "the separator");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    CsvTable t;
    if (!returnsOrRefuses<FileError>("parseCsv", "input.csv",
                                     [&] { t = parseCsv(text, "input.csv"); }))
        return 0;
    checkTable(t);

    static const std::string path = (scratchDir() / "data.csv").string();
    writeBytes(path, data, size);
    Config cfg;
    cfg.data.kind = "csv";
    cfg.data.csv_file = path;
    cfg.data.csv_task = "regression";
    returnsOrRefuses("makeCsvData (regression)", "", [&] { (void)makeCsvData(cfg); });
    cfg.data.csv_task = "classification";
    cfg.data.csv_target = "0";
    returnsOrRefuses("makeCsvData (classification)", "", [&] { (void)makeCsvData(cfg); });
    return 0;
}
