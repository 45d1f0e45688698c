// hybrid158-cli: the headless front end. Dispatches to the sub-commands in cli_*.cpp.
#include <cstdio>
#include <cstring>
#include <string>

#include "app/cli.h"

namespace {

struct Command {
    const char* name;
    int (*fn)(int, char**);
    const char* usage;
};

const Command kCommands[] = {
    {"run", h158::cli::runCommand,
     "run [--preset NAME | --config FILE] [--set key=value]... [--steps N] [--seed S] [--out DIR]"},
    {"resume", h158::cli::resumeCommand, "resume DIR            (continues a stopped, killed or failed run)"},
    {"sweep", h158::cli::sweepCommand,
     "sweep [--preset NAME | --config FILE | --file SWEEP.json] [--set key=value]...\n"
     "                     [--grid key=v1,v2,...]... [--seeds N] [--steps N] [--jobs J] --out DIR\n"
     "                     (again, or `sweep --out DIR`, continues it; sweep --help says more)\n"
     "  hybrid158-cli sweep --out DIR --task I [--threads T]   (run or resume run I alone)"},
    {"presets", h158::cli::presetsCommand, "presets"},
    {"config", h158::cli::configCommand, "config --preset NAME | --config FILE [--set key=value]..."},
    {"kmeans", h158::cli::kmeansCommand,
     "kmeans --input FILE.csv --k K [--seed S] [--max-iter N] [--tol T] [--n-init N]\n"
     "                     --out LABELS.csv [--centroids FILE.csv]"},
    {"bench", h158::cli::benchCommand,
     "bench gpt --preset gpt-s|gpt-m --mode fp32|ternary --steps N [--threads N]"},
    {"export", h158::cli::exportCommand, "export --run DIR --out FILE.h158"},
    {"generate", h158::cli::generateCommand,
     "generate --model FILE.h158 --prompt TEXT --tokens N [--temperature T] [--top-k K]\n"
     "                       [--seed S] [--threads N]"},
    {"memory", h158::cli::memoryCommand,
     "memory [--preset NAME | --config FILE] [--set key=value]..."},
};

int usage(FILE* to) {
    std::fprintf(to, "usage: hybrid158-cli <command> ...\n");
    for (const auto& c : kCommands) std::fprintf(to, "  hybrid158-cli %s\n", c.usage);
    return to == stderr ? 2 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage(stderr);
    const std::string cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") return usage(stdout);
    for (const auto& c : kCommands)
        if (cmd == c.name) return c.fn(argc - 1, argv + 1);
    std::fprintf(stderr, "hybrid158-cli: unknown command '%s'\n", cmd.c_str());
    return usage(stderr);
}
