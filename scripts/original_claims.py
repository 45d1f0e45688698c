#!/usr/bin/env python3
"""The original prototype's remaining claims, re-measured (issue 12 item 5): the auxiliary NN's
"70-100% prediction success", k-means "< 100 iterations to convergence" and "balanced cluster
sizes". Runs bench_claims (bench/bench_claims.cpp) on the presets for several seeds and prints the
figures README's claims table quotes.

    scripts/original_claims.py [--bench build/app/bench_claims] [--seeds 1,2,3] [--jsonl DIR]
    scripts/original_claims.py --from DIR     # the tables again from kept JSON lines

Standard library only; not a test dependency. bench_claims links the core (hybrid158_core);
--jsonl DIR also keeps each run's raw JSON lines there (PRESET-SEED.jsonl). gpt-s takes most of
the time (600 steps per seed, ~2 CPU-minutes each).
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

# Presets with the auxiliary NN on, and gpt-m (aux off, same k) for its step-0 clustering only.
RUNS = [("seed-linear", []), ("spirals", []), ("gpt-s", []), ("gpt-m", ["run.steps=1"])]


def run_bench(bench, preset, seed, sets, keep):
    out = subprocess.run(["nice", "-n", "5", bench, preset, str(seed), *sets], check=True,
                         capture_output=True, text=True).stdout
    if keep:
        with open(os.path.join(keep, f"{preset}-{seed}.jsonl"), "w") as f:
            f.write(out)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.3f} ± {sd:.3f} ({min(values):.3f}–{max(values):.3f})"


def aux_table(rows):
    print("## Auxiliary NN: prediction success (fraction of judged feedbacks whose output change "
          "had the sign the next signal asked for)")
    print("| preset | output | judged per run | aux NN | coin flip | majority direction "
          "(best of always-up/always-down) | follow the last signal |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for preset in sorted({r["preset"] for r in rows}):
        runs = [r for r in rows if r["preset"] == preset]
        pooled = [r["builtin"]["prediction_success_rate"] for r in runs]
        n = [r["builtin"]["prediction_samples"] for r in runs]
        print(f"| {preset} | pooled (summary.json) | {min(n)}–{max(n)} | {spread(pooled)} | 0.5 | | |")
        for out in ("multiplier", "radius"):
            g = [r[out] for r in runs]
            majority = [None if x["always_up_rate"] is None else
                        max(x["always_up_rate"], x["always_down_rate"]) for x in g]
            print(f"| {preset} | {out} | {min(x['samples'] for x in g)}–{max(x['samples'] for x in g)}"
                  f" | {spread([x['aux_rate'] for x in g])} | 0.5 | {spread(majority)}"
                  f" | {spread([x['follow_last_signal_rate'] for x in g])} |")
        checks = all(r["recount_matches_builtin"] and r["data_sizes_match_trainer"] for r in runs)
        print(f"<!-- {preset}: recount equals the built-in rate and data clusters equal the "
              f"trainer's: {checks} -->")


def loss_drop_table(cli, seeds):
    """Another reading of "success": the fraction of steps after which the next batch's loss was
    lower, with the auxiliary NN on and off (the two cheap presets; hybrid158-cli run)."""
    print("\n## Steps followed by a lower batch loss, aux NN on / off (and final validation loss)")
    print("| preset | aux on | aux off | val loss on | val loss off |")
    print("| --- | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for preset in ("seed-linear", "spirals"):
            cells = {}
            for on in ("true", "false"):
                frac, val = [], []
                for seed in seeds:
                    out = os.path.join(tmp, f"{preset}-{on}-{seed}")
                    subprocess.run(["nice", "-n", "5", cli, "run", "--preset", preset, "--seed",
                                    str(seed), "--set", f"aux.enabled={on}", "--out", out],
                                   check=True, capture_output=True)
                    with open(os.path.join(out, "metrics.csv")) as f:
                        loss = [float(r["loss"]) for r in csv.DictReader(f)]
                    frac.append(sum(b < a for a, b in zip(loss, loss[1:])) / (len(loss) - 1))
                    with open(os.path.join(out, "summary.json")) as f:
                        val.append(json.load(f)["final_val_loss"])
                cells[on] = (spread(frac), spread(val))
            print(f"| {preset} | {cells['true'][0]} | {cells['false'][0]} | {cells['true'][1]} | "
                  f"{cells['false'][1]} |")


def kmeans_table(rows):
    print("\n## K-Means: iterations to convergence and cluster balance")
    print("| preset | clustering | k | n × features | runs | iterations median / max | "
          "converged before the cap | min/max size: median (lowest) | CV of sizes: median (highest) |")
    print("| --- | --- | ---: | --- | ---: | --- | ---: | --- | --- |")
    groups = {}
    for r in rows:
        groups.setdefault((r["preset"], r["what"], r["k"]), []).append(r)
    for (preset, what, k), g in sorted(groups.items()):
        it = [r["iterations"] for r in g]
        conv = sum(r["converged"] for r in g)
        uncapped = [r["uncapped_iterations"] for r in g if "uncapped_iterations" in r]
        cap = f" (uncapped: max {max(uncapped)})" if uncapped else ""
        shapes = sorted({f"{r['n']}×{r['features']}" for r in g})
        mm = [r["balance"]["min_over_max"] for r in g]
        cv = [r["balance"]["cv"] for r in g]
        print(f"| {preset} | {what} | {k} | {', '.join(shapes)} | {len(g)} | "
              f"{statistics.median(it):g} / {max(it)} | {conv}/{len(g)}{cap} | "
              f"{statistics.median(mm):.2f} ({min(mm):.2f}) | {statistics.median(cv):.2f} ({max(cv):.2f}) |")
    tol = sorted({r["tol"] for r in rows})
    cap = sorted({r["max_iter"] for r in rows})
    print(f"\ntolerance {tol} × mean feature variance on the centroids' squared shift, or unchanged "
          f"labels; cap max_iter {cap}; data: n_init 3 at step 0, warm-started refreshes n_init 1")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", default=os.path.join(here, "..", "build", "app", "bench_claims"))
    ap.add_argument("--cli", default=os.path.join(here, "..", "build", "app", "hybrid158-cli"))
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--jsonl", default="", help="keep each run's JSON lines in this directory")
    ap.add_argument("--from", dest="source", default="", help="read PRESET-SEED.jsonl files from here")
    a = ap.parse_args()
    if a.source:
        aux, km = [], []
        for name in sorted(os.listdir(a.source)):
            if not name.endswith(".jsonl"):
                continue
            preset = name.rsplit("-", 1)[0]
            with open(os.path.join(a.source, name)) as f:
                for line in (json.loads(x) for x in f if x.strip()):
                    line["preset"] = preset
                    (km if line["event"] == "kmeans" else aux if "builtin" in line else []).append(line)
        aux_table(aux)
        kmeans_table(km)
        return
    if not os.access(a.bench, os.X_OK):
        sys.exit(f"original_claims.py: no bench_claims at {a.bench} (build it, or pass --bench)")
    if a.jsonl:
        os.makedirs(a.jsonl, exist_ok=True)
    aux, km = [], []
    for preset, sets in RUNS:
        for seed in [int(s) for s in a.seeds.split(",")]:
            for line in run_bench(a.bench, preset, seed, sets, a.jsonl):
                line["preset"] = preset
                if line["event"] == "kmeans":
                    km.append(line)
                elif "builtin" in line:
                    aux.append(line)
    aux_table(aux)
    kmeans_table(km)
    loss_drop_table(a.cli, [int(s) for s in a.seeds.split(",")])


if __name__ == "__main__":
    main()
