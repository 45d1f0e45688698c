// Minimal "--name value" argument parsing shared by the CLI sub-commands.
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/base/errors.h"
#include "core/base/types.h"

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

class Args {
public:
    // `known` lists accepted options (without "--"); `repeatable` ones may appear many times;
    // `switches` take no value.
    Args(int argc, char** argv, const std::set<std::string>& known,
         const std::set<std::string>& repeatable = {}, const std::set<std::string>& switches = {}) {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + a + "'");
            std::string name = a.substr(2), value;
            if (const auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
            } else if (switches.count(name)) {
                value = "true";
            } else {
                if (i + 1 >= argc) throw UsageError("option --" + name + " needs a value");
                value = argv[++i];
            }
            if (!known.count(name) && !repeatable.count(name) && !switches.count(name))
                throw UsageError("unknown option --" + name);
            if (repeatable.count(name)) {
                m_multi[name].push_back(value);
            } else {
                if (m_values.count(name)) throw UsageError("option --" + name + " given twice");
                m_values[name] = value;
            }
        }
    }
    bool has(const std::string& n) const { return m_values.count(n) > 0; }
    std::string get(const std::string& n, const std::string& def = {}) const {
        auto it = m_values.find(n);
        return it == m_values.end() ? def : it->second;
    }
    std::string require(const std::string& n) const {
        if (!has(n)) throw UsageError("missing required option --" + n);
        return get(n);
    }
    long long getInt(const std::string& n, long long def) const {
        if (!has(n)) return def;
        const std::string v = get(n);
        size_t pos = 0;
        long long x = 0;
        try {
            x = std::stoll(v, &pos);
        } catch (...) {
            pos = 0;
        }
        if (pos != v.size() || v.empty())
            throw UsageError("option --" + n + " expects an integer, got '" + v + "'");
        return x;
    }
    double getDouble(const std::string& n, double def) const {
        if (!has(n)) return def;
        const std::string v = get(n);
        size_t pos = 0;
        double x = 0;
        try {
            x = std::stod(v, &pos);
        } catch (...) {
            pos = 0;
        }
        if (pos != v.size() || v.empty())
            throw UsageError("option --" + n + " expects a number, got '" + v + "'");
        return x;
    }
    std::vector<std::string> all(const std::string& n) const {
        auto it = m_multi.find(n);
        return it == m_multi.end() ? std::vector<std::string>{} : it->second;
    }

private:
    std::map<std::string, std::string> m_values;
    std::map<std::string, std::vector<std::string>> m_multi;
};

}  // namespace h158::cli
