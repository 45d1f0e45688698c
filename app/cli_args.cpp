// Args on CLI11: every option is declared to CLI11 (so --help lists it with its description) and
// collects its raw values; the checks CLI11 words differently (given twice, required) are made
// here, with the messages the CLI has always given.
#include "app/cli_args.h"

#include <CLI/CLI.hpp>
#include <cstdio>

namespace h158::cli {

Args::Args(std::string command, std::string description)
    : m_command(std::move(command)),
      m_app(std::make_unique<CLI::App>(description + "\n", "hybrid158-cli " + m_command)) {
    m_app->set_help_flag("-h,--help", "Print this help and exit");
    m_app->get_formatter()->column_width(34);
}

Args::~Args() = default;

Args& Args::option(const std::string& name, const std::string& valueName,
                   const std::string& description, bool required) {
    const std::string text = required ? description + "; required" : description;
    m_app->add_option("--" + name, text)
        ->type_name(valueName)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    m_declared.push_back({name, Kind::Value, required});
    return *this;
}

Args& Args::repeatable(const std::string& name, const std::string& valueName,
                       const std::string& description) {
    const std::string text = description + "; repeatable";
    m_app->add_option("--" + name, text)
        ->type_name(valueName)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    m_declared.push_back({name, Kind::Repeatable, false});
    return *this;
}

Args& Args::flag(const std::string& name, const std::string& description) {
    m_app->add_flag("--" + name, description)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    m_declared.push_back({name, Kind::Switch, false});
    return *this;
}

Args& Args::positional(const std::string& name, const std::string& valueName,
                       const std::string& description) {
    m_app->add_option(name, description)->type_name(valueName);
    m_declared.push_back({name, Kind::Positional, false});
    return *this;
}

Args& Args::footer(const std::string& text) {
    m_app->footer(text);
    return *this;
}

std::string Args::help() const {
    return m_app->help();
}

std::string Args::usage() const {
    const std::string footer = m_app->get_footer();
    m_app->footer(std::string{});
    std::string text = m_app->help();
    m_app->footer(footer);
    return text;
}

int Args::usageError(const std::string& message) const {
    std::fprintf(stderr, "hybrid158-cli %s: %s\n%s", m_command.c_str(), message.c_str(),
                 usage().c_str());
    return 2;
}

std::optional<int> Args::parse(int argc, char** argv) {
    try {
        // CLI11 takes the arguments in reverse order, without the program name
        std::vector<std::string> rest;
        for (int i = argc - 1; i >= 1; --i) rest.emplace_back(argv[i]);
        m_app->parse(rest);
    } catch (const CLI::CallForHelp&) {
        std::fputs(help().c_str(), stdout);
        return 0;
    } catch (const CLI::ExtrasError&) {
        // the first argument nobody took: an option CLI11 does not know, or a stray word
        const std::vector<std::string> extra = m_app->remaining();
        std::string first = extra.empty() ? std::string{} : extra.front();
        if (!first.empty() && first[0] == '-')
            return usageError("unknown option " + first.substr(0, first.find('=')));
        return usageError("unexpected argument '" + first + "'");
    } catch (const CLI::ArgumentMismatch& e) {
        // an option that ends the line without its value: "--out: 1 required DIR missing"
        const std::string what = e.what();
        return usageError("option " + what.substr(0, what.find(':')) + " needs a value");
    } catch (const CLI::ParseError& e) {
        return usageError(e.what());
    }

    for (const Declared& d : m_declared) {
        const bool positional = d.kind == Kind::Positional;
        const CLI::Option* opt = m_app->get_option(positional ? d.name : "--" + d.name);
        const size_t count = opt->count();
        if (count > 1 && d.kind != Kind::Repeatable)
            return usageError("option --" + d.name + " given twice");
        if (count == 0 && d.required) return usageError("missing required option --" + d.name);
        if (count == 0) continue;
        if (d.kind == Kind::Repeatable) {
            m_multi[d.name] = opt->results();
        } else if (d.kind == Kind::Switch) {
            m_values[d.name] = "true";
        } else {
            const auto& r = opt->results();
            m_values[d.name] = r.empty() ? std::string{} : r.front();
        }
    }
    return std::nullopt;
}

long long Args::getInt(const std::string& n, long long def) const {
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

double Args::getDouble(const std::string& n, double def) const {
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

}  // namespace h158::cli
