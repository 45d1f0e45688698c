// Absmean ternary / five-level weight quantization. Loops are written to auto-vectorize (rows
// innermost, one accumulator per row).
#include "core/quant/weight_quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/base/errors.h"
#include "core/base/vector_clones.h"

namespace h158 {
namespace {

// Five-level gamma. Levels are {-1, -1/2, 0, 1/2, 1} x gamma, i.e. a uniform mid-tread quantizer
// with step gamma/2 clipped at +-gamma. For W ~ N(0, s^2) the relative error
// ||Q(W) - W|| / ||W|| as a function of gamma = c * mean|W| has its minimum at c = 2.113
// (error 0.2867; c = 1 gives 0.490, c = 2 gives 0.2884; for comparison BitNet's ternary absmean
// rule, c = 1 with step gamma, gives 0.513). We use c = 2.11 (error 0.2867).
constexpr double kFiveLevelAbsmeanMultiple = 2.11;
// BitNet's floor on the scale, so an all-zero group does not divide by zero.
constexpr double kMinGamma = 1e-5;
// Int8 codes are symmetric, -127..127 (as torch's qint8 symmetric absmax): -128 would make the
// range lopsided and code 0 lose its exact zero under negation.
constexpr int kInt8Limit = 127;

// code = clip(round(w / scale), -limit, limit). std::nearbyint under the default rounding mode
// rounds half to even, exactly like torch.round in the reference; clamping before the int8
// conversion keeps NaN/inf inputs defined (they end up at a clip bound or 0).
inline int8_t roundClip(float v, float limit) {
    return int8_t(std::min(limit, std::max(-limit, std::nearbyint(v))));
}

// One column of codes (and optionally values): code = clip(round(w / scale)), value = code * scale.
H158_VECTOR_CLONES
void quantizeWeightColumn(const float* w, const float* scale, int64_t rows, float limit,
                          int8_t* codes, float* out) {
    for (int64_t r = 0; r < rows; ++r) codes[r] = roundClip(w[r] / scale[r], limit);
    if (out)
        for (int64_t r = 0; r < rows; ++r) out[r] = float(codes[r]) * scale[r];
}

// Sum |w| of every row of a (rows, cols) column-major matrix, in double.
std::vector<double> rowAbsSums(const float* w, int64_t rows, int64_t cols) {
    std::vector<double> s(size_t(rows), 0.0);
    double* sp = s.data();
    for (int64_t c = 0; c < cols; ++c) {
        const float* col = w + c * rows;
        for (int64_t r = 0; r < rows; ++r) sp[r] += double(std::fabs(col[r]));
    }
    return s;
}

// max |w| of every row, in double (int8's absmax scale groups).
std::vector<double> rowAbsMaxes(const float* w, int64_t rows, int64_t cols) {
    std::vector<double> s(size_t(rows), 0.0);
    double* sp = s.data();
    for (int64_t c = 0; c < cols; ++c) {
        const float* col = w + c * rows;
        for (int64_t r = 0; r < rows; ++r) sp[r] = std::max(sp[r], double(std::fabs(col[r])));
    }
    return s;
}

}  // namespace

int8_t codeAt(float w, float scale, int limit) { return roundClip(w / scale, float(limit)); }

QuantLevels parseQuantLevels(const std::string& s) {
    if (s == "none") return QuantLevels::None;
    if (s == "ternary") return QuantLevels::Ternary;
    if (s == "five_level") return QuantLevels::FiveLevel;
    if (s == "int8") return QuantLevels::Int8;
    throw Error("quantization levels must be none, ternary, five_level or int8, got '" + s + "'");
}

const char* quantLevelsName(QuantLevels l) {
    switch (l) {
        case QuantLevels::Ternary:
            return "ternary";
        case QuantLevels::FiveLevel:
            return "five_level";
        case QuantLevels::Int8:
            return "int8";
        case QuantLevels::None:
            break;
    }
    return "none";
}

int codeLimit(QuantLevels l) {
    switch (l) {
        case QuantLevels::Ternary:
            return 1;
        case QuantLevels::FiveLevel:
            return 2;
        case QuantLevels::Int8:
            return kInt8Limit;
        case QuantLevels::None:
            break;
    }
    return 0;
}

double meanBits(std::span<const int64_t> weights, std::span<const QuantLevels> levels) {
    double bits = 0, n = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
        bits += double(weights[i]) * bitsPerWeight(levels[i]);
        n += double(weights[i]);
    }
    return n > 0 ? bits / n : bitsPerWeight(QuantLevels::None);
}

QuantGranularity parseQuantGranularity(const std::string& s) {
    if (s == "tensor") return QuantGranularity::Tensor;
    if (s == "row") return QuantGranularity::Row;
    if (s == "cluster") return QuantGranularity::Cluster;
    throw Error("quantization granularity must be tensor, row or cluster, got '" + s + "'");
}

double bitsPerWeight(QuantLevels l) {
    switch (l) {
        case QuantLevels::Ternary:
            return std::log2(3.0);
        case QuantLevels::FiveLevel:
            return std::log2(5.0);
        case QuantLevels::Int8:
            return 8.0;
        case QuantLevels::None:
            break;
    }
    return 32.0;
}

void quantizeWeights(const float* w, int64_t rows, int64_t cols, QuantLevels levels,
                     QuantGranularity granularity, std::span<const int> rowCluster,
                     QuantizedTensor& q, float* out) {
    if (rows < 0 || cols < 0)
        throw Error("quantizeWeights: negative shape (" + std::to_string(rows) + ", " +
                    std::to_string(cols) + ")");
    const int64_t n = rows * cols;
    if (n > 0 && !w) throw Error("quantizeWeights: null weights");
    q.rows = rows;
    q.cols = cols;
    q.levels = levels;
    if (levels == QuantLevels::None) {  // pass-through: no codes, out = w
        q.codes.clear();
        q.rowScale.resize(0);
        if (out && n > 0 && out != w) std::memcpy(out, w, size_t(n) * sizeof(float));
        return;
    }

    // Scale groups -> gamma per row: the group's mean |W| (ternary, five-level) or max |W|
    // (int8), taken in double over the whole group.
    const bool absmax = levels == QuantLevels::Int8;
    const double multiple = levels == QuantLevels::FiveLevel ? kFiveLevelAbsmeanMultiple : 1.0;
    const std::vector<double> rowStat =
        absmax ? rowAbsMaxes(w, rows, cols) : rowAbsSums(w, rows, cols);
    std::vector<double> gamma(size_t(rows), 0.0);
    // (sum or max of |W|, weights in the group) -> gamma
    auto gammaOf = [&](double stat, double count) {
        const double v = absmax ? stat : count > 0 ? stat / count : 0.0;
        return std::max(multiple * v, kMinGamma);
    };
    auto merge = [&](double a, double b) { return absmax ? std::max(a, b) : a + b; };
    switch (granularity) {
        case QuantGranularity::Tensor: {
            double total = 0;
            for (double s : rowStat) total = merge(total, s);
            std::fill(gamma.begin(), gamma.end(), gammaOf(total, double(n)));
            break;
        }
        case QuantGranularity::Row:
            for (int64_t r = 0; r < rows; ++r)
                gamma[size_t(r)] = gammaOf(rowStat[size_t(r)], double(cols));
            break;
        case QuantGranularity::Cluster: {
            if (int64_t(rowCluster.size()) != rows)
                throw Error("quantizeWeights: per-cluster scales need one cluster per row (" +
                            std::to_string(rows) + "), got " + std::to_string(rowCluster.size()));
            int k = 0;
            for (int64_t r = 0; r < rows; ++r) {
                const int c = rowCluster[size_t(r)];
                if (c < 0)
                    throw Error("quantizeWeights: row " + std::to_string(r) +
                                " has negative cluster " + std::to_string(c));
                k = std::max(k, c + 1);
            }
            std::vector<double> stat(size_t(k), 0.0), count(size_t(k), 0.0);
            for (int64_t r = 0; r < rows; ++r) {
                const auto c = size_t(rowCluster[size_t(r)]);
                stat[c] = merge(stat[c], rowStat[size_t(r)]);
                count[c] += double(cols);
            }
            for (int64_t r = 0; r < rows; ++r) {
                const auto c = size_t(rowCluster[size_t(r)]);
                gamma[size_t(r)] = gammaOf(stat[c], count[c]);
            }
            break;
        }
    }

    // rowScale is the value of code 1: gamma (ternary), gamma/2 (five-level), gamma/127 (int8).
    // Then code = clip(round(W / rowScale)) and value = code * rowScale in every case.
    const int limit = codeLimit(levels);
    const double codeOne = levels == QuantLevels::Ternary ? 1.0 : double(limit);
    q.rowScale.resize(rows);
    for (int64_t r = 0; r < rows; ++r) q.rowScale(r) = float(gamma[size_t(r)] / codeOne);
    q.codes.resize(size_t(n));
    const float* scale = q.rowScale.data();
    int8_t* codes = q.codes.data();
    for (int64_t c = 0; c < cols; ++c)
        quantizeWeightColumn(w + c * rows, scale, rows, float(limit), codes + c * rows,
                             out ? out + c * rows : nullptr);
}

QuantErrorParts quantErrorParts(const float* w, const float* q, int64_t n) {
    // Eight fixed partial sums: vectorizable and still one fixed summation order.
    double d[8] = {}, s[8] = {};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; ++l) {
            const double wl = w[i + l], diff = double(q[i + l]) - wl;
            d[l] += diff * diff;
            s[l] += wl * wl;
        }
    for (int l = 0; i < n; ++i, ++l) {
        const double wl = w[i], diff = double(q[i]) - wl;
        d[l] += diff * diff;
        s[l] += wl * wl;
    }
    QuantErrorParts p;
    for (int l = 0; l < 8; ++l) {
        p.diff2 += d[l];
        p.norm2 += s[l];
    }
    return p;
}

LevelFractions levelFractions(std::span<const int8_t> codes) {
    int64_t neg = 0, zero = 0;
    for (int8_t c : codes) {
        neg += c < 0;
        zero += c == 0;
    }
    LevelFractions f;
    if (codes.empty()) return f;
    const double n = double(codes.size());
    f.neg = double(neg) / n;
    f.zero = double(zero) / n;
    f.pos = double(int64_t(codes.size()) - neg - zero) / n;
    return f;
}

}  // namespace h158
