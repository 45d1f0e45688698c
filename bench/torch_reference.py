"""The tiny GPT of hybrid158 in PyTorch, written to be the same function, not a similar one.

Architecture (as core/model/gpt/gpt_model.h and shared/peers/torch_tinygpt.py): learned token and position
embeddings; pre-norm blocks x += proj(attn(qkv(ln1(x)))), x += out(gelu(fc(ln2(x)))); final
LayerNorm; untied head. Block linears have no bias. ternary: block linears are BitLinear.

Where the peer script and hybrid158 differ in a detail, this module follows hybrid158, so that a
parity test can hold the two to float rounding:
  * weight scale gamma = max(mean|W|, 1e-5), the mean taken in double and rounded to float once
    (also in float64 runs)
    (BitNet's official clamp; the peer script adds 1e-5 instead), codes = clip(round(W / gamma));
  * activations: xn = x * rsqrt(mean(x^2) + 1e-6); s = 127 / max(max|xn|, 1e-5);
    x~ = clip(round_tie_stable(xn * s), -128, 127) * (1 / s)  (hybrid158 multiplies by 1/s, as its integer
    kernel does, where the peer divides by s: one ulp at most);
  * AdamW decays matrices (embeddings, block linears, head) and not LayerNorm gains and biases
    (GPT-2 / nanoGPT practice; the peer decays every tensor).
Also here: reading and writing safetensors without the safetensors package (the format is an
8-byte little-endian header length, a JSON header, then the raw little-endian tensor bytes).
"""
import json
import math
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 256


def round_tie_stable(t):
    """Half to even, where values within a few ulps of a tie n + 1/2 count as that tie.

    hybrid158's rule (core/quant/activation_quantizer.h): at position 0 a token attends only to itself and
    the next BitLinear sees c * (integer vector), whose codes 127 n_i / n_max are often exact ties
    that rounding noise would otherwise decide, differently in each implementation.
    """
    tol = 2.0 ** -19 if t.dtype == torch.float32 else 2.0 ** -30
    f = t.floor()
    tie = (t - f - 0.5).abs() <= tol * t.abs()
    return torch.where(tie, f + torch.remainder(f, 2.0), t.round())


def act_quant(x):
    """Per-token int8 absmax fake quantization of the RMS-normalised input, with its codes."""
    s = 127.0 / x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    codes = round_tie_stable(x * s).clamp(-128, 127)
    return codes * (1.0 / s), codes


def weight_quant(w):
    """Ternary absmean: gamma = max(mean|W|, 1e-5) (double mean, float gamma); W~ = code * gamma.

    gamma is a float32 number in every precision (the scale hybrid158 stores): in float64 a
    gamma one rounding away already moves the loss by ~1e-5, through activation codes that flip.
    """
    gamma = w.detach().double().abs().mean().clamp(min=1e-5).float().to(w.dtype)
    codes = (w / gamma).round().clamp(-1, 1)
    return codes * gamma, codes


class BitLinear(nn.Linear):
    """RMSNorm (no gain) -> int8 activations -> ternary weights, straight-through in backward."""

    record = None  # a list to append activation codes to (the parity fixture), or None

    def forward(self, x):
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
        xq, codes = act_quant(x)
        if BitLinear.record is not None:
            BitLinear.record.append(codes.detach().to(torch.int8))
        x = x + (xq - x).detach()
        wq, _ = weight_quant(self.weight)
        w = self.weight + (wq - self.weight).detach()
        return F.linear(x, w)


class Block(nn.Module):
    def __init__(self, d, h, Lin):
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = Lin(d, 3 * d, bias=False), Lin(d, d, bias=False)
        self.fc, self.out = Lin(d, 4 * d, bias=False), Lin(4 * d, d, bias=False)

    def forward(self, x, mask):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, self.h, C // self.h).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.h))
        att = att.masked_fill(mask[:T, :T], float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, layers, d, heads, ctx, ternary):
        super().__init__()
        Lin = BitLinear if ternary else nn.Linear
        self.layers = layers
        self.tok, self.pos = nn.Embedding(VOCAB, d), nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList(Block(d, heads, Lin) for _ in range(layers))
        self.lnf, self.head = nn.LayerNorm(d), nn.Linear(d, VOCAB, bias=False)
        self.register_buffer("mask", torch.triu(torch.ones(ctx, ctx, dtype=torch.bool), 1))

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for b in self.blocks:
            x = b(x, self.mask)
        return self.head(self.lnf(x))

    def init_gpt2(self):
        """GPT-2: N(0, 0.02) for every matrix, residual projections 0.02 / sqrt(2 layers)."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.dim() == 2:
                    resid = name.endswith("proj.weight") or name.endswith("out.weight")
                    p.normal_(0.0, 0.02 / math.sqrt(2 * self.layers) if resid else 0.02)


def adamw(model, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
    """AdamW with hybrid158's decay policy: matrices decay, LayerNorm parameters do not."""
    decay = [p for p in model.parameters() if p.dim() == 2]
    rest = [p for p in model.parameters() if p.dim() != 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": rest, "weight_decay": 0.0}], lr=lr, betas=betas, eps=eps)


def loss_of(model, batch):
    """Mean next-byte cross-entropy of a (B, T+1) batch of byte values."""
    x, y = batch[:, :-1], batch[:, 1:]
    return F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))


_DTYPES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int8"): "I8",
           np.dtype("uint8"): "U8", np.dtype("int32"): "I32", np.dtype("int64"): "I64"}
_NP = {v: k for k, v in _DTYPES.items()}


def save_safetensors(path, tensors, metadata=None):
    """tensors: name -> numpy array or torch tensor (written C-contiguous, little-endian)."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
        a = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False)
        b = a.tobytes()
        header[name] = {"dtype": _DTYPES[a.dtype.newbyteorder("=")], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """name -> numpy array, and the metadata dict."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=_NP[e["dtype"]].newbyteorder("<")).reshape(e["shape"])
    return out, meta


def state_from(arrays, prefix=""):
    """A state_dict from arrays named prefix + parameter name."""
    return {k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith(prefix)}
