// Named tensors in the safetensors format (Hugging Face's; read and written by PyTorch scripts
// without extra packages): the exchange format for starting weights (model.init_file) and for
// the PyTorch parity fixture.
//
// File: u64 little-endian N, then N bytes of JSON header, then the data. The header maps each
// tensor name to {"dtype": "F32" | "F64" | "I8" | "U8" | "I32" | "I64", "shape": [..],
// "data_offsets": [begin, end]} (byte offsets into the data, end - begin = product(shape) x the
// element size), plus an optional "__metadata__" object of string values. Tensors are row-major
// (C order) and little-endian. The reader checks all of it before handing out a value and names
// the file and the tensor in every error.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace h158 {

enum class TensorDType { F32, F64, I8, U8, I32, I64 };
const char* dtypeName(TensorDType t);
int64_t dtypeSize(TensorDType t);

struct TensorEntry {
    std::string name;
    TensorDType dtype = TensorDType::F32;
    std::vector<int64_t> shape;  // row-major
    int64_t begin = 0, end = 0;  // byte range in the data section
    int64_t count() const;       // product of the shape (1 for a scalar)
};

class SafeTensors {
  public:
    // Reads and validates the whole file. Throws FileError naming the file: missing or
    // unreadable, shorter than its header says, a header that is not JSON or not the format
    // above, a tensor whose byte range is out of the file or does not match its shape.
    static SafeTensors read(const std::string& path);

    const std::string& path() const { return m_path; }
    const std::map<std::string, std::string>& metadata() const { return m_meta; }
    std::vector<std::string> names() const;  // in file order of their data
    bool contains(const std::string& name) const { return m_entries.count(name) > 0; }
    // Throws FileError naming the file and the tensor when it is absent.
    const TensorEntry& entry(const std::string& name) const;

    // The values, converted to T: floats accept F32 and F64, integers any integer dtype (range
    // checked). Throws FileError naming the tensor when the dtype does not convert.
    std::vector<float> floats(const std::string& name) const;
    std::vector<double> doubles(const std::string& name) const;
    std::vector<int64_t> integers(const std::string& name) const;

  private:
    std::string m_path;
    std::map<std::string, TensorEntry> m_entries;
    std::map<std::string, std::string> m_meta;
    std::vector<char> m_data;
};

// One tensor to write: name, row-major shape and float values.
struct TensorOut {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;
};
// Writes F32 tensors (and string metadata) to `path` through a temporary file renamed into
// place, so a reader never sees half a file. Throws FileError naming the file.
void writeSafeTensors(const std::string& path, std::span<const TensorOut> tensors,
                      const std::map<std::string, std::string>& metadata = {});

// One tensor of any dtype to write: `data` points at count(shape) x dtypeSize(dtype) bytes,
// little-endian, which must stay valid during the call.
struct TypedTensorOut {
    std::string name;
    TensorDType dtype = TensorDType::F32;
    std::vector<int64_t> shape;
    const void* data = nullptr;
};
void writeSafeTensors(const std::string& path, std::span<const TypedTensorOut> tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace h158
