// Built-in presets: resources/presets/NAME.json = {"summary": "...", "config": {partial config}},
// applied on top of the defaults. The files are compiled in (see core/CMakeLists.txt).
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "core/base/errors.h"
#include "core/config/config.h"

namespace h158 {

extern const std::pair<std::string_view, std::string_view> kEmbeddedPresets[];
extern const int kEmbeddedPresetCount;

namespace {

nlohmann::json presetJson(std::string_view name, std::string_view text) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError("built-in preset '" + std::string(name) + "' is malformed: " + e.what());
    }
}

}  // namespace

std::vector<PresetInfo> presetList() {
    std::vector<PresetInfo> out;
    for (int i = 0; i < kEmbeddedPresetCount; ++i) {
        const auto& [name, text] = kEmbeddedPresets[i];
        const auto j = presetJson(name, text);
        out.push_back({std::string(name), j.value("summary", std::string())});
    }
    return out;
}

Config presetConfig(const std::string& name) {
    for (int i = 0; i < kEmbeddedPresetCount; ++i) {
        const auto& [pname, text] = kEmbeddedPresets[i];
        if (pname != name) continue;
        const auto j = presetJson(pname, text);
        Config c = fromJson(j.at("config"), Config{}, "preset " + name);
        if (c.run.name == Config{}.run.name) c.run.name = name;
        return c;
    }
    std::string all;
    for (const auto& p : presetList()) all += (all.empty() ? "" : ", ") + p.name;
    throw ConfigError("unknown preset '" + name + "' (built-in presets: " + all + ")");
}

}  // namespace h158
