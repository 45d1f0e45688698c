// `memory [--preset NAME | --config FILE] [--set key=value]...`: the memory table (memory_table.h)
// for the configured model and the 100M / 1B / 7B / 13B reference shapes, as Markdown.
#include <cstdio>

#include "app/cli.h"
#include "app/cli_args.h"
#include "core/config/config.h"
#include "core/io/memory_table.h"

namespace h158::cli {

Config resolveConfig(const Args& args);
void addConfigOptions(Args& args);

int memoryCommand(int argc, char** argv) {
    Config cfg;
    std::string name;
    Args a("memory",
           "Prints, as a Markdown table, the memory the weights need (fp32, fp16, 1.58 bits,\n"
           "the packed .h158 file) for the configured model (default the gpt-s preset) and\n"
           "the 100M / 1B / 7B / 13B reference shapes.");
    addConfigOptions(a);
    if (const auto rc = a.parse(argc, argv)) return *rc;
    try {
        cfg = a.has("preset") || a.has("config") ? resolveConfig(a) : presetConfig("gpt-s");
        if (!a.has("preset") && !a.has("config"))
            for (const auto& s : a.all("set")) applySetting(cfg, s);
        validate(cfg);
        name = a.has("config") ? cfg.run.name : a.get("preset", "gpt-s");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli memory: %s\n", e.what());
        return 2;
    }
    try {
        std::vector<MemoryRow> rows = {memoryRow(cfg, name + " (this config)")};
        const bool perRow = cfg.quant.granularity != "tensor";
        for (const auto& s : referenceShapes()) rows.push_back(memoryRow(s, perRow, cfg));
        std::printf("%s", memoryTableMarkdown(rows).c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli memory: %s\n", e.what());
        return exitCodeFor(e);
    }
}

}  // namespace h158::cli
