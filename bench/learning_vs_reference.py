#!/usr/bin/python3
"""Learning-curve parity: hybrid158 and PyTorch train the same GPT on the same text, from the same
weights, on the same sequence of windows, and their validation losses are printed side by side.

Per seed: this script draws the starting weights in PyTorch (--init torch|gpt2) and writes them as
safetensors; `hybrid158-cli run` starts from them (model.init_file) and records which text window
each batch row trained on (run.record_batches -> DIR/batches.csv); PyTorch then replays exactly
those windows with the settings of the run's config.json (shape, AdamW, schedule, warm-up,
gradient clipping, quantization) and evaluates on the same validation windows as hybrid158 (the
last data.val_fraction of the bytes, windows of context+1 bytes at stride context, at most 64
batches), at the same steps. The seed-to-seed spread of each side is measured over the seeds;
the curves agree when the mean difference stays within it.

Use bench/learning_vs_reference.sh (it sets the BLAS environment); see --help for the options.
The hybrid parts that PyTorch cannot replay (auxiliary NN, trust region) must be off; data
clustering only changes which windows are drawn, and those are replayed.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as ref  # noqa: E402

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--cli", default="build/app/hybrid158-cli")
p.add_argument("--preset", default="gpt-s")
p.add_argument("--text", required=True, help="text file both train on")
p.add_argument("--set", action="append", default=[], help="hybrid158 config key=value (repeatable)")
p.add_argument("--steps", type=int, default=600)
p.add_argument("--seeds", default="2,3,4")
p.add_argument("--init", choices=["torch", "gpt2"], default="torch")
p.add_argument("--out", default="runs/parity", help="folder for the run directories and weights")
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
seeds = [int(s) for s in a.seeds.split(",")]


def schedule(o, step, total):
    """core/optim/schedule.h: (lr factor, weight-decay factor) at 0-based step."""
    warm, rho = o["warmup"], o["min_lr_ratio"]
    frac = lambda s, lo, hi: (s - lo) / max(1, hi - lo)  # noqa: E731
    lr, wd = 1.0, 1.0
    if o["schedule"] == "cosine":
        pr = min(max(frac(step, warm, total - 1), 0.0), 1.0)
        lr = rho + (1 - rho) * 0.5 * (1 + math.cos(math.pi * pr))
    elif o["schedule"] == "two_stage":
        half = (total + 1) // 2
        if step < half:
            lr = 1 - (1 - 0.5 * (1 + rho)) * min(max(frac(step, warm, half), 0.0), 1.0)
            wd = 0.5 * (1 + math.cos(math.pi * step / half))
        else:
            lr = rho * (1 - 0.9 * min(max(frac(step, half, total - 1), 0.0), 1.0))
            wd = 0.0
    if step < warm:
        lr = (step + 1) / warm
    return lr, wd


def replay(cfg, init, run_dir, raw):
    """PyTorch trains on run_dir's batches from `init`; returns {step: validation loss}."""
    m, o, q, r = cfg["model"], cfg["optim"], cfg["quant"], cfg["run"]
    if cfg["aux"]["enabled"] or cfg["trust"]["enabled"]:
        sys.exit("learning_vs_reference: aux.enabled and trust.enabled must be false (PyTorch cannot replay them)")
    if q["weights"] not in ("none", "ternary") or (q["weights"] == "ternary" and q["granularity"] != "tensor"):
        sys.exit("learning_vs_reference: quant.weights must be none or ternary with granularity tensor")
    if q["updates"] or o["kind"] != "adamw":
        sys.exit("learning_vs_reference: needs optim.kind=adamw and quant.updates=false")
    ternary = q["weights"] == "ternary"
    if ternary and q["activations"] != "int8":
        ref.act_quant = lambda x: (x, None)
    model = ref.GPT(m["layers"], m["d_model"], m["heads"], m["context"], ternary)
    model.load_state_dict(init, strict=False)
    opt = ref.adamw(model, o["lr"], o["weight_decay"], (o["beta1"], o["beta2"]), o["eps"])
    T, B, steps = m["context"], r["batch_size"], r["steps"]
    starts = {}
    with open(os.path.join(run_dir, "batches.csv")) as f:
        for row in csv.DictReader(f):
            starts.setdefault(int(row["step"]), []).append(int(row["origin"]))
    data = torch.from_numpy(raw.astype(np.int64))
    train_bytes = int(len(raw) * (1.0 - cfg["data"]["val_fraction"]))
    val_windows = (len(raw) - train_bytes - (T + 1)) // T + 1
    val_starts = [train_bytes + i * T for i in range(min(val_windows, 64 * B))]

    def evaluate():
        with torch.no_grad():
            total = 0.0
            for i in range(0, len(val_starts), B):
                d = torch.stack([data[s:s + T + 1] for s in val_starts[i:i + B]])
                total += ref.loss_of(model, d).item() * len(d)
            return total / len(val_starts)

    val = {}
    for step in range(1, steps + 1):
        d = torch.stack([data[s:s + T + 1] for s in starts[step]])
        lr_f, wd_f = schedule(o, step - 1, steps)
        for g in opt.param_groups:
            g["lr"] = o["lr"] * lr_f
        opt.param_groups[0]["weight_decay"] = o["weight_decay"] * wd_f  # matrices; LayerNorms: 0
        loss = ref.loss_of(model, d)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if o["grad_clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), o["grad_clip"])
        opt.step()
        if (r["eval_every"] > 0 and step % r["eval_every"] == 0) or step == steps:
            val[step] = evaluate()
    return val


def hybrid_val(run_dir):
    out = {}
    with open(os.path.join(run_dir, "metrics.csv")) as f:
        for row in csv.DictReader(f):
            if row["val_loss"]:
                out[int(row["step"])] = float(row["val_loss"])
    return out


os.makedirs(a.out, exist_ok=True)
raw = np.frombuffer(open(a.text, "rb").read(), dtype=np.uint8)
curves = {"hybrid158": {}, "pytorch": {}}
for seed in seeds:
    run_dir = os.path.join(a.out, f"seed{seed}")
    weights = os.path.join(a.out, f"init-seed{seed}.safetensors")
    cfg_text = subprocess.run([a.cli, "config", "--preset", a.preset], check=True, capture_output=True, text=True).stdout
    shape = json.loads(cfg_text)["model"]
    sets = ["data.text_file=" + os.path.abspath(a.text), "run.record_batches=true"] + a.set
    for s in a.set:  # the shape may be overridden
        k, v = s.split("=", 1)
        if k.startswith("model.") and k[6:] in shape:
            shape[k[6:]] = int(v)
    torch.manual_seed(seed)
    m0 = ref.GPT(shape["layers"], shape["d_model"], shape["heads"], shape["context"], False)
    if a.init == "gpt2":
        m0.init_gpt2()
    init = {k: v for k, v in m0.state_dict().items() if k != "mask"}
    ref.save_safetensors(weights, init, {"init": a.init, "seed": seed})
    if os.path.exists(run_dir):
        subprocess.run(["rm", "-rf", run_dir], check=True)
    cmd = [a.cli, "run", "--preset", a.preset, "--steps", str(a.steps), "--seed", str(seed), "--out", run_dir,
           "--set", "model.init_file=" + os.path.abspath(weights)]
    for s in sets:
        cmd += ["--set", s]
    t0 = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    t_h = time.time() - t0
    cfg = json.load(open(os.path.join(run_dir, "config.json")))
    t0 = time.time()
    curves["pytorch"][seed] = replay(cfg, init, run_dir, raw)
    t_t = time.time() - t0
    curves["hybrid158"][seed] = hybrid_val(run_dir)
    print(f"seed {seed}: hybrid158 {t_h:.0f} s, PyTorch {t_t:.0f} s; final validation "
          f"{curves['hybrid158'][seed][a.steps]:.4f} vs {curves['pytorch'][seed][a.steps]:.4f}", flush=True)

steps = sorted(curves["hybrid158"][seeds[0]])
# The seed-to-seed spread: the standard deviation over seeds at each evaluation, pooled (root mean
# square) over the evaluations and both sides; three seeds give a poor estimate at a single step.
H = np.array([[curves["hybrid158"][k][s] for k in seeds] for s in steps])
T = np.array([[curves["pytorch"][k][s] for k in seeds] for s in steps])
spread = float(np.sqrt(np.mean(np.concatenate([H.var(axis=1, ddof=1), T.var(axis=1, ddof=1)])))) \
    if len(seeds) > 1 else float("nan")
print(f"\nvalidation loss (nats/byte), {len(seeds)} seeds {a.seeds}, mean ± std; "
      f"{a.preset} {' '.join(a.set)}, init {a.init}, text {a.text}")
print(f"seed-to-seed spread (pooled std): {spread:.4f}; the curves agree where |mean difference| <= spread")
print(f"{'step':>5} | {'hybrid158':>15} | {'PyTorch':>15} | {'diff (h - t)':>16} | within spread")
rows, ok_all = [], True
for i, s in enumerate(steps):
    h, t = H[i], T[i]
    d = h - t
    ok = abs(d.mean()) <= spread
    ok_all &= bool(ok)
    rows.append(dict(step=s, hybrid=h.tolist(), pytorch=t.tolist()))
    print(f"{s:>5} | {h.mean():.4f} ± {h.std(ddof=1):.4f} | {t.mean():.4f} ± {t.std(ddof=1):.4f} | "
          f"{d.mean():+.4f} ± {d.std(ddof=1):.4f} | {'yes' if ok else 'NO'}")
print(json.dumps(dict(preset=a.preset, sets=a.set, init=a.init, text=a.text, seeds=seeds, spread=spread,
                      agree=ok_all, rows=rows)))
