"""Reference semantics for the attn conformance fixtures (PyTorch 1.13, any float dtype).

Two kinds of code live here:

* ``OPS``: one function per IR op (docs/ir.md), ``fn(inputs, attrs) -> [outputs]``. Inputs are torch
  tensors (or ``None`` for an absent optional input); float inputs may be float32 or float64 and the
  function computes in that dtype, so the same code gives the float64 reference and the float32
  calibration run. These follow the IR text literally (mask rules, first-index ties, the
  straight-through hardmax, fully masked rows giving zeros).
* ``attn_kind`` and friends: the semantics of ``attention KIND(...)`` in docs/language.md written with
  the op functions. ``check.py`` uses them to re-derive every model case a second way, independently
  of the PyTorch modules in ``models.py`` that produced the fixture.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

NEG_INF = float("-inf")


# ---------------------------------------------------------------------------------------------------
# selections (softmax / hardmax / top-k), all safe on rows that are entirely -inf
# ---------------------------------------------------------------------------------------------------

def masked_softmax(s, axis=-1):
    """Stable softmax; -inf entries get 0; a row that is all -inf gives zeros and a zero gradient."""
    m = s.detach().amax(dim=axis, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    e = torch.exp(s - m)
    d = e.sum(dim=axis, keepdim=True)
    return e / torch.where(d == 0, torch.ones_like(d), d)


def masked_log_softmax(s, axis=-1):
    """log_softmax; a row that is all -inf gives -inf (forward only: no gradient is defined there)."""
    m = s.detach().amax(dim=axis, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    z = s - m
    d = torch.exp(z).sum(dim=axis, keepdim=True)
    return z - torch.log(torch.where(d == 0, torch.ones_like(d), d))


def hardmax_values(s, axis=-1):
    """One-hot at the first maximum along ``axis``; all -inf row -> zeros. No gradient."""
    x = s.detach().movedim(axis, -1).cpu().numpy()
    idx = np.argmax(x, axis=-1)  # numpy: first occurrence on ties
    hard = np.zeros_like(x)
    np.put_along_axis(hard, idx[..., None], 1.0, axis=-1)
    valid = np.max(x, axis=-1, keepdims=True) > -np.inf
    hard = hard * valid
    return torch.from_numpy(hard).to(s.dtype).movedim(-1, axis)


def hardmax_ste(s, axis=-1):
    """Forward: hardmax(s). Backward: the gradient of softmax(s) (straight-through estimator)."""
    soft = masked_softmax(s, axis)
    return hardmax_values(s, axis) + (soft - soft.detach())  # exact one-hot forward


def topk_keep(s, axis, k):
    """Bool mask of the k largest entries per row (first index wins ties; -inf never kept)."""
    x = s.detach().movedim(axis, -1).cpu().numpy()
    flat = x.reshape(-1, x.shape[-1])
    keep = np.zeros(flat.shape, dtype=bool)
    for r, row in enumerate(flat):
        order = np.argsort(-row, kind="stable")
        kept = 0
        for j in order:
            if kept == k or row[j] == -np.inf:
                break
            keep[r, j] = True
            kept += 1
    return torch.from_numpy(keep.reshape(x.shape)).movedim(-1, axis)


def topk_softmax(s, axis, k):
    keep = topk_keep(s, axis, k)
    return masked_softmax(s.masked_fill(~keep, NEG_INF), axis)


def apply_select(s, select, axis=-1):
    if select == "softmax":
        return masked_softmax(s, axis)
    if select == "argmax":
        return hardmax_ste(s, axis)
    if isinstance(select, dict) and "topk" in select:
        return topk_softmax(s, axis, int(select["topk"]))
    raise ValueError(f"unknown select {select!r}")


# ---------------------------------------------------------------------------------------------------
# attention
# ---------------------------------------------------------------------------------------------------

def build_mask(scores_shape, mask, causal, window):
    """Bool tensor (true = masked out) broadcastable to ``scores_shape``, or None."""
    rank = len(scores_shape)
    tq, tk = scores_shape[-2], scores_shape[-1]
    out = None
    if causal or window is not None:
        i = torch.arange(tq).unsqueeze(1)
        j = torch.arange(tk).unsqueeze(0)
        m = torch.zeros(tq, tk, dtype=torch.bool)
        if causal:
            m |= j > i
            if window is not None:
                m |= (i - j) > window
        elif window is not None:
            m |= (i - j).abs() > window
        out = m
    if mask is not None:
        mask = mask.bool()
        if mask.dim() == rank:
            pm = mask
        elif mask.dim() == 2:  # key padding [B, Tk], broadcast over every dim between B and Tq
            pm = mask.reshape([mask.shape[0]] + [1] * (rank - 2) + [mask.shape[1]])
        else:
            raise ValueError(f"mask of rank {mask.dim()} for scores of rank {rank}")
        out = pm if out is None else (out | pm)
    return out


def attention_mask_op(scores, mask, causal, window):
    m = build_mask(tuple(scores.shape), mask, causal, window)
    if m is None:
        return scores.clone()
    return scores.masked_fill(m.expand(scores.shape), NEG_INF)


def attention_op(q, k, v, mask, scale, causal, window, select, weights):
    s = torch.matmul(q, k.transpose(-1, -2)) * scale
    s = attention_mask_op(s, mask, causal, window)
    w = apply_select(s, select)
    out = torch.matmul(w, v)
    return [out, w] if weights else [out]


# ---------------------------------------------------------------------------------------------------
# recurrent (textbook equations of docs/ir.md; nn.GRU is used separately when generating)
# ---------------------------------------------------------------------------------------------------

def gru_cell_ref(x, h, w_ih, w_hh, b_ih, b_hh):
    gi = F.linear(x, w_ih, b_ih)
    gh = F.linear(h, w_hh, b_hh)
    i_r, i_z, i_n = gi.chunk(3, -1)
    h_r, h_z, h_n = gh.chunk(3, -1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def gru_ref(x, weights, h0, hidden, bidirectional):
    """weights: [w_ih, w_hh, b_ih, b_hh] (+ the reverse four); returns y [B,S,dirs*H], h_n [dirs,B,H]."""
    b, s, _ = x.shape
    dirs = 2 if bidirectional else 1
    if h0 is None:
        h0 = torch.zeros(dirs, b, hidden, dtype=x.dtype)
    ys, hs = [], []
    for d in range(dirs):
        w_ih, w_hh, b_ih, b_hh = weights[4 * d:4 * d + 4]
        h = h0[d]
        out = [None] * s
        for t in (range(s - 1, -1, -1) if d == 1 else range(s)):
            h = gru_cell_ref(x[:, t], h, w_ih, w_hh, b_ih, b_hh)
            out[t] = h
        ys.append(torch.stack(out, 1))
        hs.append(h)
    return torch.cat(ys, -1), torch.stack(hs, 0)


# ---------------------------------------------------------------------------------------------------
# misc helpers
# ---------------------------------------------------------------------------------------------------

def sinusoidal_pe(s, d, dtype):
    pos = torch.arange(s, dtype=torch.float64).unsqueeze(1)
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
    pe = torch.zeros(s, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div[: d // 2])
    return pe.to(dtype)


def patches_ref(x, p):
    # F.unfold gives [B, C*p*p, L] with channel-major patch vectors and L in row-major patch order.
    return F.unfold(x, kernel_size=p, stride=p).transpose(1, 2)


TORCH_DTYPES = {"float32": torch.float32, "int32": torch.int32, "bool": torch.bool}


def _cast(x, to):
    if to == "bool":
        return x != 0
    return x.to(TORCH_DTYPES[to])  # float -> int32 truncates toward zero (PyTorch)


def _slice(x, attrs):
    axis = attrs["axis"] % x.dim()
    idx = [slice(None)] * x.dim()
    idx[axis] = slice(attrs["start"], attrs.get("end"), attrs.get("step", 1))
    return x[tuple(idx)]


def _squeeze(x, axes):
    for a in sorted((a % x.dim() for a in axes), reverse=True):
        assert x.shape[a] == 1
        x = x.squeeze(a)
    return x


def _unsqueeze(x, axes):
    for a in sorted(axes):  # axes index the output (ONNX semantics)
        x = x.unsqueeze(a)
    return x


def _argmax(x, axis, keepdims):
    a = np.argmax(x.detach().cpu().numpy(), axis=axis)
    if keepdims:
        a = np.expand_dims(a, axis)
    return torch.from_numpy(np.asarray(a, dtype=np.int32))


def _one(f):
    return lambda xs, a: [f(xs[0])]


def _two(f):
    return lambda xs, a: [f(xs[0], xs[1])]


def _gru(xs, a):
    # fixed input slots (as core's op definition): x, forward four, reverse four (null when
    # unidirectional), h0 at index 9; trailing absent inputs may be left out
    xs = list(xs) + [None] * (10 - len(xs))
    weights = xs[1:9] if a["bidirectional"] else xs[1:5]
    h0 = xs[9]
    y, hn = gru_ref(xs[0], weights, h0, a["hidden"], a["bidirectional"])
    return [y, hn]


def _pool_args(a):
    k = a["kernel"]
    return k, a.get("stride") or k, a.get("padding", [0, 0])


OPS = {
    # elementwise
    "relu": _one(torch.relu), "tanh": _one(torch.tanh), "sigmoid": _one(torch.sigmoid),
    "exp": _one(torch.exp), "log": _one(torch.log), "neg": _one(torch.neg), "sqrt": _one(torch.sqrt),
    "abs": _one(torch.abs), "silu": _one(F.silu),
    "gelu": lambda xs, a: [F.gelu(xs[0], approximate=a.get("approximate", "none"))],
    "add": _two(torch.add), "sub": _two(torch.sub), "mul": _two(torch.mul), "div": _two(lambda x, y: torch.div(x, y, rounding_mode="trunc") if not x.is_floating_point() else torch.div(x, y)),
    "maximum": _two(torch.maximum), "minimum": _two(torch.minimum),
    "equal": _two(torch.eq), "not_equal": _two(torch.ne), "less": _two(torch.lt),
    "greater": _two(torch.gt),
    "logical_and": _two(torch.logical_and), "logical_or": _two(torch.logical_or),
    "logical_not": _one(torch.logical_not),
    "cast": lambda xs, a: [_cast(xs[0], a["to"])],
    "constant": lambda xs, a: [torch.tensor(np.array(a["value"]["data"]).reshape(a["value"]["shape"]))],
    "identity": _one(lambda x: x.clone()),
    "dropout": _one(lambda x: x.clone()),
    # linear algebra and layout
    "matmul": _two(torch.matmul),
    "linear": lambda xs, a: [F.linear(xs[0], xs[1], xs[2])],
    "transpose": lambda xs, a: [xs[0].permute(*a["perm"])],
    "reshape": lambda xs, a: [xs[0].reshape(a["shape"])],
    "squeeze": lambda xs, a: [_squeeze(xs[0], a["axes"])],
    "unsqueeze": lambda xs, a: [_unsqueeze(xs[0], a["axes"])],
    "concat": lambda xs, a: [torch.cat(list(xs), dim=a["axis"])],
    "split": lambda xs, a: list(torch.split(xs[0], a["sizes"], dim=a["axis"])),
    "slice": lambda xs, a: [_slice(xs[0], a)],
    "select": lambda xs, a: [xs[0].select(a["axis"], a["index"])],
    # reductions and normalisation
    "reduce_sum": lambda xs, a: [xs[0].sum(dim=a["axes"], keepdim=a["keepdims"])],
    "reduce_mean": lambda xs, a: [xs[0].mean(dim=a["axes"], keepdim=a["keepdims"])],
    "reduce_max": lambda xs, a: [xs[0].amax(dim=a["axes"], keepdim=a["keepdims"])],
    "argmax": lambda xs, a: [_argmax(xs[0], a["axis"], a["keepdims"])],
    "softmax": lambda xs, a: [masked_softmax(xs[0], a["axis"])],
    "log_softmax": lambda xs, a: [masked_log_softmax(xs[0], a["axis"])],
    "hardmax": lambda xs, a: [hardmax_ste(xs[0], a["axis"])],
    "topk_softmax": lambda xs, a: [topk_softmax(xs[0], a["axis"], a["k"])],
    "layer_norm": lambda xs, a: [F.layer_norm(xs[0], (xs[0].shape[-1],), xs[1], xs[2], a.get("eps", 1e-5))],
    # attention
    "attention_mask": lambda xs, a: [attention_mask_op(xs[0], xs[1], a["causal"], a["window"])],
    "attention": lambda xs, a: attention_op(xs[0], xs[1], xs[2], xs[3], a["scale"], a["causal"],
                                            a["window"], a["select"], a["weights"]),
    # recurrent
    "gru": _gru,
    "gru_cell": lambda xs, a: [gru_cell_ref(*xs)],
    # images
    "conv2d": lambda xs, a: [F.conv2d(xs[0], xs[1], xs[2], stride=a["stride"], padding=a["padding"],
                                      dilation=a["dilation"], groups=a["groups"])],
    "max_pool2d": lambda xs, a: [F.max_pool2d(xs[0], *_pool_args(a))],
    "avg_pool2d": lambda xs, a: [F.avg_pool2d(xs[0], *_pool_args(a), count_include_pad=True)],
    "patches": lambda xs, a: [patches_ref(xs[0], a["size"])],
    "positional_encoding": lambda xs, a: [xs[0] + sinusoidal_pe(xs[0].shape[1], xs[0].shape[2], xs[0].dtype)],
    "embedding": lambda xs, a: [F.embedding(xs[1].long(), xs[0])],
}

# Ops without a gradient (their cases carry no "grad" block).
NON_DIFFERENTIABLE = {"equal", "not_equal", "less", "greater", "logical_and", "logical_or",
                      "logical_not", "cast", "constant", "argmax"}


# ---------------------------------------------------------------------------------------------------
# `attention KIND(...)` of docs/language.md, built from the ops above (used by check.py)
# ---------------------------------------------------------------------------------------------------

def attn_kind(kind, q, k, v, P, prefix, *, units=None, heads=None, mask=None, causal=False,
              window=None, scale=None, select=None, topk=None):
    """Returns (out, weights). ``P`` maps full parameter names to tensors; ``prefix`` is the scope + '.'."""
    if v is None:
        v = k
    step = q.dim() == 2
    if step:
        q = q.unsqueeze(1)
    if select is None:
        select = "argmax" if kind == "hard" else "softmax"
    if topk is not None:
        select = {"topk": topk}
    if kind == "multihead":
        e = q.shape[-1]
        dh = e // heads
        wq, wk, wv = P[prefix + "in_proj_weight"].chunk(3, 0)
        bq, bk, bv = P[prefix + "in_proj_bias"].chunk(3, 0)

        def split(x, w, b_):
            y = F.linear(x, w, b_)
            return y.reshape(y.shape[0], y.shape[1], heads, dh).transpose(1, 2)

        qh, kh, vh = split(q, wq, bq), split(k, wk, bk), split(v, wv, bv)
        oh, wh = attention_op(qh, kh, vh, mask, 1.0 / math.sqrt(dh) if scale is None else scale,
                              causal, window, select, True)
        o = oh.transpose(1, 2).reshape(q.shape[0], q.shape[1], e)
        out = F.linear(o, P[prefix + "out_proj.weight"], P[prefix + "out_proj.bias"])
        w = wh.mean(1)
    else:
        if kind == "dot":
            s = torch.matmul(q, k.transpose(-1, -2))
        elif kind in ("scaled_dot", "hard", "local"):
            sc = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
            s = torch.matmul(q, k.transpose(-1, -2)) * sc
        elif kind == "general":
            wk = F.linear(k, P[prefix + "W.weight"])  # [B, Tk, dq]: W k
            s = torch.matmul(q, wk.transpose(-1, -2))
        elif kind == "additive":
            a = F.linear(q, P[prefix + "W_q.weight"]).unsqueeze(2) + F.linear(k, P[prefix + "W_k.weight"]).unsqueeze(1)
            s = F.linear(torch.tanh(a), P[prefix + "v.weight"]).squeeze(-1)
        elif kind == "concat":
            tq, tk = q.shape[1], k.shape[1]
            qk = torch.cat([q.unsqueeze(2).expand(-1, -1, tk, -1), k.unsqueeze(1).expand(-1, tq, -1, -1)], -1)
            s = F.linear(torch.tanh(F.linear(qk, P[prefix + "W.weight"])), P[prefix + "v.weight"]).squeeze(-1)
        else:
            raise ValueError(kind)
        s = attention_mask_op(s, mask, causal, window)
        w = apply_select(s, select)
        out = torch.matmul(w, v)
    if step:
        out, w = out.squeeze(1), w.squeeze(1)
    return out, w
