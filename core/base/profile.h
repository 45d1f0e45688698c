// Where a training step's time goes: per-part wall time, for `hybrid158-cli bench gpt --profile`.
// Off unless a StepProfiler is alive; then each scope below costs two clock reads.
//
// Two kinds of scope:
//   ProfileRegion  around serial code (a layer call, a stage of the step), on the thread that
//                  owns the profiler; measures wall time. Regions nest: a region's own time is
//                  its wall time minus that of the regions inside it.
//   ProfilePart    around work anywhere, typically one task of a parallelFor inside a region;
//                  measures that thread's time. Parts nest too (an inner part's time is not
//                  counted again in the outer one).
// When a region ends, its own wall time goes to the parts recorded inside it, in proportion to
// their summed thread time (two threads busy 10 ms on GEMM and 5 ms on GELU during a 7.5 ms
// region credit 5 ms to GEMM and 2.5 ms to GELU); with no part recorded it goes to the region's
// own part. So the parts add up to the wall time of the outermost region exactly. (Serial work
// beside parallel tasks in one region would be under-counted by that split: it gets a region of
// its own, as the weights' repacking does.)
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace h158 {

enum class StepPart : int {
    Batch,        // drawing the batch (the sampler, the corpus windows)
    WeightQuant,  // latent -> ternary weights, statistics and flips, repacking for the kernel
    ActQuant,     // BitLinear's RMSNorm + int8 absmax activation quantization
    GemmInt8,     // forward products on the integer kernel (int8 x ternary)
    GemmFwd,      // forward products in fp32 (fp32 block linears, the head)
    GemmDx,       // backward input-gradient products dX = Wᵀ dY (with Wᵀ's transpose; on the
                  // integer kernel with quant.backward=int8)
    GemmDw,       // backward weight-gradient products dW += dY Xᵀ
    GradQuant,    // quant.backward=int8: dY scaled and quantized to int8 per token
    Norm,         // LayerNorm forward and backward, RMSNorm backward
    Attention,    // causal self-attention forward and backward
    Gelu,         // GELU forward and backward
    Loss,         // softmax cross-entropy forward and backward
    Elementwise,  // embedding, residual adds, zeroing the gradient
    Optimizer,    // gradient norm and clipping, AdamW's proposal, Θ += Δ
    TrustRegion,  // the trust-region projection
    Clustering,   // data and parameter re-clustering
    Aux,          // the auxiliary NN (features, feedback, prediction)
    Bookkeeping,  // everything else in the step (metrics, checks)
    Count
};
inline constexpr int kStepParts = int(StepPart::Count);

const char* stepPartKey(StepPart p);   // "gemm_int8", ...: a JSON key
const char* stepPartName(StepPart p);  // "forward GEMM, int8 x ternary", ...: for a table

// Collects the time of the scopes below while alive; at most one at a time (a second throws
// h158::Error). Regions count only on the thread that created it.
class StepProfiler {
public:
    StepProfiler();
    ~StepProfiler();
    StepProfiler(const StepProfiler&) = delete;
    StepProfiler& operator=(const StepProfiler&) = delete;

    // Milliseconds per part since construction or reset().
    std::array<double, kStepParts> ms() const;
    void reset();

private:
    friend class ProfileRegion;
    std::array<double, kStepParts> m_ms{};
    std::thread::id m_owner;
};

class ProfileRegion {
public:
    explicit ProfileRegion(StepPart own);
    ~ProfileRegion();
    ProfileRegion(const ProfileRegion&) = delete;
    ProfileRegion& operator=(const ProfileRegion&) = delete;

private:
    friend class ProfilePart;
    using Clock = std::chrono::steady_clock;
    StepProfiler* m_prof = nullptr;
    ProfileRegion* m_parent = nullptr;
    StepPart m_own;
    Clock::time_point m_start;
    int64_t m_innerNs = 0;  // wall time of the regions inside
    std::array<std::atomic<int64_t>, kStepParts> m_partNs{};
};

class ProfilePart {
public:
    explicit ProfilePart(StepPart p);
    ~ProfilePart();
    ProfilePart(const ProfilePart&) = delete;
    ProfilePart& operator=(const ProfilePart&) = delete;

private:
    using Clock = std::chrono::steady_clock;
    ProfileRegion* m_region = nullptr;
    ProfilePart* m_parent = nullptr;
    StepPart m_part;
    Clock::time_point m_start;
    int64_t m_innerNs = 0;  // thread time of the parts inside
};

}  // namespace h158
