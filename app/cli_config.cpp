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

int presetsCommand(int argc, char** argv) {
    try {
        Args args(argc, argv, {});
        for (const auto& p : presetList()) std::printf("%-12s %s\n", p.name.c_str(), p.summary.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli presets: %s\n", e.what());
        return 2;
    }
}

int configCommand(int argc, char** argv) {
    try {
        Args args(argc, argv, {"preset", "config"}, {"set"});
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
