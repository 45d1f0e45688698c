#!/usr/bin/env python3
"""Where a GPT training step goes, fp32 against ternary, gpt-s and gpt-m, beside the PyTorch
reference: `hybrid158-cli bench gpt --profile` for each (preset, mode: fp32, ternary, and ternary
with quant.backward=int8), and the reference
(shared/peers/torch_tinygpt.py, the same shapes and work) when python3-torch is installed, in
alternating rounds on the same machine. Prints a Markdown table of milliseconds per step and share
per part (median over the rounds), the steps' tokens/s, the ternary/fp32 and hybrid158/PyTorch
ratios, and the bound the profile sets on the ternary step (what it would cost if its forward
products were free).

  bench/profile_table.py [--rounds R] [--steps-s N] [--steps-m N] [--path trainer|kernel]
                         [--threads T] [--no-reference] [--cli PATH] [--jsonl OUT]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHAPES = {  # the reference's arguments for each preset's shape and batch
    "gpt-s": ["--layers", "4", "--dmodel", "128", "--heads", "4", "--ctx", "128", "--batch", "16"],
    "gpt-m": ["--layers", "6", "--dmodel", "256", "--heads", "8", "--ctx", "256", "--batch", "8"],
}
PRESETS = ("gpt-s", "gpt-m")
MODES = ("fp32", "ternary", "ternary-int8bwd")  # the last: bench gpt --backward int8
REF_MODE = {"fp32": "fp32", "ternary": "ternary", "ternary-int8bwd": "ternary"}


def run_cli(cli, preset, mode, steps, path, threads):
    extra = ["--backward", "int8"] if mode == "ternary-int8bwd" else []
    out = subprocess.run([cli, "bench", "gpt", "--preset", preset, "--mode", REF_MODE[mode],
                          "--steps", str(steps), "--path", path, "--threads", str(threads),
                          "--profile", *extra],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def run_reference(peers, preset, mode, steps, threads):
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    # The reference is run as shared/peers/README.md says: OpenBLAS left to pick its own kernels.
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    out = subprocess.run(["/usr/bin/python3", "torch_tinygpt.py", *SHAPES[preset], "--mode", mode,
                          "--steps", str(steps), "--threads", str(threads)],
                         cwd=peers, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def have_torch():
    return subprocess.run(["/usr/bin/python3", "-c", "import torch"],
                          capture_output=True).returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps-s", type=int, default=20, help="timed steps of gpt-s (default 20)")
    ap.add_argument("--steps-m", type=int, default=6, help="timed steps of gpt-m (default 6)")
    ap.add_argument("--path", default="trainer", choices=("trainer", "kernel"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "app", "hybrid158-cli"))
    ap.add_argument("--peers", default=os.path.join(ROOT, "..", "shared", "peers"))
    ap.add_argument("--jsonl", help="also append every raw result to this file")
    a = ap.parse_args()
    reference = not a.no_reference and have_torch() and os.path.isdir(a.peers)
    if not a.no_reference and not reference:
        print("note: no PyTorch reference (python3-torch missing or no shared/peers)",
              file=sys.stderr)
    steps = {"gpt-s": a.steps_s, "gpt-m": a.steps_m}
    ours = {(p, m): [] for p in PRESETS for m in MODES}
    ref = {(p, m): [] for p in PRESETS for m in MODES}
    raw = open(a.jsonl, "a") if a.jsonl else None
    for r in range(a.rounds):
        for p in PRESETS:
            for m in MODES:
                res = run_cli(a.cli, p, m, steps[p], a.path, a.threads)
                ours[(p, m)].append(res)
                line = f"round {r + 1} {p} {m}: {res['tokens_per_s']:.0f} tok/s"
                if raw:
                    raw.write(json.dumps({"round": r + 1, "impl": "hybrid158", "r": res}) + "\n")
                if reference and m != "ternary-int8bwd":  # the reference has no int8 backward
                    rr = run_reference(a.peers, p, m, steps[p], a.threads)
                    ref[(p, m)].append(rr)
                    line += f", PyTorch {rr['tokens_per_s']:.0f} tok/s"
                    if raw:
                        raw.write(json.dumps({"round": r + 1, "impl": "pytorch", "preset": p,
                                              "r": rr}) + "\n")
                print(line, file=sys.stderr, flush=True)

    first = ours[("gpt-s", "ternary")][0]
    print(f"hybrid158: `{os.path.relpath(a.cli, ROOT)} bench gpt --profile --path {a.path} "
          f"--threads {a.threads}`, {a.rounds} rounds, medians; kernel {first['kernel']}, "
          f"{first['gemm']}, {first['blas']}")
    if reference:
        rr = ref[("gpt-s", "ternary")][0]
        print(f"PyTorch {rr.get('torch')}, BLAS {rr.get('blas_libs')}, "
              f"env {rr.get('openblas_env')}, OMP_WAIT_POLICY=passive, {a.threads} threads")
    print()
    parts = [(x["part"], x["name"]) for x in first["profile"]]
    cols = [(p, m) for p in PRESETS for m in MODES]

    def med_part(key, part):
        return statistics.median(
            next(x["ms_per_step"] for x in res["profile"] if x["part"] == part)
            for res in ours[key])

    med_total = {k: statistics.median(res["ms_per_step"] for res in ours[k]) for k in cols}
    med_tok = {k: statistics.median(res["tokens_per_s"] for res in ours[k]) for k in cols}
    sums = {k: sum(med_part(k, part) for part, _ in parts) for k in cols}
    print("| part | " + " | ".join(f"{p} {m}" for p, m in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for part, name in parts:
        cells = []
        for k in cols:
            v = med_part(k, part)
            cells.append("–" if v == 0 else f"{v:.1f} ms ({100 * v / sums[k]:.0f} %)")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("| **step** (median of the steps' mean) | " +
          " | ".join(f"**{med_total[k]:.1f} ms**" for k in cols) + " |")
    print("| tokens/s | " + " | ".join(f"{med_tok[k]:,.0f}" for k in cols) + " |")
    if reference:
        rtok = {k: statistics.median(x["tokens_per_s"] for x in ref[(k[0], REF_MODE[k[1]])])
                for k in cols}
        print("| PyTorch tokens/s (its fp32 or ternary) | " +
              " | ".join(f"{rtok[k]:,.0f}" for k in cols) + " |")
        print("| hybrid158 / PyTorch | " + " | ".join(f"{med_tok[k] / rtok[k]:.2f}" for k in cols)
              + " |")
    print()
    for p in PRESETS:
        f, t, i = (p, "fp32"), (p, "ternary"), (p, "ternary-int8bwd")
        print(f"{p}: ternary with int8 backward / fp32 step = "
              f"{med_total[f] / med_total[i]:.2f}x")
        fwd_int8 = med_part(t, "gemm_int8")
        # What the ternary step would take with free forward products: the profile's bound on
        # what a faster int8 kernel alone could give.
        bound = med_total[f] / (med_total[t] - fwd_int8)
        shared = sum(med_part(t, x) for x in ("gemm_dx", "gemm_dw", "attention"))
        print(f"{p}: ternary step / fp32 step = {med_total[f] / med_total[t]:.2f}x "
              f"(tokens/s ratio {med_tok[t] / med_tok[f]:.2f}); with free forward products "
              f"at most {bound:.2f}x; the fp32 backward GEMMs and attention, which both modes run, "
              f"are {100 * shared / sums[t]:.0f} % of the ternary step")


if __name__ == "__main__":
    main()
