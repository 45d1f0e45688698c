#!/usr/bin/python3
"""K-Means seeding quality: hybrid158-cli kmeans against scikit-learn's KMeans on the same data.

make_blobs(100000 x 32, 16 centres, cluster_std 4, random_state 3) as float32, k = 16. For
n_init = 1 over --seeds seeds and n_init = 10 over --seeds10 seeds, each side with its own
k-means++ (greedy, 2 + ln k candidates) and Lloyd (max_iter 300, tol 1e-4): the mean inertia
relative to the best found by either side, with its standard error, and the share of runs that
reach that best (within 1e-5 relative). Two means differ for real when their difference is
several standard errors.

    /usr/bin/python3 bench/kmeans_seeding.py [--cli build/app/hybrid158-cli] [--seeds 200]
"""
import argparse
import json
import math
import os
import subprocess
import tempfile

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--cli", default="build/app/hybrid158-cli")
p.add_argument("--seeds", type=int, default=200)
p.add_argument("--seeds10", type=int, default=20)
a = p.parse_args()

x, _ = make_blobs(n_samples=100_000, n_features=32, centers=16, cluster_std=4.0, random_state=3)
x = x.astype(np.float32)
tmp = tempfile.mkdtemp()
csv = os.path.join(tmp, "blobs.csv")
np.savetxt(csv, x, fmt="%.9g", delimiter=",")


def ours(seed, n_init):
    r = subprocess.run([a.cli, "kmeans", "--input", csv, "--k", "16", "--seed", str(seed), "--n-init",
                        str(n_init), "--out", os.path.join(tmp, "labels.csv")],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["inertia"]


def theirs(seed, n_init):
    km = KMeans(n_clusters=16, init="k-means++", n_init=n_init, max_iter=300, tol=1e-4, algorithm="lloyd",
                random_state=seed).fit(x)
    return float(km.inertia_)


runs = {}
for n_init, count in ((1, a.seeds), (10, a.seeds10)):
    runs[n_init] = {"hybrid158": [ours(s, n_init) for s in range(count)],
                    "scikit-learn": [theirs(s, n_init) for s in range(count)]}
best = min(min(v) for r in runs.values() for v in r.values())
print(f"make_blobs(100000 x 32, 16 centres, std 4, random_state 3), k 16; best inertia found {best:.6g}")
out = {"best": best}
for n_init, r in runs.items():
    for side, v in r.items():
        rel = np.array(v) / best
        at = np.mean(rel < 1 + 1e-5)
        se = rel.std(ddof=1) / math.sqrt(len(rel))
        print(f"n_init {n_init:2d}, {side:12s}: mean inertia {rel.mean():.4f} x best ± {se:.4f} (s.e.), "
              f"{at * 100:.0f}% of {len(rel)} runs at the best")
        out[f"{side}_n_init{n_init}"] = dict(mean_ratio=rel.mean(), se=se, at_best=at, runs=len(rel))
print(json.dumps(out))
