// Benchmark of the integer BitLinear kernels against Eigen fp32: the int8 x ternary GEMM at the
// gpt-s / gpt-m layer shapes (N = 2048 tokens) and the packed GEMV at 4096 x 4096, on 1 and 2
// threads. One JSON line per case on stdout. Usage: bench_kernels [--quick]
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/quant/bit_kernels.h"
#include "core/base/parallel.h"
#include "core/base/rng.h"
#include "core/quant/activation_quantizer.h"
#include "core/quant/weight_quantizer.h"

using namespace h158;

namespace {

// Best (minimum) wall time in ms of `reps` runs after one warm-up run: the figure least
// disturbed by other processes on a shared machine.
double bestMs(int reps, const std::function<void()>& fn) {
    fn();
    double best = 1e300;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        const auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    return best;
}

MatF gaussian(int64_t rows, int64_t cols, uint64_t seed, double sd) {
    Rng rng(seed);
    MatF m(rows, cols);
    for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = float(rng.normal(0.0, sd));
    return m;
}

struct Shape {
    const char* name;
    int64_t out, in;
};

// Eigen's GEMM is single-threaded here (no OpenMP); with 2 threads each thread multiplies its
// own block of columns, as the trainer does.
void eigenGemm(const MatF& w, const MatF& x, MatF& y) {
    const int64_t n = x.cols();
    parallelFor(n, std::max<int64_t>(1, (n + threadCount() - 1) / threadCount()),
                [&](int64_t c0, int64_t c1) {
                    y.middleCols(c0, c1 - c0).noalias() = w * x.middleCols(c0, c1 - c0);
                });
}

void benchGemm(const Shape& s, int64_t n, int threads, int reps) {
    setThreadCount(threads);
    const MatF w = gaussian(s.out, s.in, 1, 0.02);
    const MatF x = gaussian(s.in, n, 2, 1.0);
    MatF y(s.out, n);
    QuantizedTensor q;
    MatF wq(s.out, s.in);
    quantizeWeights(w.data(), s.out, s.in, QuantLevels::Ternary, QuantGranularity::Tensor, {}, q,
                    wq.data());
    PreparedBitWeights p;
    std::vector<int8_t> xc(static_cast<size_t>(s.in * n));
    std::vector<float> inv(static_cast<size_t>(n));
    std::vector<float> yi(static_cast<size_t>(s.out * n));
    quantizeActivations(x.data(), s.in, n, xc.data(), inv.data());

    const double flops = 2.0 * double(s.out) * double(s.in) * double(n);
    const double eigenMs = bestMs(reps, [&] { eigenGemm(wq, x, y); });
    const double prepMs = bestMs(reps, [&] { prepareBitWeights(q, p); });
    const BitKernelPath best = bestBitKernelPath();
    std::string paths;
    for (auto path : {BitKernelPath::Avx512Vnni, BitKernelPath::Avx2, BitKernelPath::Plain}) {
        if (!bitKernelPathSupported(path)) continue;
        const double gemmMs =
            bestMs(reps, [&] { bitGemm(p, xc.data(), inv.data(), n, yi.data(), path); });
        const double fusedMs = bestMs(
            reps, [&] { quantizeAndBitGemm(p, x.data(), n, xc.data(), inv.data(), yi.data(), path); });
        std::printf(
            "{\"case\":\"gemm\",\"shape\":\"%s\",\"out\":%lld,\"in\":%lld,\"n\":%lld,"
            "\"threads\":%d,\"path\":\"%s\",\"best_path\":%s,\"eigen_fp32_ms\":%.4f,"
            "\"eigen_gflops\":%.1f,\"int8_ms\":%.4f,\"int8_gflops_equiv\":%.1f,"
            "\"speedup\":%.2f,\"fused_quant_int8_ms\":%.4f,\"fused_speedup\":%.2f,"
            "\"prepare_ms\":%.4f}\n",
            s.name, (long long)s.out, (long long)s.in, (long long)n, threads,
            bitKernelPathName(path), path == best ? "true" : "false", eigenMs,
            flops / eigenMs * 1e-6, gemmMs, flops / gemmMs * 1e-6, eigenMs / gemmMs, fusedMs,
            eigenMs / fusedMs, prepMs);
        std::fflush(stdout);
    }
}

void benchGemv(int64_t rows, int64_t cols, int threads, int reps) {
    setThreadCount(threads);
    const MatF w = gaussian(rows, cols, 3, 0.02);
    const VecF x = gaussian(cols, 1, 4, 1.0);
    VecF y(rows);
    QuantizedTensor q;
    MatF wq(rows, cols);
    quantizeWeights(w.data(), rows, cols, QuantLevels::Ternary, QuantGranularity::Tensor, {}, q,
                    wq.data());
    const PackedTernaryMatrix m = packTernaryMatrix(q);
    // Eigen's fp32 GEMV (column-major A * x), split into row blocks for 2 threads.
    const double eigenMs = bestMs(reps, [&] {
        parallelFor(rows, (rows + threadCount() - 1) / threadCount(), [&](int64_t r0, int64_t r1) {
            y.segment(r0, r1 - r0).noalias() = wq.middleRows(r0, r1 - r0) * x;
        });
    });
    std::vector<float> yp(static_cast<size_t>(rows));
    const BitKernelPath best = bestBitKernelPath();
    for (auto path : {BitKernelPath::Avx512Vnni, BitKernelPath::Avx2, BitKernelPath::Plain}) {
        if (!bitKernelPathSupported(path)) continue;
        const double packedMs = bestMs(reps, [&] { packedGemv(m, x.data(), yp.data(), path); });
        std::printf(
            "{\"case\":\"gemv\",\"rows\":%lld,\"cols\":%lld,\"threads\":%d,\"path\":\"%s\","
            "\"best_path\":%s,\"eigen_fp32_us\":%.1f,\"packed_us\":%.1f,\"speedup\":%.2f,"
            "\"packed_bytes\":%zu,\"fp32_bytes\":%lld}\n",
            (long long)rows, (long long)cols, threads, bitKernelPathName(path),
            path == best ? "true" : "false", eigenMs * 1e3, packedMs * 1e3, eigenMs / packedMs,
            m.bytes.size(), (long long)(rows * cols * 4));
        std::fflush(stdout);
    }
}

// The per-step quantizers: int8 activations (in, n) and absmean ternary weights (out, in).
void benchQuantizers(int64_t in, int64_t n, int64_t out, int threads, int reps) {
    setThreadCount(threads);
    const MatF x = gaussian(in, n, 5, 1.0);
    std::vector<int8_t> xc(static_cast<size_t>(in * n));
    std::vector<float> inv(static_cast<size_t>(n));
    const double actMs =
        bestMs(reps, [&] { quantizeActivations(x.data(), in, n, xc.data(), inv.data()); });
    const MatF w = gaussian(out, in, 6, 0.02);
    MatF wq(out, in);
    QuantizedTensor q;
    const double wMs = bestMs(reps, [&] {
        quantizeWeights(w.data(), out, in, QuantLevels::Ternary, QuantGranularity::Tensor, {}, q,
                        wq.data());
    });
    std::printf(
        "{\"case\":\"quantize\",\"threads\":%d,\"act_shape\":[%lld,%lld],\"act_quant_ms\":%.4f,"
        "\"act_quant_gbps\":%.1f,\"weight_shape\":[%lld,%lld],\"weight_quant_ms\":%.4f}\n",
        threads, (long long)in, (long long)n, actMs, double(in * n) * 5e-6 / actMs, (long long)out,
        (long long)in, wMs);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const int reps = quick ? 3 : 15;
    const int64_t n = 2048;
    // gpt-s (d 128): qkv, attention out, MLP up, MLP down; gpt-m (d 256) likewise.
    const Shape shapes[] = {{"gpt-s.qkv", 384, 128}, {"gpt-s.proj", 128, 128},
                            {"gpt-s.fc", 512, 128},  {"gpt-s.fc_out", 128, 512},
                            {"gpt-m.qkv", 768, 256}, {"gpt-m.proj", 256, 256},
                            {"gpt-m.fc", 1024, 256}, {"gpt-m.fc_out", 256, 1024}};
    for (int threads : {1, 2})
        for (const auto& s : shapes) benchGemm(s, n, threads, reps);
    for (int threads : {1, 2}) benchGemv(4096, 4096, threads, reps);
    for (int threads : {1, 2}) benchQuantizers(256, n, 1024, threads, reps);
    return 0;
}
