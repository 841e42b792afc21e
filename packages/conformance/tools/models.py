"""Model-level conformance cases: `.attn` source, the PyTorch module that is its reference, inputs.

Each ``ModelSpec`` holds
* ``source``: the `.attn` text (docs/language.md). Parameter names it produces must equal the module's
  ``state_dict()`` keys exactly;
* ``build(hyper)``: a real PyTorch module (nn.GRU, nn.MultiheadAttention, nn.TransformerEncoderLayer,
  ...) or a small textbook nn.Module, whose ``forward(**inputs)`` returns a dict of named outputs;
* ``make_inputs(rng, hyper)``: numpy inputs (float32 / int32 / bool);
* ``manual(P, inputs, hyper)``: the same model written a second way from the `.attn` text with the op
  semantics in reference.py (check.py compares the two).
"""

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from reference import attn_kind, gru_cell_ref, gru_ref

GRU_NAMES = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
GRU_NAMES_BI = GRU_NAMES + [n + "_reverse" for n in GRU_NAMES]
CELL_NAMES = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]


@dataclass
class ModelSpec:
    name: str
    model: str
    source: str
    hyper: dict
    build: Callable
    make_inputs: Callable
    manual: Callable
    note: str
    weights_file: Optional[str] = None
    # optional: (inputs as float64 torch tensors) -> bool; rejects draws with near-ties for hard selection
    valid: Optional[Callable] = None
    outputs: list = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------
# textbook attention modules (independent of reference.py)
# ---------------------------------------------------------------------------------------------------

def _finish(scores, v, mask, step):
    if mask is not None:
        scores = scores.masked_fill(mask.unsqueeze(1), float("-inf"))
    w = torch.softmax(scores, dim=-1)
    out = torch.bmm(w, v)
    if step:
        out, w = out.squeeze(1), w.squeeze(1)
    return out, w


class AdditiveAttention(nn.Module):
    """Bahdanau: score = v^T tanh(W_q q + W_k k)."""

    def __init__(self, dq, dk, units):
        super().__init__()
        self.W_q = nn.Linear(dq, units, bias=False)
        self.W_k = nn.Linear(dk, units, bias=False)
        self.v = nn.Linear(units, 1, bias=False)

    def forward(self, q, k, v=None, mask=None):
        v = k if v is None else v
        step = q.dim() == 2
        q = q.unsqueeze(1) if step else q
        scores = self.v(torch.tanh(self.W_q(q).unsqueeze(2) + self.W_k(k).unsqueeze(1))).squeeze(-1)
        return _finish(scores, v, mask, step)


class DotAttention(nn.Module):
    """Luong dot: score = q^T k."""

    def forward(self, q, k, v=None, mask=None):
        v = k if v is None else v
        step = q.dim() == 2
        q = q.unsqueeze(1) if step else q
        return _finish(torch.bmm(q, k.transpose(1, 2)), v, mask, step)


class GeneralAttention(nn.Module):
    """Luong general: score = q^T W k, W.weight [dq, dk]."""

    def __init__(self, dq, dk):
        super().__init__()
        self.W = nn.Linear(dk, dq, bias=False)

    def forward(self, q, k, v=None, mask=None):
        v = k if v is None else v
        step = q.dim() == 2
        q = q.unsqueeze(1) if step else q
        return _finish(torch.bmm(q, self.W(k).transpose(1, 2)), v, mask, step)


class ConcatAttention(nn.Module):
    """Luong concat: score = v^T tanh(W [q; k]), W.weight [units, dq+dk], v.weight [1, units]."""

    def __init__(self, dq, dk, units):
        super().__init__()
        self.W = nn.Linear(dq + dk, units, bias=False)
        self.v = nn.Linear(units, 1, bias=False)

    def forward(self, q, k, v=None, mask=None):
        v = k if v is None else v
        step = q.dim() == 2
        q = q.unsqueeze(1) if step else q
        tq, tk = q.shape[1], k.shape[1]
        both = torch.cat([q.unsqueeze(2).expand(-1, -1, tk, -1), k.unsqueeze(1).expand(-1, tq, -1, -1)], -1)
        return _finish(self.v(torch.tanh(self.W(both))).squeeze(-1), v, mask, step)


class LocalAttention(nn.Module):
    """Scaled dot restricted to a band |i - j| <= window (one-sided j in [i - window, i] when causal)."""

    def __init__(self, window, causal=False):
        super().__init__()
        self.window, self.causal = window, causal

    def forward(self, q, k, v=None, mask=None):
        v = k if v is None else v
        tq, tk = q.shape[1], k.shape[1]
        scores = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(q.shape[-1])
        ones = torch.ones(tq, tk, dtype=torch.bool)
        visible = ones.triu(-self.window) & (ones.tril(0) if self.causal else ones.tril(self.window))
        scores = scores.masked_fill(~visible, float("-inf"))
        return _finish(scores, v, mask, False)


class HardAttention(nn.Module):
    """Scaled dot, then hard selection: argmax one-hot (straight-through: backward = softmax's), or
    softmax over the top-k scores."""

    def __init__(self, topk=None):
        super().__init__()
        self.topk = topk

    def forward(self, q, k, v=None, mask=None):
        v = k if v is None else v
        scores = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores.masked_fill(mask.unsqueeze(1), float("-inf"))
        if self.topk is None:
            soft = torch.softmax(scores, -1)
            hard = F.one_hot(scores.argmax(-1), scores.shape[-1]).to(scores.dtype)
            w = hard + (soft - soft.detach())
        else:
            idx = scores.topk(self.topk, dim=-1).indices
            keep = torch.zeros_like(scores, dtype=torch.bool).scatter(-1, idx, True)
            w = torch.softmax(scores.masked_fill(~keep, float("-inf")), -1)
        return torch.bmm(w, v), w


def _scores_valid(q, k, mask, k_sel, margin=1e-3):
    """True if every row's selection boundary (top-1 vs 2 or top-k vs k+1) has a gap > margin."""
    s = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = s.masked_fill(mask.unsqueeze(1), float("-inf"))
    for row in s.reshape(-1, s.shape[-1]).detach().numpy():
        vals = np.sort(row[np.isfinite(row)])[::-1]
        if len(vals) > k_sel and vals[k_sel - 1] - vals[k_sel] <= margin:
            return False
    return True


# ---------------------------------------------------------------------------------------------------
# model modules
# ---------------------------------------------------------------------------------------------------

class MhaModel(nn.Module):
    def __init__(self, embed, heads, kind):
        super().__init__()
        self.mha = nn.MultiheadAttention(embed, heads, dropout=0.0, batch_first=True)
        self.kind = kind

    def forward(self, **I):
        if self.kind == "self":
            y, w = self.mha(I["x"], I["x"], I["x"], key_padding_mask=I["pad"])
        elif self.kind == "cross":
            y, w = self.mha(I["q"], I["mem"], I["mem"], key_padding_mask=I["mem_pad"])
        else:  # causal
            s = I["x"].shape[1]
            causal = torch.triu(torch.ones(s, s, dtype=torch.bool), 1)
            y, w = self.mha(I["x"], I["x"], I["x"], attn_mask=causal)
        return {"y": y, "weights": w}


class SingleAttention(nn.Module):
    """Wraps one attention module under the scope name ``attn``."""

    def __init__(self, attn):
        super().__init__()
        self.attn = attn

    def forward(self, **I):
        ctx, w = self.attn(I["q"], I["mem"], I.get("val"), I.get("pad"))
        return {"ctx": ctx, "weights": w}


class Tutorial(nn.Module):
    def __init__(self, features, hidden):
        super().__init__()
        self.rnn = nn.GRU(features, hidden, batch_first=True)
        self.ctx = AdditiveAttention(hidden, hidden, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        h, _ = self.rnn(x)
        ctx, w = self.ctx(h, h, h)
        return {"y": self.head(ctx.mean(1)), "weights": w}


class TransformerLayerModel(nn.Module):
    def __init__(self, d_model, nhead, dim_ff):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d_model, nhead, dim_ff, dropout=0.0, batch_first=True)

    def forward(self, x, pad):
        return {"y": self.layer(x, src_key_padding_mask=pad)}


class TransformerStackModel(nn.Module):
    """Same naming as nn.TransformerEncoder (layers.0, layers.1) without its nested-tensor fast path."""

    def __init__(self, d_model, nhead, dim_ff, n):
        super().__init__()
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(d_model, nhead, dim_ff, dropout=0.0,
                                                                batch_first=True) for _ in range(n)])

    def forward(self, x, pad):
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=pad)
        return {"y": x}


class Seq2SeqEncoder(nn.Module):
    def __init__(self, vocab, emb, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(emb, hidden, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hidden, hidden)


class Seq2SeqDecoder(nn.Module):
    def __init__(self, vocab, emb, hidden, units):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.attn = AdditiveAttention(hidden, 2 * hidden, units)
        self.cell = nn.GRUCell(emb + 2 * hidden, hidden)
        self.proj = nn.Linear(3 * hidden, vocab)


class Seq2Seq(nn.Module):
    def __init__(self, src_vocab, tgt_vocab, emb, hidden, units):
        super().__init__()
        self.encoder = Seq2SeqEncoder(src_vocab, emb, hidden)
        self.decoder = Seq2SeqDecoder(tgt_vocab, emb, hidden, units)

    def forward(self, src, src_pad, tgt_in):
        enc, h_n = self.encoder.rnn(self.encoder.embed(src.long()))
        h = torch.tanh(self.encoder.bridge(torch.cat([h_n[0], h_n[1]], -1)))
        tgt = self.decoder.embed(tgt_in.long())
        hs, ctxs, ws = [], [], []
        for t in range(tgt.shape[1]):  # teacher forcing
            ctx, w = self.decoder.attn(h, enc, enc, src_pad)
            h = self.decoder.cell(torch.cat([tgt[:, t], ctx], -1), h)
            hs.append(h)
            ctxs.append(ctx)
            ws.append(w)
        logits = self.decoder.proj(torch.cat([torch.stack(hs, 1), torch.stack(ctxs, 1)], -1))
        return {"logits": logits, "weights": torch.stack(ws, 1)}


class ConvPatchPool(nn.Module):
    def __init__(self, in_ch, channels, units, classes):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, channels, 3, stride=2, padding=1)
        self.pool = AdditiveAttention(4 * channels, 4 * channels, units)
        self.head = nn.Linear(4 * channels, classes)

    def forward(self, img):
        f = torch.relu(self.conv(img))  # [B, C, 4, 4]
        b, c = f.shape[:2]
        tokens = f.unfold(2, 2, 2).unfold(3, 2, 2)  # [B, C, 2, 2, p, p]
        tokens = tokens.permute(0, 2, 3, 1, 4, 5).reshape(b, -1, c * 4)  # [B, 4, C*p*p]
        pooled, w = self.pool(tokens.mean(1), tokens, tokens)
        return {"logits": self.head(pooled), "weights": w}


class ConvMhaPool(nn.Module):
    def __init__(self, in_ch, channels, heads, classes):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, channels, 3, padding=1)
        self.pool = nn.MultiheadAttention(channels, heads, dropout=0.0, batch_first=True)
        self.head = nn.Linear(channels, classes)

    def forward(self, img):
        f = F.max_pool2d(torch.relu(self.conv(img)), 2, 2)  # [B, C, 3, 3]
        tokens = f.flatten(2).transpose(1, 2)  # [B, 9, C]
        pooled, w = self.pool(tokens.mean(1, keepdim=True), tokens, tokens)
        return {"logits": self.head(pooled.squeeze(1)), "weights": w.squeeze(1)}


# ---------------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------------

def _f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _pad(lengths, s):
    return np.arange(s)[None, :] >= np.asarray(lengths)[:, None]


# ---------------------------------------------------------------------------------------------------
# `.attn` sources and the specs
# ---------------------------------------------------------------------------------------------------

SPECS = []


def spec(**kw):
    SPECS.append(ModelSpec(**kw))


# ---- multihead ------------------------------------------------------------------------------------

spec(
    name="model/multihead_self_padding", model="MhaSelf", hyper={"embed": 8, "heads": 2},
    source="""\
# Multihead self-attention (PyTorch nn.MultiheadAttention, batch_first) with a key padding mask.
model MhaSelf(embed = 8, heads = 2) {
  input x: float32[B, S, embed]
  input pad: bool[B, S]
  output y: float32[B, S, embed]
  output weights: float32[B, S, S]

  y, weights = attention multihead(x, x, x, heads: heads, mask: pad) as mha
}
""",
    build=lambda h: MhaModel(h["embed"], h["heads"], "self"),
    make_inputs=lambda rng, h: {"x": _f32(rng, 2, 5, h["embed"]), "pad": _pad([5, 3], 5)},
    manual=lambda P, I, h: dict(zip(["y", "weights"], attn_kind(
        "multihead", I["x"], I["x"], I["x"], P, "mha.", heads=h["heads"], mask=I["pad"]))),
    note="nn.MultiheadAttention(8, 2) self-attention; batch 1 has its last 2 keys padded; weights are "
         "averaged over heads. Checks the in_proj/out_proj names and the key-padding convention.",
)

spec(
    name="model/multihead_cross", model="MhaCross", hyper={"embed": 8, "heads": 2},
    source="""\
# Multihead cross-attention: queries [B, T, E] attend over a memory [B, S, E] (T != S).
model MhaCross(embed = 8, heads = 2) {
  input q: float32[B, T, embed]
  input mem: float32[B, S, embed]
  input mem_pad: bool[B, S]
  output y: float32[B, T, embed]
  output weights: float32[B, T, S]

  y, weights = attention multihead(q, mem, heads: heads, mask: mem_pad) as mha
}
""",
    build=lambda h: MhaModel(h["embed"], h["heads"], "cross"),
    make_inputs=lambda rng, h: {"q": _f32(rng, 2, 3, h["embed"]), "mem": _f32(rng, 2, 6, h["embed"]),
                                "mem_pad": _pad([6, 4], 6)},
    manual=lambda P, I, h: dict(zip(["y", "weights"], attn_kind(
        "multihead", I["q"], I["mem"], None, P, "mha.", heads=h["heads"], mask=I["mem_pad"]))),
    note="nn.MultiheadAttention cross attention, Tq=3, Tk=6, values default to keys, memory padding mask.",
)

spec(
    name="model/multihead_self_causal", model="MhaCausal", hyper={"embed": 8, "heads": 2},
    source="""\
# Causal multihead self-attention (PyTorch attn_mask = triu(ones(S, S), 1)).
model MhaCausal(embed = 8, heads = 2) {
  input x: float32[B, S, embed]
  output y: float32[B, S, embed]
  output weights: float32[B, S, S]

  y, weights = attention multihead(x, x, x, heads: heads, causal: true) as mha
}
""",
    build=lambda h: MhaModel(h["embed"], h["heads"], "causal"),
    make_inputs=lambda rng, h: {"x": _f32(rng, 2, 5, h["embed"])},
    manual=lambda P, I, h: dict(zip(["y", "weights"], attn_kind(
        "multihead", I["x"], I["x"], I["x"], P, "mha.", heads=h["heads"], causal=True))),
    note="nn.MultiheadAttention with a causal attn_mask; weights are lower-triangular.",
)

# ---- additive / Luong, sequence and one-step queries ------------------------------------------------

_SEQ_IO = """\
  input q: float32[B, T, dq]
  input mem: float32[B, S, dk]
  input pad: bool[B, S]
  output ctx: float32[B, T, dk]
  output weights: float32[B, T, S]
"""
_STEP_IO = """\
  input q: float32[B, dq]
  input mem: float32[B, S, dk]
  input val: float32[B, S, dv]
  input pad: bool[B, S]
  output ctx: float32[B, dv]
  output weights: float32[B, S]
"""


def _seq_inputs(rng, h):
    return {"q": _f32(rng, 2, 4, h["dq"]), "mem": _f32(rng, 2, 5, h["dk"]), "pad": _pad([5, 3], 5)}


def _step_inputs(rng, h):
    return {"q": _f32(rng, 2, h["dq"]), "mem": _f32(rng, 2, 5, h["dk"]), "val": _f32(rng, 2, 5, h["dv"]),
            "pad": _pad([4, 5], 5)}


def _score_kind_specs():
    kinds = {
        # kind: (title, params text, PyTorch module ctor, uses units, needs dq == dk)
        "additive": ("Additive (Bahdanau) attention: score = v^T tanh(W_q q + W_k k)",
                     lambda h: AdditiveAttention(h["dq"], h["dk"], h["units"]), True, False),
        "dot": ("Luong dot attention: score = q^T k", lambda h: DotAttention(), False, True),
        "general": ("Luong general attention: score = q^T W k, W.weight [dq, dk]",
                    lambda h: GeneralAttention(h["dq"], h["dk"]), False, False),
        "concat": ("Luong concat attention: score = v^T tanh(W [q; k])",
                   lambda h: ConcatAttention(h["dq"], h["dk"], h["units"]), True, False),
    }
    for kind, (title, ctor, units, same) in kinds.items():
        dq, dk = (6, 6) if same else (6, 8)
        units_hp = ", units = 5" if units else ""
        units_arg = ", units: units" if units else ""
        scope = " as attn" if kind != "dot" else ""
        name = kind.capitalize() if kind == "additive" else "Luong" + kind.capitalize()
        case = kind if kind == "additive" else "luong_" + kind
        hyper = {"dq": dq, "dk": dk}
        if units:
            hyper["units"] = 5
        seq_src = (f"# {title}; sequence query [B, T, dq], values = keys, key padding mask.\n"
                   f"model {name}Seq(dq = {dq}, dk = {dk}{units_hp}) {{\n{_SEQ_IO}\n"
                   f"  ctx, weights = attention {kind}(q, mem{units_arg}, mask: pad){scope}\n}}\n")
        step_hyper = dict(hyper, dv=3)
        step_src = (f"# {title}; one-step query [B, dq] (output [B, dv], weights [B, S]), separate values.\n"
                    f"model {name}Step(dq = {dq}, dk = {dk}{units_hp}, dv = 3) {{\n{_STEP_IO}\n"
                    f"  ctx, weights = attention {kind}(q, mem, val{units_arg}, mask: pad){scope}\n}}\n")
        u = (lambda h: h.get("units")) if units else (lambda h: None)
        spec(name=f"model/{case}_seq", model=f"{name}Seq", hyper=hyper, source=seq_src,
             build=(lambda c: lambda h: SingleAttention(c(h)))(ctor),
             make_inputs=_seq_inputs,
             manual=(lambda kd, u: lambda P, I, h: dict(zip(["ctx", "weights"], attn_kind(
                 kd, I["q"], I["mem"], None, P, "attn.", units=u(h), mask=I["pad"]))))(kind, u),
             note=f"{title}. Sequence query (Tq=4, Tk=5); batch 1 has 2 padded keys.")
        spec(name=f"model/{case}_step", model=f"{name}Step", hyper=step_hyper, source=step_src,
             build=(lambda c: lambda h: SingleAttention(c(h)))(ctor),
             make_inputs=_step_inputs,
             manual=(lambda kd, u: lambda P, I, h: dict(zip(["ctx", "weights"], attn_kind(
                 kd, I["q"], I["mem"], I["val"], P, "attn.", units=u(h), mask=I["pad"]))))(kind, u),
             note=f"{title}. One-step query [B, dq] with explicit values [B, S, 3]; batch 0 has 1 padded key.")


_score_kind_specs()

# ---- local / hard / top-k -------------------------------------------------------------------------

spec(
    name="model/local_window", model="LocalWindow", hyper={"d": 4},
    source="""\
# Local attention: scaled dot restricted to |i - j| <= 1.
model LocalWindow(d = 4) {
  input q: float32[B, T, d]
  input mem: float32[B, T, d]
  input val: float32[B, T, 3]
  output ctx: float32[B, T, 3]
  output weights: float32[B, T, T]

  ctx, weights = attention local(q, mem, val, window: 1)
}
""",
    build=lambda h: SingleAttention(LocalAttention(1)),
    make_inputs=lambda rng, h: {"q": _f32(rng, 2, 6, 4), "mem": _f32(rng, 2, 6, 4), "val": _f32(rng, 2, 6, 3)},
    manual=lambda P, I, h: dict(zip(["ctx", "weights"], attn_kind(
        "local", I["q"], I["mem"], I["val"], P, "", window=1))),
    note="Local attention, symmetric window 1 (tridiagonal weights), scale 1/sqrt(4).",
)

spec(
    name="model/local_causal", model="LocalCausal", hyper={"d": 4},
    source="""\
# One-sided local attention: key j visible from query i only if i - 2 <= j <= i.
model LocalCausal(d = 4) {
  input x: float32[B, T, d]
  output ctx: float32[B, T, d]
  output weights: float32[B, T, T]

  ctx, weights = attention local(x, x, x, window: 2, causal: true)
}
""",
    build=lambda h: _LocalCausalSelf(),
    make_inputs=lambda rng, h: {"x": _f32(rng, 2, 6, 4)},
    manual=lambda P, I, h: dict(zip(["ctx", "weights"], attn_kind(
        "local", I["x"], I["x"], I["x"], P, "", window=2, causal=True))),
    note="Local self-attention with window 2 and causal: true (one-sided band).",
)


class _LocalCausalSelf(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = LocalAttention(2, causal=True)

    def forward(self, x):
        ctx, w = self.attn(x, x, x)
        return {"ctx": ctx, "weights": w}


class ScaledDotAttention(nn.Module):
    """q k^T * scale (default 1/sqrt(d)), optional causal mask (PyTorch tril convention)."""

    def __init__(self, scale=None, causal=False):
        super().__init__()
        self.scale, self.causal = scale, causal

    def forward(self, q, k, v=None, mask=None):
        v = k if v is None else v
        scale = 1 / math.sqrt(q.shape[-1]) if self.scale is None else self.scale
        scores = torch.bmm(q, k.transpose(1, 2)) * scale
        if self.causal:
            tq, tk = q.shape[1], k.shape[1]
            scores = scores.masked_fill(~torch.ones(tq, tk, dtype=torch.bool).tril(), float("-inf"))
        return _finish(scores, v, mask, False)


spec(
    name="model/scaled_dot_causal_scale", model="ScaledDot", hyper={"d": 4},
    source="""\
# Scaled dot-product attention with a causal mask, a custom scale and a key padding mask.
model ScaledDot(d = 4) {
  input q: float32[B, T, d]
  input mem: float32[B, T, d]
  input val: float32[B, T, 3]
  input pad: bool[B, T]
  output ctx: float32[B, T, 3]
  output weights: float32[B, T, T]

  ctx, weights = attention scaled_dot(q, mem, val, causal: true, scale: 0.25, mask: pad)
}
""",
    build=lambda h: SingleAttention(ScaledDotAttention(0.25, causal=True)),
    make_inputs=lambda rng, h: {"q": _f32(rng, 2, 5, 4), "mem": _f32(rng, 2, 5, 4), "val": _f32(rng, 2, 5, 3),
                                "pad": _pad([5, 4], 5)},
    manual=lambda P, I, h: dict(zip(["ctx", "weights"], attn_kind(
        "scaled_dot", I["q"], I["mem"], I["val"], P, "", mask=I["pad"], causal=True, scale=0.25))),
    note="scaled_dot with causal: true, scale: 0.25 (a float option) and a padding mask on the last key "
         "of batch 1 (that key is also causally hidden from all but the last query).",
)


def _hard_inputs(rng, h):
    return {"q": _f32(rng, 2, 4, 4), "mem": _f32(rng, 2, 6, 4), "val": _f32(rng, 2, 6, 3),
            "pad": _pad([6, 4], 6)}


spec(
    name="model/hard_argmax", model="HardArgmax", hyper={"d": 4},
    source="""\
# Hard attention: scaled dot, then a one-hot argmax (straight-through gradient).
model HardArgmax(d = 4) {
  input q: float32[B, T, d]
  input mem: float32[B, S, d]
  input val: float32[B, S, 3]
  input pad: bool[B, S]
  output ctx: float32[B, T, 3]
  output weights: float32[B, T, S]

  ctx, weights = attention hard(q, mem, val, mask: pad)
}
""",
    build=lambda h: SingleAttention(HardAttention()),
    make_inputs=_hard_inputs,
    manual=lambda P, I, h: dict(zip(["ctx", "weights"], attn_kind(
        "hard", I["q"], I["mem"], I["val"], P, "", mask=I["pad"]))),
    valid=lambda I: _scores_valid(I["q"], I["mem"], I["pad"], 1),
    note="Hard (argmax) attention. Forward weights are one-hot; gradients use the straight-through "
         "estimator (gradient of softmax of the same scores). Inputs drawn so no two top scores are "
         "within 1e-3.",
)

spec(
    name="model/hard_topk", model="HardTopk", hyper={"d": 4},
    source="""\
# Hard attention with top-k: softmax over the 2 largest scaled-dot scores per query.
model HardTopk(d = 4) {
  input q: float32[B, T, d]
  input mem: float32[B, S, d]
  input val: float32[B, S, 3]
  input pad: bool[B, S]
  output ctx: float32[B, T, 3]
  output weights: float32[B, T, S]

  ctx, weights = attention hard(q, mem, val, topk: 2, mask: pad)
}
""",
    build=lambda h: SingleAttention(HardAttention(topk=2)),
    make_inputs=_hard_inputs,
    manual=lambda P, I, h: dict(zip(["ctx", "weights"], attn_kind(
        "hard", I["q"], I["mem"], I["val"], P, "", mask=I["pad"], topk=2))),
    valid=lambda I: _scores_valid(I["q"], I["mem"], I["pad"], 2),
    note="Top-k (k=2) attention: softmax over the 2 kept scores, zeros elsewhere; natural gradient. "
         "Inputs drawn so the 2nd and 3rd scores differ by more than 1e-3.",
)

# ---- tutorial -------------------------------------------------------------------------------------

spec(
    name="model/tutorial_gru_additive", model="Tutorial", hyper={"features": 4, "hidden": 6},
    source="""\
# GRU + additive self-attention + linear head (the tutorial model)
model Tutorial(features = 8, hidden = 16) {
  input  x: float32[B, S, features]
  output y: float32[B, 1]
  output weights

  h, _ = gru(x, hidden: hidden) as rnn
  ctx, weights = attention additive(h, h, h, units: hidden)   # [B, S, hidden], [B, S, S]
  pooled = mean(ctx, axis: 1)
  y = linear(pooled, out: 1) as head
}
""",
    build=lambda h: Tutorial(h["features"], h["hidden"]),
    make_inputs=lambda rng, h: {"x": _f32(rng, 2, 5, h["features"])},
    manual=lambda P, I, h: _manual_tutorial(P, I, h),
    note="The tutorial model of docs/language.md, verbatim; hyper overrides the defaults "
         "(features=4, hidden=6). The attention statement has no `as`, so its scope is its first target "
         "`ctx` (params ctx.W_q.weight, ctx.W_k.weight, ctx.v.weight).",
)


def _manual_tutorial(P, I, h):
    y, _ = gru_ref(I["x"], [P["rnn." + n] for n in GRU_NAMES], None, h["hidden"], False)
    ctx, w = attn_kind("additive", y, y, y, P, "ctx.", units=h["hidden"])
    return {"y": F.linear(ctx.mean(1), P["head.weight"], P["head.bias"]), "weights": w}


# ---- transformer encoder layer --------------------------------------------------------------------

_ENCODER_BLOCK = """\
# Post-norm Transformer encoder layer with PyTorch nn.TransformerEncoderLayer's parameter names.
block EncoderLayer(d_model, nhead, dim_ff) {
  input x: float32[B, S, d_model]
  input pad: bool[B, S]
  output y

  a = attention multihead(x, x, x, heads: nhead, mask: pad) as self_attn
  h = layernorm(x + a) as norm1
  f = linear(h, out: dim_ff) as linear1
  f = linear(relu(f), out: d_model) as linear2
  y = layernorm(h + f) as norm2
}
"""


def _manual_encoder_layer(P, p, x, pad, nhead):
    a, _ = attn_kind("multihead", x, x, x, P, p + "self_attn.", heads=nhead, mask=pad)
    h = F.layer_norm(x + a, (x.shape[-1],), P[p + "norm1.weight"], P[p + "norm1.bias"], 1e-5)
    f = F.linear(h, P[p + "linear1.weight"], P[p + "linear1.bias"])
    f = F.linear(torch.relu(f), P[p + "linear2.weight"], P[p + "linear2.bias"])
    return F.layer_norm(h + f, (x.shape[-1],), P[p + "norm2.weight"], P[p + "norm2.bias"], 1e-5)


spec(
    name="model/transformer_encoder_layer", model="TransformerLayer",
    hyper={"d_model": 8, "nhead": 2, "dim_ff": 16},
    source=_ENCODER_BLOCK + """
model TransformerLayer(d_model = 8, nhead = 2, dim_ff = 16) {
  input x: float32[B, S, d_model]
  input pad: bool[B, S]
  output y: float32[B, S, d_model]

  y = EncoderLayer(d_model, nhead, dim_ff)(x, pad) as layer
}
""",
    build=lambda h: TransformerLayerModel(h["d_model"], h["nhead"], h["dim_ff"]),
    make_inputs=lambda rng, h: {"x": _f32(rng, 2, 5, h["d_model"]), "pad": _pad([5, 3], 5)},
    manual=lambda P, I, h: {"y": _manual_encoder_layer(P, "layer.", I["x"], I["pad"], h["nhead"])},
    note="nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0, batch_first, "
         "post-norm, relu) as an .attn block used once under scope `layer`; key padding mask. Padded "
         "query rows are computed too (PyTorch's slow path; no nested-tensor zeroing).",
)

spec(
    name="model/transformer_encoder_stack", model="TransformerStack",
    hyper={"d_model": 8, "nhead": 2, "dim_ff": 16},
    source=_ENCODER_BLOCK + """
model TransformerStack(d_model = 8, nhead = 2, dim_ff = 16) {
  input x: float32[B, S, d_model]
  input pad: bool[B, S]
  output y: float32[B, S, d_model]

  y = repeat 2 EncoderLayer(d_model, nhead, dim_ff)(x, pad) as layers
}
""",
    build=lambda h: TransformerStackModel(h["d_model"], h["nhead"], h["dim_ff"], 2),
    make_inputs=lambda rng, h: {"x": _f32(rng, 2, 5, h["d_model"]), "pad": _pad([4, 5], 5)},
    manual=lambda P, I, h: {"y": _manual_encoder_layer(
        P, "layers.1.", _manual_encoder_layer(P, "layers.0.", I["x"], I["pad"], h["nhead"]),
        I["pad"], h["nhead"])},
    note="Two encoder layers via `repeat 2 ... as layers` (scopes layers.0, layers.1 as in "
         "nn.TransformerEncoder / ModuleList); each layer has its own random weights; padding mask "
         "passed to every layer.",
)

# ---- seq2seq --------------------------------------------------------------------------------------

spec(
    name="model/gru_bahdanau_seq2seq", model="Seq2Seq",
    hyper={"src_vocab": 7, "tgt_vocab": 6, "emb": 4, "hidden": 5, "units": 6},
    weights_file="gru_bahdanau_seq2seq.safetensors",
    source="""\
# Bidirectional GRU encoder -> Bahdanau (additive) attention GRUCell decoder, teacher forcing.
model Seq2Seq(src_vocab = 7, tgt_vocab = 6, emb = 4, hidden = 5, units = 6) {
  input src: int32[B, S]
  input src_pad: bool[B, S]
  input tgt_in: int32[B, T]
  output logits: float32[B, T, tgt_vocab]
  output weights: float32[B, T, S]

  encoder {
    src_emb = embedding(src, vocab: src_vocab, dim: emb) as embed
    enc, h_n = gru(src_emb, hidden: hidden, bidirectional: true) as rnn   # [B, S, 2*hidden], [2, B, hidden]
    h_cat = concat(select(h_n, axis: 0, index: 0), select(h_n, axis: 0, index: 1), axis: -1)
    h0 = linear(h_cat, out: hidden) as bridge
    h0 = tanh(h0)
  }

  decoder {
    tgt_emb = embedding(tgt_in, vocab: tgt_vocab, dim: emb) as embed
    hs, ctxs, weights, h_last = scan (e over tgt_emb, h = h0) {
      ctx, w = attention additive(h, enc, enc, units: units, mask: src_pad) as attn
      h = gru_cell(concat(e, ctx, axis: -1), h, hidden: hidden) as cell
      yield h, ctx, w
    }
    logits = linear(concat(hs, ctxs, axis: -1), out: tgt_vocab) as proj
  }
}
""",
    build=lambda h: Seq2Seq(h["src_vocab"], h["tgt_vocab"], h["emb"], h["hidden"], h["units"]),
    make_inputs=lambda rng, h: _seq2seq_inputs(rng, h),
    manual=lambda P, I, h: _manual_seq2seq(P, I, h),
    note="Seq2seq with attention: nn.Embedding + bidirectional nn.GRU encoder (whole padded sequence, "
         "no packing), h0 = tanh(bridge([h_fwd; h_bwd])), decoder step: additive attention with the "
         "previous state as query over the encoder outputs (source padding mask), then nn.GRUCell on "
         "[tgt_emb_t; ctx_t]; logits = proj([h_t; ctx_t]). Weights are in the safetensors file.",
)


def _seq2seq_inputs(rng, h):
    pad = _pad([5, 3], 5)
    src = rng.integers(1, h["src_vocab"], size=(2, 5)).astype(np.int32)
    src[pad] = 0
    tgt = rng.integers(0, h["tgt_vocab"], size=(2, 4)).astype(np.int32)
    return {"src": src, "src_pad": pad, "tgt_in": tgt}


def _manual_seq2seq(P, I, h):
    hid = h["hidden"]
    src_emb = F.embedding(I["src"].long(), P["encoder.embed.weight"])
    enc, h_n = gru_ref(src_emb, [P["encoder.rnn." + n] for n in GRU_NAMES_BI], None, hid, True)
    h_cat = torch.cat([h_n.select(0, 0), h_n.select(0, 1)], -1)
    s = torch.tanh(F.linear(h_cat, P["encoder.bridge.weight"], P["encoder.bridge.bias"]))
    tgt = F.embedding(I["tgt_in"].long(), P["decoder.embed.weight"])
    hs, ctxs, ws = [], [], []
    for t in range(tgt.shape[1]):
        ctx, w = attn_kind("additive", s, enc, enc, P, "decoder.attn.", units=h["units"], mask=I["src_pad"])
        s = gru_cell_ref(torch.cat([tgt[:, t], ctx], -1), s, *[P["decoder.cell." + n] for n in CELL_NAMES])
        hs.append(s)
        ctxs.append(ctx)
        ws.append(w)
    logits = F.linear(torch.cat([torch.stack(hs, 1), torch.stack(ctxs, 1)], -1),
                      P["decoder.proj.weight"], P["decoder.proj.bias"])
    return {"logits": logits, "weights": torch.stack(ws, 1)}


# ---- image classifiers ----------------------------------------------------------------------------

spec(
    name="model/image_conv_patches_additive_pool", model="ConvPatchPool",
    hyper={"channels": 4, "units": 8, "classes": 3},
    source="""\
# conv2d -> relu -> 2x2 patches -> attention pooling (query: learned projection of the mean patch) -> linear.
model ConvPatchPool(channels = 4, units = 8, classes = 3) {
  input img: float32[B, 2, 8, 8]
  output logits: float32[B, classes]
  output weights: float32[B, 4]

  f = conv2d(img, out: channels, kernel: 3, stride: 2, padding: 1) as conv   # [B, channels, 4, 4]
  f = relu(f)
  tokens = patches(f, size: 2)                                                # [B, 4, 4*channels]
  pooled, weights = attention additive(mean(tokens, axis: 1), tokens, units: units) as pool
  logits = linear(pooled, out: classes) as head
}
""",
    build=lambda h: ConvPatchPool(2, h["channels"], h["units"], h["classes"]),
    make_inputs=lambda rng, h: {"img": _f32(rng, 2, 2, 8, 8)},
    manual=lambda P, I, h: _manual_conv_patch(P, I, h),
    note="Image classifier: Conv2d(2->4, k3, stride 2, pad 1), relu, patches of 2x2 (channel-major), "
         "additive attention pooling with a one-step query (the mean patch through the learned W_q), "
         "linear head. Gradient w.r.t. the image included.",
)


def _manual_conv_patch(P, I, h):
    f = torch.relu(F.conv2d(I["img"], P["conv.weight"], P["conv.bias"], stride=2, padding=1))
    tokens = F.unfold(f, 2, stride=2).transpose(1, 2)
    pooled, w = attn_kind("additive", tokens.mean(1), tokens, None, P, "pool.", units=h["units"])
    return {"logits": F.linear(pooled, P["head.weight"], P["head.bias"]), "weights": w}


spec(
    name="model/image_conv_maxpool_mha_pool", model="ConvMhaPool",
    hyper={"channels": 4, "heads": 2, "classes": 3},
    source="""\
# conv2d -> relu -> maxpool -> flatten to [B, H*W, C] -> multihead attention pooling -> linear.
model ConvMhaPool(channels = 4, heads = 2, classes = 3) {
  input img: float32[B, 3, 6, 6]
  output logits: float32[B, classes]
  output weights: float32[B, 9]

  f = conv2d(img, out: channels, kernel: 3, padding: 1) as conv             # [B, channels, 6, 6]
  f = maxpool2d(relu(f), kernel: 2, stride: 2)                              # [B, channels, 3, 3]
  tokens = transpose(reshape(f, [B, channels, -1]), [0, 2, 1])              # [B, 9, channels]
  pooled, weights = attention multihead(mean(tokens, axis: 1), tokens, heads: heads) as pool
  logits = linear(pooled, out: classes) as head
}
""",
    build=lambda h: ConvMhaPool(3, h["channels"], h["heads"], h["classes"]),
    make_inputs=lambda rng, h: {"img": _f32(rng, 2, 3, 6, 6)},
    manual=lambda P, I, h: _manual_conv_mha(P, I, h),
    note="Image classifier: Conv2d(3->4, k3, pad 1), relu, max_pool2d 2x2, flatten spatial positions "
         "into 9 tokens, nn.MultiheadAttention(4, 2) pooling with a one-step query (mean token, "
         "CLIP AttentionPool2d style), linear head.",
)


def _manual_conv_mha(P, I, h):
    f = torch.relu(F.conv2d(I["img"], P["conv.weight"], P["conv.bias"], padding=1))
    f = F.max_pool2d(f, 2, 2)
    tokens = f.reshape(f.shape[0], h["channels"], -1).permute(0, 2, 1)
    pooled, w = attn_kind("multihead", tokens.mean(1), tokens, None, P, "pool.", heads=h["heads"])
    return {"logits": F.linear(pooled, P["head.weight"], P["head.bias"]), "weights": w}
