// `kmeans`: clusters the rows of any numeric CSV file, writes one label per row (and optionally
// the centroids and a per-iteration trace), and prints a one-line JSON summary on stdout.
#include <cstdio>
#include <exception>
#include <fstream>
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

long long intAtLeast(const Args& a, const std::string& name, long long def, long long lo) {
    const long long v = a.getInt(name, def);
    if (v < lo)
        throw UsageError("--" + name + " must be >= " + std::to_string(lo) + ", got " +
                         std::to_string(v));
    return v;
}

// The warm start of --init: k rows of F numbers (readCsv already names the file and line of a
// bad cell, a NaN or a ragged row); a wrong width or count is named by its line too.
MatF readInit(const std::string& path, int k, int64_t features) {
    const CsvTable t = readCsv(path, "--init");
    const int64_t rows = t.values.cols();
    if (t.values.rows() != features)
        throw UsageError("--init " + path + ":" + std::to_string(t.lines.front()) + ": " +
                         std::to_string(t.values.rows()) + " values per row, expected " +
                         std::to_string(features) + " (the features of the data)");
    if (rows != k)
        throw UsageError("--init " + path +
                         (rows > k ? ":" + std::to_string(t.lines[size_t(k)]) : std::string()) +
                         ": " + std::to_string(rows) + " centroid rows, expected k = " +
                         std::to_string(k));
    return t.values;
}

// One JSON line per Lloyd iteration of the kept run; centroids as k rows of F numbers.
void writeTrace(const std::string& path, const std::vector<KMeansIteration>& trace) {
    std::ofstream out(path);
    if (!out) throw FileError("cannot write '" + path + "'");
    for (const KMeansIteration& t : trace) {
        nlohmann::json rows = nlohmann::json::array();
        for (int64_t i = 0; i < t.centroids.cols(); ++i) {
            nlohmann::json row = nlohmann::json::array();
            for (int64_t q = 0; q < t.centroids.rows(); ++q) row.push_back(t.centroids(q, i));
            rows.push_back(std::move(row));
        }
        const nlohmann::json line = {{"iteration", t.iteration}, {"inertia", t.inertia},
                                     {"centroids", rows},        {"changed", t.changed},
                                     {"reseeded", t.reseeded},   {"shift", t.shift}};
        out << line.dump() << '\n';
    }
    if (!out.flush()) throw FileError("cannot write '" + path + "': write failed");
}

int fail(const Args& a, int code, const std::string& msg) {
    if (code == 2) return a.usageError(msg);
    std::fprintf(stderr, "hybrid158-cli kmeans: %s\n", msg.c_str());
    return code;
}

}  // namespace

int kmeansCommand(int argc, char** argv) {
    KMeansOptions opt;
    std::string input, out, centroidsOut, traceOut;
    CsvTable data;
    MatF init;
    Args a("kmeans",
           "Clusters the rows of a numeric CSV file (k-means++ seeding or --init centroids, Lloyd\n"
           "iterations), writes one label per row (and optionally the centroids and a trace of\n"
           "every iteration); prints a JSON summary line.");
    a.option("input", "FILE.csv",
             "The data: one row of numbers per point (a first line without numbers is a header)",
             true)
        .option("k", "K", "Number of clusters", true)
        .option("out", "LABELS.csv", "Where to write the labels, one per row", true)
        .option("seed", "S", "Random seed (default 0)")
        .option("max-iter", "N",
                "Most Lloyd iterations per initialisation (default " + std::to_string(opt.maxIter) +
                    ")")
        .option("tol", "T",
                "Stop when the centroids' squared shift is at most T x the mean feature variance "
                "(default " +
                    formatNumber(opt.tol) + ")")
        .option("n-init", "N",
                "Initialisations; the best is kept (default " + std::to_string(opt.nInit) +
                    "; not with --init)")
        .option("centroids", "FILE.csv", "Also write the centroids")
        .option("init", "CENTROIDS.csv",
                "Start from these centroids (k rows of one number per feature) instead of "
                "k-means++ seeding: one run")
        .option("trace", "FILE.jsonl",
                "Write one JSON line per Lloyd iteration of the kept run: iteration, inertia (of "
                "its assignment), centroids after its update, changed, reseeded, shift; the "
                "results are those of the untraced run")
        .option("threads", "N", "Threads; 0 = all cores");
    if (const auto rc = a.parse(argc, argv)) return *rc;
    try {
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
        data = readCsv(input, "--input");
        if (opt.k > data.values.cols())
            throw UsageError("--k " + std::to_string(opt.k) + " exceeds the number of data rows (" +
                             std::to_string(data.values.cols()) + ") in " + input);
        if (a.has("init")) {
            if (opt.nInit > 1)
                throw UsageError("--init gives the one start; --n-init " +
                                 std::to_string(opt.nInit) + " cannot apply (drop one of them)");
            init = readInit(a.get("init"), opt.k, data.values.rows());
            opt.init = &init;
        }
        traceOut = a.get("trace");
        opt.trace = !traceOut.empty();
    } catch (const UsageError& e) {
        return fail(a, 2, e.what());
    } catch (const FileError& e) {
        return fail(a, 2, e.what());
    } catch (const Error& e) {
        return fail(a, 2, e.what());
    } catch (const std::exception& e) {
        return fail(a, 1, e.what());
    }

    try {
        const KMeansResult r = kmeans(data.values, opt);
        writeLabelsCsv(out, r.labels);
        if (!centroidsOut.empty()) writeCsv(centroidsOut, data.names, r.centroids);
        if (opt.trace) writeTrace(traceOut, r.trace);
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
        return fail(a, 2, e.what());
    } catch (const std::exception& e) {
        return fail(a, 1, e.what());
    }
}

}  // namespace h158::cli
