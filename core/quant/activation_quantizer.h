// BitNet b1.58's per-token 8-bit absmax activation quantization: the one definition that the
// GPT's BitLinear (float and double), the MLP's fake quantization and the integer kernels' input
// quantization all use.
//
// Per column x of n values:  s = 127 / max(max|x|, 1e-5);  code = clip(roundTieStable(x s),
// -128, 127);  x~ = code * (1/s) (the factor the integer kernel applies to its sums too). All in
// the column's precision, as the reference computes in float.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace h158 {

// Rounding of activation codes. t = x s often sits exactly on a tie n + 1/2 in exact arithmetic:
// a token that attends only to itself (position 0) hands W~ x~ = c (integer vector) to the next
// BitLinear, so x s = 127 n_i / n_max there. Rounding noise of a few ulps would then pick the
// code, differently in every implementation (float, double, integer kernel, PyTorch). So a value
// within kTieTolerance |t| of a tie is taken as that tie and rounded half to even, as its exact
// value would be; every other value rounds to nearest, half to even (std::nearbyint in the
// default rounding mode, as torch.round). Written without branches so that loops vectorize.
template <typename T>
inline constexpr T kTieTolerance = sizeof(T) == 4 ? T(0x1p-19) : T(0x1p-30);  // 16 float ulps
template <typename T>
inline T roundTieStable(T t) {
    const T f = std::floor(t);
    const bool tie = std::abs(t - f - T(0.5)) <= kTieTolerance<T> * std::abs(t);
    return tie ? f + (f - T(2) * std::floor(f * T(0.5))) : std::nearbyint(t);  // tie: the even one
}

// max|x| over n values (0 for n = 0), on the IEEE bit patterns with the sign cleared: for non-NaN
// values their unsigned order is the numeric order, and an integer max reduction vectorizes
// without fast-math.
template <typename T>
inline T absMax(const T* x, int64_t n) {
    using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
    constexpr U kMagnitude = ~U(0) >> 1;
    U m = 0;
    for (int64_t i = 0; i < n; ++i) m = std::max(m, std::bit_cast<U>(x[i]) & kMagnitude);
    return std::bit_cast<T>(m);
}

// The codes of one column, as values of T in `codes` (which may alias x), and returns its s.
template <typename T>
inline T int8AbsmaxCodes(const T* x, int64_t n, T* codes) {
    const T s = T(127) / std::max(absMax(x, n), T(1e-5));
    for (int64_t i = 0; i < n; ++i)
        codes[i] = std::min(T(127), std::max(T(-128), roundTieStable(x[i] * s)));
    return s;
}

// x (rows, cols) column-major -> int8 codes (rows, cols) and invScale(c) = 1/s per column, for
// the integer kernels (bit_kernels.h). Throws h158::Error for a negative shape.
void quantizeActivations(const float* x, int64_t rows, int64_t cols, int8_t* codes,
                         float* invScale);

// The same rule on x ⊙ rowScale (each row r times rowScale(r)), in two passes per column without
// storing the product: the codes and invScale of quantizeActivations(x ⊙ rowScale), bit for bit.
// Serial (callers run it inside their own parallel tasks). For the int8 backward's dY (gpt_model).
void quantizeScaledColumns(const float* x, const float* rowScale, int64_t rows, int64_t cols,
                           int8_t* codes, float* invScale);

}  // namespace h158
