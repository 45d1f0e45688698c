#!/usr/bin/python3
"""Final validation loss of several hybrid158 configurations over several seeds, mean ± std.

    bench/compare_configs.py --preset gpt-s --text FILE --seeds 2,3,4 \\
        "shipped:" "plain AdamW lr 3e-3:aux.enabled=false,trust.enabled=false,optim.lr=3e-3"

Each variant is NAME:key=value,key=value (the keys of `hybrid158-cli config`), applied on top of
the preset (and of --set, which applies to all). Runs go to --out/NAME/seedS (kept: their
metrics.csv and summary.json hold the curves); a run whose summary.json exists is not run again.
Snapshots and text samples are off (they do not change training); validation every 50 steps.
Prints a table and one JSON line.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

import statistics as st

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("variants", nargs="+")
p.add_argument("--cli", default="build/app/hybrid158-cli")
p.add_argument("--preset", default="gpt-s")
p.add_argument("--text", default="", help="data.text_file (empty: the preset's data)")
p.add_argument("--seeds", default="2,3,4")
p.add_argument("--steps", type=int, default=0, help="run.steps (0: the preset's)")
p.add_argument("--set", action="append", default=[], help="key=value for every variant")
p.add_argument("--out", default="runs/compare")
a = p.parse_args()
seeds = [int(s) for s in a.seeds.split(",")]

results = {}
for v in a.variants:
    name, _, sets = v.partition(":")
    sets = [s for s in sets.split(",") if s]
    vals, secs = [], []
    for seed in seeds:
        d = os.path.join(a.out, re.sub(r"[^A-Za-z0-9_.=-]+", "_", name), f"seed{seed}")
        summary = os.path.join(d, "summary.json")
        if not os.path.exists(summary):
            if os.path.exists(d):
                subprocess.run(["rm", "-rf", d], check=True)
            cmd = [a.cli, "run", "--preset", a.preset, "--seed", str(seed), "--out", d,
                   "--set", "run.snapshot_every=0", "--set", "sample.every=0", "--set", "run.eval_every=50"]
            if a.text:
                cmd += ["--set", "data.text_file=" + os.path.abspath(a.text)]
            if a.steps:
                cmd += ["--steps", str(a.steps)]
            for s in a.set + sets:
                cmd += ["--set", s]
            t0 = time.time()
            r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode not in (0, 1):
                sys.exit(f"{name} seed {seed}: {r.stderr.strip()}")
            secs.append(time.time() - t0)
        s = json.load(open(summary))
        v = s.get("final_val_loss") if s.get("status") == "completed" else None
        vals.append(float("nan") if v is None else float(v))
    # A run that did not complete counts as NaN and makes its variant's mean and std NaN
    # (statistics.stdev cannot take NaN).
    ok = not any(math.isnan(v) for v in vals)
    results[name] = dict(sets=sets, val=vals, mean=st.mean(vals) if ok else float("nan"),
                         std=(st.stdev(vals) if len(vals) > 1 else 0.0) if ok else float("nan"))
    r = results[name]
    print(f"{name:40s} {r['mean']:.4f} ± {r['std']:.4f}   ({', '.join(f'{x:.4f}' for x in vals)})", flush=True)
print(json.dumps(dict(preset=a.preset, text=a.text, seeds=seeds, steps=a.steps, set=a.set, results=results)))
