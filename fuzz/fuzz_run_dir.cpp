// Fuzz target of the run-directory readers (run_session.h): readRunDirectory and
// overviewRunDirectory on a directory written from the input. The input holds the files in the
// order config.json, metrics.csv, summary.json, snapshots.jsonl, events.jsonl, fork.json,
// separated by lines "%%"; a file
// whose text is "<absent>", and every file after the last separator, is not written.
// readRunDirectory must return or throw an h158::Error naming a file of the directory; a record
// it returns has a summary object whose status, if any, is a string. overviewRunDirectory never throws, and its status is one of
// its six with a problem exactly when unreadable.
#include <array>
#include <set>

#include "core/exp/run_session.h"
#include "fuzz/fuzz_contract.h"

using namespace h158;
using namespace h158::fuzz;

namespace {

constexpr std::array<const char*, 6> kFiles = {"config.json",     "metrics.csv",
                                               "summary.json",    "snapshots.jsonl",
                                               "events.jsonl",    "fork.json"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::filesystem::path dir = scratchDir() / "run";
    std::filesystem::create_directories(dir);
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    for (size_t i = 0; i < kFiles.size(); ++i) {
        const std::filesystem::path path = dir / kFiles[i];
        std::error_code ec;
        std::filesystem::remove(path, ec);
        if (rest.data() == nullptr) continue;  // past the last section
        const size_t sep = rest.find("\n%%\n");
        const std::string_view text = rest.substr(0, sep);
        rest = sep == std::string_view::npos ? std::string_view() : rest.substr(sep + 4);
        if (text != "<absent>") writeBytes(path, text.data(), text.size());
    }

    const std::string d = dir.string();
    RunRecord r;
    if (returnsOrRefuses("readRunDirectory", d, [&] { r = readRunDirectory(d); })) {
        require(r.dir == d, "RunRecord::dir");
        require(r.summary.is_object(), "RunRecord::summary is not a JSON object");
        require(!r.summary.contains("status") || r.summary["status"].is_string(),
                "RunRecord::summary status is not a string");
    }

    static const std::set<std::string> statuses = {"completed",   "stopped",   "diverged",
                                                   "failed",      "interrupted", "unreadable"};
    const RunOverview o = overviewRunDirectory(d);
    require(statuses.count(o.status) == 1, "overview status '" + o.status + "'");
    require((o.status == "unreadable") == !o.problem.empty(),
            "overview: a problem exactly when unreadable");
    require(o.steps >= 0, "overview: negative steps");
    require(o.events >= 0 && o.forkStep >= 0, "overview: negative events or fork step");
    return 0;
}
