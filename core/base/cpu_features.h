// The x86 instruction-set extensions this CPU has, read once (__builtin_cpu_supports), for the
// kernels that choose their code at run time (sgemm, the bit kernels, k-means' fused kernel), so
// any build runs on any x86-64 CPU. All false on other CPUs.
#pragma once

namespace h158 {

struct CpuFeatures {
    bool avx2 = false, fma = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false,
         avx512vbmi = false;
};

const CpuFeatures& cpuFeatures();

}  // namespace h158
