// The trainer's clustering: the data clusters (k-means on the dataset's features, later on the
// model's representation, warm-started) and the parameter clusters of per-cluster scales.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/cluster/kmeans.h"
#include "core/cluster/pca.h"
#include "core/train/trainer_impl.h"

namespace h158 {

void Trainer::Impl::refreshDataClusters() {
    const int64_t n = data->trainSize();
    const int k = int(std::min<int64_t>(cfg.cluster.data_k, n));
    MatF features;
    if (!clusters.labels.empty()) {
        std::vector<int64_t> all(static_cast<size_t>(n));
        std::iota(all.begin(), all.end(), 0);
        const QuantState* q = quantArg();
        features = model->representation(effective.data(), q, *data, all);
    }
    const bool refresh = features.size() > 0;
    if (!refresh) features = clusters.labels.empty() ? data->clusterFeatures() : clusters.features;

    KMeansOptions opt;
    opt.k = k;
    opt.maxIter = int(cfg.cluster.max_iter);
    opt.tol = cfg.cluster.tol;
    opt.seed = uint64_t(cfg.run.seed);
    opt.nInit = clusters.labels.empty() ? 3 : 1;
    MatF warm;
    if (!clusters.labels.empty()) {
        // Warm start from the current assignment, expressed in the (possibly new) feature
        // space, so cluster identities (and their colours) carry over.
        warm = clusterMeans(features, clusters.labels, k, &clusters.centroids);
        opt.init = &warm;
    }
    const bool mini = cfg.cluster.algorithm == "minibatch" ||
                      (cfg.cluster.algorithm == "auto" && features.cols() > 20000);
    KMeansResult r;
    if (mini) {
        MiniBatchOptions mb;
        mb.k = k;
        mb.batchSize = 1024;
        mb.maxIter = int(cfg.cluster.max_iter);
        mb.tol = cfg.cluster.tol;
        mb.seed = uint64_t(cfg.run.seed);
        mb.init = opt.init;
        r = miniBatchKmeans(features, mb);
    } else {
        r = kmeans(features, opt);
    }
    clusters.features = std::move(features);
    clusters.centroids = r.centroids;
    clusters.labels = r.labels;
    if (refresh) ++clusters.refreshes;
    clusters.loss.resize(size_t(k), kNoValue);
    sampler->setClusters(clusters.labels, k);

    pca = fitPca2d(clusters.features);
}

void Trainer::Impl::refreshParamClusters() {
    // Rows of each quantized tensor grouped by 1-D K-Means on their mean |w| (the quantity a
    // scale stands for): rows of similar magnitude share one absmean scale.
    const ParamLayout& L = model->layout();
    for (int i = 0; i < L.count(); ++i) {
        const ParamTensor& t = L[i];
        if (!t.quantized) continue;
        const int k = int(std::min<int64_t>(paramK, t.rows));
        const auto W = L.view(params.data(), i);
        MatF f(1, t.rows);
        f.row(0) = W.cwiseAbs().rowwise().mean().transpose();
        auto& labels = rowCluster[size_t(i)];
        KMeansOptions opt;
        opt.k = k;
        opt.maxIter = int(cfg.cluster.max_iter);
        opt.tol = cfg.cluster.tol;
        opt.seed = uint64_t(cfg.run.seed) + uint64_t(i);
        MatF warm;
        if (step > 0) {
            warm = clusterMeans(f, labels, k, nullptr);
            opt.init = &warm;
        }
        if (k <= 1) {
            std::fill(labels.begin(), labels.end(), 0);
            continue;
        }
        // Order clusters by magnitude so cluster 0 is always the smallest-scale group.
        const KMeansResult r = kmeans(f, opt);
        std::vector<int> order(static_cast<size_t>(k));
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(),
                  [&](int a, int b) { return r.centroids(0, a) < r.centroids(0, b); });
        std::vector<int> rank(static_cast<size_t>(k));
        for (int j = 0; j < k; ++j) rank[size_t(order[size_t(j)])] = j;
        for (int64_t row = 0; row < t.rows; ++row) labels[size_t(row)] = rank[size_t(r.labels[size_t(row)])];
    }
}

}  // namespace h158
