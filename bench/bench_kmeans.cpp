// K-Means micro-benchmark: Lloyd time per iteration and inertia on Gaussian blobs, for 1 and 2
// threads, checked against a naive double-precision assignment. One JSON line per case.
//   bench_kmeans [--n N --f F --k K] [--centers C] [--std S] [--seed S] [--reps R]
//                [--max-iter M] [--tol T] [--write FILE.csv]
// Without --n/--f/--k it runs the standard cases (100k x 16, 200k x 2; k = 8, 16).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/data/csv.h"
#include "core/cluster/kmeans.h"
#include "core/base/parallel.h"
#include "core/base/rng.h"

using namespace h158;

namespace {

// make_blobs-like data: `centers` centres uniform in [-10, 10]^F, N samples spread evenly over
// them with isotropic noise of `std`, in random order. (F, N).
MatF blobs(int64_t n, int64_t f, int centers, double std, uint64_t seed) {
    Rng rng(seed, 7);
    MatF c(f, centers);
    for (int64_t i = 0; i < c.size(); ++i) c.data()[i] = float(rng.uniform(-10.0, 10.0));
    MatF x(f, n);
    for (int64_t j = 0; j < n; ++j) {
        const int64_t ci = int64_t(rng.below(uint64_t(centers)));
        for (int64_t q = 0; q < f; ++q) x(q, j) = c(q, ci) + float(std * rng.normal());
    }
    return x;
}

// Nearest centroid in double precision by direct differences: the reference the GEMM kernel
// is checked against. Returns the inertia; `agree` counts labels equal to `labels` or tied.
double naiveInertia(const MatF& x, const MatF& c, const std::vector<int>& labels, int64_t& agree) {
    double total = 0.0;
    agree = 0;
    for (int64_t j = 0; j < x.cols(); ++j) {
        double best = std::numeric_limits<double>::infinity();
        for (int64_t i = 0; i < c.cols(); ++i)
            best =
                std::min(best, (x.col(j).cast<double>() - c.col(i).cast<double>()).squaredNorm());
        const double mine =
            (x.col(j).cast<double>() - c.col(labels[size_t(j)]).cast<double>()).squaredNorm();
        agree += mine <= best * (1 + 1e-5) + 1e-6;
        total += best;
    }
    return total;
}

struct Case {
    int64_t n, f;
    int k, centers;
    double std;
};

void runCase(const Case& cs, uint64_t seed, int reps, int maxIter, double tol,
             const std::string& write) {
    const MatF x = blobs(cs.n, cs.f, cs.centers, cs.std, seed);
    if (!write.empty()) {
        std::vector<std::string> names;
        for (int64_t q = 0; q < cs.f; ++q)
            names.push_back(std::string("x").append(std::to_string(q)));
        writeCsv(write, names, x);
    }
    KMeansOptions opt;
    opt.k = cs.k;
    opt.seed = seed;
    opt.maxIter = maxIter;
    opt.tol = tol;
    KMeansResult ref;
    for (int threads : {1, 2}) {
        setThreadCount(threads);
        double best = std::numeric_limits<double>::infinity();
        KMeansResult r;
        for (int rep = 0; rep < reps; ++rep) {
            r = kmeans(x, opt);
            best = std::min(best, r.lloydSeconds / r.iterations);
        }
        const bool same = threads == 1 || (r.centroids == ref.centroids && r.labels == ref.labels);
        if (threads == 1) ref = r;
        int64_t agree = 0;
        const double naive = naiveInertia(x, r.centroids, r.labels, agree);
        std::printf(
            "{\"n\":%lld,\"features\":%lld,\"k\":%d,\"threads\":%d,\"iterations\":%d,"
            "\"ms_per_iter\":%.4f,\"seed_ms\":%.2f,\"inertia\":%.9g,\"naive_inertia\":%.9g,"
            "\"labels_agree\":%.6f,\"same_as_1_thread\":%s}\n",
            (long long)cs.n, (long long)cs.f, cs.k, threads, r.iterations, best * 1e3,
            r.seedSeconds * 1e3, r.inertia, naive, double(agree) / double(cs.n),
            same ? "true" : "false");
        std::fflush(stdout);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Case one{0, 0, 0, 0, 2.0};
    uint64_t seed = 0;
    int reps = 3, maxIter = 50;
    double tol = 0.0;
    std::string write;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--n")
            one.n = std::stoll(v);
        else if (a == "--f")
            one.f = std::stoll(v);
        else if (a == "--k")
            one.k = std::stoi(v);
        else if (a == "--centers")
            one.centers = std::stoi(v);
        else if (a == "--std")
            one.std = std::stod(v);
        else if (a == "--seed")
            seed = std::stoull(v);
        else if (a == "--reps")
            reps = std::stoi(v);
        else if (a == "--max-iter")
            maxIter = std::stoi(v);
        else if (a == "--tol")
            tol = std::stod(v);
        else if (a == "--write")
            write = v;
        else {
            std::fprintf(stderr, "bench_kmeans: unknown option %s\n", a.c_str());
            return 2;
        }
    }
    std::vector<Case> cases;
    if (one.n > 0 && one.f > 0 && one.k > 0) {
        if (one.centers == 0) one.centers = 2 * one.k;
        cases.push_back(one);
    } else {
        cases = {{100000, 16, 8, 16, 2.0},
                 {100000, 16, 16, 32, 2.0},
                 {200000, 2, 8, 16, 2.0},
                 {200000, 2, 16, 32, 2.0}};
    }
    for (const Case& c : cases) runCase(c, seed, reps, maxIter, tol, write);
    return 0;
}
