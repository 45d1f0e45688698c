// `memory [--preset NAME | --config FILE] [--set key=value]...`: the memory table (memory_table.h)
// for the configured model and the 100M / 1B / 7B / 13B reference shapes, as Markdown.
// `memory --model FILE.h158 | --run DIR`: one row counted from a model file's own tensors, so a
// mixed-precision model (quant.weights=adaptive) is counted exactly, then its size in bytes.
#include <cstdio>
#include <filesystem>

#include "app/cli.h"
#include "app/cli_args.h"
#include "core/config/config.h"
#include "core/io/memory_table.h"

namespace h158::cli {

Config resolveConfig(const Args& args);
void addConfigOptions(Args& args);

namespace {

int fail(int code, const std::string& msg) {
    std::fprintf(stderr, "hybrid158-cli memory: %s\n", msg.c_str());
    return code;
}

// The table of one model file's row, then its exact size (the table rounds it).
int fileRow(const std::string& path) {
    try {
        const H158Model m = readH158(path);
        const MemoryRow r = memoryRow(m, path);
        std::printf("%s\n%s: %.0f bytes\n", memoryTableMarkdown({r}).c_str(), path.c_str(),
                    r.packedBytes);
        return 0;
    } catch (const std::exception& e) {
        return fail(exitCodeFor(e), e.what());
    }
}

}  // namespace

int memoryCommand(int argc, char** argv) {
    Config cfg;
    std::string name;
    Args a("memory",
           "Prints, as a Markdown table, the memory the weights need (fp32, fp16, 1.58 bits,\n"
           "the packed .h158 file) for the configured model (default the gpt-s preset) and\n"
           "the 100M / 1B / 7B / 13B reference shapes; or, with --model or --run, for one\n"
           "model file, counted from its own tensors. With quant.weights=adaptive the levels,\n"
           "and so the .h158 size, are known only after training: the configured row says\n"
           "\"after training\"; count the run's file with --run.");
    addConfigOptions(a);
    a.option("model", "FILE.h158", "Count this model file (`export` writes one) instead")
        .option("run", "DIR", "Count the run's DIR/weights.h158 instead");
    if (const auto rc = a.parse(argc, argv)) return *rc;
    const bool file = a.has("model") || a.has("run");
    if (file && (a.has("preset") || a.has("config") || !a.all("set").empty()))
        return a.usageError("--model and --run count a file; they take no configuration");
    if (a.has("model") && a.has("run")) return a.usageError("give either --model or --run");
    if (a.has("model")) return fileRow(a.get("model"));
    if (a.has("run")) {
        const std::string run = a.get("run");
        if (!std::filesystem::is_directory(run)) return fail(2, run + ": no such run directory");
        return fileRow((std::filesystem::path(run) / "weights.h158").string());
    }
    try {
        cfg = a.has("preset") || a.has("config") ? resolveConfig(a) : presetConfig("gpt-s");
        if (!a.has("preset") && !a.has("config"))
            for (const auto& s : a.all("set")) applySetting(cfg, s);
        validate(cfg);
        name = a.has("config") ? cfg.run.name : a.get("preset", "gpt-s");
    } catch (const std::exception& e) {
        return fail(2, e.what());
    }
    try {
        std::vector<MemoryRow> rows = {memoryRow(cfg, name + " (this config)")};
        const bool perRow = cfg.quant.granularity != "tensor";
        for (const auto& s : referenceShapes()) rows.push_back(memoryRow(s, perRow, cfg));
        std::printf("%s", memoryTableMarkdown(rows).c_str());
        return 0;
    } catch (const std::exception& e) {
        return fail(exitCodeFor(e), e.what());
    }
}

}  // namespace h158::cli
