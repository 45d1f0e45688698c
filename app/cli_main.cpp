// hybrid158-cli: the headless front end. Dispatches to the sub-commands in cli_*.cpp, each of
// which parses its own options (cli_args.h, on CLI11); this level answers --help, help [COMMAND]
// and --version.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "app/cli.h"

#ifndef H158_VERSION
#error "H158_VERSION is defined by app/CMakeLists.txt (the project version)"
#endif

namespace {

struct Command {
    const char* name;
    int (*fn)(int, char**);
    const char* summary;
};

const Command kCommands[] = {
    {"run", h158::cli::runCommand, "Train one configuration headless into a run directory"},
    {"resume", h158::cli::resumeCommand,
     "Continue a stopped, killed or failed run from its checkpoint"},
    {"fork", h158::cli::forkCommand,
     "Start a new run from a run's checkpoint at a step, with changes"},
    {"sweep", h158::cli::sweepCommand,
     "A grid of configurations x seeds, runs in parallel processes"},
    {"presets", h158::cli::presetsCommand, "List the built-in presets"},
    {"lessons", h158::cli::lessonsCommand, "List the built-in lessons (or check a lesson file)"},
    {"config", h158::cli::configCommand, "Print a resolved configuration as JSON"},
    {"kmeans", h158::cli::kmeansCommand, "Cluster the rows of a numeric CSV file"},
    {"bench", h158::cli::benchCommand, "Training-step throughput of a GPT preset (bench gpt ...)"},
    {"export", h158::cli::exportCommand, "Pack a run's weights into one .h158 model file"},
    {"generate", h158::cli::generateCommand, "Text from a .h158 model file"},
    {"sensitivity", h158::cli::sensitivityCommand,
     "Per-tensor sensitivity of a run's trained model to ternary, five-level, int8"},
    {"memory", h158::cli::memoryCommand, "Memory the weights need: the model and reference shapes"},
};

const char* const kFooter = R"(
hybrid158-cli COMMAND --help (or hybrid158-cli help COMMAND) lists the command's options.
Exit codes: 0 success; 1 a run that did not complete (diverged, failed, stopped) or another
failure; 2 a usage error, a bad configuration, or a missing or malformed file.)";

const Command* find(const std::string& name) {
    for (const auto& c : kCommands)
        if (name == c.name) return &c;
    return nullptr;
}

struct Top {
    CLI::App app{"hybrid158-cli " H158_VERSION ": ternary training from the command line.\n",
                 "hybrid158-cli"};
    Top() {
        app.set_help_flag("-h,--help", "Print this help and exit");
        app.set_version_flag("--version", "hybrid158-cli " H158_VERSION,
                             "Print the version and exit");
        for (const auto& c : kCommands) app.add_subcommand(c.name, c.summary);
        app.footer(kFooter);
    }
    int error(const std::string& message) {
        std::fprintf(stderr, "hybrid158-cli: %s\n%s", message.c_str(), app.help().c_str());
        return 2;
    }
};

}  // namespace

int main(int argc, char** argv) {
    Top top;
    if (argc < 2) return top.error("missing command");
    const std::string cmd = argv[1];
    if (const Command* c = find(cmd)) return c->fn(argc - 1, argv + 1);
    if (cmd == "help") {
        if (argc == 2) {
            std::fputs(top.app.help().c_str(), stdout);
            return 0;
        }
        const Command* c = find(argv[2]);
        if (argc > 3 || !c)
            return top.error("help: unknown command '" + std::string(argv[2]) + "'");
        char help[] = "--help";
        char* sub[] = {argv[2], help, nullptr};
        return c->fn(2, sub);
    }
    if (cmd.empty() || cmd[0] != '-') return top.error("unknown command '" + cmd + "'");
    try {
        // only options here (a word would be a command): --help, --version, or an unknown one
        top.app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::fputs(top.app.help().c_str(), stdout);
        return 0;
    } catch (const CLI::CallForVersion& e) {
        std::printf("%s\n", e.what());
        return 0;
    } catch (const CLI::ExtrasError&) {
        const std::vector<std::string> extra = top.app.remaining();
        return top.error("unknown option " +
                         (extra.empty() ? cmd : extra.front().substr(0, extra.front().find('='))));
    } catch (const CLI::ParseError& e) {
        return top.error(e.what());
    }
    return top.error("missing command");
}
