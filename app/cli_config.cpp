// `presets` and `config`: list the built-in presets, print a resolved configuration as JSON.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli.h"
#include "app/cli_args.h"
#include "core/config/config.h"

namespace h158::cli {

// Shared by run and config: --preset / --config, then --set assignments, validated.
Config resolveConfig(const Args& args) {
    if (args.has("preset") && args.has("config"))
        throw UsageError("give either --preset or --config, not both");
    Config c = args.has("config") ? loadConfigFile(args.get("config"))
                                  : presetConfig(args.get("preset", "seed-linear"));
    for (const auto& s : args.all("set")) applySetting(c, s);
    return c;
}

// --preset, --config and --set, as run, config, memory and sweep take them.
void addConfigOptions(Args& args) {
    args.option("preset", "NAME",
                "Start from a built-in preset (`hybrid158-cli presets` lists them; default "
                "seed-linear)")
        .option("config", "FILE",
                "Start from a config JSON file (as `config` prints it, or a run's config.json)")
        .repeatable("set", "key=value",
                    "Change one setting of the preset or file, e.g. optim.lr=0.01 (`config` shows "
                    "the keys)");
}

int presetsCommand(int argc, char** argv) {
    Args args("presets", "Lists the built-in presets, one per line: name and summary.");
    if (const auto rc = args.parse(argc, argv)) return *rc;
    try {
        for (const auto& p : presetList()) std::printf("%-12s %s\n", p.name.c_str(), p.summary.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli presets: %s\n", e.what());
        return 2;
    }
}

int configCommand(int argc, char** argv) {
    Args args("config",
              "Prints the resolved, validated configuration as JSON (the format --config reads).");
    addConfigOptions(args);
    if (const auto rc = args.parse(argc, argv)) return *rc;
    try {
        const Config c = resolveConfig(args);
        validate(c);
        std::printf("%s\n", toJson(c).dump(2).c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli config: %s\n", e.what());
        return 2;
    }
}

}  // namespace h158::cli
