// Flat parameter storage: every tensor of a model lives at an offset in one contiguous vector,
// so the optimizer, the trust-region projection, norms and gradient checks work on one array.
#pragma once

#include <string>
#include <vector>

#include "core/base/types.h"

namespace h158 {

struct ParamTensor {
    std::string name;      // "blocks.0.attn.qkv"
    int64_t rows = 0;      // (rows, cols) column-major at [offset, offset + rows*cols)
    int64_t cols = 0;
    int64_t offset = 0;
    bool quantized = false;  // latent weights that the forward pass sees quantized
    bool decay = true;       // AdamW weight decay applies
    // An embedding table: one column per entry (token, position). PyTorch stores it as
    // (cols, rows) row-major, the same bytes; every other matrix it stores as (rows, cols)
    // row-major, the transpose of ours (see externalShape).
    bool embedding = false;
    int64_t size() const { return rows * cols; }
};

// The tensor's shape in PyTorch and in safetensors files (row-major): (cols, rows) for an
// embedding table, (rows) for a column vector, (rows, cols) for any other matrix.
std::vector<int64_t> externalShape(const ParamTensor& t);
// Copies between our column-major storage and the external row-major one (size() floats each).
void toExternal(const ParamTensor& t, const float* ours, float* external);
void fromExternal(const ParamTensor& t, const float* external, float* ours);

class ParamLayout {
public:
    // Appends a tensor and returns its index.
    int add(std::string name, int64_t rows, int64_t cols, bool quantized, bool decay = true,
            bool embedding = false) {
        ParamTensor t{std::move(name), rows, cols, m_size, quantized, decay, embedding};
        m_size += t.size();
        m_tensors.push_back(std::move(t));
        return int(m_tensors.size()) - 1;
    }
    const std::vector<ParamTensor>& tensors() const { return m_tensors; }
    const ParamTensor& operator[](int i) const { return m_tensors[size_t(i)]; }
    int count() const { return int(m_tensors.size()); }
    int64_t size() const { return m_size; }
    int64_t quantizedSize() const {
        int64_t n = 0;
        for (const auto& t : m_tensors) n += t.quantized ? t.size() : 0;
        return n;
    }

    template <typename T>
    CMapMat<T> view(const T* flat, int i) const {
        const auto& t = m_tensors[size_t(i)];
        return CMapMat<T>(flat + t.offset, t.rows, t.cols);
    }
    template <typename T>
    MapMat<T> view(T* flat, int i) const {
        const auto& t = m_tensors[size_t(i)];
        return MapMat<T>(flat + t.offset, t.rows, t.cols);
    }

private:
    std::vector<ParamTensor> m_tensors;
    int64_t m_size = 0;
};

}  // namespace h158
