// `presets`, `lessons` and `config`: list the built-in presets and lessons, print a resolved
// configuration as JSON.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli.h"
#include "app/cli_args.h"
#include "core/config/config.h"
#include "core/train/lesson.h"

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

int lessonsCommand(int argc, char** argv) {
    Args args("lessons",
              "Lists the built-in lessons, one per line: name and summary. `hybrid158 --lesson "
              "NAME` opens one in the workbench; README (Teaching with hybrid158) gives the file "
              "format.");
    args.option("check", "FILE",
                "Check a lesson file instead (structure, conditions, configuration; the GUI checks "
                "the panel ids when it opens it): prints its name and page count, or the error "
                "naming the file, page and field");
    if (const auto rc = args.parse(argc, argv)) return *rc;
    try {
        if (args.has("check")) {
            const Lesson l = loadLessonFile(args.get("check"));
            std::printf("%s: %s, %zu pages\n", args.get("check").c_str(), l.name.c_str(),
                        l.pages.size());
            return 0;
        }
        for (const auto& l : lessonList())
            std::printf("%-18s %s\n", l.name.c_str(), l.summary.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid158-cli lessons: %s\n", e.what());
        return 2;
    }
}

int configCommand(int argc, char** argv) {
    Args args("config",
              "Prints the resolved, validated configuration as JSON (the format --config reads).");
    addConfigOptions(args);
    args.flag("live", "List the settings that can change during a run instead (run --at, fork\n"
                      "--set, edits in the workbench): key, value here, and what it is");
    if (const auto rc = args.parse(argc, argv)) return *rc;
    try {
        if (args.has("live")) {
            const Config c = resolveConfig(args);
            for (const FieldSpec& f : configSchema())
                if (f.live)
                    std::printf("%-26s %-12s %s\n", f.key.c_str(), f.toString(c).c_str(),
                                f.doc.c_str());
            return 0;
        }
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
