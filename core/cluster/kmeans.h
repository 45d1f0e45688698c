// K-Means clustering of the columns of any float matrix X (F, N): greedy k-means++ seeding,
// Lloyd iterations with distances through a matrix product, and Sculley's mini-batch variant.
// Same inputs and seed give the same bits whatever h158::setThreadCount says.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/base/types.h"

namespace h158 {

struct KMeansOptions {
    int k = 8;          // clusters, 1 <= k <= N
    int maxIter = 300;  // Lloyd iterations per run (scikit-learn's default)
    double tol = 1e-4;  // stop when sum_i ||c_i' - c_i||^2 <= tol * (mean variance of features)
    int nInit = 1;      // k-means++ restarts; the run with the lowest inertia is kept
    uint64_t seed = 0;  // restart r draws from Rng(seed, r)
    const MatF* init = nullptr;  // (F, k) warm start (e.g. the previous centroids); one run
    bool trace = false;          // record KMeansResult::trace; no other result bit changes
};

// One Lloyd iteration of the kept run, as KMeansOptions::trace records it.
struct KMeansIteration {
    int iteration = 0;     // 1-based
    double inertia = 0.0;  // of this iteration's assignment, with the centroids it started from
                           // (= inertiaHistory[iteration - 1])
    MatF centroids;        // (F, k) after this iteration's update; the last equal the result's
    int64_t changed = 0;   // labels the assignment changed (all N on the first iteration)
    int reseeded = 0;      // empty clusters the update re-seeded
    double shift = 0.0;    // sum_i ||c_i' - c_i||^2 of the update (the quantity tol bounds)
};

struct KMeansResult {
    MatF centroids;                      // (F, k)
    std::vector<int> labels;             // (N) cluster of each column of X
    std::vector<int64_t> sizes;          // (k) members per cluster
    double inertia = 0.0;                // sum_j ||x_j - c_{labels_j}||^2, final centroids
    int iterations = 0;                  // Lloyd iterations (mini-batch: batches) of the kept run
    bool converged = false;              // stopped by tol or unchanged labels before maxIter
    std::vector<double> inertiaHistory;  // (iterations) inertia of each assignment step with the
                                         // centroids it started from; non-increasing for Lloyd
    int reseeded = 0;                    // empty clusters re-seeded during the kept run
    int totalIterations = 0;             // over all nInit restarts
    std::vector<double> runInertias;     // (nInit) final inertia of each restart, in order
    double seedSeconds = 0.0;            // wall time of k-means++ seeding, all restarts
    double lloydSeconds = 0.0;           // wall time of the Lloyd loops (final assignment and
                                         // inertia included), all restarts
    std::vector<KMeansIteration> trace;  // (iterations) when KMeansOptions::trace, else empty
};

// Lloyd's algorithm after k-means++ seeding (or from opt.init). Each iteration assigns every
// column to its nearest centroid, by ||x - c||^2 = ||x||^2 - 2 c'x + ||c||^2 on centred data with
// C'X computed tile by tile (an AVX-512 micro-kernel fused with the argmin while the centroids fit
// in 64 KiB, Eigen's GEMM beyond; see kmeans_kernel.h), and moves each centroid to the mean of its
// members. A cluster left empty takes the point farthest from its own centroid (counted in
// `reseeded`). Stops on unchanged labels, on the tolerance, or after maxIter; the labels returned
// are always those of the centroids returned. Throws h158::Error (ConfigError for options) naming
// the problem.
KMeansResult kmeans(const MatF& x, const KMeansOptions& opt);

// K-Means one move at a time (for teaching): the two halves of a Lloyd iteration, Assign (every
// point to its nearest centroid) and Update (every centroid to the mean of its members, an empty
// cluster re-seeded with the point farthest from its centroid), run by the very code kmeans()
// loops over, in its centred frame. So from the same start, n moves assign(); update(); give
// kmeans(x, {init, maxIter = n, tol = 0})'s centroids bit for bit (a last assign() its labels),
// and from KMeansStepper(x, k, seed) those of kmeans(x, {k, seed, nInit = 1, maxIter = n, tol = 0}).
// Assign lowers the inertia for fixed centroids, Update for fixed labels: it never increases.
class KMeansStepper {
public:
    // x (F, N) is copied and centred once. Starts from the centroids `init` (F, k), checked as
    // kmeans() checks a warm start (throws ConfigError).
    KMeansStepper(const MatF& x, const MatF& init);
    // Starts from k-means++ seeds drawn as kmeans()'s first restart with this seed draws them.
    KMeansStepper(const MatF& x, int k, uint64_t seed);
    ~KMeansStepper();
    KMeansStepper(KMeansStepper&&) noexcept;
    KMeansStepper& operator=(KMeansStepper&&) noexcept;

    // A new start: k-means++ seeds (as above), or the given centroids (F, k) (e.g. dragged by a
    // student). Either forgets the labels: the next move must be assign().
    void restart(uint64_t seed);
    void setCentroids(const MatF& centroids);

    // Assign: labels <- nearest centroid, ties to the lower index. Returns the labels changed.
    int64_t assign();
    // Update: centroids <- means of their members; each empty cluster takes the point farthest
    // from its own centroid (that point's label follows it). Returns the clusters re-seeded.
    // Throws h158::Error before the first assign() of a start.
    int update();

    bool assigned() const;               // whether labels exist for this start
    MatF centroids() const;              // (F, k) in the data's frame
    const std::vector<int>& labels() const;  // (N) empty before the first assign()
    // sum_j ||x_j - c_{label_j}||^2 computed directly for the current labels and centroids
    // (as KMeansResult::inertia); NaN before the first assign().
    double inertia() const;
    std::vector<int64_t> sizes() const;  // (k) members per cluster (zeros before assign())
    double assignInertia() const;        // the last assign()'s inertia as inertiaHistory has it
    double shift() const;                // the last update()'s sum_i ||c_i' - c_i||^2
    int k() const;
    int64_t size() const;  // N

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

struct MiniBatchOptions {
    int k = 8;
    int batchSize = 1024;  // samples per batch, drawn uniformly with replacement
    int maxIter = 100;     // batches
    double tol = 0.0;      // stop when a batch moves the centroids by <= tol * mean variance
                           // (same measure as KMeansOptions::tol); 0 = run all batches
    uint64_t seed = 0;
    const MatF* init = nullptr;  // (F, k) warm start; otherwise k-means++ on 3 * batchSize samples
};

// Mini-batch K-Means (Sculley 2010, "Web-scale k-means clustering"): each batch is assigned to
// the current centroids, then each sample pulls its centroid c <- c + (x - c) / v with v the
// number of samples that centroid has seen (a per-centre learning rate 1/v). A centroid that no
// sample has reached yet takes the batch sample farthest from its centroid. inertiaHistory holds
// each batch's inertia scaled to N samples; labels, sizes and inertia are over all of X.
KMeansResult miniBatchKmeans(const MatF& x, const MiniBatchOptions& opt);

// Nearest centroid (F, k) of every column of X (F, N), ties to the lower index. When `inertia`
// is given it receives sum_j ||x_j - c_{label_j}||^2.
std::vector<int> assignClusters(const MatF& x, const MatF& centroids, double* inertia = nullptr);

// Centroids (F, k) as the means of the columns of x (F, N) in each cluster of `labels` (N values
// in [0, k)). An empty cluster keeps its column of `fallback` when given (and of x's height),
// else takes the column of x at i N / k.
MatF clusterMeans(const MatF& x, const std::vector<int>& labels, int k, const MatF* fallback);

}  // namespace h158
