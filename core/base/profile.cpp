#include "core/base/profile.h"

#include "core/base/errors.h"

namespace h158 {
namespace {

std::atomic<StepProfiler*> g_profiler{nullptr};
// The innermost open region (set and cleared on the profiler's thread only; parallelFor's
// hand-over to its workers orders those writes before the workers' reads).
std::atomic<ProfileRegion*> g_region{nullptr};
thread_local ProfilePart* t_part = nullptr;

struct PartInfo {
    const char* key;
    const char* name;
};
constexpr PartInfo kParts[kStepParts] = {
    {"batch", "batch"},
    {"weight_quant", "weight quantization, flips, repacking"},
    {"act_quant", "RMSNorm + int8 activation quantization"},
    {"gemm_int8", "forward GEMM, int8 x ternary"},
    {"gemm_fwd_fp32", "forward GEMM, fp32"},
    {"gemm_dx", "backward GEMM dX (fp32; int8 x ternary with backward=int8)"},
    {"gemm_dw", "backward GEMM dW (fp32)"},
    {"grad_quant", "int8 gradient quantization (backward=int8)"},
    {"norm", "LayerNorm fwd+bwd, RMSNorm bwd"},
    {"attention", "attention fwd+bwd"},
    {"gelu", "GELU fwd+bwd"},
    {"loss", "softmax cross-entropy fwd+bwd"},
    {"elementwise", "embedding, residual adds, zeroing"},
    {"optimizer", "grad norm, clipping, AdamW, update"},
    {"trust_region", "trust region"},
    {"clustering", "clustering"},
    {"aux", "auxiliary NN"},
    {"bookkeeping", "bookkeeping"},
};

int64_t nsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                t0)
        .count();
}

}  // namespace

const char* stepPartKey(StepPart p) { return kParts[int(p)].key; }
const char* stepPartName(StepPart p) { return kParts[int(p)].name; }

StepProfiler::StepProfiler() : m_owner(std::this_thread::get_id()) {
    StepProfiler* none = nullptr;
    if (!g_profiler.compare_exchange_strong(none, this))
        throw Error("StepProfiler: another profiler is already collecting");
}

StepProfiler::~StepProfiler() { g_profiler.store(nullptr); }

std::array<double, kStepParts> StepProfiler::ms() const { return m_ms; }

void StepProfiler::reset() { m_ms.fill(0.0); }

ProfileRegion::ProfileRegion(StepPart own) : m_own(own) {
    StepProfiler* p = g_profiler.load(std::memory_order_relaxed);
    if (!p || std::this_thread::get_id() != p->m_owner) return;
    m_prof = p;
    m_parent = g_region.load(std::memory_order_relaxed);
    g_region.store(this, std::memory_order_release);
    m_start = Clock::now();
}

ProfileRegion::~ProfileRegion() {
    if (!m_prof) return;
    const int64_t wall = nsSince(m_start);
    const int64_t own = wall > m_innerNs ? wall - m_innerNs : 0;
    int64_t total = 0;
    for (const auto& ns : m_partNs) total += ns.load(std::memory_order_relaxed);
    if (total > 0) {
        for (int i = 0; i < kStepParts; ++i)
            m_prof->m_ms[size_t(i)] += double(own) * 1e-6 *
                                       double(m_partNs[size_t(i)].load(std::memory_order_relaxed)) /
                                       double(total);
    } else {
        m_prof->m_ms[size_t(m_own)] += double(own) * 1e-6;
    }
    if (m_parent) m_parent->m_innerNs += wall;
    g_region.store(m_parent, std::memory_order_release);
}

ProfilePart::ProfilePart(StepPart p) : m_part(p) {
    if (!g_profiler.load(std::memory_order_relaxed)) return;
    m_region = g_region.load(std::memory_order_acquire);
    if (!m_region) return;
    m_parent = t_part;
    t_part = this;
    m_start = Clock::now();
}

ProfilePart::~ProfilePart() {
    if (!m_region) return;
    const int64_t ns = nsSince(m_start);
    m_region->m_partNs[size_t(m_part)].fetch_add(ns > m_innerNs ? ns - m_innerNs : 0,
                                                 std::memory_order_relaxed);
    if (m_parent) m_parent->m_innerNs += ns;
    t_part = m_parent;
}

}  // namespace h158
