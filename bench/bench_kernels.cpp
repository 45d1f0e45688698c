// Benchmark of the integer BitLinear kernels against Eigen fp32: the int8 x ternary GEMM at the
// gpt-s / gpt-m layer shapes (N = 2048 tokens) and the packed GEMV at 4096 x 4096, on 1 and 2
// threads. One JSON line per case on stdout. Usage: bench_kernels [--quick | --bitnet]
// --bitnet: the packed GEMV / GEMM on the shapes bitnet.cpp publishes x86 timings for, hot and
// cold cache, with the clock and the read bandwidth measured in the same run (bitnetMain).
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
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
        const double fusedMs = bestMs(reps, [&] {
            quantizeAndBitGemm(p, x.data(), n, xc.data(), inv.data(), yi.data(), path);
        });
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

// ---- --bitnet: beside bitnet.cpp's published kernel timings ---------------------------------
//
// bitnet.cpp (microsoft/BitNet, src/README.md) publishes one-thread I2_S (2 bits per weight,
// AVX2) kernel times on an AMD EPYC 7V13 for [tokens, in] x [in, out]. The 7V13's clock during
// those runs is not published: base 2.45 GHz, boost up to 3.7 GHz; its per-cycle figures here
// assume 3.7 GHz (the fewest cycles it could have used; at 2.45 GHz it used 1.51x fewer).
// llama.cpp's ternary types for reference: TQ1_0 = 256 weights in 54 bytes (1.6875 bpw),
// TQ2_0 = 256 weights in 66 bytes (2.0625 bpw), each with an fp16 scale per block.

struct BitnetShape {
    int64_t tokens, in, out;
    double bitnetMs;  // published, one thread
};

#ifdef EIGEN_VECTORIZE_AVX2
constexpr const char* kEigenAvx2 = "; AVX2 on";
#else
constexpr const char* kEigenAvx2 = "; AVX2 off";
#endif
#ifdef EIGEN_VECTORIZE_FMA
constexpr const char* kEigenFma = "; FMA on";
#else
constexpr const char* kEigenFma = "; FMA off";
#endif

constexpr double kBitnetBoostGhz = 3.7;
constexpr double kBitnetBpw = 2.0;
constexpr int64_t kFlushBytes = int64_t(256) << 20;

// One 8-byte word per 64-byte line is enough to pull every line through the caches; summing all
// words measures the read bandwidth (the loop vectorizes, so it is bound by memory, not adds).
uint64_t sumWords(const uint64_t* p, int64_t n) {
    uint64_t s = 0;
    for (int64_t i = 0; i < n; ++i) s += p[i];
    return s;
}

volatile uint64_t g_sink = 0;

// Streams the whole buffer on the current thread count (each thread's L2 and the shared L3 are
// evicted: 256 MB is 8x the L3).
void flushCaches(const std::vector<uint64_t>& buf) {
    const int64_t n = int64_t(buf.size());
    const int64_t chunk = (n + threadCount() - 1) / threadCount();
    std::vector<uint64_t> part(size_t(threadCount()), 0);
    parallelFor(n, chunk, [&](int64_t i0, int64_t i1) {
        part[size_t(i0 / chunk)] = sumWords(buf.data() + i0, i1 - i0);
    });
    for (uint64_t v : part) g_sink = g_sink + v;
}

// Read bandwidth in GB/s on the current thread count: best of 5 streaming sums.
double readBandwidthGbs(const std::vector<uint64_t>& buf) {
    const double ms = bestMs(5, [&] { flushCaches(buf); });
    return double(buf.size() * sizeof(uint64_t)) / (ms * 1e6);
}

// The core clock from a chain of dependent register adds (1 cycle each on every x86 core since
// the P6): adds / ns = GHz. Best of 3 chains of 40 M adds (~12 ms) on each of the current
// threads, averaged over the threads.
double measureGhz() {
#if defined(__x86_64__)
    const int threads = threadCount();
    std::vector<double> ghz(size_t(threads), 0.0);
    parallelFor(threads, 1, [&](int64_t t0, int64_t) {
        constexpr int64_t kLoops = 400000;  // x 100 adds
        double best = 0;
        for (int rep = 0; rep < 3; ++rep) {
            uint64_t v = 0;
            const auto a = std::chrono::steady_clock::now();
            for (int64_t i = 0; i < kLoops; ++i)
                asm volatile(".rept 100\n\tadd $1, %0\n\t.endr" : "+r"(v));
            const auto b = std::chrono::steady_clock::now();
            best = std::max(best, double(kLoops * 100) /
                                      std::chrono::duration<double, std::nano>(b - a).count());
            g_sink = g_sink + v;
        }
        ghz[size_t(t0)] = best;
    });
    double sum = 0;
    for (double g : ghz) sum += g;
    return sum / threads;
#else
    return 0.0;
#endif
}

std::string loadAverage() {
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    return a + " " + b + " " + c;
}

std::string cpuModel() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

struct Timing {
    double hotMs = 0, coldMs = 0;
};

// Hot: best of many back-to-back runs (at least 5, up to ~0.3 s or 500 runs). Cold: best of
// 3..20 runs, each after flushCaches.
Timing timeHotCold(const std::vector<uint64_t>& flush, const std::function<void()>& fn) {
    Timing t;
    fn();
    const auto once = [&] {
        const auto a = std::chrono::steady_clock::now();
        fn();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a)
            .count();
    };
    t.hotMs = 1e300;
    double total = 0;
    for (int i = 0; i < 500 && (i < 5 || total < 300); ++i) {
        const double ms = once();
        t.hotMs = std::min(t.hotMs, ms);
        total += ms;
    }
    const int coldReps = std::clamp(int(300 / (t.hotMs + 20)), 3, 20);
    t.coldMs = 1e300;
    for (int i = 0; i < coldReps; ++i) {
        flushCaches(flush);
        t.coldMs = std::min(t.coldMs, once());
    }
    return t;
}

struct RunInfo {
    const BitnetShape* shape;
    int threads;
    double ghz, bwGbs;
};

void printBitnetLine(const RunInfo& r, const char* kernel, const char* path, double weightBytes,
                     const char* cache, double ms) {
    const BitnetShape& s = *r.shape;
    const double macs = double(s.tokens) * double(s.in) * double(s.out);
    const double bpw = weightBytes * 8.0 / (double(s.in) * double(s.out));
    const double msCore = ms * r.threads;
    const double cyclesPerMac = msCore * 1e6 * r.ghz / macs;
    const double bitnetCyclesPerMac = s.bitnetMs * 1e6 * kBitnetBoostGhz / macs;
    std::printf(
        "{\"case\":\"bitnet\",\"shape\":\"[%lld,%lld]x[%lld,%lld]\",\"threads\":%d,"
        "\"cache\":\"%s\",\"kernel\":\"%s\",\"path\":\"%s\",\"bpw\":%.3f,\"ms\":%.4f,"
        "\"ms_per_core\":%.4f,\"gops\":%.1f,\"ghz\":%.3f,\"cycles_per_mac\":%.4f,"
        "\"bitnet_ms\":%.3f,\"bitnet_bpw\":%.1f,\"bitnet_cycles_per_mac_at_3.7ghz\":%.4f,"
        "\"per_core_ms_ratio\":%.2f,\"per_cycle_ratio\":%.2f",
        (long long)s.tokens, (long long)s.in, (long long)s.in, (long long)s.out, r.threads, cache,
        kernel, path, bpw, ms, msCore, 2.0 * macs / ms * 1e-6, r.ghz, cyclesPerMac, s.bitnetMs,
        kBitnetBpw, bitnetCyclesPerMac, msCore / s.bitnetMs, cyclesPerMac / bitnetCyclesPerMac);
    if (s.tokens == 1) {  // a GEMV reads every weight once: bytes / bandwidth bounds it below
        const double limitMs = weightBytes / (r.bwGbs * 1e6);
        std::printf(",\"read_bw_gbs\":%.2f,\"bw_limit_ms\":%.4f,\"fraction_of_bw_limit\":%.2f",
                    r.bwGbs, limitMs, limitMs / ms);
    }
    std::printf("}\n");
    std::fflush(stdout);
}

void benchBitnetShape(const BitnetShape& s, const std::vector<uint64_t>& flush,
                      const double bwGbs[2]) {
    const MatF w = gaussian(s.out, s.in, 7, 0.02);    // (out, in): y = W x
    const MatF x = gaussian(s.in, s.tokens, 8, 1.0);  // (in, tokens)
    QuantizedTensor q;
    MatF wq(s.out, s.in);
    quantizeWeights(w.data(), s.out, s.in, QuantLevels::Ternary, QuantGranularity::Tensor, {}, q,
                    wq.data());
    const PackedTernaryMatrix packed = packTernaryMatrix(q);
    PreparedBitWeights prepared;
    prepareBitWeights(q, prepared);
    std::vector<int8_t> xc(size_t(s.in * s.tokens));
    std::vector<float> inv(size_t(s.tokens)), y(size_t(s.out * s.tokens));
    MatF yf(s.out, s.tokens);
    const char* path = bitKernelPathName(bestBitKernelPath());
    for (int threads : {1, 2}) {
        setThreadCount(threads);
        const auto run = [&](const char* kernel, const char* kpath, double bytes,
                             const std::function<void()>& fn) {
            const RunInfo info{&s, threads, measureGhz(), bwGbs[threads - 1]};  // clock now
            const Timing t = timeHotCold(flush, fn);
            printBitnetLine(info, kernel, kpath, bytes, "hot", t.hotMs);
            printBitnetLine(info, kernel, kpath, bytes, "cold", t.coldMs);
        };
        const double packedBytes = double(packed.bytes.size());
        if (s.tokens == 1)
            run("packed_gemv", path, packedBytes, [&] { packedGemv(packed, x.data(), y.data()); });
        run("packed_gemm", path, packedBytes,
            [&] { packedGemm(packed, x.data(), s.tokens, y.data()); });
        run("int8_gemm", path, double(prepared.packed.size()), [&] {
            quantizeAndBitGemm(prepared, x.data(), s.tokens, xc.data(), inv.data(), y.data());
        });
        run("eigen_fp32", "eigen", double(wq.size()) * 4.0, [&] {
            if (s.tokens == 1)  // row blocks, as benchGemv
                parallelFor(s.out, (s.out + threads - 1) / threads, [&](int64_t r0, int64_t r1) {
                    yf.col(0).segment(r0, r1 - r0).noalias() =
                        wq.middleRows(r0, r1 - r0) * x.col(0);
                });
            else
                eigenGemm(wq, x, yf);
        });
    }
}

// Machine line first (clock, bandwidth, what runs), then one line per shape, threads, kernel
// and cache state, each with the clock measured just before that kernel's timings (on a shared
// machine the add chain also sees time taken by other processes, as the kernel does).
int bitnetMain() {
    const BitnetShape shapes[] = {{1, 2048, 2048, 0.058},
                                  {128, 2048, 2048, 5.805},
                                  {2048, 2048, 2048, 93.3},
                                  {128, 2048, 8192, 23.5}};
    std::vector<uint64_t> flush(size_t(kFlushBytes / 8));
    for (size_t i = 0; i < flush.size(); ++i) flush[i] = i;
    double bw[2], ghz[2];
    for (int threads : {1, 2}) {
        setThreadCount(threads);
        bw[threads - 1] = readBandwidthGbs(flush);
        ghz[threads - 1] = measureGhz();
    }
    std::printf(
        "{\"case\":\"bitnet_machine\",\"cpu\":\"%s\",\"kernel_path\":\"%s\","
        "\"blas\":\"Eigen %d.%d.%d fp32 GEMM (%s%s%s), single-threaded per call, columns or rows "
        "split over threads\","
        "\"clock_source\":\"dependent add chain, 1 cycle per add (no cpufreq in sysfs)\","
        "\"clock_1t_ghz\":%.3f,\"clock_2t_ghz\":%.3f,\"read_bw_1t_gbs\":%.2f,"
        "\"read_bw_2t_gbs\":%.2f,\"loadavg_at_start\":\"%s\",\"flush_mb\":%lld,"
        "\"bitnet_clock_assumption\":\"EPYC 7V13 base 2.45 GHz, boost up to 3.7 GHz; bitnet "
        "per-cycle figures at 3.7 GHz\","
        "\"bitnet_bpw\":2.0,\"llama_tq1_0_bpw\":%.4f,\"llama_tq2_0_bpw\":%.4f}\n",
        cpuModel().c_str(), bitKernelPathName(bestBitKernelPath()), EIGEN_WORLD_VERSION,
        EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION, Eigen::SimdInstructionSetsInUse(), kEigenAvx2,
        kEigenFma, ghz[0], ghz[1], bw[0], bw[1], loadAverage().c_str(),
        (long long)(kFlushBytes >> 20), 54 * 8 / 256.0, 66 * 8 / 256.0);
    std::fflush(stdout);
    for (const auto& s : shapes) benchBitnetShape(s, flush, bw);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--bitnet") == 0) return bitnetMain();
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
