// `kmeans`: clusters the rows of any numeric CSV file, writes one label per row (and optionally
// the centroids), and prints a one-line JSON summary on stdout.
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "app/cli.h"
#include "app/cli_args.h"
#include "core/base/errors.h"
#include "core/data/csv.h"
#include "core/cluster/kmeans.h"
#include "core/base/parallel.h"

namespace h158::cli {
namespace {

constexpr const char* kUsage =
    "usage: hybrid158-cli kmeans --input FILE.csv --k K [--seed S] [--max-iter N] [--tol T]\n"
    "                            [--n-init N] --out LABELS.csv [--centroids FILE.csv]\n"
    "                            [--init CENTROIDS.csv] [--threads N]\n";

long long intAtLeast(const Args& a, const std::string& name, long long def, long long lo) {
    const long long v = a.getInt(name, def);
    if (v < lo)
        throw UsageError("--" + name + " must be >= " + std::to_string(lo) + ", got " +
                         std::to_string(v));
    return v;
}

int fail(int code, const std::string& msg) {
    std::fprintf(stderr, "hybrid158-cli kmeans: %s\n", msg.c_str());
    if (code == 2) std::fputs(kUsage, stderr);
    return code;
}

}  // namespace

int kmeansCommand(int argc, char** argv) {
    KMeansOptions opt;
    std::string input, out, centroidsOut;
    CsvTable data;
    MatF init;
    try {
        const Args a(argc, argv,
                     {"input", "k", "seed", "max-iter", "tol", "n-init", "out", "centroids", "init",
                      "threads"});
        input = a.require("input");
        out = a.require("out");
        a.require("k");
        opt.k = int(intAtLeast(a, "k", 0, 1));
        opt.seed = uint64_t(intAtLeast(a, "seed", 0, 0));
        opt.maxIter = int(intAtLeast(a, "max-iter", opt.maxIter, 1));
        opt.nInit = int(intAtLeast(a, "n-init", opt.nInit, 1));
        opt.tol = a.getDouble("tol", opt.tol);
        if (!(opt.tol >= 0.0)) throw UsageError("--tol must be >= 0, got " + a.get("tol"));
        centroidsOut = a.get("centroids");
        if (a.has("threads")) setThreadCount(int(intAtLeast(a, "threads", 0, 0)));
        data = readCsv(input);
        if (opt.k > data.values.cols())
            throw UsageError("--k " + std::to_string(opt.k) + " exceeds the number of data rows (" +
                             std::to_string(data.values.cols()) + ") in " + input);
        if (a.has("init")) {
            init = readCsv(a.get("init")).values;
            if (init.rows() != data.values.rows() || init.cols() != opt.k)
                throw UsageError("--init " + a.get("init") + " has " + std::to_string(init.cols()) +
                                 " rows of " + std::to_string(init.rows()) + " values, expected " +
                                 std::to_string(opt.k) + " rows (k) of " +
                                 std::to_string(data.values.rows()) + " values");
            opt.init = &init;
        }
    } catch (const UsageError& e) {
        return fail(2, e.what());
    } catch (const FileError& e) {
        return fail(2, e.what());
    } catch (const Error& e) {
        return fail(2, e.what());
    }

    try {
        const KMeansResult r = kmeans(data.values, opt);
        writeLabelsCsv(out, r.labels);
        if (!centroidsOut.empty()) writeCsv(centroidsOut, data.names, r.centroids);
        const nlohmann::json line = {
            {"k", opt.k},
            {"inertia", r.inertia},
            {"inertias", r.runInertias},
            {"iterations", r.iterations},
            {"seconds", r.lloydSeconds},
            {"n", data.values.cols()},
            {"features", data.values.rows()},
            {"n_init", opt.init ? 1 : opt.nInit},
            {"iterations_total", r.totalIterations},
            {"seed_seconds", r.seedSeconds},
            {"converged", r.converged},
            {"reseeded", r.reseeded},
            {"sizes", r.sizes},
            {"threads", threadCount()},
        };
        std::printf("%s\n", line.dump().c_str());
        return 0;
    } catch (const ConfigError& e) {
        return fail(2, e.what());
    } catch (const std::exception& e) {
        return fail(1, e.what());
    }
}

}  // namespace h158::cli
