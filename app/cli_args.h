// The options of a CLI sub-command, parsed by CLI11 (cli_args.cpp): "--name value" and
// "--name=value", repeatable options, switches, one positional at most, and --help / -h.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/base/errors.h"
#include "core/base/types.h"

namespace CLI {
class App;
}

namespace h158::cli {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Exit code of a command that ended with `e`: 2 when its input was at fault (usage, the
// configuration, a missing or malformed file), 1 for anything else.
inline int exitCodeFor(const std::exception& e) {
    const bool input = dynamic_cast<const UsageError*>(&e) || dynamic_cast<const ConfigError*>(&e) ||
                       dynamic_cast<const FileError*>(&e);
    return input ? 2 : 1;
}

// Declare the options (names without "--"), then parse:
//
//     Args a("export", "Packs a run's weights into one .h158 file.");
//     a.option("run", "DIR", "the run directory", true).option("out", "FILE.h158", "...", true);
//     if (const auto rc = a.parse(argc, argv)) return *rc;
//     a.get("run") ...
class Args {
public:
    Args(std::string command, std::string description);
    ~Args();
    Args(const Args&) = delete;
    Args& operator=(const Args&) = delete;

    // An option with one value, given at most once; `required` ones must be given.
    Args& option(const std::string& name, const std::string& valueName,
                 const std::string& description, bool required = false);
    // An option with one value that may be given many times (all() returns them in order).
    Args& repeatable(const std::string& name, const std::string& valueName,
                     const std::string& description);
    // A switch: no value; has() says whether it was given.
    Args& flag(const std::string& name, const std::string& description);
    // A positional argument (at most one value): has() / get() under `name`.
    Args& positional(const std::string& name, const std::string& valueName,
                     const std::string& description);
    // Text shown after the options by --help.
    Args& footer(const std::string& text);

    // Parses argv (argv[0] is the command name). Returns nothing when the command goes on;
    // otherwise the exit code it returns: 0 after --help (the help on stdout), 2 after a usage
    // error (an unknown option, a missing value, an option given twice, an unexpected argument,
    // a missing required option), the error and the usage on stderr.
    std::optional<int> parse(int argc, char** argv);

    std::string help() const;   // what --help prints
    std::string usage() const;  // the same without the footer
    // Prints "hybrid158-cli COMMAND: message" and the usage to stderr; returns 2.
    int usageError(const std::string& message) const;

    bool has(const std::string& n) const { return m_values.count(n) > 0; }
    std::string get(const std::string& n, const std::string& def = {}) const {
        auto it = m_values.find(n);
        return it == m_values.end() ? def : it->second;
    }
    std::string require(const std::string& n) const {
        if (!has(n)) throw UsageError("missing required option --" + n);
        return get(n);
    }
    long long getInt(const std::string& n, long long def) const;
    double getDouble(const std::string& n, double def) const;
    std::vector<std::string> all(const std::string& n) const {
        auto it = m_multi.find(n);
        return it == m_multi.end() ? std::vector<std::string>{} : it->second;
    }

private:
    enum class Kind { Value, Repeatable, Switch, Positional };
    struct Declared {
        std::string name;
        Kind kind;
        bool required;
    };
    std::string m_command;
    std::unique_ptr<CLI::App> m_app;
    std::vector<Declared> m_declared;
    std::map<std::string, std::string> m_values;
    std::map<std::string, std::vector<std::string>> m_multi;
};

}  // namespace h158::cli
