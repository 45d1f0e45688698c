// The state of a training run's components as named arrays, for checkpoints: each component
// writes what it cannot recompute (moments, random-number states, counters) under names of its
// own ("optimizer.moments", "aux.adam_m", ...) and reads it back, bit for bit. The train layer
// stores an archive as a safetensors file (train/checkpoint.h); this layer knows no file.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace h158 {

class Rng;

class StateArchive {
  public:
    // One named array: exactly one of the three vectors is used, as `kind` says.
    struct Entry {
        enum class Kind { F32, F64, I64 } kind = Kind::F64;
        std::vector<float> f32;
        std::vector<double> f64;
        std::vector<int64_t> i64;
    };

    void put(const std::string& name, std::span<const float> v);
    void put(const std::string& name, std::span<const double> v);
    void put(const std::string& name, std::span<const int64_t> v);
    void putScalar(const std::string& name, double v) { put(name, std::span<const double>(&v, 1)); }
    void putInteger(const std::string& name, int64_t v) { put(name, std::span<const int64_t>(&v, 1)); }
    // Ragged integer lists (one list per cluster, per tensor): "name.offsets" (size + 1) and
    // "name.values".
    void putLists(const std::string& name, const std::vector<std::vector<int64_t>>& lists);
    void putLists(const std::string& name, const std::vector<std::vector<int>>& lists);

    // The readers throw Error naming the entry when it is missing, of another kind, or (where a
    // size is given) of another size: a checkpoint of another configuration.
    const std::vector<float>& floats(const std::string& name, int64_t size = -1) const;
    const std::vector<double>& doubles(const std::string& name, int64_t size = -1) const;
    const std::vector<int64_t>& integers(const std::string& name, int64_t size = -1) const;
    double scalar(const std::string& name) const { return doubles(name, 1)[0]; }
    int64_t integer(const std::string& name) const { return integers(name, 1)[0]; }
    std::vector<std::vector<int64_t>> lists(const std::string& name) const;
    // lists() as int, each value checked to lie in [0, limit).
    std::vector<std::vector<int>> intLists(const std::string& name, int64_t limit) const;

    bool contains(const std::string& name) const { return m_entries.count(name) > 0; }
    const std::map<std::string, Entry>& entries() const { return m_entries; }
    void set(const std::string& name, Entry e) { m_entries[name] = std::move(e); }

  private:
    const Entry& find(const std::string& name, Entry::Kind kind, int64_t size) const;
    std::map<std::string, Entry> m_entries;
};

// An Rng's whole state (its four words and the spare normal) under `name`.
void saveRng(StateArchive& a, const std::string& name, const Rng& rng);
void loadRng(const StateArchive& a, const std::string& name, Rng& rng);

}  // namespace h158
