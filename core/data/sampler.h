// Cluster-stratified batch sampler. Policies (cluster.policy), with K data clusters:
//   round_robin     each batch from one cluster, clusters taken in turn 0, 1, ..., K-1, 0, ...
//   random_cluster  each batch from one cluster drawn with probability ∝ its size
//   proportional    every cluster contributes ≈ B·n_c/N samples (largest remainders): the
//                   batch mirrors the data, with the variance of each stratum's share removed
//   balanced        every cluster contributes ≈ B/K samples: small clusters are over-sampled
// Within a cluster, samples are drawn without replacement from a shuffled cycle, reshuffled
// when used up (an epoch per cluster). Without clustering: epochs over all samples. A
// re-clustering keeps the epochs going: each new cluster's cycle starts with its members not yet
// drawn in the current cycle of their old cluster, so no sample comes back before the others
// have had their turn (restarting every cycle at each refresh would draw some samples twice and
// others never, costing held-out loss).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/base/rng.h"
#include "core/base/state_archive.h"

namespace h158 {

enum class SamplerPolicy { RoundRobin, RandomCluster, Proportional, Balanced };
SamplerPolicy parseSamplerPolicy(const std::string& s);

class ClusterSampler {
public:
    ClusterSampler(int64_t n, SamplerPolicy policy, uint64_t seed);
    // labels: one cluster id in [0, k) per sample; empty = no clustering.
    void setClusters(std::span<const int> labels, int k);
    // Next batch of `size` sample indices; *cluster = the single cluster, or -1 when mixed.
    std::vector<int64_t> next(int64_t size, int* cluster);
    int clusterCount() const { return int(m_members.size()); }
    // Where the sampler stands (its cycles, positions and random stream), under prefix + ".".
    // load() throws Error naming the entry when it does not fit this sampler's sample count.
    void save(StateArchive& a, const std::string& prefix) const;
    void load(const StateArchive& a, const std::string& prefix);

private:
    int64_t draw(int c);  // next index from cluster c's cycle

    int64_t m_n;
    SamplerPolicy m_policy;
    Rng m_rng;
    std::vector<std::vector<int64_t>> m_members;  // per cluster: shuffled cycle of its samples
    std::vector<size_t> m_pos;
    std::vector<uint8_t> m_drawn;  // (n) drawn in the current cycle of its cluster
    int64_t m_turn = 0;
};

}  // namespace h158
