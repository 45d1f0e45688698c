// `bench gpt`: training-step throughput of the GPT presets as one JSON line. Two paths:
//   trainer  the real training step, Trainer::step() of the preset as shipped (every hybrid part
//            it turns on: data clustering and its refreshes, auxiliary NN, trust region), on the
//            preset's text; validation, snapshots and text samples off;
//   kernel   the bare step on uniform random bytes, the same work as
//            shared/peers/torch_tinygpt.py (quantize, forward, backward, AdamW).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/cli_args.h"
#include "core/config/config.h"
#include "core/model/gpt/gpt_model.h"
#include "core/base/parallel.h"
#include "core/base/profile.h"
#include "core/base/sgemm.h"
#include "core/train/trainer.h"

namespace h158::cli {
namespace {

int fail(int code, const std::string& msg) {
    std::fprintf(stderr, "hybrid158-cli bench: %s\n", msg.c_str());
    return code;
}

// CPU time of the whole process (all threads), to see how much of the wall time was ours when
// the machine is shared.
double processCpuMs() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) * 1e-6;
}

struct BenchSetup {
    std::string preset, mode, kernel, path, gemm, backward;
    int64_t steps = 0, threads = 0, seed = 0;
    bool profile = false;
};

// The preset's config for the trainer path: fp32 switches quantization off; nothing is
// evaluated, snapshotted or sampled, and the run is one step longer than the timed steps (the
// last step evaluates).
Config trainerConfig(const BenchSetup& s) {
    Config c = presetConfig(s.preset);
    if (s.mode == "fp32") {
        c.quant.weights = "none";
        c.quant.activations = "none";
        c.quant.granularity = "tensor";
    }
    c.quant.kernel = s.kernel;
    c.quant.backward = s.backward;
    c.run.seed = s.seed;
    c.run.threads = s.threads;
    c.run.steps = 3 + s.steps + 1;
    c.run.eval_every = 0;
    c.run.snapshot_every = 0;
    c.sample.every = 0;
    return c;
}

// One training step as the reference does it: (ternary) quantize the block weights into the
// effective vector, forward + backward, then AdamW on the latent weights, written here as one
// fused loop over both cores (torch.optim.AdamW's update: lr 3e-4, betas 0.9/0.999, eps 1e-8,
// decoupled weight decay 0.1 on the tensors the model marks for decay).
class GptBench {
  public:
    GptBench(const Config& cfg, const BenchSetup& s)
        : m_model(GptShape{cfg.model.layers, cfg.model.d_model, cfg.model.heads, cfg.model.context},
                  s.mode == "ternary") {
        const ParamLayout& L = m_model.layout();
        Rng rng(uint64_t(s.seed), 1);
        m_params.assign(size_t(L.size()), 0.0f);
        m_model.init(m_params.data(), rng);
        m_effective = m_params;
        m_grad.assign(m_params.size(), 0.0f);
        m_m.assign(m_params.size(), 0.0f);
        m_v.assign(m_params.size(), 0.0f);
        m_decay.assign(m_params.size(), 0);
        for (const ParamTensor& t : L.tensors())
            std::fill(m_decay.begin() + t.offset, m_decay.begin() + t.offset + t.size(),
                      uint8_t(t.decay));
        m_quant.tensors.resize(size_t(L.count()));
        m_quant.activationsInt8 = true;  // BitNet b1.58, as the reference's ternary mode
        m_quant.kernel = s.kernel;
        m_quant.int8Backward = s.backward == "int8";
        m_batch.size = cfg.run.batch_size;
        m_batch.seqLen = cfg.model.context;
        m_batch.tokens.resize(size_t(m_batch.size * (m_batch.seqLen + 1)));
        Rng data(uint64_t(s.seed), 2);
        for (auto& t : m_batch.tokens) t = int32_t(data.below(256));
    }

    double step() {
        const ParamLayout& L = m_model.layout();
        const QuantState* q = nullptr;
        if (m_model.bitLinear()) {
            const ProfileRegion region(StepPart::WeightQuant);
            for (int i = 0; i < L.count(); ++i) {
                const ParamTensor& t = L[i];
                const float* w = m_params.data() + t.offset;
                float* eff = m_effective.data() + t.offset;
                if (t.quantized)
                    quantizeWeights(w, t.rows, t.cols, QuantLevels::Ternary,
                                    QuantGranularity::Tensor, {}, m_quant.tensors[size_t(i)], eff);
                else
                    std::copy(w, w + t.size(), eff);
            }
            q = &m_quant;
        }
        const float* w = q ? m_effective.data() : m_params.data();
        const LossInfo li = m_model.forwardBackward(w, q, m_batch, m_grad.data());
        const ProfileRegion region(StepPart::Optimizer);
        adamw();
        return li.loss;
    }

    const GptModel& model() const { return m_model; }
    std::string kernel() const {
        return m_model.kernelPath(m_model.bitLinear() ? &m_quant : nullptr);
    }

  private:
    // m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g²;  θ <- θ - lr (m̂ / (sqrt(v̂) + eps) + wd θ)
    void adamw() {
        constexpr double lr = 3e-4, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
        ++m_t;
        const float c1 = float(1.0 / (1.0 - std::pow(b1, double(m_t))));
        const float c2 = float(1.0 / (1.0 - std::pow(b2, double(m_t))));
        float *p = m_params.data(), *m = m_m.data(), *v = m_v.data();
        const float* g = m_grad.data();
        const uint8_t* dec = m_decay.data();
        parallelFor(int64_t(m_params.size()), 1 << 15, [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i) {
                m[i] = float(b1) * m[i] + float(1 - b1) * g[i];
                v[i] = float(b2) * v[i] + float(1 - b2) * g[i] * g[i];
                const float step = m[i] * c1 / (std::sqrt(v[i] * c2) + float(eps));
                p[i] -= float(lr) * (step + (dec[i] ? float(wd) * p[i] : 0.0f));
            }
        });
    }

    GptModel m_model;
    std::vector<float> m_params, m_effective, m_grad, m_m, m_v;  // (params) each
    std::vector<uint8_t> m_decay;                                // (params) 1 = decayed
    int64_t m_t = 0;
    QuantState m_quant;
    Batch m_batch;  // (B, T+1) random bytes, the same every step
};

nlohmann::json runBench(const BenchSetup& s) {
    const Config cfg = presetConfig(s.preset);
    if (cfg.model.kind != "gpt") throw UsageError("--preset " + s.preset + " is not a gpt preset");
    setThreadCount(int(s.threads));
    if (s.gemm != "auto") setSgemmPath(parseSgemmPath(s.gemm));
    std::unique_ptr<GptBench> bare;
    std::unique_ptr<Trainer> trainer;
    std::function<double()> step;
    if (s.path == "kernel") {
        bare = std::make_unique<GptBench>(cfg, s);
        step = [&] { return bare->step(); };
    } else {
        trainer = std::make_unique<Trainer>(trainerConfig(s));
        step = [&] { return trainer->step().loss; };
    }
    const GptModel& m = bare ? bare->model() : dynamic_cast<const GptModel&>(trainer->model());
    const int64_t tokensPerStep = cfg.run.batch_size * cfg.model.context;
    double first = 0, last = 0;
    for (int i = 0; i < 3; ++i) first = step();
    std::vector<double> ms;
    std::optional<StepProfiler> profiler;
    if (s.profile) profiler.emplace();
    const double cpu0 = processCpuMs();
    for (int64_t i = 0; i < s.steps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        {
            const ProfileRegion whole(StepPart::Bookkeeping);
            last = step();
        }
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    const double cpuPerStep = (processCpuMs() - cpu0) / double(s.steps);
    double mean = 0;
    for (double v : ms) mean += v / double(ms.size());
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    const ParamLayout& L = m.layout();
    const int64_t embedding = L[0].size() + L[1].size();  // tok.weight, pos.weight
    const double tokPerS = double(tokensPerStep) / (mean / 1e3);
    const int64_t flops = m.flopsPerToken();
    auto round2 = [](double v) { return std::round(v * 100.0) / 100.0; };
    nlohmann::json hybrid = nullptr;
    if (trainer) {
        const Config& c = trainer->config();
        hybrid = {{"data_k", c.cluster.data_k},
                  {"cluster_refresh_every", c.cluster.refresh_every},
                  {"aux", c.aux.enabled},
                  {"trust", c.trust.enabled ? c.trust.mode : "off"}};
    }
    const QuantState* q = trainer && m.bitLinear() ? &trainer->quantState() : nullptr;
    nlohmann::json profile = nullptr;
    if (profiler) {
        // Per part: ms per step and its share of the profiled wall time (the parts add up to it).
        const auto partMs = profiler->ms();
        double total = 0;
        for (double v : partMs) total += v;
        profile = nlohmann::json::array();
        for (int i = 0; i < kStepParts; ++i) {
            const double perStep = partMs[size_t(i)] / double(s.steps);
            profile.push_back({{"part", stepPartKey(StepPart(i))},
                               {"name", stepPartName(StepPart(i))},
                               {"ms_per_step", std::round(perStep * 1e3) / 1e3},
                               {"share", total > 0 ? std::round(partMs[size_t(i)] / total * 1e4) / 1e4
                                                   : 0.0}});
        }
    }
    return {{"bench", "gpt"},
            {"path", s.path},
            {"path_means", s.path == "kernel"
                               ? "quantize, forward, backward, AdamW on random bytes (the "
                                 "reference's work)"
                               : "Trainer::step of the preset: batch, quantize, forward, "
                                 "backward, auxiliary NN, AdamW, trust region, clustering "
                                 "refreshes; no validation"},
            {"hybrid", hybrid},
            {"preset", s.preset},
            {"mode", s.mode},
            {"backward", s.mode == "ternary" ? s.backward : "fp32"},
            {"layers", m.shape().layers},
            {"d_model", m.shape().dModel},
            {"heads", m.shape().heads},
            {"context", m.shape().context},
            {"batch", cfg.run.batch_size},
            {"threads", threadCount()},
            {"timed_steps", s.steps},
            {"tokens_per_s", std::round(tokPerS * 10.0) / 10.0},
            {"ms_per_step", round2(mean)},
            {"ms_per_step_median", round2(median)},
            {"ms_per_step_min", round2(sorted.front())},
            {"cpu_ms_per_step", round2(cpuPerStep)},
            {"flops_per_token", flops},
            {"flops_formula", "6*params_nonembedding(incl. head) + 12*layers*context*d_model"},
            {"gflops", round2(double(flops) * tokPerS / 1e9)},
            {"params", L.size()},
            {"params_nonembedding", L.size() - embedding},
            {"kernel", bare ? bare->kernel() : m.kernelPath(q)},
            {"gemm", std::string("h158 sgemm (") + sgemmPath() + ")"},
            {"blas", "eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
                         std::to_string(EIGEN_MAJOR_VERSION) + "." +
                         std::to_string(EIGEN_MINOR_VERSION)},
            {"loss_after_warmup", std::round(first * 1e4) / 1e4},
            {"loss_last", std::round(last * 1e4) / 1e4},
            {"profile", profile}};
}

}  // namespace

int benchCommand(int argc, char** argv) {
    Args a("bench", "Training-step throughput of a GPT preset as one JSON line (benchmark: gpt).");
    a.positional("benchmark", "gpt", "The benchmark to run: gpt")
        .option("preset", "gpt-s|gpt-m", "The GPT preset", true)
        .option("mode", "fp32|ternary",
                "fp32 switches quantization off; ternary as the preset ships", true)
        .option("steps", "N", "Timed steps, after 3 warm-up steps (default 20)")
        .option("path", "trainer|kernel",
                "trainer: the preset's Trainer::step(); kernel: the bare step "
                "on random bytes, as the reference (default trainer)")
        .option("threads", "N", "Threads (default 0: all cores)")
        .option("seed", "S", "Random seed (default 0)")
        .option("kernel", "KERNEL",
                "The ternary kernel: auto, avx512_vnni, avx2, reference or float (default auto)")
        .option("gemm", "PATH",
                "The fp32 GEMM kernel: auto, avx512, avx2 or eigen (default auto: the fastest "
                "this CPU runs)")
        .option("backward", "fp32|int8",
                "Ternary mode: the BitLinear input-gradient product in fp32 (default) or int8 "
                "(quant.backward)")
        .flag("profile",
              "Also time the parts of each step (quantization, GEMMs, norms, attention, "
              "optimizer, ...): the JSON gains \"profile\", ms per step and share per part");
    if (const auto rc = a.parse(argc, argv)) return *rc;
    BenchSetup s;
    try {
        if (!a.has("benchmark") || a.get("benchmark") != "gpt")
            throw UsageError(!a.has("benchmark")
                                 ? "missing benchmark name (gpt)"
                                 : "unknown benchmark '" + a.get("benchmark") + "'");
        s.preset = a.require("preset");
        s.mode = a.require("mode");
        if (s.mode != "fp32" && s.mode != "ternary")
            throw UsageError("--mode must be fp32 or ternary, got '" + s.mode + "'");
        s.steps = a.getInt("steps", 20);
        if (s.steps < 1) throw UsageError("--steps must be >= 1");
        s.threads = a.getInt("threads", 0);
        if (s.threads < 0) throw UsageError("--threads must be >= 0");
        s.seed = a.getInt("seed", 0);
        s.kernel = a.get("kernel", "auto");
        if (s.kernel != "auto" && s.kernel != "avx512_vnni" && s.kernel != "avx2" &&
            s.kernel != "reference" && s.kernel != "float")
            throw UsageError(
                "--kernel must be auto, avx512_vnni, avx2, reference or float, got '" + s.kernel +
                "'");
        s.gemm = a.get("gemm", "auto");
        if (s.gemm != "auto" && !parseSgemmPath(s.gemm))
            throw UsageError("--gemm must be auto, avx512, avx2 or eigen, got '" + s.gemm + "'");
        s.profile = a.has("profile");
        s.backward = a.get("backward", "fp32");
        if (s.backward != "fp32" && s.backward != "int8")
            throw UsageError("--backward must be fp32 or int8, got '" + s.backward + "'");
        s.path = a.get("path", "trainer");
        if (s.path != "trainer" && s.path != "kernel")
            throw UsageError("--path must be trainer or kernel, got '" + s.path + "'");
    } catch (const UsageError& e) {
        return a.usageError(e.what());
    }
    try {
        std::printf("%s\n", runBench(s).dump().c_str());
        return 0;
    } catch (const std::exception& e) {
        const int code = exitCodeFor(e);
        return code == 2 ? a.usageError(e.what()) : fail(code, e.what());
    }
}

}  // namespace h158::cli
