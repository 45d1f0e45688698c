// Batch sampling by cluster (policies described in sampler.h).
#include "core/data/sampler.h"

#include <algorithm>
#include <numeric>

#include "core/base/errors.h"
#include "core/base/types.h"

namespace h158 {

SamplerPolicy parseSamplerPolicy(const std::string& s) {
    if (s == "round_robin") return SamplerPolicy::RoundRobin;
    if (s == "random_cluster") return SamplerPolicy::RandomCluster;
    if (s == "proportional") return SamplerPolicy::Proportional;
    if (s == "balanced") return SamplerPolicy::Balanced;
    throw ConfigError("cluster.policy must be round_robin | random_cluster | proportional | "
                      "balanced, got '" + s + "'");
}

ClusterSampler::ClusterSampler(int64_t n, SamplerPolicy policy, uint64_t seed)
    : m_n(n), m_policy(policy), m_rng(seed, 0x5a3b) {
    if (n < 1) throw Error("sampler: no training samples");
    setClusters({}, 0);
}

void ClusterSampler::setClusters(std::span<const int> labels, int k) {
    if (!labels.empty() && int64_t(labels.size()) != m_n)
        throw Error("sampler: one label per sample expected");
    m_drawn.resize(size_t(m_n), 0);
    // Each cluster's new cycle: its members not drawn yet, shuffled, then the drawn ones,
    // shuffled; the cycle goes on from its start.
    std::vector<std::vector<int64_t>> fresh(size_t(std::max(1, k))), drawn(fresh.size());
    for (int64_t i = 0; i < m_n; ++i) {
        const size_t c = labels.empty() ? 0 : size_t(labels[size_t(i)]);
        (m_drawn[size_t(i)] ? drawn : fresh)[c].push_back(i);
    }
    auto shuffle = [&](std::vector<int64_t>& v) {
        for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[m_rng.below(i)]);
    };
    m_members.assign(fresh.size(), {});
    m_pos.assign(fresh.size(), 0);
    for (size_t c = 0; c < fresh.size(); ++c) {
        shuffle(fresh[c]);
        shuffle(drawn[c]);
        m_members[c] = std::move(fresh[c]);
        m_members[c].insert(m_members[c].end(), drawn[c].begin(), drawn[c].end());
    }
}

int64_t ClusterSampler::draw(int c) {
    auto& m = m_members[size_t(c)];
    auto& p = m_pos[size_t(c)];
    if (p >= m.size()) {  // the cluster's cycle is used up: a new one
        for (size_t i = m.size() - 1; i > 0; --i) std::swap(m[i], m[m_rng.below(i + 1)]);
        for (int64_t x : m) m_drawn[size_t(x)] = 0;
        p = 0;
    }
    m_drawn[size_t(m[p])] = 1;
    return m[p++];
}

std::vector<int64_t> ClusterSampler::next(int64_t size, int* cluster) {
    std::vector<int64_t> out;
    out.reserve(size_t(size));
    const int K = int(m_members.size());
    std::vector<int> nonEmpty;
    for (int c = 0; c < K; ++c)
        if (!m_members[size_t(c)].empty()) nonEmpty.push_back(c);
    if (K == 1) {
        for (int64_t i = 0; i < size; ++i) out.push_back(draw(0));
        *cluster = -1;
        return out;
    }
    switch (m_policy) {
    case SamplerPolicy::RoundRobin:
    case SamplerPolicy::RandomCluster: {
        int c;
        if (m_policy == SamplerPolicy::RoundRobin) {
            c = nonEmpty[size_t(m_turn++ % int64_t(nonEmpty.size()))];
        } else {
            int64_t r = int64_t(m_rng.below(uint64_t(m_n)));
            c = 0;
            while (r >= int64_t(m_members[size_t(c)].size())) r -= int64_t(m_members[size_t(c++)].size());
        }
        for (int64_t i = 0; i < size; ++i) out.push_back(draw(c));
        *cluster = c;
        return out;
    }
    case SamplerPolicy::Proportional:
    case SamplerPolicy::Balanced: {
        // Quotas by the largest-remainder method; ties to the lower cluster id.
        std::vector<double> share(static_cast<size_t>(K), 0.0);
        for (int c : nonEmpty)
            share[size_t(c)] = m_policy == SamplerPolicy::Balanced
                                   ? double(size) / double(nonEmpty.size())
                                   : double(size) * double(m_members[size_t(c)].size()) / double(m_n);
        std::vector<int64_t> quota(static_cast<size_t>(K));
        int64_t given = 0;
        for (int c = 0; c < K; ++c) given += quota[size_t(c)] = int64_t(share[size_t(c)]);
        // largest remainder first; equal remainders go round the clusters batch by batch
        const int64_t turn = m_turn++;
        auto rem = [&](int c) { return share[size_t(c)] - double(quota[size_t(c)]); };
        std::vector<int> order(nonEmpty);
        std::sort(order.begin(), order.end(), [&](int a, int b) {
            if (rem(a) != rem(b)) return rem(a) > rem(b);
            return (a - turn % K + K) % K < (b - turn % K + K) % K;
        });
        for (size_t i = 0; given < size; ++given, i = (i + 1) % order.size()) ++quota[size_t(order[i])];
        for (int c = 0; c < K; ++c)
            for (int64_t i = 0; i < quota[size_t(c)]; ++i) out.push_back(draw(c));
        *cluster = -1;
        return out;
    }
    }
    *cluster = -1;
    return out;
}

void ClusterSampler::save(StateArchive& a, const std::string& prefix) const {
    saveRng(a, prefix + ".rng", m_rng);
    a.putLists(prefix + ".members", m_members);
    a.put(prefix + ".positions", std::vector<int64_t>(m_pos.begin(), m_pos.end()));
    a.put(prefix + ".drawn", std::vector<int64_t>(m_drawn.begin(), m_drawn.end()));
    a.putInteger(prefix + ".turn", m_turn);
}

void ClusterSampler::load(const StateArchive& a, const std::string& prefix) {
    const auto members = a.lists(prefix + ".members");
    const auto& pos = a.integers(prefix + ".positions", int64_t(members.size()));
    const auto& drawn = a.integers(prefix + ".drawn", m_n);
    if (members.empty()) throw Error("checkpoint entry '" + prefix + ".members' is empty");
    int64_t total = 0;
    for (size_t c = 0; c < members.size(); ++c) {
        total += int64_t(members[c].size());
        if (pos[c] < 0 || pos[c] > int64_t(members[c].size()))
            throw Error("checkpoint entry '" + prefix + ".positions' is out of range");
        for (int64_t i : members[c])
            if (i < 0 || i >= m_n)
                throw Error("checkpoint entry '" + prefix + ".members' names sample " +
                            std::to_string(i) + " of " + std::to_string(m_n));
    }
    if (total != m_n)
        throw Error("checkpoint entry '" + prefix + ".members' holds " + std::to_string(total) +
                    " samples, this data has " + std::to_string(m_n));
    loadRng(a, prefix + ".rng", m_rng);
    m_members = members;
    m_pos.assign(pos.begin(), pos.end());
    m_drawn.assign(drawn.begin(), drawn.end());
    m_turn = a.integer(prefix + ".turn");
}

}  // namespace h158
