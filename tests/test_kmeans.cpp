// Tests of K-Means (Lloyd, k-means++, mini-batch, the fused and GEMM kernels) and of the CLI's
// `kmeans` command end to end.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/base/errors.h"
#include "core/data/csv.h"
#include "core/cluster/kmeans.h"
#include "core/cluster/kmeans_kernel.h"
#include "core/base/parallel.h"
#include "core/base/rng.h"

using namespace h158;

namespace {

struct Blobs {
    MatF x;                  // (F, N)
    std::vector<int> truth;  // (N) generating centre
    MatF centres;            // (F, c)
};

// `c` Gaussian blobs of standard deviation `std` around centres uniform in [-box, box]^F, in
// random order.
Blobs makeBlobs(int64_t n, int64_t f, int c, double std, double box, uint64_t seed) {
    Rng rng(seed, 99);
    Blobs b;
    b.centres.resize(f, c);
    for (int64_t i = 0; i < b.centres.size(); ++i)
        b.centres.data()[i] = float(rng.uniform(-box, box));
    b.x.resize(f, n);
    b.truth.resize(size_t(n));
    for (int64_t j = 0; j < n; ++j) {
        const int ci = int(rng.below(uint64_t(c)));
        b.truth[size_t(j)] = ci;
        for (int64_t q = 0; q < f; ++q) b.x(q, j) = b.centres(q, ci) + float(std * rng.normal());
    }
    return b;
}

// Blobs of unit noise whose centres are at least ~50 apart: centre i sits 60 * (1 + i / F) out
// along axis i mod F, plus a jitter of +-5 in every feature.
Blobs separatedBlobs(int64_t n, int64_t f, int c, uint64_t seed) {
    Blobs b = makeBlobs(n, f, c, 1.0, 5.0, seed);
    for (int i = 0; i < c; ++i) b.centres(i % f, i) += float(60 * (1 + i / f));
    Rng rng(seed, 5);
    for (int64_t j = 0; j < n; ++j)
        for (int64_t q = 0; q < f; ++q)
            b.x(q, j) = b.centres(q, b.truth[size_t(j)]) + float(rng.normal());
    return b;
}

// True when `labels` equals `truth` up to a renaming of the clusters.
bool samePartition(const std::vector<int>& labels, const std::vector<int>& truth) {
    std::map<int, int> fwd, back;
    for (size_t j = 0; j < labels.size(); ++j) {
        auto [a, newA] = fwd.emplace(truth[j], labels[j]);
        auto [b, newB] = back.emplace(labels[j], truth[j]);
        if (a->second != labels[j] || b->second != truth[j]) return false;
    }
    return true;
}

// Nearest centroid by direct differences in double: the reference for the fast kernels.
double naiveAssign(const MatF& x, const MatF& c, std::vector<int>& labels,
                   std::vector<double>* second = nullptr) {
    labels.assign(size_t(x.cols()), 0);
    if (second) second->assign(size_t(x.cols()), 0.0);
    double total = 0.0;
    for (int64_t j = 0; j < x.cols(); ++j) {
        double best = std::numeric_limits<double>::infinity(), next = best;
        for (int64_t i = 0; i < c.cols(); ++i) {
            const double d = (x.col(j).cast<double>() - c.col(i).cast<double>()).squaredNorm();
            if (d < best) {
                next = best;
                best = d;
                labels[size_t(j)] = int(i);
            } else {
                next = std::min(next, d);
            }
        }
        if (second) (*second)[size_t(j)] = next - best;
        total += best;
    }
    return total;
}

QString errorOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

}  // namespace

class TestKMeans : public QObject {
    Q_OBJECT

  private slots:
    void init() { setThreadCount(0); }

    void recoversSeparatedClusters_data() {
        QTest::addColumn<int>("f");
        QTest::addColumn<int>("k");
        QTest::addColumn<int>("nInit");
        QTest::newRow("2-D, k=3") << 2 << 3 << 1;
        QTest::newRow("16-D, k=8") << 16 << 8 << 1;
        QTest::newRow("40-D, k=5") << 40 << 5 << 1;
        QTest::newRow("3-D, k=6, 3 restarts") << 3 << 6 << 3;
    }
    void recoversSeparatedClusters() {
        QFETCH(int, f);
        QFETCH(int, k);
        QFETCH(int, nInit);
        const Blobs b = separatedBlobs(3000, f, k, 11);
        KMeansOptions opt;
        opt.k = k;
        opt.nInit = nInit;
        opt.seed = 3;
        const KMeansResult r = kmeans(b.x, opt);
        QVERIFY(samePartition(r.labels, b.truth));
        QVERIFY(r.converged);
        QCOMPARE(r.reseeded, 0);
        QCOMPARE(int(r.inertiaHistory.size()), r.iterations);
        // The centroids are the generating centres up to the noise of ~3000/k samples.
        for (int i = 0; i < k; ++i) {
            float nearest = std::numeric_limits<float>::infinity();
            for (int c = 0; c < k; ++c)
                nearest = std::min(nearest, (r.centroids.col(i) - b.centres.col(c)).norm());
            QVERIFY2(nearest < 0.5f, qPrintable(QString::number(nearest)));
        }
    }

    void knownAnswerTiny() {
        // 1-D points {0, 1, 10, 11, 12}: the optimum for k = 2 is {0.5, 11} with inertia
        // 0.25 + 0.25 + 1 + 0 + 1 = 2.5, whatever the seeding.
        MatF x(1, 5);
        x << 0, 10, 1, 12, 11;
        KMeansOptions opt;
        opt.k = 2;
        for (uint64_t seed = 0; seed < 5; ++seed) {
            opt.seed = seed;
            const KMeansResult r = kmeans(x, opt);
            // Centring (x - 6.8) in float costs a few ulps, hence the tolerances.
            QVERIFY(std::abs(r.inertia - 2.5) < 1e-5);
            const int low = r.labels[0];
            QCOMPARE(r.labels, (std::vector<int>{low, 1 - low, low, 1 - low, 1 - low}));
            QVERIFY(std::abs(r.centroids(0, low) - 0.5f) < 1e-6f);
            QVERIFY(std::abs(r.centroids(0, 1 - low) - 11.0f) < 1e-5f);
            QCOMPARE(r.sizes[size_t(low)], int64_t(2));
            QVERIFY(r.converged);
        }
        // A warm start at {0, 1}: step 1 assigns {0} | {1, 10, 11, 12} -> {0, 8.5}; step 2
        // assigns {0, 1} | {10, 11, 12} -> {0.5, 11}; step 3 changes no label.
        MatF init(1, 2);
        init << 0, 1;
        opt.init = &init;
        const KMeansResult w = kmeans(x, opt);
        QCOMPARE(w.iterations, 3);
        QCOMPARE(w.labels, (std::vector<int>{0, 1, 0, 1, 1}));
        QVERIFY(std::abs(w.centroids(0, 0) - 0.5f) < 1e-6f);
        QVERIFY(std::abs(w.centroids(0, 1) - 11.0f) < 1e-5f);
        QCOMPARE(int(w.inertiaHistory.size()), 3);
        QVERIFY(std::abs(w.inertiaHistory[0] - (81 + 100 + 121)) < 1e-3);
        QVERIFY(std::abs(w.inertiaHistory[2] - 2.5) < 1e-4);
    }

    void deterministicBySeed() {
        // A hard case (uniform data, no cluster structure) where seeds do lead to different local
        // optima.
        Rng rng(5);
        MatF x(2, 4000);
        for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = float(rng.uniform());
        KMeansOptions opt;
        opt.k = 12;
        opt.seed = 42;
        const KMeansResult a = kmeans(x, opt), b = kmeans(x, opt);
        QVERIFY(a.centroids == b.centroids);
        QVERIFY(a.labels == b.labels);
        QCOMPARE(a.inertia, b.inertia);
        QVERIFY(a.inertiaHistory == b.inertiaHistory);
        int differ = 0;
        for (uint64_t s = 1; s <= 4; ++s) {
            opt.seed = 42 + s;
            differ += !(kmeans(x, opt).centroids == a.centroids);
        }
        QCOMPARE(differ, 4);
    }

    void plusPlusSeedsOnePerBlob() {
        // Greedy k-means++ on 8 far-apart blobs puts one seed in each, so a single Lloyd step
        // already separates them.
        const Blobs b = separatedBlobs(4000, 2, 8, 21);
        KMeansOptions opt;
        opt.k = 8;
        opt.maxIter = 1;
        int perfect = 0;
        for (uint64_t s = 0; s < 10; ++s) {
            opt.seed = s;
            perfect += samePartition(kmeans(b.x, opt).labels, b.truth);
        }
        QVERIFY2(perfect >= 9, qPrintable(QString::number(perfect)));
    }

    void emptyClusterIsReseeded() {
        // A warm start with one centroid far from all data: it wins no point in the first
        // assignment, so it must be re-seeded, and every cluster ends non-empty.
        const Blobs b = separatedBlobs(2000, 3, 4, 8);
        MatF init = b.centres;
        init.col(2).setConstant(1e4f);
        KMeansOptions opt;
        opt.k = 4;
        opt.init = &init;
        const KMeansResult r = kmeans(b.x, opt);
        QVERIFY(r.reseeded >= 1);
        std::vector<int64_t> count(4, 0);
        for (int l : r.labels) ++count[size_t(l)];
        for (int i = 0; i < 4; ++i) {
            QVERIFY2(count[size_t(i)] > 0, qPrintable(QString("cluster %1 empty").arg(i)));
            QCOMPARE(r.sizes[size_t(i)], count[size_t(i)]);
        }
        QVERIFY(r.centroids.allFinite());
        // Two centroids start on top of each other: one of them is emptied and re-seeded too.
        init = b.centres;
        init.col(1) = init.col(0);
        const KMeansResult t = kmeans(b.x, opt);
        QVERIFY(t.reseeded >= 1);
        QVERIFY(std::all_of(t.sizes.begin(), t.sizes.end(), [](int64_t s) { return s > 0; }));
    }

    void lloydInertiaNonIncreasing_data() {
        QTest::addColumn<int>("f");
        QTest::addColumn<int>("k");
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("maxIter");
        QTest::newRow("2-D") << 2 << 9 << 6000 << 300;
        QTest::newRow("12-D") << 12 << 16 << 6000 << 300;
        QTest::newRow("48-D") << 48 << 7 << 6000 << 300;
        // F x k past 16384 floats: the Eigen GEMM path.
        QTest::newRow("130-D, k=128 (GEMM path)") << 130 << 128 << 3000 << 30;
    }
    void lloydInertiaNonIncreasing() {
        QFETCH(int, f);
        QFETCH(int, k);
        QFETCH(int, n);
        QFETCH(int, maxIter);
        // Overlapping blobs far from the origin (the centring matters) take many iterations.
        Blobs b = makeBlobs(n, f, 2 * k, 3.0, 6.0, 4);
        b.x.array() += 1000.0f;
        KMeansOptions opt;
        opt.k = k;
        opt.tol = 0.0;
        opt.maxIter = maxIter;
        opt.seed = 1;
        const KMeansResult r = kmeans(b.x, opt);
        QVERIFY(r.iterations >= 5);
        for (size_t i = 1; i < r.inertiaHistory.size(); ++i)
            QVERIFY2(r.inertiaHistory[i] <= r.inertiaHistory[i - 1] * (1 + 1e-6),
                     qPrintable(QString("step %1: %2 > %3")
                                    .arg(i)
                                    .arg(r.inertiaHistory[i], 0, 'g', 12)
                                    .arg(r.inertiaHistory[i - 1], 0, 'g', 12)));
        std::vector<int> ref;
        const double naive = naiveAssign(b.x, r.centroids, ref);
        QVERIFY(std::abs(r.inertia - naive) <= 1e-5 * naive);
        QVERIFY(r.inertia <= r.inertiaHistory.front());
    }

    void toleranceStopsEarly() {
        const Blobs b = makeBlobs(5000, 2, 20, 2.0, 10.0, 6);
        KMeansOptions opt;
        opt.k = 10;
        opt.tol = 0.0;
        const KMeansResult exact = kmeans(b.x, opt);
        opt.tol = 1e-2;
        const KMeansResult loose = kmeans(b.x, opt);
        QVERIFY(loose.converged);
        QVERIFY2(loose.iterations < exact.iterations,
                 qPrintable(QString("%1 vs %2").arg(loose.iterations).arg(exact.iterations)));
        opt.maxIter = 2;
        opt.tol = 0.0;
        const KMeansResult capped = kmeans(b.x, opt);
        QCOMPARE(capped.iterations, 2);
        QVERIFY(!capped.converged);
        // The labels returned belong to the centroids returned, even when stopped early.
        QCOMPARE(assignClusters(b.x, capped.centroids), capped.labels);
    }

    void threadCountIndependent_data() {
        QTest::addColumn<int>("f");
        QTest::addColumn<int>("k");
        QTest::addColumn<int>("n");
        QTest::addColumn<bool>("miniBatch");
        QTest::newRow("2-D Lloyd") << 2 << 7 << 40000 << false;
        QTest::newRow("16-D Lloyd") << 16 << 7 << 40000 << false;
        QTest::newRow("40-D Lloyd") << 40 << 7 << 40000 << false;
        QTest::newRow("130-D Lloyd, k=128 (GEMM path)") << 130 << 128 << 12000 << false;
        QTest::newRow("5-D mini-batch") << 5 << 7 << 40000 << true;
    }
    void threadCountIndependent() {
        QFETCH(int, f);
        QFETCH(int, k);
        QFETCH(int, n);
        QFETCH(bool, miniBatch);
        const Blobs b = makeBlobs(n, f, 2 * k, 2.5, 8.0, 9);
        const auto run = [&] {
            if (miniBatch) {
                MiniBatchOptions mo;
                mo.k = k;
                mo.batchSize = 4096;
                mo.maxIter = 20;
                return miniBatchKmeans(b.x, mo);
            }
            KMeansOptions opt;
            opt.k = k;
            opt.nInit = 2;
            opt.maxIter = 20;
            return kmeans(b.x, opt);
        };
        setThreadCount(1);
        const KMeansResult one = run();
        setThreadCount(2);
        const KMeansResult two = run();
        QVERIFY(one.centroids == two.centroids);  // bit for bit
        QVERIFY(one.labels == two.labels);
        QVERIFY(one.inertiaHistory == two.inertiaHistory);
        QCOMPARE(one.inertia, two.inertia);
    }

    void kernelsAgreeWithNaive_data() {
        QTest::addColumn<int>("f");
        QTest::addColumn<int>("k");
        QTest::addColumn<int>("n");
        QTest::newRow("F=1, k=3, ragged N") << 1 << 3 << 1001;
        QTest::newRow("F=2, k=16") << 2 << 16 << 5000;
        QTest::newRow("F=7, k=5 (padded k)") << 7 << 5 << 4097;
        QTest::newRow("F=32, k=9") << 32 << 9 << 3000;
        QTest::newRow("F=130, k=130") << 130 << 130 << 1000;
    }
    void kernelsAgreeWithNaive() {
        QFETCH(int, f);
        QFETCH(int, k);
        QFETCH(int, n);
        const Blobs b = makeBlobs(n, f, k, 4.0, 5.0, uint64_t(f * 100 + k));
        const MatF c = b.centres;
        std::vector<int> ref;
        std::vector<double> margin;
        naiveAssign(b.x, c, ref, &margin);
        for (bool fused : {true, false}) {
            const detail::Centred d = detail::centre(b.x, "test", k, fused);
#if defined(__x86_64__) && defined(__GNUC__)
            // The fused kernel serves centroids of up to 16384 floats on AVX-512 machines.
            if (__builtin_cpu_supports("avx512f"))
                QCOMPARE(d.fused, fused && int64_t(f) * ((k + 3) / 4 * 4) <= 16384);
#endif
            const MatF cc = (c.cast<double>().colwise() - d.mean).cast<float>();
            std::vector<int> labels(static_cast<size_t>(n));
            std::vector<float> dist(static_cast<size_t>(n));
            detail::assignAll(d, cc, labels.data(), dist.data());
            int mismatched = 0;
            for (int j = 0; j < n; ++j) {
                const double exact =
                    (b.x.col(j).cast<double>() - c.col(labels[size_t(j)]).cast<double>())
                        .squaredNorm();
                // A different label is only allowed on a near tie.
                if (labels[size_t(j)] != ref[size_t(j)] && margin[size_t(j)] > 1e-3 * (1 + exact))
                    ++mismatched;
                QVERIFY(std::abs(dist[size_t(j)] - exact) <= 1e-4 * (1 + exact));
            }
            QCOMPARE(mismatched, 0);
        }
    }

    void miniBatchNearLloyd() {
        const Blobs b = makeBlobs(30000, 4, 6, 1.0, 10.0, 12);
        KMeansOptions opt;
        opt.k = 6;
        opt.nInit = 3;
        const KMeansResult lloyd = kmeans(b.x, opt);
        MiniBatchOptions mo;
        mo.k = 6;
        mo.batchSize = 1024;
        mo.maxIter = 100;
        mo.seed = 1;
        const KMeansResult mb = miniBatchKmeans(b.x, mo);
        QCOMPARE(mb.iterations, 100);
        QCOMPARE(int(mb.inertiaHistory.size()), 100);
        QVERIFY2(
            mb.inertia <= 1.03 * lloyd.inertia,
            qPrintable(QString("mini-batch %1 vs Lloyd %2").arg(mb.inertia).arg(lloyd.inertia)));
        std::vector<int> ref;
        QVERIFY(std::abs(naiveAssign(b.x, mb.centroids, ref) - mb.inertia) <= 1e-5 * mb.inertia);
        // Warm-started from Lloyd's answer it stays there.
        mo.init = &lloyd.centroids;
        mo.maxIter = 20;
        const KMeansResult warm = miniBatchKmeans(b.x, mo);
        QVERIFY(warm.inertia <= 1.01 * lloyd.inertia);
        // A far-away warm-start centroid that no sample reaches is re-seeded.
        MatF far = lloyd.centroids;
        far.col(0).setConstant(1e4f);
        mo.init = &far;
        const KMeansResult fixed = miniBatchKmeans(b.x, mo);
        QVERIFY(fixed.reseeded >= 1);
        QVERIFY((fixed.centroids.array().abs() < 100.0f).all());
    }

    void warmStartFromAnswerStaysPut() {
        const Blobs b = separatedBlobs(3000, 5, 6, 2);
        KMeansOptions opt;
        opt.k = 6;
        const KMeansResult first = kmeans(b.x, opt);
        opt.init = &first.centroids;
        const KMeansResult again = kmeans(b.x, opt);
        QCOMPARE(again.iterations, 1);
        QVERIFY(again.labels == first.labels);
        QCOMPARE(again.inertia, first.inertia);
    }

    void degenerateData() {
        // k = N distinct points: every point its own cluster, inertia 0.
        MatF x(2, 5);
        x << 0, 1, 2, 3, 4, 5, 4, 3, 2, 1;
        KMeansOptions opt;
        opt.k = 5;
        const KMeansResult all = kmeans(x, opt);
        QCOMPARE(all.inertia, 0.0);
        QCOMPARE(std::set<int>(all.labels.begin(), all.labels.end()).size(), size_t(5));
        // Fewer distinct points than clusters: no NaN, the surplus clusters stay empty.
        const MatF same = MatF::Constant(3, 50, 2.5f);
        opt.k = 3;
        const KMeansResult r = kmeans(same, opt);
        QVERIFY(r.centroids.allFinite());
        QVERIFY(r.converged);
        QCOMPARE(r.inertia, 0.0);
        QCOMPARE(r.sizes[0] + r.sizes[1] + r.sizes[2], int64_t(50));
        MiniBatchOptions mo;
        mo.k = 3;
        mo.batchSize = 16;
        mo.maxIter = 5;
        QVERIFY(miniBatchKmeans(same, mo).centroids.allFinite());
    }

    void assignClustersMatchesResult() {
        const Blobs b = makeBlobs(5000, 3, 8, 2.0, 6.0, 17);
        KMeansOptions opt;
        opt.k = 5;
        const KMeansResult r = kmeans(b.x, opt);
        double inertia = 0.0;
        QCOMPARE(assignClusters(b.x, r.centroids, &inertia), r.labels);
        // Centroids moved out of and back into the centred frame differ by an ulp or so.
        QVERIFY(std::abs(inertia - r.inertia) <= 1e-6 * r.inertia);
    }

    // Tracing records the kept run and changes nothing else, with restarts and with a warm start.
    void traceChangesNothing_data() {
        QTest::addColumn<int>("nInit");
        QTest::addColumn<bool>("warm");
        QTest::newRow("one run") << 1 << false;
        QTest::newRow("three restarts") << 3 << false;
        QTest::newRow("warm start") << 1 << true;
    }
    void traceChangesNothing() {
        QFETCH(int, nInit);
        QFETCH(bool, warm);
        Blobs b = makeBlobs(4000, 3, 12, 3.0, 6.0, 21);
        b.x.array() += 500.0f;  // far from the origin: the centred frame matters
        KMeansOptions opt;
        opt.k = 6;
        opt.nInit = nInit;
        opt.seed = 5;
        opt.tol = 0.0;
        const MatF init = b.x.leftCols(6);
        if (warm) opt.init = &init;
        const KMeansResult plain = kmeans(b.x, opt);
        opt.trace = true;
        const KMeansResult traced = kmeans(b.x, opt);
        QVERIFY(plain.trace.empty());
        QVERIFY(traced.labels == plain.labels);
        QVERIFY(traced.centroids == plain.centroids);
        QCOMPARE(traced.inertia, plain.inertia);
        QCOMPARE(traced.iterations, plain.iterations);
        QVERIFY(traced.inertiaHistory == plain.inertiaHistory);
        QVERIFY(traced.runInertias == plain.runInertias);
        QVERIFY(plain.iterations >= 3);
        QCOMPARE(int(traced.trace.size()), traced.iterations);
        for (size_t i = 0; i < traced.trace.size(); ++i) {
            const KMeansIteration& t = traced.trace[i];
            QCOMPARE(t.iteration, int(i) + 1);
            QCOMPARE(t.inertia, traced.inertiaHistory[i]);
            QCOMPARE(t.centroids.rows(), int64_t(3));
            QCOMPARE(t.centroids.cols(), int64_t(6));
            QVERIFY(t.shift >= 0.0);
        }
        QCOMPARE(traced.trace.front().changed, int64_t(4000));
        QVERIFY(traced.trace.back().centroids == traced.centroids);
    }

    // n Assign + Update moves of the stepper are n Lloyd iterations of kmeans(), bit for bit,
    // from a warm start (one with a centroid far away, re-seeded) and from k-means++ seeds; one
    // more Assign gives kmeans()'s labels.
    void stepperMovesAreLloyd_data() {
        QTest::addColumn<int>("moves");
        QTest::addColumn<bool>("warm");
        QTest::addColumn<bool>("far");
        for (int n : {1, 2, 5, 40}) {
            QTest::addRow("%d moves, warm", n) << n << true << false;
            QTest::addRow("%d moves, warm, one re-seeded", n) << n << true << true;
            QTest::addRow("%d moves, k-means++", n) << n << false << false;
        }
    }
    void stepperMovesAreLloyd() {
        QFETCH(int, moves);
        QFETCH(bool, warm);
        QFETCH(bool, far);
        Blobs b = makeBlobs(3000, 2, 10, 3.0, 6.0, 8);
        b.x.array() += 300.0f;
        KMeansOptions opt;
        opt.k = 5;
        opt.seed = 11;
        opt.tol = 0.0;
        opt.maxIter = moves;
        MatF init = b.x.middleCols(100, 5);
        if (far) init.col(3).setConstant(1e4f);
        if (warm) opt.init = &init;
        const KMeansResult r = kmeans(b.x, opt);
        QCOMPARE(r.reseeded > 0, far);
        KMeansStepper s = warm ? KMeansStepper(b.x, init) : KMeansStepper(b.x, 5, 11);
        QVERIFY(!s.assigned());
        for (int i = 0; i < moves; ++i) {
            s.assign();
            if (size_t(i) < r.inertiaHistory.size())
                QCOMPARE(s.assignInertia(), r.inertiaHistory[size_t(i)]);
            s.update();
        }
        QVERIFY(s.centroids() == r.centroids);
        s.assign();
        QVERIFY(s.labels() == r.labels);
        QCOMPARE(s.inertia(), r.inertia);
        QVERIFY(s.sizes() == r.sizes);
    }

    // Along Assign, Update, Assign, ... the inertia (computed directly) never rises, also when
    // an empty cluster is re-seeded; the re-seeded point's label follows it.
    void stepperInertiaNonIncreasing() {
        const Blobs b = separatedBlobs(2000, 2, 4, 8);
        MatF init = b.centres;
        init.col(2).setConstant(1e4f);  // wins no point: re-seeded on the first Update
        KMeansStepper s(b.x, init);
        QVERIFY(std::isnan(s.inertia()));
        QVERIFY_THROWS_EXCEPTION(Error, s.update());
        std::vector<double> seq;
        int reseeded = 0;
        for (int i = 0; i < 8; ++i) {
            s.assign();
            seq.push_back(s.inertia());
            reseeded += s.update();
            seq.push_back(s.inertia());
            std::vector<int> direct;
            const double naive = naiveAssign(b.x, s.centroids(), direct);
            QVERIFY(s.inertia() >= naive * (1 - 1e-6));  // no labelling beats the nearest
        }
        QVERIFY(reseeded >= 1);
        const std::vector<int64_t> sizes = s.sizes();
        QVERIFY(std::all_of(sizes.begin(), sizes.end(), [](int64_t n) { return n > 0; }));
        for (size_t i = 1; i < seq.size(); ++i)
            QVERIFY2(seq[i] <= seq[i - 1] * (1 + 1e-7),
                     qPrintable(QString("move %1: %2 > %3")
                                    .arg(i)
                                    .arg(seq[i], 0, 'g', 12)
                                    .arg(seq[i - 1], 0, 'g', 12)));
        QVERIFY(seq.back() < 0.5 * seq.front());
        // The labels after an Update are those whose means the centroids are (re-seeds applied).
        KMeansStepper t(b.x, init);
        t.assign();
        QCOMPARE(t.update(), 1);
        const MatF means = clusterMeans(b.x, t.labels(), 4, nullptr);
        QVERIFY((means - t.centroids()).cwiseAbs().maxCoeff() <= 1e-3f);
        // A new start forgets the labels; a wrong shape is refused.
        t.setCentroids(b.centres);
        QVERIFY(!t.assigned());
        QVERIFY(t.labels().empty());
        QVERIFY_THROWS_EXCEPTION(ConfigError, t.setCentroids(MatF::Zero(3, 4)));
        t.restart(3);
        QCOMPARE(t.k(), 4);
        QCOMPARE(t.size(), int64_t(2000));
    }

    void rejectsBadInput_data() {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("needle");
        QTest::newRow("k = 0") << 0 << "k must be >= 1, got 0";
        QTest::newRow("k > N") << 1 << "k = 11 exceeds the number of samples N = 10";
        QTest::newRow("empty") << 2 << "empty";
        QTest::newRow("NaN") << 3 << "non-finite value nan at sample 7, feature 1";
        QTest::newRow("init shape") << 4 << "expected 2 x 3";
        QTest::newRow("maxIter") << 5 << "maxIter must be >= 1";
        QTest::newRow("tol") << 6 << "tol must be finite and >= 0";
        QTest::newRow("nInit") << 7 << "nInit must be >= 1";
        QTest::newRow("mini-batch size") << 8 << "batchSize must be >= 1";
        QTest::newRow("assign shape") << 9 << "centroids are 3 x 2, expected 2 x k";
        QTest::newRow("mini-batch inf") << 10 << "non-finite value inf at sample 2, feature 0";
    }
    void rejectsBadInput() {
        QFETCH(int, which);
        QFETCH(QString, needle);
        MatF x = MatF::Random(2, 10);
        KMeansOptions opt;
        opt.k = 3;
        MiniBatchOptions mo;
        mo.k = 3;
        MatF init = MatF::Zero(3, 3);
        switch (which) {
            case 0:
                opt.k = 0;
                break;
            case 1:
                opt.k = 11;
                break;
            case 2:
                x.resize(2, 0);
                break;
            case 3:
                x(1, 7) = std::numeric_limits<float>::quiet_NaN();
                break;
            case 4:
                opt.init = &init;
                break;
            case 5:
                opt.maxIter = 0;
                break;
            case 6:
                opt.tol = -1;
                break;
            case 7:
                opt.nInit = 0;
                break;
            case 8:
                mo.batchSize = 0;
                break;
            case 10:
                x(0, 2) = std::numeric_limits<float>::infinity();
                break;
        }
        const QString msg = errorOf([&] {
            if (which == 8 || which == 10)
                miniBatchKmeans(x, mo);
            else if (which == 9)
                assignClusters(x, MatF::Zero(3, 2));
            else
                kmeans(x, opt);
        });
        QVERIFY2(msg.contains(needle), qPrintable(msg));
    }
};

// The `kmeans` command of hybrid158-cli, run as a user would.
class TestKMeansCli : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    Blobs m_blobs;

    QString path(const QString& name) const { return m_dir.filePath(name); }

    struct Run {
        int code = -1;
        QByteArray out, err;
    };
    Run run(const QStringList& args) const {
        QProcess p;
        p.start(QStringLiteral(H158_CLI_PATH), QStringList{"kmeans"} + args);
        Run r;
        if (!p.waitForFinished(120000)) {
            p.kill();
            return r;
        }
        r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        r.out = p.readAllStandardOutput();
        r.err = p.readAllStandardError();
        return r;
    }
    static QStringList lines(const QString& file) {
        QFile f(file);
        if (!f.open(QIODevice::ReadOnly)) return {};
        return QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    }

  private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_blobs = separatedBlobs(900, 3, 4, 31);
        writeCsv(path("blobs.csv").toStdString(), {"a", "b", "c"}, m_blobs.x);
        QFile bad(path("bad.csv"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("# comment\nx,y\n1,2\n3,4\n5,oops\n");
        bad.close();
        // Warm starts for k = 4 on the 3-feature blobs: a good one and broken ones.
        writeCsv(path("init.csv").toStdString(), {"a", "b", "c"}, m_blobs.x.leftCols(4));
        writeCsv(path("init3rows.csv").toStdString(), {"a", "b", "c"}, m_blobs.x.leftCols(3));
        writeCsv(path("init5rows.csv").toStdString(), {"a", "b", "c"}, m_blobs.x.leftCols(5));
        writeCsv(path("init2wide.csv").toStdString(), {"a", "b"}, m_blobs.x.topLeftCorner(2, 4));
        QFile nan(path("initnan.csv"));
        QVERIFY(nan.open(QIODevice::WriteOnly));
        nan.write("a,b,c\n1,2,3\n4,5,6\n7,nan,9\n1,1,1\n");
        nan.close();
    }

    static std::vector<nlohmann::json> jsonLines(const QString& file) {
        std::vector<nlohmann::json> out;
        for (const QString& l : lines(file)) out.push_back(nlohmann::json::parse(l.toStdString()));
        return out;
    }

    // --trace writes one line per Lloyd iteration and leaves every output as the untraced run's;
    // --init starts from the file's centroids as the library does, with or without --trace.
    void traceAndInitReproduceUntraced_data() {
        QTest::addColumn<bool>("warm");
        QTest::newRow("k-means++") << false;
        QTest::newRow("--init") << true;
    }
    void traceAndInitReproduceUntraced() {
        QFETCH(bool, warm);
        QStringList common{"--input", path("blobs.csv"), "--k", "4", "--seed", "3", "--tol", "0"};
        if (warm) common << "--init" << path("init.csv");
        const Run plain = run(common + QStringList{"--out", path("pl.csv"), "--centroids",
                                                   path("pc.csv")});
        QVERIFY2(plain.code == 0, plain.err.constData());
        const Run traced = run(common + QStringList{"--out", path("tl.csv"), "--centroids",
                                                    path("tc.csv"), "--trace", path("t.jsonl")});
        QVERIFY2(traced.code == 0, traced.err.constData());
        QCOMPARE(lines(path("tl.csv")), lines(path("pl.csv")));
        QCOMPARE(lines(path("tc.csv")), lines(path("pc.csv")));
        auto summary = [](const Run& r) {
            auto j = nlohmann::json::parse(r.out.trimmed().toStdString());
            j.erase("seconds");
            j.erase("seed_seconds");
            return j;
        };
        QCOMPARE(summary(traced).dump(), summary(plain).dump());

        const auto json = summary(plain);
        const std::vector<nlohmann::json> trace = jsonLines(path("t.jsonl"));
        QCOMPARE(int(trace.size()), json["iterations"].get<int>());
        const CsvTable c = readCsv(path("pc.csv").toStdString());
        for (size_t i = 0; i < trace.size(); ++i) {
            QCOMPARE(trace[i]["iteration"].get<int>(), int(i) + 1);
            QCOMPARE(trace[i]["centroids"].size(), size_t(4));
            QCOMPARE(trace[i]["centroids"][0].size(), size_t(3));
            if (i > 0)
                QVERIFY(trace[i]["inertia"].get<double>() <=
                        trace[i - 1]["inertia"].get<double>() * (1 + 1e-6));
        }
        // The last line's centroids are the result's, bit for bit.
        for (int64_t i = 0; i < 4; ++i)
            for (int64_t q = 0; q < 3; ++q)
                QCOMPARE(trace.back()["centroids"][size_t(i)][size_t(q)].get<float>(),
                         c.values(q, i));
        if (warm) {
            // The same as the library from the file's centroids.
            const MatF init = readCsv(path("init.csv").toStdString()).values;
            KMeansOptions opt;
            opt.k = 4;
            opt.tol = 0.0;
            opt.init = &init;
            const KMeansResult lib = kmeans(readCsv(path("blobs.csv").toStdString()).values, opt);
            QVERIFY(c.values == lib.centroids);
            QCOMPARE(json["inertia"].get<double>(), lib.inertia);
            QCOMPARE(json["n_init"].get<int>(), 1);
        }
    }

    void clustersAndReports() {
        const Run r = run({"--input", path("blobs.csv"), "--k", "4", "--seed", "7", "--out",
                           path("labels.csv"), "--centroids", path("centroids.csv")});
        QVERIFY2(r.code == 0, r.err.constData());
        const auto json = nlohmann::json::parse(r.out.trimmed().toStdString());
        QCOMPARE(r.out.count('\n'), 1);
        for (const char* key : {"k", "inertia", "iterations", "seconds", "n", "features"})
            QVERIFY2(json.contains(key), key);
        QCOMPARE(json["k"].get<int>(), 4);
        QCOMPARE(json["n"].get<int>(), 900);
        QCOMPARE(json["features"].get<int>(), 3);
        QVERIFY(json["seconds"].get<double>() >= 0.0);
        QVERIFY(json["iterations"].get<int>() >= 1);

        const QStringList labels = lines(path("labels.csv"));
        QCOMPARE(labels.size(), 901);
        QCOMPARE(labels.front(), QString("cluster"));
        std::vector<int> got;
        for (int i = 1; i < labels.size(); ++i) got.push_back(labels[i].toInt());
        QVERIFY(samePartition(got, m_blobs.truth));
        // The same as the library with the same seed, on the same (CSV-rounded) data.
        KMeansOptions opt;
        opt.k = 4;
        opt.seed = 7;
        const KMeansResult lib = kmeans(readCsv(path("blobs.csv").toStdString()).values, opt);
        QVERIFY(got == lib.labels);
        QCOMPARE(json["inertia"].get<double>(), lib.inertia);

        const CsvTable c = readCsv(path("centroids.csv").toStdString());
        QCOMPARE(c.names, (std::vector<std::string>{"a", "b", "c"}));
        QCOMPARE(c.values.cols(), int64_t(4));
        QVERIFY(c.values == lib.centroids);
    }

    void optionsAreApplied() {
        const Run r = run({"--input", path("blobs.csv"), "--k", "3", "--max-iter", "1", "--tol",
                           "0", "--n-init", "2", "--out", path("l2.csv")});
        QVERIFY2(r.code == 0, r.err.constData());
        const auto json = nlohmann::json::parse(r.out.trimmed().toStdString());
        QCOMPARE(json["iterations"].get<int>(), 1);
        QCOMPARE(json["n_init"].get<int>(), 2);
        QCOMPARE(json["iterations_total"].get<int>(), 2);
    }

    void rejectsBadUsage_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("needle");
        QTest::newRow("missing --k")
            << QStringList{"--input", "blobs.csv", "--out", "o.csv"} << "--k";
        QTest::newRow("k not a number")
            << QStringList{"--input", "blobs.csv", "--k", "two", "--out", "o.csv"} << "--k";
        QTest::newRow("k = 0") << QStringList{"--input", "blobs.csv", "--k", "0", "--out", "o.csv"}
                               << "--k must be >= 1";
        QTest::newRow("k > rows") << QStringList{"--input", "blobs.csv", "--k",
                                                 "901",     "--out",     "o.csv"}
                                  << "--k 901 exceeds the number of data rows (900)";
        QTest::newRow("negative tol")
            << QStringList{"--input", "blobs.csv", "--k", "2", "--tol", "-1", "--out", "o.csv"}
            << "--tol";
        QTest::newRow("unknown flag")
            << QStringList{"--input", "blobs.csv", "--k", "2", "--out", "o.csv", "--colour", "red"}
            << "--colour";
        QTest::newRow("missing --out")
            << QStringList{"--input", "blobs.csv", "--k", "2"} << "--out";
        QTest::newRow("missing file")
            << QStringList{"--input", "nope.csv", "--k", "2", "--out", "o.csv"} << "nope.csv";
        QTest::newRow("bad cell") << QStringList{"--input", "bad.csv", "--k", "2", "--out", "o.csv"}
                                  << "bad.csv:5: column 2 (\"y\"): 'oops' is not a number";
        const QStringList k4{"--input", "blobs.csv", "--k", "4", "--out", "o.csv", "--init"};
        QTest::newRow("--init too few rows")
            << k4 + QStringList{"init3rows.csv"} << "init3rows.csv: 3 centroid rows, expected k = 4";
        QTest::newRow("--init too many rows")
            << k4 + QStringList{"init5rows.csv"}
            << "init5rows.csv:6: 5 centroid rows, expected k = 4";
        QTest::newRow("--init too narrow")
            << k4 + QStringList{"init2wide.csv"}
            << "init2wide.csv:2: 2 values per row, expected 3 (the features of the data)";
        QTest::newRow("--init NaN") << k4 + QStringList{"initnan.csv"}
                                    << "initnan.csv:4: column 2 (\"b\"): 'nan' is not a finite number";
        QTest::newRow("--init missing") << k4 + QStringList{"none.csv"} << "none.csv";
        QTest::newRow("--init with --n-init 3")
            << k4 + QStringList{"init.csv", "--n-init", "3"} << "--n-init 3 cannot apply";
    }
    void rejectsBadUsage() {
        QFETCH(QStringList, args);
        QFETCH(QString, needle);
        for (QString& a : args)
            if (a.endsWith(".csv")) a = path(a);
        const Run r = run(args);
        QCOMPARE(r.code, 2);
        QVERIFY2(QString::fromUtf8(r.err).contains(needle), r.err.constData());
        QVERIFY(r.out.isEmpty());
    }

    void unwritableOutputFails() {
        const Run r = run(
            {"--input", path("blobs.csv"), "--k", "2", "--out", path("no/such/dir/labels.csv")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("labels.csv"), r.err.constData());
    }
};

int main(int argc, char** argv) {
    int status = 0;
    {
        TestKMeans t;
        status |= QTest::qExec(&t, argc, argv);
    }
    {
        TestKMeansCli t;
        status |= QTest::qExec(&t, argc, argv);
    }
    return status;
}

#include "test_kmeans.moc"
