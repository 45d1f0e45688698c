// Conversions between the flat column-major storage and PyTorch's row-major tensors (params.h).
#include "core/model/params.h"

namespace h158 {

std::vector<int64_t> externalShape(const ParamTensor& t) {
    if (t.embedding) return {t.cols, t.rows};
    if (t.cols == 1) return {t.rows};
    return {t.rows, t.cols};
}

void toExternal(const ParamTensor& t, const float* ours, float* external) {
    if (t.embedding || t.cols == 1) {
        std::copy(ours, ours + t.size(), external);
        return;
    }
    // external (rows, cols) row-major = the transpose of ours in memory
    Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        external, t.rows, t.cols) = CMapMat<float>(ours, t.rows, t.cols);
}

void fromExternal(const ParamTensor& t, const float* external, float* ours) {
    if (t.embedding || t.cols == 1) {
        std::copy(external, external + t.size(), ours);
        return;
    }
    MapMat<float>(ours, t.rows, t.cols) =
        Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            external, t.rows, t.cols);
}

}  // namespace h158
