// Fuzz target of the config loader (config.h): a JSON configuration file through loadConfigFile,
// then `--set key=value` strings through applySetting. The input is the file's text, optionally
// followed by a line "#set" and one assignment per line (the first 16 are applied).
// loadConfigFile must throw an h158::Error naming the file, applySetting a ConfigError naming the
// key; a configuration either returns must survive toJson/fromJson unchanged (every field it
// holds passed the schema's check) and validate() must return or throw ConfigError.
#include <nlohmann/json.hpp>

#include "core/config/config.h"
#include "fuzz/fuzz_contract.h"

using namespace h158;
using namespace h158::fuzz;

namespace {

void checkConfig(const Config& c) {
    const nlohmann::json j = toJson(c);
    Config back;
    mustNotThrow("fromJson(toJson(c))", [&] { back = fromJson(j); });
    require(toJson(back) == j, "toJson/fromJson changed the configuration");
    returnsOrRefuses<ConfigError>("validate", ".", [&] { validate(c); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t split = input.find("\n#set\n");
    const std::string_view file = input.substr(0, split);

    static const std::string path = (scratchDir() / "config.json").string();
    writeBytes(path, file.data(), file.size());
    Config c;
    if (returnsOrRefuses("loadConfigFile", path, [&] { c = loadConfigFile(path); })) checkConfig(c);
    if (split == std::string_view::npos) return 0;

    // At most 16 settings per input: each unknown key costs an edit distance to every key of the
    // schema, and a few settings reach every path of applySetting.
    std::string_view rest = input.substr(split + 6);
    for (int n = 0; n < 16 && !rest.empty(); ++n) {
        const size_t eol = rest.find('\n');
        const std::string line(rest.substr(0, eol));
        rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
        const size_t eq = line.find('=');
        const std::string key = eq == std::string::npos || eq == 0 ? "--set" : line.substr(0, eq);
        returnsOrRefuses<ConfigError>("applySetting", key, [&] { applySetting(c, line); });
    }
    checkConfig(c);
    return 0;
}
