// K-Means: greedy k-means++ seeding, Lloyd iterations with empty-cluster re-seeding, the
// mini-batch variant and the public entry points (the kernels live in kmeans_kernel.cpp).
// GCC 12.2's AVX-512 headers seed some intrinsics with a self-initialised "undefined" vector that
// -Wmaybe-uninitialized reports once Eigen inlines them (GCC bug 105593, fixed in 12.3).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "core/cluster/kmeans.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <utility>

#include "core/base/errors.h"
#include "core/cluster/kmeans_kernel.h"
#include "core/base/parallel.h"
#include "core/base/rng.h"

namespace h158 {
namespace {

using namespace detail;

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Greedy k-means++ (Arthur & Vassilvitskii 2007, in scikit-learn's form): the first centre is a
// uniform sample; each next one is the best of 2 + floor(ln k) candidates drawn with probability
// proportional to D(x)^2 (squared distance to the nearest centre so far), best meaning the lowest
// potential sum_x min(D(x)^2, ||x - candidate||^2).
MatF seedPlusPlus(const Centred& d, int k, Rng& rng) {
    const int64_t f = d.x.rows(), n = d.x.cols();
    const int trials = 2 + int(std::log(double(k)));
    MatF c(f, k);
    c.col(0) = d.x.col(int64_t(rng.below(uint64_t(n))));
    MatF dist;
    candidatePotentials(d, c.leftCols(1), nullptr, dist);
    VecF closest = dist.col(0);  // (N) D(x)^2
    std::vector<double> cum(n);
    MatF cand(f, trials);
    for (int ci = 1; ci < k; ++ci) {
        double run = 0.0;
        for (int64_t j = 0; j < n; ++j) cum[j] = (run += closest[j]);
        for (int l = 0; l < trials; ++l) {
            const double r = rng.uniform() * cum.back();
            const int64_t id = std::lower_bound(cum.begin(), cum.end(), r) - cum.begin();
            cand.col(l) = d.x.col(std::min(id, n - 1));
        }
        const std::vector<double> pot = candidatePotentials(d, cand, closest.data(), dist);
        const int best = int(std::min_element(pot.begin(), pot.end()) - pot.begin());
        c.col(ci) = cand.col(best);
        closest = dist.col(best);
    }
    return c;
}

// scikit-learn's rule for empty clusters: each takes the point farthest from its own centroid
// (the worst-served point), which leaves its old cluster; the next empty one takes the next
// farthest. Points at distance 0 or alone in their cluster are not taken (moving them helps
// nothing). Returns the number of clusters re-seeded; `taken` (when given) receives each moved
// point and its new cluster.
int reseedEmpty(const Centred& d, const MatF& c, const std::vector<int>& labels, MatD& sums,
                std::vector<int64_t>& counts, std::vector<std::pair<int64_t, int>>* taken) {
    const int64_t n = d.x.cols(), k = c.cols();
    if (std::find(counts.begin(), counts.end(), 0) == counts.end()) return 0;
    std::vector<float> dist(n);
    parallelFor(n, 8192, [&](int64_t b, int64_t e) {
        for (int64_t j = b; j < e; ++j) dist[j] = (d.x.col(j) - c.col(labels[j])).squaredNorm();
    });
    int moved = 0;
    for (int64_t i = 0; i < k; ++i) {
        if (counts[i] != 0) continue;
        int64_t far = -1;
        for (int64_t j = 0; j < n; ++j)
            if (dist[j] > 0.0f && counts[labels[j]] > 1 && (far < 0 || dist[j] > dist[far]))
                far = j;
        if (far < 0) break;  // fewer distinct points than clusters
        const VecD xj = d.x.col(far).cast<double>();
        sums.col(labels[far]) -= xj;
        --counts[labels[far]];
        sums.col(i) = xj;
        counts[i] = 1;
        dist[far] = 0.0f;
        if (taken) taken->emplace_back(far, int(i));
        ++moved;
    }
    return moved;
}

}  // namespace

namespace detail {

// The two halves of one Lloyd iteration on centred data, shared by kmeans() and KMeansStepper so
// that both do the same arithmetic. assign() also gathers the members' sums (one pass over the
// data); update() turns them into means. (Outside the anonymous namespace: KMeansStepper holds
// one.)
struct LloydState {
    const Centred& d;
    MatF c;                       // (F, k) centroids, centred
    Tiling t;
    std::vector<int> labels;      // (N) of the last assignment, -1 before the first
    std::vector<Partial> parts;   // (blocks) per-block sums, added in block order
    MatD sums;                    // (F, k) members' sums of the last assignment (re-seeds moved)
    std::vector<int64_t> counts;  // (k)
    MatF next;                    // (F, k) the update's result before it replaces c
    double inertia = 0.0;         // of the last assignment, by the expansion
    int64_t changed = 0;          // labels the last assignment changed
    int moved = 0;                // clusters the last update re-seeded
    double shift = -1.0;          // the last update's sum_i ||c_i' - c_i||^2; -1 before one
    std::vector<std::pair<int64_t, int>> taken;  // points the last update re-seeded with

    LloydState(const Centred& data, MatF start)
        : d(data), c(std::move(start)), t(makeTiling(d.x.cols(), d.x.rows(), c.cols())),
          labels(size_t(d.x.cols()), -1), parts(size_t(t.blocks)) {}

    void assign() {
        const int64_t f = d.x.rows(), k = c.cols();
        const Prepared pc = prepare(c);
        for (auto& p : parts) {
            p.sums.setZero(f, k);
            p.counts.assign(k, 0);
            p.inertia = 0.0;
            p.changed = 0;
        }
        forBlocks(t, d.x.cols(), [&](int64_t blk, int64_t b, int64_t e) {
            assignBlock(d, t, pc, b, e, labels.data(), nullptr, &parts[blk]);
        });
        sums = parts[0].sums;
        counts = parts[0].counts;
        inertia = parts[0].inertia;
        changed = parts[0].changed;
        for (int64_t blk = 1; blk < t.blocks; ++blk) {
            sums += parts[blk].sums;
            for (int64_t i = 0; i < k; ++i) counts[i] += parts[blk].counts[i];
            inertia += parts[blk].inertia;
            changed += parts[blk].changed;
        }
    }

    void update() {
        taken.clear();
        moved = reseedEmpty(d, c, labels, sums, counts, &taken);
        next = c;
        for (int64_t i = 0; i < c.cols(); ++i)
            if (counts[i] > 0) next.col(i) = (sums.col(i) / double(counts[i])).cast<float>();
        shift = (next - c).cast<double>().squaredNorm();
        c.swap(next);
    }
};

}  // namespace detail

namespace {

MatF uncentred(const MatF& c, const VecD& mean) {
    return (c.cast<double>().colwise() + mean).cast<float>();
}

// Lloyd iterations from centroids c (centred, (F, k)); fills r's centroids (centred), labels,
// sizes, inertia, iterations, converged, history, reseeded and (when `trace`) trace.
void lloyd(const Centred& d, MatF c, int maxIter, double tolAbs, bool trace, KMeansResult& r) {
    LloydState s(d, std::move(c));
    for (int it = 0; it < maxIter; ++it) {
        s.assign();
        r.inertiaHistory.push_back(s.inertia);
        r.iterations = it + 1;
        s.update();
        r.reseeded += s.moved;
        if (trace)
            r.trace.push_back({it + 1, s.inertia, uncentred(s.c, d.mean), s.changed, s.moved,
                               s.shift});
        // Unchanged labels give the same sums, so the centroids no longer move (shift == 0).
        if ((s.changed == 0 && s.moved == 0) || s.shift <= tolAbs) {
            r.converged = true;
            break;
        }
    }
    // The labels belong to the centroids before the last update: assign once more unless that
    // update moved nothing.
    if (s.shift != 0.0) assignAll(d, s.c, s.labels.data(), nullptr);
    r.labels = std::move(s.labels);
    r.inertia = exactInertia(d, s.c, r.labels, r.sizes);
    r.centroids = std::move(s.c);
}

void checkK(int k, int64_t n, const char* who) {
    if (k < 1) throw ConfigError(std::string(who) + ": k must be >= 1, got " + std::to_string(k));
    if (k > n)
        throw ConfigError(std::string(who) + ": k = " + std::to_string(k) +
                          " exceeds the number of samples N = " + std::to_string(n));
}

// The warm start moved into the centred frame, after checking its shape and values.
MatF centredInit(const MatF& init, const Centred& d, int k, const char* who) {
    if (init.rows() != d.x.rows() || init.cols() != k)
        throw ConfigError(std::string(who) + ": initial centroids are " +
                          std::to_string(init.rows()) + " x " + std::to_string(init.cols()) +
                          ", expected " + std::to_string(d.x.rows()) + " x " + std::to_string(k) +
                          " (features x k)");
    if (!init.allFinite())
        throw ConfigError(std::string(who) + ": initial centroids contain a non-finite value");
    return (init.cast<double>().colwise() - d.mean).cast<float>();
}

void uncentre(MatF& c, const VecD& mean) { c = uncentred(c, mean); }

}  // namespace

KMeansResult kmeans(const MatF& x, const KMeansOptions& opt) {
    const char* who = "kmeans";
    checkShape(x, who);
    checkK(opt.k, x.cols(), who);
    if (opt.maxIter < 1)
        throw ConfigError("kmeans: maxIter must be >= 1, got " + std::to_string(opt.maxIter));
    if (!(opt.tol >= 0.0) || !std::isfinite(opt.tol))
        throw ConfigError("kmeans: tol must be finite and >= 0, got " + std::to_string(opt.tol));
    if (opt.nInit < 1)
        throw ConfigError("kmeans: nInit must be >= 1, got " + std::to_string(opt.nInit));
    const Centred d = centre(x, who, opt.k);
    const MatF init = opt.init ? centredInit(*opt.init, d, opt.k, who) : MatF();
    const double tolAbs = opt.tol * d.meanVar;

    KMeansResult best;
    int total = 0;
    double seedSeconds = 0.0, lloydSeconds = 0.0;
    const int runs = opt.init ? 1 : opt.nInit;
    std::vector<double> inertias;
    for (int run = 0; run < runs; ++run) {
        auto t0 = Clock::now();
        MatF c = init;
        if (!opt.init) {
            Rng rng(opt.seed, uint64_t(run));
            c = seedPlusPlus(d, opt.k, rng);
        }
        seedSeconds += secondsSince(t0);
        t0 = Clock::now();
        KMeansResult r;
        lloyd(d, std::move(c), opt.maxIter, tolAbs, opt.trace, r);
        lloydSeconds += secondsSince(t0);
        total += r.iterations;
        inertias.push_back(r.inertia);
        if (run == 0 || r.inertia < best.inertia) best = std::move(r);
    }
    best.runInertias = std::move(inertias);
    uncentre(best.centroids, d.mean);
    best.totalIterations = total;
    best.seedSeconds = seedSeconds;
    best.lloydSeconds = lloydSeconds;
    return best;
}

KMeansResult miniBatchKmeans(const MatF& x, const MiniBatchOptions& opt) {
    const char* who = "miniBatchKmeans";
    checkShape(x, who);
    checkK(opt.k, x.cols(), who);
    if (opt.batchSize < 1)
        throw ConfigError("miniBatchKmeans: batchSize must be >= 1, got " +
                          std::to_string(opt.batchSize));
    if (opt.maxIter < 1)
        throw ConfigError("miniBatchKmeans: maxIter must be >= 1, got " +
                          std::to_string(opt.maxIter));
    if (!(opt.tol >= 0.0) || !std::isfinite(opt.tol))
        throw ConfigError("miniBatchKmeans: tol must be finite and >= 0, got " +
                          std::to_string(opt.tol));
    const Centred d = centre(x, who, opt.k);
    const int64_t n = d.x.cols(), k = opt.k, bs = opt.batchSize;
    Rng rng(opt.seed, 0);
    KMeansResult r;

    auto t0 = Clock::now();
    MatF c;
    if (opt.init) {
        c = centredInit(*opt.init, d, opt.k, who);
    } else {
        // k-means++ on a uniform sample (without replacement) of 3 batches, at least 3k columns.
        const int64_t m = std::min(n, std::max(3 * bs, 3 * k));
        std::vector<int64_t> idx(n);
        std::iota(idx.begin(), idx.end(), int64_t(0));
        for (int64_t j = 0; j < m; ++j) std::swap(idx[j], idx[j + int64_t(rng.below(n - j))]);
        idx.resize(m);
        c = seedPlusPlus(gather(d, idx), opt.k, rng);
    }
    r.seedSeconds = secondsSince(t0);

    t0 = Clock::now();
    std::vector<int64_t> seen(k, 0);  // samples each centroid has absorbed: its rate is 1/seen
    std::vector<int64_t> idx(bs);
    std::vector<int> lab(bs);
    std::vector<float> dist(bs);
    MatF before;
    for (int it = 0; it < opt.maxIter; ++it) {
        for (auto& j : idx) j = int64_t(rng.below(uint64_t(n)));
        const Centred batch = gather(d, idx);
        assignAll(batch, c, lab.data(), dist.data());
        r.inertiaHistory.push_back(sumOf(dist.data(), bs) * double(n) / double(bs));
        r.iterations = it + 1;
        if (opt.tol > 0.0) before = c;
        for (int64_t j = 0; j < bs; ++j) {
            const int l = lab[j];
            const float rate = 1.0f / float(++seen[l]);
            c.col(l) += rate * (batch.x.col(j) - c.col(l));
        }
        for (int64_t i = 0; i < k; ++i) {
            if (seen[i] != 0) continue;
            const int64_t far = std::max_element(dist.begin(), dist.end()) - dist.begin();
            if (dist[far] <= 0.0f) break;
            c.col(i) = batch.x.col(far);
            seen[i] = 1;
            dist[far] = 0.0f;
            ++r.reseeded;
        }
        if (opt.tol > 0.0 && (c - before).cast<double>().squaredNorm() <= opt.tol * d.meanVar) {
            r.converged = true;
            break;
        }
    }
    r.labels.resize(n);
    assignAll(d, c, r.labels.data(), nullptr);
    r.inertia = exactInertia(d, c, r.labels, r.sizes);
    r.lloydSeconds = secondsSince(t0);
    r.totalIterations = r.iterations;
    uncentre(c, d.mean);
    r.centroids = std::move(c);
    return r;
}

std::vector<int> assignClusters(const MatF& x, const MatF& centroids, double* inertia) {
    const char* who = "assignClusters";
    checkShape(x, who);
    if (centroids.cols() < 1 || centroids.rows() != x.rows())
        throw ConfigError("assignClusters: centroids are " + std::to_string(centroids.rows()) +
                          " x " + std::to_string(centroids.cols()) + ", expected " +
                          std::to_string(x.rows()) + " x k with k >= 1");
    const Centred d = centre(x, who, centroids.cols());
    const MatF c = centredInit(centroids, d, int(centroids.cols()), who);
    std::vector<int> labels(x.cols());
    assignAll(d, c, labels.data(), nullptr);
    if (inertia) {
        std::vector<int64_t> sizes;
        *inertia = exactInertia(d, c, labels, sizes);
    }
    return labels;
}

MatF clusterMeans(const MatF& x, const std::vector<int>& labels, int k, const MatF* fallback) {
    MatF c = MatF::Zero(x.rows(), k);
    std::vector<int64_t> n(static_cast<size_t>(k), 0);
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
        c.col(labels[size_t(j)]) += x.col(j);
        ++n[size_t(labels[size_t(j)])];
    }
    for (int i = 0; i < k; ++i) {
        if (n[size_t(i)] > 0) c.col(i) /= float(n[size_t(i)]);
        else if (fallback && fallback->rows() == x.rows()) c.col(i) = fallback->col(i);
        else c.col(i) = x.col(Eigen::Index((int64_t(i) * x.cols()) / k));
    }
    return c;
}

// The stepper keeps the data centred once and its centroids in that frame between moves, as
// kmeans()'s loop does (moving them out and back in would change their last bits).
struct KMeansStepper::Impl {
    Centred d;
    int k;
    std::optional<LloydState> s;   // the current start's state (it refers to d)
    bool assigned = false;
    std::vector<int> labels;  // (N) the last assignment with the last update's re-seeds applied

    Impl(const MatF& x, int clusters) : d(centre(x, "KMeansStepper", clusters)), k(clusters) {}
    void start(MatF c) {
        s.emplace(d, std::move(c));
        assigned = false;
        labels.clear();
    }
};

KMeansStepper::KMeansStepper(const MatF& x, const MatF& init) {
    checkShape(x, "KMeansStepper");
    checkK(int(init.cols()), x.cols(), "KMeansStepper");
    m = std::make_unique<Impl>(x, int(init.cols()));
    setCentroids(init);
}

KMeansStepper::KMeansStepper(const MatF& x, int k, uint64_t seed) {
    checkShape(x, "KMeansStepper");
    checkK(k, x.cols(), "KMeansStepper");
    m = std::make_unique<Impl>(x, k);
    restart(seed);
}

KMeansStepper::~KMeansStepper() = default;
KMeansStepper::KMeansStepper(KMeansStepper&&) noexcept = default;
KMeansStepper& KMeansStepper::operator=(KMeansStepper&&) noexcept = default;

void KMeansStepper::restart(uint64_t seed) {
    Rng rng(seed, 0);
    m->start(seedPlusPlus(m->d, k(), rng));
}

void KMeansStepper::setCentroids(const MatF& centroids) {
    m->start(centredInit(centroids, m->d, k(), "KMeansStepper"));
}

int64_t KMeansStepper::assign() {
    m->s->assign();
    m->assigned = true;
    m->labels = m->s->labels;
    return m->s->changed;
}

int KMeansStepper::update() {
    if (!m->assigned)
        throw Error("KMeansStepper: update() needs labels: call assign() first after a new start");
    m->s->update();
    for (const auto& [j, i] : m->s->taken) m->labels[size_t(j)] = i;
    return m->s->moved;
}

bool KMeansStepper::assigned() const { return m->assigned; }
MatF KMeansStepper::centroids() const { return uncentred(m->s->c, m->d.mean); }
const std::vector<int>& KMeansStepper::labels() const { return m->labels; }

double KMeansStepper::inertia() const {
    if (!m->assigned) return std::numeric_limits<double>::quiet_NaN();
    std::vector<int64_t> sizes;
    return exactInertia(m->d, m->s->c, m->labels, sizes);
}

std::vector<int64_t> KMeansStepper::sizes() const {
    std::vector<int64_t> n(size_t(k()), 0);
    for (int l : m->labels) ++n[size_t(l)];
    return n;
}

double KMeansStepper::assignInertia() const { return m->s->inertia; }
double KMeansStepper::shift() const { return m->s->shift; }
int KMeansStepper::k() const { return m->k; }
int64_t KMeansStepper::size() const { return m->d.x.cols(); }

}  // namespace h158
