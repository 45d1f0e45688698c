// The kernels of vector_math.h: one scalar loop per kernel, inlined into a function per
// instruction set (target attributes), picked once from cpuFeatures().
#include "core/base/vector_math.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "core/base/cpu_features.h"
#include "core/base/errors.h"

namespace h158 {
namespace {

#define H158_VM_INLINE __attribute__((always_inline)) inline

// Each kernel: a loop over the leading multiple of kTail elements, then the last n % kTail
// through a kTail-wide buffer (zero-padded), so that no element falls to a scalar remainder loop
// (a softmax column is often short). Same operations on every element either way. The loops have
// no restrict: an output that is its input (the in-place calls) takes its own loop, where reading
// then writing one element is a plain dependence; partial overlap would take GCC's scalar
// fallback, same results.
constexpr int64_t kTail = 16;

H158_VM_INLINE void expShiftedLoop(float* out, const float* x, float shift, int64_t n) {
    const int64_t body = n - n % kTail;
    if (out == x) {
        for (int64_t i = 0; i < body; ++i) out[i] = expPolynomial(out[i] - shift);
    } else {
        for (int64_t i = 0; i < body; ++i) out[i] = expPolynomial(x[i] - shift);
    }
    if (body == n) return;
    float t[kTail] = {};
    std::copy(x + body, x + n, t);
    for (int64_t i = 0; i < kTail; ++i) t[i] = expPolynomial(t[i] - shift);
    std::copy(t, t + (n - body), out + body);
}

// The operations and their order are geluForward's Eigen expression, 0.5 x (1 + erf(x/√2)).
H158_VM_INLINE float geluOf(float x) {
    constexpr float invSqrt2 = 1.0f / std::numbers::sqrt2_v<float>;
    return 0.5f * x * (1.0f + erfPolynomial(x * invSqrt2));
}

H158_VM_INLINE void geluLoop(float* out, const float* x, int64_t n) {
    const int64_t body = n - n % kTail;
    if (out == x) {
        for (int64_t i = 0; i < body; ++i) out[i] = geluOf(out[i]);
    } else {
        for (int64_t i = 0; i < body; ++i) out[i] = geluOf(x[i]);
    }
    if (body == n) return;
    float t[kTail] = {};
    std::copy(x + body, x + n, t);
    for (int64_t i = 0; i < kTail; ++i) t[i] = geluOf(t[i]);
    std::copy(t, t + (n - body), out + body);
}

// geluBackward's Eigen expression: dy (0.5 (1 + erf(x/√2)) + x/√(2π) exp(-0.5 x²)).
H158_VM_INLINE float geluGradOf(float dy, float x) {
    constexpr float invSqrt2 = 1.0f / std::numbers::sqrt2_v<float>;
    constexpr float invSqrt2Pi = std::numbers::inv_sqrtpi_v<float> * invSqrt2;
    return dy * (0.5f * (1.0f + erfPolynomial(x * invSqrt2)) +
                 x * invSqrt2Pi * expPolynomial(-0.5f * (x * x)));
}

H158_VM_INLINE void geluBackwardLoop(float* dx, const float* dy, const float* x, int64_t n) {
    const int64_t body = n - n % kTail;
    if (dx == dy) {
        for (int64_t i = 0; i < body; ++i) dx[i] = geluGradOf(dx[i], x[i]);
    } else {
        for (int64_t i = 0; i < body; ++i) dx[i] = geluGradOf(dy[i], x[i]);
    }
    if (body == n) return;
    float tdy[kTail] = {}, tx[kTail] = {};
    std::copy(dy + body, dy + n, tdy);
    std::copy(x + body, x + n, tx);
    for (int64_t i = 0; i < kTail; ++i) tdy[i] = geluGradOf(tdy[i], tx[i]);
    std::copy(tdy, tdy + (n - body), dx + body);
}

// y = (x - μ) r w + b per column, μ and the biased variance in sumFixedOrder.
H158_VM_INLINE void layernormForwardLoop(float* out, float* mean, float* rstd, const float* inp,
                                         const float* w, const float* b, int64_t N, int64_t C) {
    for (int64_t j = 0; j < N; ++j) {
        const float* x = inp + j * C;
        float* y = out + j * C;
        const float m = sumFixedOrder(C, [&](int64_t i) { return x[i]; }) / float(C);
        const float v = sumFixedOrder(C,
                                      [&](int64_t i) {
                                          const float d = x[i] - m;
                                          return d * d;
                                      }) /
                        float(C);
        const float s = 1.0f / std::sqrt(v + 1e-5f);
        for (int64_t i = 0; i < C; ++i) y[i] = (x[i] - m) * s * w[i] + b[i];
        mean[j] = m;
        rstd[j] = s;
    }
}

// dx += r (g - mean(g) - n mean(g n)), g = w dy, n = (x - μ) r;  pw += dy n;  pb += dy.
// No buffer aliases another (restrict: GCC gives up on the run-time overlap checks of six).
H158_VM_INLINE void layernormBackwardLoop(float* __restrict dinp, float* __restrict pw,
                                          float* __restrict pb, const float* __restrict dout,
                                          const float* __restrict inp, const float* __restrict w,
                                          const float* mean, const float* rstd, int64_t N,
                                          int64_t C) {
    for (int64_t j = 0; j < N; ++j) {
        const float* x = inp + j * C;
        const float* dy = dout + j * C;
        float* dx = dinp + j * C;
        const float m = mean[j], r = rstd[j];
        const float gMean = sumFixedOrder(C, [&](int64_t i) { return w[i] * dy[i]; }) / float(C);
        const float gnMean =
            sumFixedOrder(C, [&](int64_t i) { return w[i] * dy[i] * ((x[i] - m) * r); }) / float(C);
        for (int64_t i = 0; i < C; ++i) {
            const float n = (x[i] - m) * r;
            dx[i] += (w[i] * dy[i] - gMean - n * gnMean) * r;
            pw[i] += dy[i] * n;
            pb[i] += dy[i];
        }
    }
}

H158_VM_INLINE void rmsnormForwardLoop(float* out, float* rstd, const float* inp, int64_t N,
                                       int64_t C) {
    for (int64_t j = 0; j < N; ++j) {
        const float* x = inp + j * C;
        float* y = out + j * C;
        const float r =
            1.0f /
            std::sqrt(sumFixedOrder(C, [&](int64_t i) { return x[i] * x[i]; }) / float(C) + 1e-6f);
        for (int64_t i = 0; i < C; ++i) y[i] = x[i] * r;
        rstd[j] = r;
    }
}

// dx = (dn - x (r mean(dn x r))) r; the column's sum is taken before dx overwrites dn.
H158_VM_INLINE void rmsnormBackwardColumn(float* dx, const float* dn, const float* x, float r,
                                          int64_t C) {
    const float dnn = sumFixedOrder(C, [&](int64_t i) { return dn[i] * x[i]; }) * r / float(C);
    for (int64_t i = 0; i < C; ++i) dx[i] = (dn[i] - x[i] * (r * dnn)) * r;
}

H158_VM_INLINE void rmsnormBackwardLoop(float* dinp, const float* dout, const float* inp,
                                        const float* rstd, int64_t N, int64_t C) {
    for (int64_t j = 0; j < N; ++j) {
        if (dinp == dout)
            rmsnormBackwardColumn(dinp + j * C, dinp + j * C, inp + j * C, rstd[j], C);
        else
            rmsnormBackwardColumn(dinp + j * C, dout + j * C, inp + j * C, rstd[j], C);
    }
}

// Four columns per pass over y (one load and store of y_i for four products); y_i still takes
// the products one at a time in order of j.
H158_VM_INLINE void gemvLoop(float* __restrict y, const float* __restrict W, int64_t rows,
                             int64_t cols, int64_t ld, const float* __restrict x) {
    for (int64_t i = 0; i < rows; ++i) y[i] = 0.0f;
    int64_t j = 0;
    for (; j + 4 <= cols; j += 4) {
        const float *w0 = W + j * ld, *w1 = w0 + ld, *w2 = w1 + ld, *w3 = w2 + ld;
        const float x0 = x[j], x1 = x[j + 1], x2 = x[j + 2], x3 = x[j + 3];
        for (int64_t i = 0; i < rows; ++i)
            y[i] = (((y[i] + w0[i] * x0) + w1[i] * x1) + w2[i] * x2) + w3[i] * x3;
    }
    for (; j < cols; ++j) {
        const float* w = W + j * ld;
        const float xj = x[j];
        for (int64_t i = 0; i < rows; ++i) y[i] = y[i] + w[i] * xj;
    }
}

// One set of kernels per instruction set: the same loops, compiled under its target attribute.
#define H158_VM_KERNELS(NAME, ATTR)                                                          \
    ATTR void expShifted##NAME(float* out, const float* x, float shift, int64_t n) {         \
        expShiftedLoop(out, x, shift, n);                                                    \
    }                                                                                        \
    ATTR void gelu##NAME(float* out, const float* x, int64_t n) {                            \
        geluLoop(out, x, n);                                                                 \
    }                                                                                        \
    ATTR void geluBackward##NAME(float* dx, const float* dy, const float* x, int64_t n) {    \
        geluBackwardLoop(dx, dy, x, n);                                                      \
    }                                                                                        \
    ATTR void layernormForward##NAME(float* out, float* mean, float* rstd, const float* inp, \
                                     const float* w, const float* b, int64_t N, int64_t C) { \
        layernormForwardLoop(out, mean, rstd, inp, w, b, N, C);                              \
    }                                                                                        \
    ATTR void layernormBackward##NAME(float* dinp, float* pw, float* pb, const float* dout,  \
                                      const float* inp, const float* w, const float* mean,   \
                                      const float* rstd, int64_t N, int64_t C) {             \
        layernormBackwardLoop(dinp, pw, pb, dout, inp, w, mean, rstd, N, C);                 \
    }                                                                                        \
    ATTR void rmsnormForward##NAME(float* out, float* rstd, const float* inp, int64_t N,     \
                                   int64_t C) {                                              \
        rmsnormForwardLoop(out, rstd, inp, N, C);                                            \
    }                                                                                        \
    ATTR void rmsnormBackward##NAME(float* dinp, const float* dout, const float* inp,        \
                                    const float* rstd, int64_t N, int64_t C) {               \
        rmsnormBackwardLoop(dinp, dout, inp, rstd, N, C);                                    \
    }                                                                                        \
    ATTR void gemv##NAME(float* y, const float* W, int64_t rows, int64_t cols, int64_t ld,   \
                         const float* x) {                                                   \
        gemvLoop(y, W, rows, cols, ld, x);                                                   \
    }                                                                                        \
    constexpr VectorMathKernels k##NAME{expShifted##NAME,        gelu##NAME,                 \
                                        geluBackward##NAME,      layernormForward##NAME,     \
                                        layernormBackward##NAME, rmsnormForward##NAME,       \
                                        rmsnormBackward##NAME,   gemv##NAME};

H158_VM_KERNELS(Baseline, )
#if defined(__x86_64__) && defined(__GNUC__)
H158_VM_KERNELS(Avx2, __attribute__((target("avx2"))))
H158_VM_KERNELS(Avx512, __attribute__((target("avx512f"))))
#else
constexpr VectorMathKernels kAvx2 = kBaseline, kAvx512 = kBaseline;
#endif

}  // namespace

bool vectorIsaSupported(VectorIsa isa) {
    switch (isa) {
        case VectorIsa::Avx512:
            return cpuFeatures().avx512f && cpuFeatures().avx2;
        case VectorIsa::Avx2:
            return cpuFeatures().avx2;
        case VectorIsa::Baseline:
            return true;
    }
    return false;
}

const char* vectorIsaName(VectorIsa isa) {
    switch (isa) {
        case VectorIsa::Avx512:
            return "avx512";
        case VectorIsa::Avx2:
            return "avx2";
        case VectorIsa::Baseline:
            return "baseline";
    }
    return "?";
}

const VectorMathKernels& vectorMathOn(VectorIsa isa) {
    if (!vectorIsaSupported(isa))
        throw Error(std::string("vectorMathOn: this CPU does not run ") + vectorIsaName(isa));
    switch (isa) {
        case VectorIsa::Avx512:
            return kAvx512;
        case VectorIsa::Avx2:
            return kAvx2;
        case VectorIsa::Baseline:
            break;
    }
    return kBaseline;
}

const VectorMathKernels& vectorMath() {
    static const VectorMathKernels& best = vectorIsaSupported(VectorIsa::Avx512) ? kAvx512
                                           : vectorIsaSupported(VectorIsa::Avx2) ? kAvx2
                                                                                 : kBaseline;
    return best;
}

}  // namespace h158
