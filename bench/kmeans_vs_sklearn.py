#!/usr/bin/python3
"""K-Means: hybrid158-cli kmeans against scikit-learn's KMeans(algorithm="lloyd") on the same data.

For each case (Gaussian blobs from sklearn.datasets.make_blobs, float32, written to CSV with
'%.9g' so both sides see the same bits) it measures

  speed    Lloyd time per iteration from the same initial centroids (sklearn's k-means++ with
           seed 0), tol = 0 and a fixed max_iter, so both run the same iterations. Ours is the
           CLI's "seconds" (Lloyd loop, final assignment and inertia, as sklearn's
           _kmeans_single_lloyd which is timed the same way, inside threadpool_limits(blas=1) as
           KMeans.fit calls it). Interleaved repetitions; the minimum and median are kept.
  quality  inertia after k-means++ (each side's own) with max_iter=300, tol=1e-4: n_init=1 over
           30 seeds (the spread is which local optimum a seeding lands in; the standard error of
           the difference of means is printed), n_init=10 over 5 seeds, and the inertia reached
           from the same initial centroids (agrees to ~1e-5: the same algorithm).

scikit-learn runs in two persistent worker processes: one with
`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=passive`, one with the environment as
is. Run with Debian's python3 (python3-sklearn):

  /usr/bin/python3 bench/kmeans_vs_sklearn.py --cli build/app/hybrid158-cli [--reps 7]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CASES = [  # n, features, k, centres, cluster_std
    (100_000, 16, 8, 16, 2.0),
    (100_000, 16, 16, 32, 2.0),
    (200_000, 2, 8, 16, 2.0),
    (200_000, 2, 16, 32, 2.0),
    (50_000, 64, 16, 32, 6.0),  # past 32 features our assignment runs through Eigen's GEMM
]


# ---------------------------------------------------------------------------------------------
# scikit-learn worker: reads one JSON command per line on stdin, answers one JSON line.

def worker():
    import numpy as np
    import sklearn
    from sklearn.cluster import KMeans, _kmeans
    from threadpoolctl import threadpool_info, threadpool_limits

    cache = {}

    def data(path):
        if path not in cache:
            cache.clear()
            cache[path] = np.load(path)
        return cache[path]

    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        if op == "info":
            out = {"sklearn": sklearn.__version__, "numpy": np.__version__,
                   "threadpools": threadpool_info()}
        elif op == "speed":
            x = data(cmd["data"])
            c0 = np.load(cmd["init"])
            mean = x.mean(axis=0)  # KMeans.fit centres the data the same way before Lloyd
            xc, cc = x - mean, c0 - mean
            w = np.ones(x.shape[0], dtype=x.dtype)
            with threadpool_limits(limits=1, user_api="blas"):
                t0 = time.perf_counter()
                _, inertia, _, n_iter = _kmeans._kmeans_single_lloyd(
                    xc, w, cc, max_iter=cmd["max_iter"], tol=0.0, n_threads=cmd["threads"])
                sec = time.perf_counter() - t0
            out = {"seconds": sec, "iterations": int(n_iter), "inertia": float(inertia)}
        elif op == "fit":
            x = data(cmd["data"])
            with threadpool_limits(limits=cmd["threads"], user_api="openmp"):
                km = KMeans(n_clusters=cmd["k"], init="k-means++", n_init=cmd["n_init"], max_iter=300,
                            tol=1e-4, algorithm="lloyd", random_state=cmd["seed"])
                t0 = time.perf_counter()
                km.fit(x)
                sec = time.perf_counter() - t0
            out = {"inertia": float(km.inertia_), "iterations": int(km.n_iter_), "fit_seconds": sec}
        elif op == "make":
            from sklearn.datasets import make_blobs
            x, _ = make_blobs(n_samples=cmd["n"], n_features=cmd["f"], centers=cmd["centers"],
                              cluster_std=cmd["std"], random_state=0)
            x = x.astype(np.float32)
            np.save(cmd["npy"], x)
            np.savetxt(cmd["csv"], x, fmt="%.9g", delimiter=",",
                       header=",".join(f"x{i}" for i in range(x.shape[1])), comments="")
            from sklearn.cluster import kmeans_plusplus
            c0, _ = kmeans_plusplus(x, cmd["k"], random_state=0)
            np.save(cmd["init_npy"], c0.astype(np.float32))
            np.savetxt(cmd["init_csv"], c0.astype(np.float32), fmt="%.9g", delimiter=",")
            out = {"ok": True}
        else:
            out = {"error": "unknown op " + op}
        print(json.dumps(out), flush=True)


class Worker:
    def __init__(self, env):
        self.p = subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=env)

    def ask(self, **cmd):
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self):
        self.p.stdin.close()
        self.p.wait()


# ---------------------------------------------------------------------------------------------

def ours(cli, csv, k, threads, extra):
    out = os.path.join(os.path.dirname(csv), "labels.csv")
    cmd = [cli, "kmeans", "--input", csv, "--k", str(k), "--out", out,
           "--threads", str(threads)] + extra
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def describe_blas(info):
    parts = []
    for p in info["threadpools"]:
        s = f'{p.get("internal_api")} {p.get("version") or ""}'.strip()
        if p.get("architecture"):
            s += f' ({p["architecture"]} kernels)'
        s += f', {p.get("num_threads")} threads, {os.path.basename(p.get("filepath", ""))}'
        parts.append(s)
    return "; ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.path.join(os.path.dirname(__file__), "..", "build", "app",
                                                  "hybrid158-cli"))
    ap.add_argument("--reps", type=int, default=7, help="interleaved speed repetitions")
    ap.add_argument("--seeds", type=int, default=30, help="k-means++ seeds, n_init 1 runs")
    ap.add_argument("--seeds10", type=int, default=5, help="seeds of the n_init 10 runs")
    ap.add_argument("--max-iter", type=int, default=40, help="iterations of the speed runs")
    ap.add_argument("--threads", default="1,2", help="thread counts to compare")
    ap.add_argument("--json", help="also write all measurements here")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker()

    cli = os.path.abspath(args.cli)
    clean = dict(os.environ, OMP_WAIT_POLICY="passive")
    clean.pop("OPENBLAS_CORETYPE", None)
    clean.pop("OPENBLAS_L2_SIZE", None)
    envs = {"sk-clean": Worker(clean), "sk-asis": Worker(dict(os.environ))}
    threads = [int(t) for t in args.threads.split(",")]
    report = {"cases": [], "env": {}}
    for name, w in envs.items():
        info = w.ask(op="info")
        report["env"][name] = info
        print(f"{name}: scikit-learn {info['sklearn']}, numpy {info['numpy']}; "
              f"BLAS/OpenMP: {describe_blas(info)}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '')} "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '')} (as is)")
    print(f"load average at start: {os.getloadavg()}")

    with tempfile.TemporaryDirectory() as tmp:
        for ci, (n, f, k, centers, std) in enumerate(CASES):
            paths = {s: os.path.join(tmp, f"data{ci}.{s}") for s in ("npy", "csv")}
            init_npy = os.path.join(tmp, f"init{ci}.npy")
            init_csv = os.path.join(tmp, f"init{ci}.csv")
            envs["sk-clean"].ask(op="make", n=n, f=f, k=k, centers=centers, std=std,
                                 npy=paths["npy"], csv=paths["csv"], init_npy=init_npy,
                                 init_csv=init_csv)
            case = {"n": n, "features": f, "k": k, "centers": centers, "std": std, "speed": {},
                    "quality": {}}
            print(f"\n== n={n} features={f} k={k} (make_blobs: {centers} centres, "
                  f"std {std}, random_state 0) ==")
            # Speed: same init, tol 0, fixed iterations; interleaved.
            for t in threads:
                per = {name: [] for name in ["ours", *envs]}
                inertia, iters = {}, {}
                for _ in range(args.reps):
                    r = ours(cli, paths["csv"], k, t,
                             ["--init", init_csv, "--max-iter", str(args.max_iter), "--tol", "0"])
                    per["ours"].append(r["seconds"] / r["iterations"])
                    inertia["ours"], iters["ours"] = r["inertia"], r["iterations"]
                    for name, w in envs.items():
                        s = w.ask(op="speed", data=paths["npy"], init=init_npy,
                                  max_iter=args.max_iter, threads=t)
                        per[name].append(s["seconds"] / s["iterations"])
                        inertia[name], iters[name] = s["inertia"], s["iterations"]
                row = {name: {"ms_min": 1e3 * min(v), "ms_median": 1e3 * statistics.median(v),
                              "inertia": inertia[name], "iterations": iters[name]}
                       for name, v in per.items()}
                case["speed"][t] = row
                o = row["ours"]
                print(f"  speed, {t} thread(s), same init, {iters['ours']} iterations "
                      f"(sklearn {iters['sk-clean']}):")
                print(f"    ours      {o['ms_min']:8.3f} ms/iter min, {o['ms_median']:8.3f} median")
                for name in envs:
                    s = row[name]
                    print(f"    {name:9s} {s['ms_min']:8.3f} ms/iter min, {s['ms_median']:8.3f} "
                          f"median  -> sklearn/ours time ratio {s['ms_min'] / o['ms_min']:.2f} "
                          f"(min), {s['ms_median'] / o['ms_median']:.2f} (median); "
                          f"inertia ours/sklearn {o['inertia'] / s['inertia']:.7f}")
            # Quality: each side's own k-means++, default tol, several seeds; then n_init = 10.
            qo, qs = [], []
            for seed in range(args.seeds):
                r = ours(cli, paths["csv"], k, max(threads), ["--seed", str(seed)])
                s = envs["sk-clean"].ask(op="fit", data=paths["npy"], k=k, seed=seed, n_init=1,
                                         threads=max(threads))
                qo.append(r["inertia"])
                qs.append(s["inertia"])
            o10, s10 = [], []
            for seed in range(args.seeds10):
                o10.append(ours(cli, paths["csv"], k, max(threads),
                                ["--seed", str(seed), "--n-init", "10"])["inertia"])
                s10.append(envs["sk-clean"].ask(op="fit", data=paths["npy"], k=k, seed=seed,
                                                n_init=10, threads=max(threads))["inertia"])
            case["quality"] = {"ours": qo, "sklearn": qs, "ours_n_init10": o10,
                               "sklearn_n_init10": s10}
            m = statistics.mean(qs)
            se = (statistics.pvariance(qo) / len(qo) + statistics.pvariance(qs) / len(qs)) ** 0.5
            print(f"  quality, k-means++ x {args.seeds} seeds (n_init 1), max_iter 300, tol 1e-4: "
                  f"inertia ours/sklearn: mean {statistics.mean(qo) / m:.5f} "
                  f"(standard error {se / m:.5f}), median "
                  f"{statistics.median(qo) / statistics.median(qs):.5f}, lowest "
                  f"{min(qo) / min(qs):.5f}")
            print(f"  quality, n_init 10 x {args.seeds10} seeds: inertia ours/sklearn mean "
                  f"{statistics.mean(o10) / statistics.mean(s10):.5f}, lowest "
                  f"{min(o10) / min(s10):.5f}")
            report["cases"].append(case)
    for w in envs.values():
        w.close()
    print(f"\nload average at end: {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1)


if __name__ == "__main__":
    sys.exit(main())
