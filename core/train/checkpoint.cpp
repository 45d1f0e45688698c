// Checkpoint files (checkpoint.h).
#include "core/train/checkpoint.h"

#include <bit>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <filesystem>
#include <optional>

#include "core/base/errors.h"
#include "core/base/file_io.h"
#include "core/base/hash.h"
#include "core/model/safetensors.h"

namespace h158 {

namespace {

constexpr const char* kFormat = "hybrid158 checkpoint";
constexpr const char* kVersion = "1";

// FNV-1a 64 (base/hash.h) over pieces, as hex.
struct Fnv1a {
    uint64_t h = kFnv1aOffset;
    void add(const void* p, size_t n) { h = fnv1a64({static_cast<const uint8_t*>(p), n}, h); }
    std::string hex() const {
        char s[17];
        std::snprintf(s, sizeof s, "%016llx", static_cast<unsigned long long>(h));
        return s;
    }
};

// Over every entry in name order: its name, its kind and its values' bytes.
std::string checksum(const StateArchive& a) {
    Fnv1a f;
    for (const auto& [name, e] : a.entries()) {
        f.add(name.data(), name.size() + 1);
        const auto kind = static_cast<unsigned char>(e.kind);
        f.add(&kind, 1);
        f.add(e.f32.data(), e.f32.size() * sizeof(float));
        f.add(e.f64.data(), e.f64.size() * sizeof(double));
        f.add(e.i64.data(), e.i64.size() * sizeof(int64_t));
    }
    return f.hex();
}

// The data file the run reads (text or CSV), hashed: "" when the data is generated.
std::string dataChecksum(const Config& cfg) {
    const std::string& file = cfg.data.kind == "text" ? cfg.data.text_file
                              : cfg.data.kind == "csv" ? cfg.data.csv_file
                                                       : std::string();
    if (file.empty()) return "";
    const std::string bytes = readFile(file);
    Fnv1a f;
    f.add(bytes.data(), bytes.size());
    return f.hex();
}

// The first setting (flattened JSON pointer) whose value differs, or "".
std::string firstDifference(const nlohmann::json& a, const nlohmann::json& b) {
    const nlohmann::json fa = a.flatten(), fb = b.flatten();
    for (const auto& [k, v] : fa.items())
        if (!fb.contains(k) || fb[k] != v)
            return k.substr(1) + " = " + v.dump() + " there, " +
                   (fb.contains(k) ? fb[k].dump() : "absent") + " here";
    for (const auto& [k, v] : fb.items())
        if (!fa.contains(k)) return k.substr(1) + " absent there, " + v.dump() + " here";
    return "";
}

}  // namespace

void writeCheckpoint(const std::string& path, const Trainer& trainer, int64_t eventsApplied) {
    const StateArchive a = trainer.saveState();
    std::vector<TypedTensorOut> tensors;
    tensors.reserve(a.entries().size());
    for (const auto& [name, e] : a.entries()) {
        switch (e.kind) {
        case StateArchive::Entry::Kind::F32:
            tensors.push_back({name, TensorDType::F32, {int64_t(e.f32.size())}, e.f32.data()});
            break;
        case StateArchive::Entry::Kind::F64:
            tensors.push_back({name, TensorDType::F64, {int64_t(e.f64.size())}, e.f64.data()});
            break;
        case StateArchive::Entry::Kind::I64:
            tensors.push_back({name, TensorDType::I64, {int64_t(e.i64.size())}, e.i64.data()});
            break;
        }
    }
    const std::map<std::string, std::string> meta = {
        {"format", kFormat},
        {"version", kVersion},
        {"step", std::to_string(trainer.stepsDone())},
        {"config", toJson(trainer.config()).dump()},
        {"data_checksum", dataChecksum(trainer.config())},
        {"checksum", checksum(a)},
        {"events_applied", std::to_string(eventsApplied)}};
    writeSafeTensors(path, tensors, meta);
}

namespace {

// The header's metadata (a few kB), not the tensors: run lists read it for every run. nullopt
// when the file is missing or not a hybrid158 checkpoint.
std::optional<nlohmann::json> checkpointMetadata(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    uint64_t n = 0;
    if (!in.read(reinterpret_cast<char*>(&n), 8) || n == 0 || n > (uint64_t(1) << 24)) return std::nullopt;
    std::string h(size_t(n), '\0');
    if (!in.read(h.data(), std::streamsize(n))) return std::nullopt;
    const nlohmann::json j = nlohmann::json::parse(h, nullptr, false);
    if (!j.is_object() || !j.contains("__metadata__")) return std::nullopt;
    const nlohmann::json& m = j["__metadata__"];
    if (!m.is_object() || m.value("format", "") != kFormat) return std::nullopt;
    return m;
}

int64_t metaInteger(const nlohmann::json& m, const char* key) {
    if (!m.contains(key) || !m[key].is_string()) return -1;
    const std::string s = m[key].get<std::string>();
    int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() && v >= 0 ? v : -1;
}

}  // namespace

int64_t checkpointStep(const std::string& path) noexcept {
    try {
        const std::optional<nlohmann::json> m = checkpointMetadata(path);
        const int64_t step = m ? metaInteger(*m, "step") : 0;
        return step > 0 ? step : 0;
    } catch (...) {
        return 0;
    }
}

CheckpointInfo readCheckpointInfo(const std::string& path) {
    if (!std::filesystem::exists(path)) throw FileError(path + ": no checkpoint");
    std::optional<nlohmann::json> m;
    try {
        m = checkpointMetadata(path);
    } catch (const std::exception& e) {
        throw FileError(path + ": " + e.what());
    }
    if (!m) throw FileError(path + ": not a hybrid158 checkpoint");
    CheckpointInfo info;
    info.step = metaInteger(*m, "step");
    if (info.step <= 0) throw FileError(path + ": no step in the checkpoint's header");
    info.eventsApplied = m->contains("events_applied") ? metaInteger(*m, "events_applied") : 0;
    if (info.eventsApplied < 0) throw FileError(path + ": events_applied is not a count");
    if (!m->contains("config") || !(*m)["config"].is_string())
        throw FileError(path + ": no configuration in the checkpoint's header");
    nlohmann::json cfg = nlohmann::json::parse((*m)["config"].get<std::string>(), nullptr, false);
    if (cfg.is_discarded()) throw FileError(path + ": the checkpoint's configuration is not JSON");
    info.config = fromJson(cfg, Config{}, path);
    return info;
}

int64_t restoreCheckpoint(const std::string& path, Trainer& trainer) {
    if (!std::filesystem::exists(path)) throw FileError(path + ": no checkpoint (run.checkpoint_every was 0, or the run stopped before its first)");
    const SafeTensors st = SafeTensors::read(path);
    const auto& meta = st.metadata();
    auto field = [&](const char* key) {
        const auto it = meta.find(key);
        if (it == meta.end()) throw FileError(path + ": not a hybrid158 checkpoint (no '" + key + "')");
        return it->second;
    };
    if (field("format") != kFormat) throw FileError(path + ": not a hybrid158 checkpoint");
    if (field("version") != kVersion)
        throw FileError(path + ": checkpoint version " + field("version") + ", this build reads " + kVersion);
    nlohmann::json saved;
    try {
        saved = nlohmann::json::parse(field("config"));
    } catch (const std::exception&) {
        throw FileError(path + ": the checkpoint's configuration is not JSON");
    }
    // Through fromJson first: a setting added since the checkpoint was written takes its default.
    Config savedConfig;
    try {
        savedConfig = fromJson(saved, Config{}, path);
    } catch (const std::exception& e) {
        throw FileError(path + ": the checkpoint's configuration: " + e.what());
    }
    const std::string diff = firstDifference(toJson(savedConfig), toJson(trainer.config()));
    if (!diff.empty())
        throw FileError(path + ": written for another configuration (" + diff + ")");
    if (field("data_checksum") != dataChecksum(trainer.config()))
        throw FileError(path + ": the data file changed since the checkpoint was written");

    StateArchive a;
    try {
        for (const std::string& name : st.names()) {
            const TensorEntry& t = st.entry(name);
            StateArchive::Entry e;
            switch (t.dtype) {
            case TensorDType::F32:
                e.kind = StateArchive::Entry::Kind::F32;
                e.f32 = st.floats(name);
                break;
            case TensorDType::F64:
                e.kind = StateArchive::Entry::Kind::F64;
                e.f64 = st.doubles(name);
                break;
            case TensorDType::I64:
                e.kind = StateArchive::Entry::Kind::I64;
                e.i64 = st.integers(name);
                break;
            default:
                throw FileError(path + ": tensor '" + name + "' is " + dtypeName(t.dtype) +
                                ", a checkpoint holds F32, F64 and I64");
            }
            a.set(name, std::move(e));
        }
    } catch (const FileError&) {
        throw;
    } catch (const std::exception& e) {
        throw FileError(path + ": " + e.what());
    }
    if (checksum(a) != field("checksum"))
        throw FileError(path + ": damaged (its values do not match their checksum)");
    try {
        trainer.restoreState(a);
    } catch (const std::exception& e) {
        throw FileError(path + ": " + e.what());
    }
    return trainer.stepsDone();
}

}  // namespace h158
