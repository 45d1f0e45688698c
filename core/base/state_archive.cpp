// StateArchive (state_archive.h).
#include "core/base/state_archive.h"

#include <bit>

#include "core/base/errors.h"
#include "core/base/rng.h"

namespace h158 {

namespace {

const char* kindName(StateArchive::Entry::Kind k) {
    switch (k) {
    case StateArchive::Entry::Kind::F32: return "float32";
    case StateArchive::Entry::Kind::F64: return "float64";
    case StateArchive::Entry::Kind::I64: return "int64";
    }
    return "?";
}

int64_t entrySize(const StateArchive::Entry& e) {
    switch (e.kind) {
    case StateArchive::Entry::Kind::F32: return int64_t(e.f32.size());
    case StateArchive::Entry::Kind::F64: return int64_t(e.f64.size());
    case StateArchive::Entry::Kind::I64: return int64_t(e.i64.size());
    }
    return 0;
}

}  // namespace

void StateArchive::put(const std::string& name, std::span<const float> v) {
    Entry e;
    e.kind = Entry::Kind::F32;
    e.f32.assign(v.begin(), v.end());
    m_entries[name] = std::move(e);
}

void StateArchive::put(const std::string& name, std::span<const double> v) {
    Entry e;
    e.kind = Entry::Kind::F64;
    e.f64.assign(v.begin(), v.end());
    m_entries[name] = std::move(e);
}

void StateArchive::put(const std::string& name, std::span<const int64_t> v) {
    Entry e;
    e.kind = Entry::Kind::I64;
    e.i64.assign(v.begin(), v.end());
    m_entries[name] = std::move(e);
}

void StateArchive::putLists(const std::string& name, const std::vector<std::vector<int64_t>>& lists) {
    std::vector<int64_t> offsets{0}, values;
    for (const auto& l : lists) {
        values.insert(values.end(), l.begin(), l.end());
        offsets.push_back(int64_t(values.size()));
    }
    put(name + ".offsets", offsets);
    put(name + ".values", values);
}

void StateArchive::putLists(const std::string& name, const std::vector<std::vector<int>>& lists) {
    std::vector<std::vector<int64_t>> wide;
    wide.reserve(lists.size());
    for (const auto& l : lists) wide.emplace_back(l.begin(), l.end());
    putLists(name, wide);
}

const StateArchive::Entry& StateArchive::find(const std::string& name, Entry::Kind kind,
                                              int64_t size) const {
    const auto it = m_entries.find(name);
    if (it == m_entries.end()) throw Error("checkpoint has no '" + name + "'");
    const Entry& e = it->second;
    if (e.kind != kind)
        throw Error("checkpoint entry '" + name + "' is " + kindName(e.kind) + ", expected " +
                    kindName(kind));
    if (size >= 0 && entrySize(e) != size)
        throw Error("checkpoint entry '" + name + "' has " + std::to_string(entrySize(e)) +
                    " values, this run needs " + std::to_string(size));
    return e;
}

const std::vector<float>& StateArchive::floats(const std::string& name, int64_t size) const {
    return find(name, Entry::Kind::F32, size).f32;
}
const std::vector<double>& StateArchive::doubles(const std::string& name, int64_t size) const {
    return find(name, Entry::Kind::F64, size).f64;
}
const std::vector<int64_t>& StateArchive::integers(const std::string& name, int64_t size) const {
    return find(name, Entry::Kind::I64, size).i64;
}

std::vector<std::vector<int64_t>> StateArchive::lists(const std::string& name) const {
    const auto& offsets = integers(name + ".offsets");
    const auto& values = integers(name + ".values");
    if (offsets.empty() || offsets.front() != 0 || offsets.back() != int64_t(values.size()))
        throw Error("checkpoint entry '" + name + ".offsets' does not match its values");
    std::vector<std::vector<int64_t>> out;
    for (size_t i = 0; i + 1 < offsets.size(); ++i) {
        if (offsets[i + 1] < offsets[i])
            throw Error("checkpoint entry '" + name + ".offsets' is not increasing");
        out.emplace_back(values.begin() + offsets[i], values.begin() + offsets[i + 1]);
    }
    return out;
}

std::vector<std::vector<int>> StateArchive::intLists(const std::string& name, int64_t limit) const {
    std::vector<std::vector<int>> out;
    for (const auto& l : lists(name)) {
        std::vector<int>& o = out.emplace_back();
        o.reserve(l.size());
        for (int64_t v : l) {
            if (v < 0 || v >= limit)
                throw Error("checkpoint entry '" + name + "' holds " + std::to_string(v) +
                            ", outside [0, " + std::to_string(limit) + ")");
            o.push_back(int(v));
        }
    }
    return out;
}

void saveRng(StateArchive& a, const std::string& name, const Rng& rng) {
    const Rng::State s = rng.state();
    const int64_t v[6] = {std::bit_cast<int64_t>(s.words[0]), std::bit_cast<int64_t>(s.words[1]),
                          std::bit_cast<int64_t>(s.words[2]), std::bit_cast<int64_t>(s.words[3]),
                          std::bit_cast<int64_t>(s.spare), s.haveSpare ? 1 : 0};
    a.put(name, std::span<const int64_t>(v, 6));
}

void loadRng(const StateArchive& a, const std::string& name, Rng& rng) {
    const auto& v = a.integers(name, 6);
    Rng::State s;
    for (int i = 0; i < 4; ++i) s.words[i] = std::bit_cast<uint64_t>(v[size_t(i)]);
    s.spare = std::bit_cast<double>(v[4]);
    s.haveSpare = v[5] != 0;
    rng.setState(s);
}

}  // namespace h158
