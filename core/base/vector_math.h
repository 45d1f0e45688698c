// Float kernels chosen at run time for AVX-512, AVX2 or plain x86-64: exp, GELU and its
// derivative, LayerNorm and RMSNorm, a matrix-vector product, for the builds where Eigen's own
// packets are SSE2 (the portable build), where Eigen's expressions would run them at a quarter of
// the CPU's width.
//
// exp and erf are Eigen 3.4's float polynomials (pexp_float, generic_fast_erf_float) written as
// scalar code, each multiply-add a multiply and an add as Eigen's SSE2 packets compute it; a
// kernel is a plain loop that every variant compiles from the same source (GCC vectorizes it
// under the variant's target attribute), and a sum over a column runs in a fixed lane order
// (sumFixedOrder). So every variant computes the same IEEE results, bit for bit, whatever the
// vector width, alignment or tail: only the speed differs. A build with AVX2 (-march=native) keeps
// Eigen's expressions, whose packets use FMA there, so its results do not change
// (kDispatchVectorMath).
#pragma once

#include <bit>
#include <cstdint>

namespace h158 {

// True in a build whose Eigen packets are narrower than what the CPU may run (x86-64 without
// -mavx2): the float GELU, norms, BitLinear's activation quantizer, softmax and cross-entropy
// then call these kernels. False elsewhere, where they keep Eigen's expressions.
#if defined(__x86_64__) && !defined(__AVX2__)
inline constexpr bool kDispatchVectorMath = true;
#else
inline constexpr bool kDispatchVectorMath = false;
#endif

// c ? a : b, std::min and std::max (the same operands on NaN), as bit masks: GCC does not
// if-convert a select of floats under -ftrapping-math, so a loop with a clamp would not vectorize.
[[gnu::always_inline]] inline float selectBits(bool c, float a, float b) {
    const uint32_t m = -uint32_t(c);
    return std::bit_cast<float>((std::bit_cast<uint32_t>(a) & m) |
                                (std::bit_cast<uint32_t>(b) & ~m));
}
[[gnu::always_inline]] inline float minBits(float a, float b) {
    return selectBits(b < a, b, a);
}
[[gnu::always_inline]] inline float maxBits(float a, float b) {
    return selectBits(a < b, b, a);
}

// floor(v) for |v| < 2^22, exact: v + 1.5·2^23 lies in [2^23, 2^24), where floats are the
// integers, so the add rounds v to the nearest integer (the subtraction is exact); one down if
// that rounded up. Vectorizes without SSE4.1's roundps.
[[gnu::always_inline]] inline float floorSmall(float v) {
    constexpr float kMagic = 0x1.8p23f;
    const float t = (v + kMagic) - kMagic;
    return t - selectBits(t > v, 1.0f, 0.0f);
}

// 2^e as a float, for -126 <= e <= 127.
[[gnu::always_inline]] inline float pow2i(int32_t e) {
    return std::bit_cast<float>(uint32_t(e + 127) << 23);
}

// Eigen's pexp_float: x = m ln2 + r with m = floor(x log2 e + 1/2) (ln2 subtracted in two parts),
// exp(r) by a degree-7 polynomial, times 2^m (pldexp_generic: 2^b three times, then 2^(m-3b),
// b = floor(m/4)). The input is clamped to ±88.723; the final max with x passes +inf and NaN.
[[gnu::always_inline]] inline float expPolynomial(float x0) {
    const float x = maxBits(minBits(x0, 88.723f), -88.723f);
    const float m = floorSmall(x * 1.44269504088896341f + 0.5f);
    float r = m * -0.693359375f + x;
    r = m * 2.12194440e-4f + r;
    const float r2 = r * r, r3 = r2 * r;
    float y = 1.9875691500e-4f * r + 1.3981999507e-3f;
    float y1 = 4.1665795894e-2f * r + 1.6666665459e-1f;
    const float y2 = r + 1.0f;
    y = y * r + 8.3334519073e-3f;
    y1 = y1 * r + 5.0000001201e-1f;
    y = y * r3 + y1;
    y = y * r2 + y2;
    const int32_t e = int32_t(m);  // -128 .. 128
    const int32_t b = e >> 2;      // floor(e / 4)
    const float c = pow2i(b);
    const float out = ((y * c) * c) * c * pow2i(e - b - b - b);
    return maxBits(out, x0);
}

// Eigen's generic_fast_erf_float: a 13/8-degree rational function of x clamped to [-4, 4].
[[gnu::always_inline]] inline float erfPolynomial(float a) {
    const float x = maxBits(minBits(a, 4.0f), -4.0f);
    const float x2 = x * x;
    float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
    p = x2 * p + -2.10102402082508e-06f;
    p = x2 * p + -5.69250639462346e-05f;
    p = x2 * p + -7.34990630326855e-04f;
    p = x2 * p + -2.95459980854025e-03f;
    p = x2 * p + -1.60960333262415e-02f;
    p = x * p;
    float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
    q = x2 * q + -1.68282697438203e-03f;
    q = x2 * q + -7.37332916720468e-03f;
    q = x2 * q + -1.42647390514189e-02f;
    return p / q;
}

// Σ term(i) for i < n in a fixed order: kSumLanes partial sums (lane j takes the i ≡ j mod
// kSumLanes of the leading multiple of kSumLanes), added pairwise (lane j + w into lane j, w = 8,
// 4, 2, 1), then the rest in order. Each lane is a plain sequential sum, so vectorized at any
// width it gives the same bits (a plain running sum would not vectorize without reassociation).
inline constexpr int kSumLanes = 16;
template <class Term>
[[gnu::always_inline]] inline float sumFixedOrder(int64_t n, Term term) {
    float acc[kSumLanes] = {};
    int64_t i = 0;
    for (; i + kSumLanes <= n; i += kSumLanes)
        for (int j = 0; j < kSumLanes; ++j) acc[j] += term(i + j);
    for (int w = kSumLanes / 2; w > 0; w /= 2)
        for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
    float s = acc[0];
    for (; i < n; ++i) s += term(i);
    return s;
}

// The instruction sets the kernels are compiled for.
enum class VectorIsa { Avx512, Avx2, Baseline };

// The kernels of one instruction set. Each output may be its first input (in place).
struct VectorMathKernels {
    // out_i = exp(x_i - shift)
    void (*expShifted)(float* out, const float* x, float shift, int64_t n);
    // out_i = x_i Φ(x_i) = x_i/2 (1 + erf(x_i/√2)), as geluForward computes it
    void (*gelu)(float* out, const float* x, int64_t n);
    // dx_i = dy_i (Φ(x_i) + x_i φ(x_i)), φ(x) = exp(-x²/2)/√(2π), as geluBackward computes it
    void (*geluBackward)(float* dx, const float* dy, const float* x, int64_t n);
    // LayerNorm and RMSNorm over N columns of C (gpt_layers.h), as layernormForward /
    // layernormBackward / rmsnormForward / rmsnormBackward compute them but with every sum over
    // a column in sumFixedOrder. layernormBackward adds into dinp and into the partial dw (pw)
    // and db (pb), none of which may overlap another argument; rmsnormBackward may run in place
    // (dinp = dout).
    void (*layernormForward)(float* out, float* mean, float* rstd, const float* inp,
                             const float* weight, const float* bias, int64_t N, int64_t C);
    void (*layernormBackward)(float* dinp, float* pw, float* pb, const float* dout,
                              const float* inp, const float* weight, const float* mean,
                              const float* rstd, int64_t N, int64_t C);
    void (*rmsnormForward)(float* out, float* rstd, const float* inp, int64_t N, int64_t C);
    void (*rmsnormBackward)(float* dinp, const float* dout, const float* inp, const float* rstd,
                            int64_t N, int64_t C);
    // y = W x, W (rows, cols) column-major with column stride ld: y_i = Σ_j W_ij x_j summed in
    // order of j (so at any width). y may not overlap W or x.
    void (*gemv)(float* y, const float* W, int64_t rows, int64_t cols, int64_t ld, const float* x);
};

bool vectorIsaSupported(VectorIsa isa);
const char* vectorIsaName(VectorIsa isa);
// The kernels of `isa`; throws Error when this CPU does not run it.
const VectorMathKernels& vectorMathOn(VectorIsa isa);
// The kernels of the widest instruction set this CPU runs (read once).
const VectorMathKernels& vectorMath();

}  // namespace h158
