#!/usr/bin/python3
"""Writes tests/data/gpt_parity.safetensors: what PyTorch computes for the tiny GPT, for
tests/test_gpt_parity.cpp to hold hybrid158 to (the llm.c test_gpt2 idea).

Regenerate (Debian 12: apt-get install python3-torch; tests never need torch):
    /usr/bin/python3 bench/make_parity_fixture.py            # writes tests/data/gpt_parity.safetensors

Contents (safetensors; torch's shapes, row-major; metadata holds the settings):
    batches (steps, B, T+1) u8        byte windows of /usr/share/common-licenses/GPL-3, fixed
    init.<name>                       the starting weights, by the model's parameter names:
                                      PyTorch's default init, LayerNorm gains 1 + N(0, 0.1) and
                                      biases N(0, 0.1) so that a swapped or ignored gain shows
    <mode>.logits (T, 256)            logits of batch 0, row 0, at the starting weights
    <mode>.losses (steps)             the loss of batch k before AdamW step k+1
    <mode>.grad.<name>                gradient of batch 0's loss at the starting weights
    <mode>.after1.<name>, <mode>.after10.<name>   parameters after 1 and after `steps` steps
    ternary.codes.<name> i8           ternary weight codes of the starting weights
    ternary.acts i8                   activation codes of batch 0's forward, every BitLinear in
                                      order (per block: qkv, proj, fc, out), each (B, T, in)
with <mode> fp32 (plain Linear) and ternary (BitLinear). The metadata also gives how far this
float32 computation is from the same one in float64 (logits, losses, gradients, updates; the worst
of five float32 runs, four of them from weights moved by one ulp): the floor of any comparison
between a float32 implementation and the exact answer.

Every stored value is computed in float64 and rounded to float32 once: the exact answer, to the
precision of its storage. A float32 implementation cannot be closer to it than float32 PyTorch
is; the metadata says how close that is (the *_vs_float64 entries). In ternary mode the rounding
of activations to int8 codes is discontinuous, so float32 rounding flips some codes (about 1% of
them, cascading within a token) and moves gradients by up to ~1e-3; in float64 no code lies
within reach of a tie.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as ref  # noqa: E402

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                             "data", "gpt_parity.safetensors"))
p.add_argument("--text", default="/usr/share/common-licenses/GPL-3")
p.add_argument("--layers", type=int, default=2)
p.add_argument("--dmodel", type=int, default=32)
p.add_argument("--heads", type=int, default=4)
# context 72 > 64 queries per attention block and 4 x 72 = 288 > 256 columns per GEMM chunk:
# the fixture crosses every chunk boundary of hybrid158's kernels.
p.add_argument("--ctx", type=int, default=72)
p.add_argument("--batch", type=int, default=4)
p.add_argument("--steps", type=int, default=10)
p.add_argument("--lr", type=float, default=3e-3)
p.add_argument("--wd", type=float, default=0.1)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
torch.set_num_threads(1)

raw = np.frombuffer(open(a.text, "rb").read(), dtype=np.uint8)
gen = np.random.default_rng(a.seed)
starts = gen.integers(0, len(raw) - a.ctx - 1, size=(a.steps, a.batch))
batches = np.stack([np.stack([raw[s:s + a.ctx + 1] for s in row]) for row in starts])  # (S, B, T+1)

torch.manual_seed(a.seed)
base = ref.GPT(a.layers, a.dmodel, a.heads, a.ctx, ternary=False)
with torch.no_grad():
    for name, prm in base.named_parameters():
        if prm.dim() == 1:  # LayerNorm weight / bias
            prm.copy_((1.0 if name.endswith("weight") else 0.0) + 0.1 * torch.randn_like(prm))
init = {k: v.detach().clone() for k, v in base.state_dict().items() if k != "mask"}
names = list(init)

out = {"batches": batches}
out.update({"init." + k: v for k, v in init.items()})
meta = dict(layers=a.layers, d_model=a.dmodel, heads=a.heads, context=a.ctx, batch=a.batch, steps=a.steps,
            lr=a.lr, weight_decay=a.wd, beta1=0.9, beta2=0.999, eps=1e-8, seed=a.seed, text=a.text,
            torch=torch.__version__, command="/usr/bin/python3 bench/make_parity_fixture.py")


def rel(x, y):
    return float((x - y).norm() / y.norm().clamp(min=1e-30))


def run(ternary, dtype, start):
    """10 AdamW steps from `start` in `dtype`: logits, losses, gradient, parameters, act codes."""
    m = ref.GPT(a.layers, a.dmodel, a.heads, a.ctx, ternary).to(dtype)
    m.load_state_dict({k: v.to(dtype) for k, v in start.items()}, strict=False)
    opt = ref.adamw(m, a.lr, a.wd)
    bt = torch.from_numpy(batches.astype(np.int64))
    r = {"losses": []}
    for k in range(a.steps):
        if k == 0:
            with torch.no_grad():
                r["logits"] = m(bt[0, :1, :-1])[0].clone()
            ref.BitLinear.record = [] if ternary else None
        loss = ref.loss_of(m, bt[k])
        if k == 0 and ternary:
            r["acts"] = torch.cat([c.reshape(-1) for c in ref.BitLinear.record])
        ref.BitLinear.record = None
        opt.zero_grad(set_to_none=True)
        loss.backward()
        r["losses"].append(loss.item())
        if k == 0:
            r["grad"] = {n: q.grad.detach().clone() for n, q in m.named_parameters()}
        opt.step()
        if k == 0:
            r["after1"] = {n: q.detach().clone() for n, q in m.named_parameters()}
    r["after10"] = {n: q.detach().clone() for n, q in m.named_parameters()}
    return r


def nudged(start, seed):
    """The starting weights with a random half of the values moved by one float32 ulp."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for n, v in start.items():
        direction = torch.where(torch.rand(v.shape, generator=g) < 0.5, -np.inf, np.inf).to(v.dtype)
        moved = torch.nextafter(v, direction)
        out[n] = torch.where(torch.rand(v.shape, generator=g) < 0.5, moved, v)
    return out


# How far float32 lands from the exact answer: PyTorch in float32 from the starting weights and
# from four copies moved by one ulp (ternary training is chaotic in rounding: a flipped
# activation code moves the trajectory, so one float32 run gives one sample of that distance),
# the worst of the five per figure.
figures = ("logits", "loss0", "worst_grad", "worst_loss", "worst_after1", "worst_after10")
for mode in ("fp32", "ternary"):
    ternary = mode == "ternary"
    r64 = run(ternary, torch.float64, init)
    f32 = lambda t: t.to(torch.float32)  # noqa: E731
    out[mode + ".logits"] = f32(r64["logits"])
    out[mode + ".losses"] = np.array(r64["losses"], dtype=np.float32)
    for n in names:
        out[f"{mode}.grad.{n}"] = f32(r64["grad"][n])
        out[f"{mode}.after1.{n}"] = f32(r64["after1"][n])
        out[f"{mode}.after10.{n}"] = f32(r64["after10"][n])
    if ternary:
        for n in names:
            if n.startswith("blocks.") and n.endswith(".weight") and init[n].dim() == 2:
                out["ternary.codes." + n] = ref.weight_quant(init[n].double())[1].to(torch.int8)
        out["ternary.acts"] = r64["acts"]
    worst = dict.fromkeys(figures, 0.0)
    worst_acts = 0
    for trial in range(5):
        r = run(ternary, torch.float32, init if trial == 0 else nudged(init, trial))
        got = {
            "logits": rel(r["logits"].double(), r64["logits"]),
            "loss0": abs(r["losses"][0] - r64["losses"][0]) / r64["losses"][0],
            "worst_grad": max(rel(r["grad"][n].double(), r64["grad"][n]) for n in names),
            "worst_loss": max(abs(x - y) / y for x, y in zip(r["losses"], r64["losses"])),
        }
        for k in ("after1", "after10"):  # the updates (parameters minus the start), as the test compares them
            got["worst_" + k] = max(rel(r[k][n].double() - init[n].double(), r64[k][n] - init[n].double())
                                    for n in names)
        worst = {k: max(worst[k], got[k]) for k in figures}
        if ternary:
            worst_acts = max(worst_acts, int((r["acts"] != r64["acts"]).sum()))
    for k in figures:
        meta[f"{mode}_{k}_rel_vs_float64"] = worst[k]
    if ternary:
        meta["ternary_act_code_mismatches_vs_float64"] = worst_acts

os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
ref.save_safetensors(a.out, out, meta)
print(f"{a.out}: {os.path.getsize(a.out)} bytes")
for k, v in meta.items():
    if "vs_float64" in k:
        print(f"  {k} = {v}")
