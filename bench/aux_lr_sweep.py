#!/usr/bin/python3
"""Final validation loss against the base learning rate, with the auxiliary NN on and off.

    bench/aux_lr_sweep.py --preset gpt-s --text fortunes.txt --seeds 2,3,4 \\
        --factors 0.25,0.5,1,2,4 --out runs/aux-lr/gpt-s --svg docs/aux-lr-gpt-s.svg

Every variant (default: "aux on" = aux.enabled=true, "aux off" = aux.enabled=false; or
--variant NAME:key=value,...) runs at optim.lr = factor × the preset's tuned rate, once per
seed, on top of the preset and of --set. Runs go to --out/NAME/lrF/seedS; a run whose
summary.json exists is not run again. Snapshots and text samples are off (they do not change
training). --jobs N runs N at once, each with run.threads=1 (two one-thread runs use this
machine's two cores better than one two-thread run).

Prints, per variant, the final validation loss at each factor (mean ± std over seeds) and its
spread: the worst minus the best of the seed means over the factors. Writes a CSV of every run
and, with --svg, the plot: loss against lr (log scale), one curve per variant with a band from
the best to the worst seed (standard library only: hand-written SVG). A run that did not
complete (diverged) counts as the variant's worst loss at that factor and is marked in the
table.
"""
import argparse
import concurrent.futures as cf
import csv
import json
import math
import os
import re
import statistics as st
import subprocess
import sys

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--cli", default="build/app/hybrid158-cli")
p.add_argument("--preset", default="gpt-s")
p.add_argument("--text", default="", help="data.text_file (empty: the preset's data)")
p.add_argument("--seeds", default="2,3,4")
p.add_argument("--factors", default="0.25,0.5,1,2,4")
p.add_argument("--steps", type=int, default=0, help="run.steps (0: the preset's)")
p.add_argument("--variant", action="append", default=[], help="NAME:key=value,... (repeatable)")
p.add_argument("--set", action="append", default=[], help="key=value for every run")
p.add_argument("--jobs", type=int, default=1)
p.add_argument("--out", default="runs/aux-lr")
p.add_argument("--svg", default="")
p.add_argument("--title", default="")
a = p.parse_args()
seeds = [int(s) for s in a.seeds.split(",")]
factors = [float(f) for f in a.factors.split(",")]
variants = a.variant or ["aux on:aux.enabled=true", "aux off:aux.enabled=false"]
variants = [(v.partition(":")[0], [s for s in v.partition(":")[2].split(",") if s]) for v in variants]

cfg = json.loads(subprocess.run([a.cli, "config", "--preset", a.preset] +
                                sum((["--set", s] for s in a.set), []),
                                check=True, capture_output=True, text=True).stdout)
base_lr = float(cfg["optim"]["lr"])


def run_dir(name, f, seed):
    return os.path.join(a.out, re.sub(r"[^A-Za-z0-9_.=-]+", "_", name), f"lr{f:g}", f"seed{seed}")


def run(job):
    name, sets, f, seed = job
    d = run_dir(name, f, seed)
    summary = os.path.join(d, "summary.json")
    if not os.path.exists(summary):
        if os.path.exists(d):
            subprocess.run(["rm", "-rf", d], check=True)
        cmd = [a.cli, "run", "--preset", a.preset, "--seed", str(seed), "--out", d,
               "--set", "run.snapshot_every=0", "--set", "sample.every=0",
               "--set", "run.checkpoint_every=0"]
        if a.jobs > 1:
            cmd += ["--set", "run.threads=1"]
        if a.text:
            cmd += ["--set", "data.text_file=" + os.path.abspath(a.text)]
        if a.steps:
            cmd += ["--steps", str(a.steps)]
        for s in a.set + sets + [f"optim.lr={base_lr * f:.6g}"]:
            cmd += ["--set", s]
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode not in (0, 1):
            sys.exit(f"{name} lr×{f:g} seed {seed}: {r.stderr.strip()}")
    s = json.load(open(summary))
    v = s.get("final_val_loss") if s.get("status") == "completed" else None
    return name, f, seed, (float("nan") if v is None else float(v))


jobs = [(n, s, f, seed) for n, s in variants for f in factors for seed in seeds]
with cf.ThreadPoolExecutor(max(1, a.jobs)) as pool:
    rows = list(pool.map(run, jobs))

os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, "runs.csv"), "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["variant", "lr_factor", "lr", "seed", "final_val_loss"])
    for n, f, seed, v in rows:
        w.writerow([n, f, base_lr * f, seed, v])

result = {}
finite = [v for *_, v in rows if not math.isnan(v)]
worst = max(finite) if finite else float("nan")
print(f"{a.preset}: tuned lr {base_lr:g}; final validation loss, mean ± std over seeds {seeds}")
print(f"{'lr factor':>10s}" + "".join(f"{n:>24s}" for n, _ in variants))
for f in factors:
    line = f"{f:>10g}"
    for n, _ in variants:
        vals = [v for nn, ff, _, v in rows if nn == n and ff == f]
        bad = sum(math.isnan(v) for v in vals)
        vals = [worst if math.isnan(v) else v for v in vals]
        m = st.mean(vals)
        sd = st.stdev(vals) if len(vals) > 1 else 0.0
        result.setdefault(n, {"mean": [], "std": [], "min": [], "max": [], "diverged": []})
        r = result[n]
        r["mean"].append(m)
        r["std"].append(sd)
        r["min"].append(min(vals))
        r["max"].append(max(vals))
        r["diverged"].append(bad)
        line += f"{m:>15.4f} ± {sd:.4f}" + ("*" if bad else " ")
    print(line)
line = f"{'spread':>10s}"
for n, _ in variants:
    r = result[n]
    r["spread"] = max(r["mean"]) - min(r["mean"])
    line += f"{r['spread']:>24.4f}"
print(line)
if len(variants) >= 2:
    s0, s1 = result[variants[0][0]]["spread"], result[variants[1][0]]["spread"]
    print(f"spread ratio {variants[0][0]} / {variants[1][0]}: {s0 / s1 if s1 > 0 else float('inf'):.3f}")
if len(variants) >= 2 and 1.0 in factors:
    # The controller against what it replaces: the tuned rate with the preset's own schedule
    # (the second variant at 1×) and the best fixed multiplier in hindsight (the second variant's
    # best factor), in nats and in pooled standard deviations at 1×.
    on, off, i = result[variants[0][0]], result[variants[1][0]], factors.index(1.0)
    pooled = math.sqrt((on["std"][i] ** 2 + off["std"][i] ** 2) / 2)
    best = min(range(len(factors)), key=lambda k: off["mean"][k])
    d_tuned = on["mean"][i] - off["mean"][i]
    d_best = on["mean"][i] - off["mean"][best]
    z = lambda d: f"{d / pooled:+.2f} pooled sd" if pooled > 0 else "n/a"
    print(f"{variants[0][0]} at 1×: {on['mean'][i]:.4f}; against the tuned rate ({variants[1][0]} at 1×, "
          f"{off['mean'][i]:.4f}): {d_tuned:+.4f} ({z(d_tuned)}); against the best fixed multiplier "
          f"in hindsight ({variants[1][0]} at {factors[best]:g}×, {off['mean'][best]:.4f}): {d_best:+.4f}")
    result["comparison"] = dict(pooled_std=pooled, minus_tuned=d_tuned, best_factor=factors[best],
                                minus_best_fixed=d_best)
if any(x for r in result.values() if "diverged" in r for x in r["diverged"]):
    print("* a run did not complete (diverged); it counts as the worst loss of the sweep")
print(json.dumps(dict(preset=a.preset, text=a.text, seeds=seeds, factors=factors, base_lr=base_lr,
                      set=a.set, results=result)))

if a.svg:
    W, H, L, R, T, B = 640, 450, 70, 20, 40, 100  # the legend goes under the axis title
    ys = [x for n, _ in variants for x in result[n]["min"] + result[n]["max"]]
    pad = 0.05 * (max(ys) - min(ys) or 1)
    y0, y1 = min(ys) - pad, max(ys) + pad
    lx0, lx1 = math.log2(min(factors)), math.log2(max(factors))
    px = lambda f: L + (math.log2(f) - lx0) / (lx1 - lx0 or 1) * (W - L - R - 20) + 10
    py = lambda v: T + (y1 - v) / (y1 - y0) * (H - T - B)
    colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#000000"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W/2}" y="20" text-anchor="middle" font-size="14">{a.title or a.preset}</text>',
           f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>',
           f'<text x="{(L+W-R)/2}" y="{H-B+38}" text-anchor="middle">base learning rate (× the tuned {base_lr:g}, log scale)</text>',
           f'<text x="16" y="{(T+H-B)/2}" text-anchor="middle" transform="rotate(-90 16 {(T+H-B)/2})">final validation loss</text>']
    for f in factors:
        out.append(f'<line x1="{px(f)}" y1="{H-B}" x2="{px(f)}" y2="{H-B+5}" stroke="black"/>')
        out.append(f'<text x="{px(f)}" y="{H-B+18}" text-anchor="middle">{f:g}×</text>')
    for k in range(5):
        v = y0 + (y1 - y0) * k / 4
        out.append(f'<line x1="{L-5}" y1="{py(v)}" x2="{L}" y2="{py(v)}" stroke="black"/>')
        out.append(f'<text x="{L-8}" y="{py(v)+4}" text-anchor="end">{v:.3f}</text>')
    for i, (n, _) in enumerate(variants):
        c = colours[i % len(colours)]
        r = result[n]
        band = [(px(f), py(v)) for f, v in zip(factors, r["max"])] + \
               [(px(f), py(v)) for f, v in reversed(list(zip(factors, r["min"])))]
        out.append('<polygon points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in band) +
                   f'" fill="{c}" fill-opacity="0.18" stroke="none"/>')
        out.append('<polyline points="' + " ".join(f"{px(f):.1f},{py(v):.1f}" for f, v in zip(factors, r["mean"])) +
                   f'" fill="none" stroke="{c}" stroke-width="2"/>')
        for f, v in zip(factors, r["mean"]):
            out.append(f'<circle cx="{px(f):.1f}" cy="{py(v):.1f}" r="3.5" fill="{c}"/>')
        out.append(f'<rect x="{L+220*i}" y="{H-44}" width="12" height="12" fill="{c}"/>')
        out.append(f'<text x="{L+220*i+18}" y="{H-34}">{n} (spread {r["spread"]:.3f})</text>')
    out.append(f'<text x="{L}" y="{H-12}" fill="#555" font-size="11">line: mean of {len(seeds)} seeds; band: best to worst seed</text>')
    out.append("</svg>")
    os.makedirs(os.path.dirname(a.svg) or ".", exist_ok=True)
    with open(a.svg, "w") as fh:
        fh.write("\n".join(out) + "\n")
