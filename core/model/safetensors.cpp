// safetensors reading (validated before use) and writing (safetensors.h).
#include "core/model/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/base/errors.h"
#include "core/base/file_io.h"
#include "core/base/types.h"

namespace h158 {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

// A header larger than this is not a tensor file (real ones are kilobytes).
constexpr uint64_t kMaxHeader = uint64_t(100) << 20;

[[noreturn]] void refuse(const std::string& path, const std::string& what) {
    throw FileError(path + ": " + what);
}

bool parseDType(const std::string& s, TensorDType& t) {
    static const std::pair<const char*, TensorDType> names[] = {
        {"F32", TensorDType::F32}, {"F64", TensorDType::F64}, {"I8", TensorDType::I8},
        {"U8", TensorDType::U8},   {"I32", TensorDType::I32}, {"I64", TensorDType::I64}};
    for (const auto& [n, v] : names)
        if (s == n) {
            t = v;
            return true;
        }
    return false;
}

template <typename S, typename D>
void convert(const char* src, int64_t n, D* dst) {
    for (int64_t i = 0; i < n; ++i) {
        S v;
        std::memcpy(&v, src + i * int64_t(sizeof(S)), sizeof(S));
        dst[i] = D(v);
    }
}

}  // namespace

const char* dtypeName(TensorDType t) {
    switch (t) {
        case TensorDType::F32: return "F32";
        case TensorDType::F64: return "F64";
        case TensorDType::I8: return "I8";
        case TensorDType::U8: return "U8";
        case TensorDType::I32: return "I32";
        case TensorDType::I64: return "I64";
    }
    return "?";
}

int64_t dtypeSize(TensorDType t) {
    switch (t) {
        case TensorDType::I8:
        case TensorDType::U8: return 1;
        case TensorDType::F32:
        case TensorDType::I32: return 4;
        case TensorDType::F64:
        case TensorDType::I64: return 8;
    }
    return 0;
}

int64_t TensorEntry::count() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

SafeTensors SafeTensors::read(const std::string& path) {
    SafeTensors st;
    st.m_path = path;
    const std::string bytes = readFile(path);
    if (bytes.size() < 8) refuse(path, "not a safetensors file (" + std::to_string(bytes.size()) +
                                           " bytes, shorter than the 8-byte header length)");
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    if (n > kMaxHeader || n > bytes.size() - 8)
        refuse(path, "not a safetensors file (header length " + std::to_string(n) + ", file " +
                         std::to_string(bytes.size()) + " bytes)");
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + long(n));
    } catch (const nlohmann::json::exception& e) {
        refuse(path, std::string("malformed safetensors header: ") + e.what());
    }
    if (!header.is_object()) refuse(path, "safetensors header is not a JSON object");
    const int64_t dataSize = int64_t(bytes.size() - 8 - n);
    for (const auto& [name, e] : header.items()) {
        const std::string where = "tensor '" + name + "'";
        if (name == "__metadata__") {
            if (!e.is_object()) refuse(path, "__metadata__ is not an object");
            for (const auto& [k, v] : e.items())
                st.m_meta[k] = v.is_string() ? v.get<std::string>() : v.dump();
            continue;
        }
        if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") ||
            !e.contains("data_offsets"))
            refuse(path, where + " needs dtype, shape and data_offsets");
        TensorEntry t;
        t.name = name;
        const auto& dt = e["dtype"];
        if (!dt.is_string() || !parseDType(dt.get<std::string>(), t.dtype))
            refuse(path, where + " has dtype " + dt.dump() +
                             " (readable: F32, F64, I8, U8, I32, I64)");
        if (!e["shape"].is_array()) refuse(path, where + ": shape is not a list");
        int64_t count = 1;
        for (const auto& d : e["shape"]) {
            if (!d.is_number_unsigned()) refuse(path, where + ": shape entry " + d.dump());
            const uint64_t v = d.get<uint64_t>();
            if (v > uint64_t(std::numeric_limits<int64_t>::max()) ||
                (v > 0 && uint64_t(count) > uint64_t(dataSize) / v))
                refuse(path, where + ": shape " + e["shape"].dump() + " is larger than the file");
            count *= int64_t(v);
            t.shape.push_back(int64_t(v));
        }
        const auto& off = e["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
            !off[1].is_number_unsigned())
            refuse(path, where + ": data_offsets must be [begin, end]");
        const uint64_t b = off[0].get<uint64_t>(), en = off[1].get<uint64_t>();
        if (b > en || en > uint64_t(dataSize))
            refuse(path, where + ": data_offsets [" + std::to_string(b) + ", " +
                             std::to_string(en) + "] outside the " + std::to_string(dataSize) +
                             "-byte data section");
        t.begin = int64_t(b);
        t.end = int64_t(en);
        if (t.end - t.begin != count * dtypeSize(t.dtype))
            refuse(path, where + ": " + std::to_string(t.end - t.begin) + " bytes for shape " +
                             e["shape"].dump() + " of " + dtypeName(t.dtype) + " (expected " +
                             std::to_string(count * dtypeSize(t.dtype)) + ")");
        st.m_entries.emplace(name, std::move(t));
    }
    st.m_data.assign(bytes.begin() + 8 + long(n), bytes.end());
    return st;
}

std::vector<std::string> SafeTensors::names() const {
    std::vector<const TensorEntry*> e;
    for (const auto& [k, v] : m_entries) e.push_back(&v);
    std::sort(e.begin(), e.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
    std::vector<std::string> out;
    for (auto* p : e) out.push_back(p->name);
    return out;
}

const TensorEntry& SafeTensors::entry(const std::string& name) const {
    const auto it = m_entries.find(name);
    if (it == m_entries.end()) refuse(m_path, "no tensor '" + name + "'");
    return it->second;
}

std::vector<double> SafeTensors::doubles(const std::string& name) const {
    const TensorEntry& t = entry(name);
    std::vector<double> out(size_t(t.count()));
    const char* src = m_data.data() + t.begin;
    if (t.dtype == TensorDType::F32)
        convert<float>(src, t.count(), out.data());
    else if (t.dtype == TensorDType::F64)
        convert<double>(src, t.count(), out.data());
    else
        refuse(m_path, "tensor '" + name + "' is " + dtypeName(t.dtype) + ", not F32 or F64");
    return out;
}

std::vector<float> SafeTensors::floats(const std::string& name) const {
    const TensorEntry& t = entry(name);
    std::vector<float> out(size_t(t.count()));
    if (t.dtype == TensorDType::F32) {
        convert<float>(m_data.data() + t.begin, t.count(), out.data());
        return out;
    }
    const std::vector<double> d = doubles(name);
    std::transform(d.begin(), d.end(), out.begin(), [](double v) { return float(v); });
    return out;
}

std::vector<int64_t> SafeTensors::integers(const std::string& name) const {
    const TensorEntry& t = entry(name);
    std::vector<int64_t> out(size_t(t.count()));
    const char* src = m_data.data() + t.begin;
    switch (t.dtype) {
        case TensorDType::I8: convert<int8_t>(src, t.count(), out.data()); break;
        case TensorDType::U8: convert<uint8_t>(src, t.count(), out.data()); break;
        case TensorDType::I32: convert<int32_t>(src, t.count(), out.data()); break;
        case TensorDType::I64: convert<int64_t>(src, t.count(), out.data()); break;
        default:
            refuse(m_path, "tensor '" + name + "' is " + dtypeName(t.dtype) + ", not an integer");
    }
    return out;
}

void writeSafeTensors(const std::string& path, std::span<const TensorOut> tensors,
                      const std::map<std::string, std::string>& metadata) {
    std::vector<TypedTensorOut> typed;
    typed.reserve(tensors.size());
    for (const TensorOut& t : tensors) {
        int64_t count = 1;
        for (int64_t d : t.shape) count *= d;
        if (count != int64_t(t.values.size()))
            throw Error("writeSafeTensors: tensor '" + t.name + "' has " +
                        std::to_string(t.values.size()) + " values for its shape");
        typed.push_back({t.name, TensorDType::F32, t.shape, t.values.data()});
    }
    writeSafeTensors(path, typed, metadata);
}

void writeSafeTensors(const std::string& path, std::span<const TypedTensorOut> tensors,
                      const std::map<std::string, std::string>& metadata) {
    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    int64_t offset = 0;
    for (const TypedTensorOut& t : tensors) {
        int64_t count = 1;
        for (int64_t d : t.shape) count *= d;
        if (header.contains(t.name))
            throw Error("writeSafeTensors: tensor '" + t.name + "' given twice");
        const int64_t bytes = count * dtypeSize(t.dtype);
        header[t.name] = {{"dtype", dtypeName(t.dtype)},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string h = header.dump();
    h.append((8 - h.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
    std::string bytes(8, '\0');
    const uint64_t n = h.size();
    std::memcpy(bytes.data(), &n, 8);
    bytes += h;
    bytes.reserve(bytes.size() + size_t(offset));
    for (const TypedTensorOut& t : tensors) {
        int64_t count = 1;
        for (int64_t d : t.shape) count *= d;
        if (count > 0)
            bytes.append(static_cast<const char*>(t.data), size_t(count * dtypeSize(t.dtype)));
    }
    writeFileAtomically(path, bytes);
}

}  // namespace h158
