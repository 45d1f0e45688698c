#!/usr/bin/python3
"""Bits per weight against validation loss (the Pareto front) of uniform and adaptive precision.

    bench/pareto.py --preset gpt-s [--text FILE] --seeds 2,3,4 --steps 300 --out runs/pareto \\
        --svg docs/pareto.svg --title "gpt-s, built-in corpus"

Runs, per seed: fp32 (quant.weights=none), uniform int8, five-level and ternary, and adaptive at
each --budgets value (quant.weights=adaptive, quant.bits_budget=B), every run with int8
activations. A run's bits are summary.json's components.quantization.bits_per_weight (the mean
bits per quantizable weight of the trained model: 32, 8, log2 5, log2 3 per tensor, weighted by
size), its loss the final validation loss. A run whose summary.json exists is not run again.
Prints a Markdown table (mean ± std over seeds) and one JSON line; writes a CSV of every run and,
with --svg, the plot (standard library only: hand-written SVG).
"""
import argparse
import json
import math
import os
import statistics as st
import subprocess
import sys

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--cli", default="build/app/hybrid158-cli")
p.add_argument("--preset", default="gpt-s")
p.add_argument("--text", default="", help="data.text_file (empty: the preset's data)")
p.add_argument("--seeds", default="2,3,4")
p.add_argument("--steps", type=int, default=300)
p.add_argument("--budgets", default="2,3,4")
p.add_argument("--set", action="append", default=[], help="key=value for every run")
p.add_argument("--out", default="runs/pareto")
p.add_argument("--svg", default="")
p.add_argument("--title", default="")
a = p.parse_args()
seeds = [int(s) for s in a.seeds.split(",")]

variants = [("fp32", ["quant.weights=none"]), ("int8", ["quant.weights=int8"]),
            ("five-level", ["quant.weights=five_level"]), ("ternary", ["quant.weights=ternary"])]
for b in a.budgets.split(","):
    variants.append((f"adaptive {b}", ["quant.weights=adaptive", f"quant.bits_budget={b}"]))

common = ["quant.activations=int8", "run.snapshot_every=0", "sample.every=0", "run.eval_every=50",
          "run.checkpoint_every=0"] + a.set
if a.text:
    common.append(f"data.text_file={a.text}")

rows = []
for name, sets in variants:
    for s in seeds:
        d = os.path.join(a.out, name.replace(" ", "-"), f"seed{s}")
        summary = os.path.join(d, "summary.json")
        if not os.path.exists(summary):
            os.makedirs(os.path.dirname(d), exist_ok=True)
            cmd = [a.cli, "run", "--preset", a.preset, "--seed", str(s), "--steps", str(a.steps),
                   "--out", d]
            for kv in common + sets:
                cmd += ["--set", kv]
            r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                sys.exit(f"pareto.py: {name} seed {s} failed: {r.stderr.strip()}")
        with open(summary) as f:
            j = json.load(f)
        rows.append({"variant": name, "seed": s,
                     "bits": j["components"]["quantization"]["bits_per_weight"],
                     "val_loss": j["final_val_loss"], "seconds": j["wall_seconds"]})
        print(f"{name:14s} seed {s}: {rows[-1]['bits']:.3f} bits, val loss {rows[-1]['val_loss']:.4f}",
              file=sys.stderr)

with open(os.path.join(a.out, "pareto.csv"), "w") as f:
    f.write("variant,seed,bits,val_loss,seconds\n")
    for r in rows:
        f.write(f"{r['variant']},{r['seed']},{r['bits']:.6f},{r['val_loss']:.6f},{r['seconds']:.2f}\n")

def msd(v):
    return st.mean(v), (st.stdev(v) if len(v) > 1 else 0.0)

summary = []
for name, _ in variants:
    mine = [r for r in rows if r["variant"] == name]
    bm, bs = msd([r["bits"] for r in mine])
    lm, ls = msd([r["val_loss"] for r in mine])
    summary.append({"variant": name, "bits": bm, "bits_std": bs, "val_loss": lm, "val_loss_std": ls,
                    "seconds": st.mean([r["seconds"] for r in mine])})
# The front: no other variant has both fewer bits and a lower mean loss.
for x in summary:
    x["front"] = not any(y["bits"] <= x["bits"] and y["val_loss"] < x["val_loss"] and y is not x
                         for y in summary)

print(f"| {a.title or a.preset} | bits per weight | validation loss (nats/byte) | on the front |")
print("| --- | ---: | ---: | :---: |")
for x in summary:
    print(f"| {x['variant']} | {x['bits']:.2f} ± {x['bits_std']:.2f} | {x['val_loss']:.4f} ± "
          f"{x['val_loss_std']:.4f} | {'yes' if x['front'] else ''} |")
print(json.dumps({"title": a.title, "seeds": seeds, "steps": a.steps, "variants": summary}))

if a.svg:
    W, H, L, R, T, B = 640, 400, 70, 20, 40, 50
    xs = [math.log2(r["bits"]) for r in rows]
    ys = [r["val_loss"] for r in rows]
    x0, x1 = math.floor(min(xs)), math.ceil(max(xs))
    pad = 0.05 * (max(ys) - min(ys) or 1)
    y0, y1 = min(ys) - pad, max(ys) + pad
    px = lambda v: L + (math.log2(v) - x0) / (x1 - x0 or 1) * (W - L - R)
    py = lambda v: T + (y1 - v) / (y1 - y0) * (H - T - B)
    colours = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#D55E00", "#0072B2", "#999999"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W/2}" y="20" text-anchor="middle" font-size="14">{a.title}</text>',
           f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>',
           f'<text x="{(L+W-R)/2}" y="{H-12}" text-anchor="middle">bits per quantizable weight (log scale)</text>',
           f'<text x="16" y="{(T+H-B)/2}" text-anchor="middle" transform="rotate(-90 16 {(T+H-B)/2})">validation loss (nats/byte)</text>']
    for e in range(x0, x1 + 1):
        x = px(2 ** e)
        out.append(f'<line x1="{x}" y1="{H-B}" x2="{x}" y2="{H-B+5}" stroke="black"/>')
        out.append(f'<text x="{x}" y="{H-B+18}" text-anchor="middle">{2**e}</text>')
    for k in range(5):
        v = y0 + (y1 - y0) * k / 4
        out.append(f'<line x1="{L-5}" y1="{py(v)}" x2="{L}" y2="{py(v)}" stroke="black"/>')
        out.append(f'<text x="{L-8}" y="{py(v)+4}" text-anchor="end">{v:.3f}</text>')
    front = sorted((x for x in summary if x["front"]), key=lambda x: x["bits"])
    if len(front) > 1:
        pts = " ".join(f"{px(x['bits'])},{py(x['val_loss'])}" for x in front)
        out.append(f'<polyline points="{pts}" fill="none" stroke="#999" stroke-dasharray="4 3"/>')
    for i, x in enumerate(summary):
        c = colours[i % len(colours)]
        for r in rows:
            if r["variant"] == x["variant"]:
                out.append(f'<circle cx="{px(r["bits"])}" cy="{py(r["val_loss"])}" r="3" fill="{c}" fill-opacity="0.5"/>')
        out.append(f'<circle cx="{px(x["bits"])}" cy="{py(x["val_loss"])}" r="6" fill="none" stroke="{c}" stroke-width="2"/>')
        out.append(f'<rect x="{W-R-130}" y="{T+6+16*i}" width="10" height="10" fill="{c}"/>')
        out.append(f'<text x="{W-R-115}" y="{T+15+16*i}">{x["variant"]}</text>')
    out.append("</svg>")
    os.makedirs(os.path.dirname(a.svg) or ".", exist_ok=True)
    with open(a.svg, "w") as f:
        f.write("\n".join(out) + "\n")
