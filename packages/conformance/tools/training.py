"""Training fixtures: losses, optimizers, gradient clipping and a whole training run (PyTorch 1.13).

Called by generate.py (``generate(C, G)``) and check.py (``check(K)``); importing this module adds the loss
ops to ``reference.OPS`` so the op-case machinery of both scripts handles them like any other op.

* ``fixtures/ops/loss.json``: op cases (op-case format) for ``cross_entropy`` (class dim last),
  ``mse_loss``, ``binary_cross_entropy``, ``binary_cross_entropy_with_logits``; forward and gradient.
* ``fixtures/optim/{sgd,adam,adamw,clip_grad_norm}.json``: ``torch.optim`` runs of 3 steps from fixed
  params and gradients, and ``clip_grad_norm_`` cases (format in the package README).
* ``fixtures/training/tutorial_adam.json``: the tutorial model (packages/models/examples/tutorial.attn)
  trained full-batch with MSE and Adam(lr=0.01) for 20 steps: loss before each update, final weights.

Expected values: float64 PyTorch runs from float32 inputs, rounded to float32 (as the op cases). check.py
re-derives them with plain formulas written from docs/ir.md (NumPy, no torch.optim / no F.*_loss) and
re-runs PyTorch in float32 against the case tolerance.
"""

import json
import math
import os
import re

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import reference
from models import AdditiveAttention, GRU_NAMES
from reference import attn_kind, gru_ref

TOOLS = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(TOOLS)
REPO = os.path.dirname(os.path.dirname(PKG))
FIXTURES = os.path.join(PKG, "fixtures")
README = os.path.join(PKG, "README.md")
TUTORIAL_FILE = "packages/models/examples/tutorial.attn"

# ---------------------------------------------------------------------------------------------------
# loss ops (reference semantics, any float dtype) and their independent NumPy versions
# ---------------------------------------------------------------------------------------------------


def _ce(xs, a):
    """attn's cross_entropy: class dim LAST, so rank >= 3 logits move it to dim 1 for PyTorch."""
    x, t = xs
    if x.dim() >= 3:
        x = x.movedim(-1, 1)
    return [F.cross_entropy(x, t.long(), ignore_index=a.get("ignore_index", -100),
                            label_smoothing=a.get("label_smoothing", 0.0), reduction=a.get("reduction", "mean"))]


LOSS_OPS = {
    "cross_entropy": _ce,
    "mse_loss": lambda xs, a: [F.mse_loss(xs[0], xs[1], reduction=a.get("reduction", "mean"))],
    "binary_cross_entropy": lambda xs, a: [F.binary_cross_entropy(xs[0], xs[1], reduction=a.get("reduction", "mean"))],
    "binary_cross_entropy_with_logits": lambda xs, a: [
        F.binary_cross_entropy_with_logits(xs[0], xs[1], reduction=a.get("reduction", "mean"))],
}
reference.OPS.update(LOSS_OPS)

# Cases without a gradient block, each with the reason (check.py accepts exactly these).
FORWARD_ONLY = {
    "binary_cross_entropy/clamped_log": "p holds exact 0 and 1, where PyTorch's target gradient -logit(p) is "
                                        "infinite; the case checks the forward clamp of log at -100 only",
}


def _reduce(per, red, count):
    if red == "none":
        return per
    s = per.sum()
    return np.array(s / count if red == "mean" else s)


def independent(op, xs, a):
    """Float64 forward and a gradient function (upstream -> per-input grads) from the formulas of
    docs/ir.md, in NumPy loops (no torch); None for ops this module does not own."""
    if op not in LOSS_OPS:
        return None
    red = a.get("reduction", "mean")
    if op == "cross_entropy":
        x = np.asarray(xs[0], dtype=np.float64)
        t = np.asarray(xs[1]).astype(np.int64)
        ign, eps = a.get("ignore_index", -100), a.get("label_smoothing", 0.0)
        c = x.shape[-1]
        rows, tr = x.reshape(-1, c), t.reshape(-1)
        per = np.zeros(len(tr))
        dper = np.zeros_like(rows)  # d loss_r / d x_r
        counted = 0
        for r in range(len(tr)):
            if tr[r] == ign:
                continue
            counted += 1
            m = rows[r].max()
            lse = m + math.log(sum(math.exp(v - m) for v in rows[r]))
            logp = rows[r] - lse
            per[r] = (1 - eps) * -logp[tr[r]] + eps / c * -logp.sum()
            dper[r] = np.exp(logp) - eps / c
            dper[r, tr[r]] -= 1 - eps
        out = _reduce(per.reshape(t.shape), red, counted)

        def grad(up):
            up = np.asarray(up, dtype=np.float64)
            w = up.reshape(-1)[:, None] if red == "none" else (up / counted if red == "mean" else up)
            return [(dper * w).reshape(x.shape), None]
        return [out], grad

    x = np.asarray(xs[0], dtype=np.float64)
    t = np.asarray(xs[1], dtype=np.float64)
    n = x.size
    if op == "mse_loss":
        per, gx, gt = (x - t) ** 2, 2 * (x - t), -2 * (x - t)
    elif op == "binary_cross_entropy":
        with np.errstate(divide="ignore"):
            lp, l1p = np.maximum(np.log(x), -100), np.maximum(np.log(1 - x), -100)
            per = -(t * lp + (1 - t) * l1p)
            gx = (x - t) / np.maximum(x * (1 - x), 1e-12)
            gt = np.log(1 - x) - np.log(x)
    else:
        per = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
        gx, gt = 1 / (1 + np.exp(-x)) - t, -x
    out = _reduce(per, red, n)

    def grad(up):
        up = np.asarray(up, dtype=np.float64)
        w = up if red == "none" else (up / n if red == "mean" else up)
        return [gx * w, gt * w]
    return [out], grad


def loss_cases(C, G):
    F_ = "ops/loss.json"
    f32, rng_for = G.f32, G.rng_for

    def ce(n, shape, classes, reduction, note, ignore=-100, smoothing=0.0, n_ignored=0, scale=1.5):
        r = rng_for(n)
        x = f32(r, *shape, classes, scale=scale)
        t = r.integers(0, classes, size=shape).astype(np.int32)
        if n_ignored:
            flat = t.reshape(-1)
            flat[r.choice(flat.size, n_ignored, replace=False)] = ignore
        C.op(F_, n, "cross_entropy", {"ignore_index": ignore, "label_smoothing": smoothing, "reduction": reduction},
             [x, t], note)

    ce("cross_entropy/mean_2d", (6,), 5, "mean", "Logits [N=6, C=5], int32 targets, mean over the batch "
       "(= F.cross_entropy).")
    ce("cross_entropy/sum_2d", (6,), 5, "sum", "Reduction sum.")
    ce("cross_entropy/none_2d", (6,), 5, "none", "Reduction none: one loss per row, shape [N].")
    ce("cross_entropy/mean_ignore", (8,), 4, "mean", "Three targets are ignore_index (-100): they contribute 0 "
       "and the mean divides by the 5 counted rows, not 8.", n_ignored=3)
    ce("cross_entropy/sum_ignore_custom_index", (7,), 4, "sum", "ignore_index 0, a valid class id: rows whose "
       "target is 0 are skipped.", ignore=0, n_ignored=0)
    ce("cross_entropy/none_ignore", (6,), 3, "none", "Reduction none with ignored targets: those rows give 0 "
       "and a zero gradient.", n_ignored=2)
    ce("cross_entropy/label_smoothing_mean", (6,), 5, "mean", "label_smoothing 0.1: (1-e)*nll + e/C*sum_c(-logp_c), "
       "mean over counted rows; two ignored targets (their smoothing term is 0 too).", smoothing=0.1, n_ignored=2)
    ce("cross_entropy/label_smoothing_none", (5,), 4, "none", "label_smoothing 0.25, reduction none.",
       smoothing=0.25, n_ignored=1)
    ce("cross_entropy/3d_mean", (2, 4), 7, "mean", "Logits [B=2, T=4, V=7] with the class dim LAST (attn's "
       "convention; PyTorch takes [B, C, T], i.e. this is F.cross_entropy(x.movedim(-1, 1), t)), targets [2, 4] "
       "with 2 ignored, mean over counted tokens.", n_ignored=2)
    ce("cross_entropy/3d_sum_smoothing", (2, 3), 6, "sum", "3-D logits [2, 3, 6], label_smoothing 0.1, sum.",
       smoothing=0.1, n_ignored=1)
    ce("cross_entropy/3d_none", (2, 3), 5, "none", "3-D logits, reduction none gives [B, T].", n_ignored=1)
    ce("cross_entropy/1d_unbatched", (), 6, "mean", "Unbatched logits [C=6] with a scalar target.")
    ce("cross_entropy/large_logits", (4,), 5, "mean", "Logits of scale 40: the log-sum-exp must subtract the "
       "row max.", scale=40.0)

    def ew(op, tag, shape, reduction, note, make=None):
        n = f"{op}/{tag}"
        r = rng_for(n)
        if make is None:
            a, b = f32(r, *shape), f32(r, *shape)
        else:
            a, b = make(r, shape)
        C.op(F_, n, op, {"reduction": reduction}, [a, b], note)

    ew("mse_loss", "mean", (3, 4), "mean", "mean of (pred - target)^2; both inputs get a gradient.")
    ew("mse_loss", "sum", (2, 3, 2), "sum", "sum of squared errors.")
    ew("mse_loss", "none", (5,), "none", "elementwise squared error.")
    ew("mse_loss", "scalar", (), "mean", "0-D pred and target.")

    def probs(r, shape):
        p = r.uniform(0.02, 0.98, size=shape).astype(np.float32)
        t = r.uniform(0, 1, size=shape).astype(np.float32)
        t.reshape(-1)[: max(1, t.size // 3)] = np.round(t.reshape(-1)[: max(1, t.size // 3)])  # some hard 0/1 labels
        return p, t

    ew("binary_cross_entropy", "mean", (3, 4), "mean", "p in (0.02, 0.98), soft and hard targets; the input "
       "gradient is PyTorch's (p - t) / max(p(1-p), 1e-12), the target gradient log(1-p) - log(p).", probs)
    ew("binary_cross_entropy", "sum", (6,), "sum", "Reduction sum.", probs)
    ew("binary_cross_entropy", "none", (2, 3), "none", "Reduction none.", probs)
    n = "binary_cross_entropy/clamped_log"
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 0.5], dtype=np.float32)
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.25], dtype=np.float32)
    C.op(F_, n, "binary_cross_entropy", {"reduction": "none"}, [p, t],
         "Forward only: log p and log(1-p) are clamped at -100 (p = 0 with t = 1 gives 100, p = 1 with t = 0 "
         "gives 100, exact 0/1 matches give 0). " + FORWARD_ONLY[n] + ".", grad=False)

    def logits(r, shape):
        return G.f32(r, *shape, scale=3.0), r.uniform(0, 1, size=shape).astype(np.float32)

    ew("binary_cross_entropy_with_logits", "mean", (3, 4), "mean", "Logits of scale 3, soft targets; gradient "
       "sigmoid(x) - t (input) and -x (target).", logits)
    ew("binary_cross_entropy_with_logits", "sum", (5,), "sum", "Reduction sum.", logits)
    ew("binary_cross_entropy_with_logits", "none", (2, 3), "none", "Reduction none.", logits)
    ew("binary_cross_entropy_with_logits", "extreme", (6,), "mean", "Logits of +-60 and +-200: computed stably "
       "(no overflow of exp, no log(0)).",
       lambda r, s: (np.array([60, -60, 200, -200, 0.5, -0.5], dtype=np.float32),
                     np.array([1, 0, 0, 1, 0.3, 0.9], dtype=np.float32)))


# ---------------------------------------------------------------------------------------------------
# optimizers
# ---------------------------------------------------------------------------------------------------

def _make_optimizer(case, params, lr):
    a = case["attrs"]
    if case["op"] == "sgd_update":
        return torch.optim.SGD(params, lr=lr, momentum=a["momentum"], dampening=a["dampening"],
                               nesterov=a["nesterov"], weight_decay=a["weight_decay"], maximize=a["maximize"])
    cls = torch.optim.AdamW if a["decoupled"] else torch.optim.Adam
    return cls(params, lr=lr, betas=(a["beta1"], a["beta2"]), eps=a["eps"], weight_decay=a["weight_decay"],
               amsgrad=a["amsgrad"], maximize=a["maximize"], foreach=False)


def _slots(case):
    if case["op"] == "sgd_update":
        return ["momentum_buffer"] if case["attrs"]["momentum"] != 0 else []
    return ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if case["attrs"]["amsgrad"] else [])


def run_torch_optimizer(case, params0, grads, lrs, dtype):
    """torch.optim on copies of params0 with the given per-step gradients and learning rates."""
    names = list(params0)
    ps = [torch.tensor(params0[k], dtype=dtype, requires_grad=True) for k in names]
    opt = _make_optimizer(case, ps, lrs[0])
    steps = []
    for s, g in enumerate(grads):
        for group in opt.param_groups:
            group["lr"] = lrs[s]
        for k, p in zip(names, ps):
            p.grad = torch.from_numpy(np.array(g[k], dtype=np.float64)).to(dtype)
        opt.step()
        steps.append({"params": {k: p.detach().double().clone().numpy() for k, p in zip(names, ps)},
                      "state": {slot: {k: opt.state[p][slot].detach().double().clone().numpy() for k, p in zip(names, ps)}
                                for slot in _slots(case)}})
    return steps


def manual_optimizer(case, params0, grads, lrs):
    """The update formulas of docs/ir.md in float64 NumPy (independent of torch.optim)."""
    a, op = case["attrs"], case["op"]
    P = {k: np.array(v, dtype=np.float64) for k, v in params0.items()}
    S = {slot: {k: np.zeros_like(v) for k, v in P.items()} for slot in _slots(case)}
    steps = []
    for step, (g_all, lr) in enumerate(zip(grads, lrs)):
        for k in P:
            g = np.array(g_all[k], dtype=np.float64)
            g = -g if a["maximize"] else g
            p = P[k]
            if op == "sgd_update":
                if a["weight_decay"]:
                    g = g + a["weight_decay"] * p
                if a["momentum"]:
                    buf = g.copy() if step == 0 else a["momentum"] * S["momentum_buffer"][k] + (1 - a["dampening"]) * g
                    S["momentum_buffer"][k] = buf
                    g = g + a["momentum"] * buf if a["nesterov"] else buf
                P[k] = p - lr * g
            else:
                t = step + 1
                if a["decoupled"]:
                    p = p * (1 - lr * a["weight_decay"])
                elif a["weight_decay"]:
                    g = g + a["weight_decay"] * p
                m = a["beta1"] * S["exp_avg"][k] + (1 - a["beta1"]) * g
                v = a["beta2"] * S["exp_avg_sq"][k] + (1 - a["beta2"]) * g * g
                S["exp_avg"][k], S["exp_avg_sq"][k] = m, v
                if a["amsgrad"]:
                    v = np.maximum(S["max_exp_avg_sq"][k], v)
                    S["max_exp_avg_sq"][k] = v
                denom = np.sqrt(v) / math.sqrt(1 - a["beta2"] ** t) + a["eps"]
                P[k] = p - lr / (1 - a["beta1"] ** t) * m / denom
        steps.append({"params": {k: v.copy() for k, v in P.items()},
                      "state": {slot: {k: v.copy() for k, v in d.items()} for slot, d in S.items()}})
    return steps


def _f32_steps(steps):
    return [{"params": {k: v.astype(np.float32) for k, v in s["params"].items()},
             "state": {slot: {k: v.astype(np.float32) for k, v in d.items()} for slot, d in s["state"].items()}}
            for s in steps]


SGD_DEFAULTS = {"momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0, "maximize": False}
ADAM_DEFAULTS = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "decoupled": False,
                 "amsgrad": False, "maximize": False}


def optimizer_cases(G):
    f32, rng_for = G.f32, G.rng_for
    files = {}

    def case(file, name, op, attrs, lrs, torch_text, note, grad_scales=(1.0, 1.0, 1.0)):
        r = rng_for(name)
        params0 = {"weight": f32(r, 3, 4), "bias": f32(r, 3), "scale": f32(r), "tiny": f32(r, 2)}
        grads = []
        for s in range(3):
            g = {k: (f32(r, *v.shape) * grad_scales[s]).astype(np.float32) for k, v in params0.items()}
            g["tiny"] = (g["tiny"] * 1e-8).astype(np.float32)  # |g| ~ eps: where eps is added matters
            grads.append(g)
        grads[1]["weight"][0, 0] = 0.0  # a zero gradient entry
        grads[2]["bias"][1] = np.float32(3e-7)  # tiny: eps matters for Adam
        full = {"name": name, "kind": "optimizer", "op": op,
                "attrs": {**(SGD_DEFAULTS if op == "sgd_update" else ADAM_DEFAULTS), **attrs}}
        ref = run_torch_optimizer(full, params0, grads, lrs, torch.float64)
        out = _f32_steps(ref)
        r32 = run_torch_optimizer(full, params0, grads, lrs, torch.float32)
        dev = 0.0
        for s32, s64 in zip(r32, out):
            for k in s64["params"]:
                dev = max(dev, G.deviation(s32["params"][k].astype(np.float32), s64["params"][k], f"{name} {k}"))
            for slot in s64["state"]:
                for k in s64["state"][slot]:
                    dev = max(dev, G.deviation(s32["state"][slot][k].astype(np.float32), s64["state"][slot][k],
                                               f"{name} {slot} {k}"))
        c = {"name": name, "kind": "optimizer", "op": op, "attrs": full["attrs"], "torch": torch_text,
             "lr": [float(x) for x in lrs],
             "params": {k: G.tensor(v) for k, v in params0.items()},
             "grads": [{k: G.tensor(v) for k, v in g.items()} for g in grads],
             "steps": [{"params": {k: G.tensor(v) for k, v in s["params"].items()},
                        "state": {slot: {k: G.tensor(v) for k, v in d.items()} for slot, d in s["state"].items()}}
                       for s in out]}
        tol = G.calibrate(name, dev, None)
        if tol is not None:
            c["tolerance"] = tol
        c["note"] = note
        files.setdefault(file, []).append(c)

    case("optim/sgd.json", "sgd/momentum", "sgd_update", {"momentum": 0.9}, [0.1] * 3,
         "torch.optim.SGD(params, lr=0.1, momentum=0.9)",
         "Momentum 0.9: the buffer starts at the first gradient (step 0), then buf = 0.9 buf + g.")
    case("optim/sgd.json", "sgd/nesterov", "sgd_update", {"momentum": 0.9, "nesterov": True}, [0.1] * 3,
         "torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True)",
         "Nesterov: the update is g + 0.9 buf.")
    case("optim/sgd.json", "sgd/momentum_weight_decay_dampening", "sgd_update",
         {"momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}, [0.05] * 3,
         "torch.optim.SGD(params, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)",
         "Weight decay 0.01 added to the gradient before the momentum; dampening 0.1 applies from the second "
         "step only (the first step copies the gradient into the buffer).")
    case("optim/sgd.json", "sgd/plain_weight_decay_maximize", "sgd_update",
         {"weight_decay": 0.1, "maximize": True}, [0.2, 0.1, 0.05],
         "torch.optim.SGD(params, lr=0.2, weight_decay=0.1, maximize=True); lr set to 0.1, 0.05 for steps 2, 3",
         "No momentum (no state), maximize negates the gradient before weight decay is added; the learning rate "
         "changes between steps (the lr input).")
    case("optim/adam.json", "adam/default", "adam_update", {}, [0.01] * 3,
         "torch.optim.Adam(params, lr=0.01)",
         "Adam with PyTorch defaults (betas 0.9, 0.999, eps 1e-8): bias corrections 1 - beta^t with t = step + 1, "
         "eps added to sqrt(v) / sqrt(1 - beta2^t).")
    case("optim/adam.json", "adam/weight_decay_l2", "adam_update", {"weight_decay": 0.1}, [0.01] * 3,
         "torch.optim.Adam(params, lr=0.01, weight_decay=0.1)",
         "Adam's weight decay is an L2 term added to the gradient (before the moments).")
    case("optim/adam.json", "adam/betas_eps_varying_lr", "adam_update", {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
         [0.05, 0.02, 0.01], "torch.optim.Adam(params, lr=0.05, betas=(0.8, 0.99), eps=1e-6); lr 0.02, 0.01 for steps 2, 3",
         "Non-default betas and eps; the learning rate changes between steps; small gradients at step 3 "
         "(scale 1e-3) where eps matters.", grad_scales=(1.0, 1.0, 1e-3))
    case("optim/adam.json", "adam/amsgrad", "adam_update", {"amsgrad": True}, [0.01] * 3,
         "torch.optim.Adam(params, lr=0.01, amsgrad=True)",
         "AMSGrad: the denominator uses the running max of exp_avg_sq (state max_exp_avg_sq); gradients shrink "
         "(scales 1, 0.3, 0.1) so the max differs from the current v.", grad_scales=(1.0, 0.3, 0.1))
    case("optim/adam.json", "adam/maximize", "adam_update", {"maximize": True}, [0.01] * 3,
         "torch.optim.Adam(params, lr=0.01, maximize=True)", "maximize negates the gradient.")
    case("optim/adamw.json", "adamw/weight_decay", "adam_update", {"weight_decay": 0.1, "decoupled": True},
         [0.01] * 3, "torch.optim.AdamW(params, lr=0.01, weight_decay=0.1)",
         "AdamW: param *= 1 - lr * weight_decay before the Adam update (decoupled decay; the gradient is not "
         "changed).")
    case("optim/adamw.json", "adamw/default_decay_varying_lr", "adam_update", {"weight_decay": 0.01, "decoupled": True},
         [0.1, 0.05, 0.01], "torch.optim.AdamW(params, lr=0.1) (default weight_decay 0.01); lr 0.05, 0.01 for steps 2, 3",
         "AdamW with its default weight decay 0.01 and a learning rate that changes between steps (the decay uses "
         "each step's lr).")
    case("optim/adamw.json", "adamw/amsgrad", "adam_update", {"weight_decay": 0.05, "decoupled": True, "amsgrad": True},
         [0.01] * 3, "torch.optim.AdamW(params, lr=0.01, weight_decay=0.05, amsgrad=True)",
         "AdamW with AMSGrad.", grad_scales=(1.0, 0.2, 0.5))
    return files


# ---------------------------------------------------------------------------------------------------
# clip_grad_norm_
# ---------------------------------------------------------------------------------------------------

def run_clip(grads, max_norm, norm_type, dtype):
    ps = []
    for g in grads:
        p = torch.zeros(g.shape, dtype=dtype, requires_grad=True)
        p.grad = torch.from_numpy(np.array(g, dtype=np.float64)).to(dtype)
        ps.append(p)
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    return [p.grad.double().clone().numpy() for p in ps], total.double().clone().numpy()


def manual_clip(grads, max_norm, norm_type):
    g64 = [np.array(g, dtype=np.float64) for g in grads]
    if norm_type == "inf":
        total = max(np.abs(g).max() for g in g64)
    else:
        total = math.sqrt(sum(float((g * g).sum()) for g in g64))
    coef = min(max_norm / (total + 1e-6), 1.0)
    return [g * coef for g in g64], np.array(total)


def clip_cases(G):
    f32, rng_for = G.f32, G.rng_for
    out = []

    def case(name, shapes, scale, max_norm, norm_type, note):
        r = rng_for(name)
        grads = [f32(r, *s, scale=scale) for s in shapes]
        nt = math.inf if norm_type == "inf" else float(norm_type)
        clipped, total = run_clip(grads, max_norm, nt, torch.float64)
        c32, t32 = run_clip(grads, max_norm, nt, torch.float32)
        dev = max([G.deviation(a.astype(np.float32), b.astype(np.float32), name) for a, b in zip(c32, clipped)]
                  + [G.deviation(t32.astype(np.float32), total.astype(np.float32), name)])
        c = {"name": name, "kind": "clip_grad_norm", "max_norm": float(max_norm), "norm_type": norm_type,
             "grads": [G.tensor(g) for g in grads],
             "clipped": [G.tensor(g.astype(np.float32)) for g in clipped],
             "total_norm": G.tensor(total.astype(np.float32))}
        tol = G.calibrate(name, dev, None)
        if tol is not None:
            c["tolerance"] = tol
        c["note"] = note
        out.append(c)

    case("clip_grad_norm/l2_clipped", [(3, 4), (4,), (2, 2, 2)], 1.0, 1.0, 2,
         "Total 2-norm over three gradients (about 4.5) above max_norm 1: every gradient is scaled by "
         "1 / (norm + 1e-6).")
    case("clip_grad_norm/l2_not_clipped", [(3, 4), (4,)], 0.1, 5.0, 2,
         "Norm below max_norm: the coefficient clamps to 1 and the gradients are unchanged.")
    case("clip_grad_norm/l2_scalar_grad", [(), (5,)], 2.0, 0.5, 2,
         "A 0-D gradient next to a vector.")
    case("clip_grad_norm/inf_clipped", [(3, 4), (6,)], 1.0, 0.5, "inf",
         "Infinity norm (largest |g| over all gradients), max_norm 0.5.")
    case("clip_grad_norm/single", [(2, 3)], 3.0, 1.0, 2, "One gradient.")
    return {"optim/clip_grad_norm.json": out}


# ---------------------------------------------------------------------------------------------------
# the tutorial training curve
# ---------------------------------------------------------------------------------------------------

TUTORIAL_NAME = "training/tutorial_adam"
TUTORIAL_HYPER = {"features": 4, "hidden": 6}
TUTORIAL_STEPS = 20
TUTORIAL_LR = 0.01


class TutorialTwin(nn.Module):
    """packages/models/examples/tutorial.attn: GRU -> additive self-attention (scope `attn`) -> mean -> linear."""

    def __init__(self, features, hidden):
        super().__init__()
        self.rnn = nn.GRU(features, hidden, batch_first=True)
        self.attn = AdditiveAttention(hidden, hidden, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        h, _ = self.rnn(x)
        ctx, w = self.attn(h, h, h)
        return self.head(ctx.mean(1)), w


def _manual_tutorial(P, x, h):
    """The same forward from the `.attn` text with reference.py's op semantics (no nn modules)."""
    y, _ = gru_ref(x, [P["rnn." + n] for n in GRU_NAMES], None, h["hidden"], False)
    ctx, _ = attn_kind("additive", y, y, y, P, "attn.", units=h["hidden"])
    return F.linear(ctx.mean(1), P["head.weight"], P["head.bias"])


def tutorial_data(G):
    r = G.rng_for(TUTORIAL_NAME)
    x = G.f32(r, 8, 5, TUTORIAL_HYPER["features"])
    # a learnable target: a smooth function of the sequence
    t = np.tanh(1.5 * x[:, :, 0].mean(1) - 0.8 * x[:, -1, 1] + 0.3)[:, None].astype(np.float32)
    return x, t


def train_twin(weights, x, t, dtype, steps=TUTORIAL_STEPS):
    m = TutorialTwin(**TUTORIAL_HYPER)
    m.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    m = m.to(dtype)
    X, T = torch.from_numpy(x).to(dtype), torch.from_numpy(t).to(dtype)
    opt = torch.optim.Adam(m.parameters(), lr=TUTORIAL_LR, foreach=False)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(m(X)[0], T)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    with torch.no_grad():
        final_loss = F.mse_loss(m(X)[0], T).item()
    return np.array(losses), {k: v.detach().double().clone().numpy() for k, v in m.state_dict().items()}, final_loss


def train_manual(weights, x, t, steps=TUTORIAL_STEPS):
    """Reference ops for the forward, autograd for the gradient, docs/ir.md's Adam formula in NumPy."""
    P = {k: torch.tensor(np.array(v, dtype=np.float64), requires_grad=True) for k, v in weights.items()}
    X, T = torch.from_numpy(x).double(), torch.from_numpy(t).double()
    m = {k: np.zeros(v.shape) for k, v in weights.items()}
    v2 = {k: np.zeros(v.shape) for k, v in weights.items()}
    losses = []
    for s in range(steps):
        loss = ((_manual_tutorial(P, X, TUTORIAL_HYPER) - T) ** 2).mean()
        losses.append(loss.item())
        grads = torch.autograd.grad(loss, list(P.values()))
        n = s + 1
        newP = {}
        for (k, p), g in zip(P.items(), grads):
            g = g.numpy()
            m[k] = 0.9 * m[k] + 0.1 * g
            v2[k] = 0.999 * v2[k] + 0.001 * g * g
            upd = TUTORIAL_LR / (1 - 0.9 ** n) * m[k] / (np.sqrt(v2[k]) / math.sqrt(1 - 0.999 ** n) + 1e-8)
            newP[k] = torch.tensor(p.detach().numpy() - upd, requires_grad=True)
        P = newP
    with torch.no_grad():
        final_loss = ((_manual_tutorial(P, X, TUTORIAL_HYPER) - T) ** 2).mean().item()
    return np.array(losses), {k: p.detach().numpy() for k, p in P.items()}, final_loss


def tutorial_source():
    with open(os.path.join(REPO, TUTORIAL_FILE)) as f:
        return f.read()


def tutorial_case(G):
    torch.manual_seed(G.seed_of(TUTORIAL_NAME))
    init = TutorialTwin(**TUTORIAL_HYPER)  # PyTorch's default initialisation, seeded
    weights = {k: v.detach().numpy().astype(np.float32) for k, v in init.state_dict().items()}
    x, t = tutorial_data(G)
    losses, final, final_loss = train_twin(weights, x, t, torch.float64)
    l32, f32w, fl32 = train_twin(weights, x, t, torch.float32)
    dev_loss = float(np.abs(l32 - losses).max())
    dev_w = max(float(np.abs(f32w[k] - final[k]).max()) for k in final)
    assert losses[-1] < 0.5 * losses[0], ("the tutorial fixture should show learning", losses)
    return {
        "name": TUTORIAL_NAME, "kind": "training",
        "sourceFile": TUTORIAL_FILE, "source": tutorial_source(), "model": "Tutorial", "hyper": TUTORIAL_HYPER,
        "loss": {"op": "mse_loss", "output": "y", "reduction": "mean"},
        "optimizer": {"op": "adam_update", "torch": f"torch.optim.Adam(model.parameters(), lr={TUTORIAL_LR})",
                      "lr": TUTORIAL_LR, "attrs": dict(ADAM_DEFAULTS)},
        "steps": TUTORIAL_STEPS, "batch": "full",
        "initialWeights": {k: G.tensor(v) for k, v in weights.items()},
        "inputs": {"x": G.tensor(x)}, "target": G.tensor(t),
        "losses": G.tensor(losses.astype(np.float32)),
        "finalLoss": G.tensor(np.array(final_loss, dtype=np.float32)),
        "finalWeights": {k: G.tensor(v.astype(np.float32)) for k, v in final.items()},
        "float32Deviation": {"losses": float(f"{dev_loss:.2e}"), "weights": float(f"{dev_w:.2e}")},
        "note": f"The tutorial model ({TUTORIAL_FILE}, hyper features=4, hidden=6; PyTorch twin: batch_first nn.GRU, "
                "additive attention under scope `attn` with bias-free W_q, W_k, v, mean over time, nn.Linear head) "
                "from seeded PyTorch default initial weights, trained full-batch on 8 sequences of length 5 with "
                "MSE (mean) against targets tanh(1.5 mean_t x[:, t, 0] - 0.8 x[:, -1, 1] + 0.3) and "
                f"torch.optim.Adam(lr={TUTORIAL_LR}) for {TUTORIAL_STEPS} steps. losses[k] is the loss before update "
                "k + 1 (losses[0] at the initial weights); finalWeights after the last update; finalLoss at "
                "finalWeights. float32Deviation: how far a float32 PyTorch run ends from these float64 numbers.",
    }


# ---------------------------------------------------------------------------------------------------
# writing (generate.py) and README tables
# ---------------------------------------------------------------------------------------------------

def _update_readme(files):
    def cell(t):
        return t.replace("|", "\\|").replace("\n", " ")

    lines = []
    for file, cases in sorted(files.items()):
        lines += [f"### `fixtures/{file}`", "", "| case | checks |", "|---|---|"]
        lines += [f"| `{c['name']}` | {cell(c['note'])} |" for c in cases]
        lines.append("")
    text = open(README).read()
    begin, end = "<!-- TRAINING:BEGIN -->", "<!-- TRAINING:END -->"
    i, j = text.index(begin) + len(begin), text.index(end)
    with open(README, "w") as f:
        f.write(text[:i] + "\n" + "\n".join(lines) + text[j:])


def generate(C, G):
    """Adds the loss op cases to the collector ``C``; writes fixtures/optim and fixtures/training.
    ``G`` is generate.py's module (tensor rendering, seeded generators, calibration)."""
    loss_cases(C, G)
    files = {}
    files.update(optimizer_cases(G))
    files.update(clip_cases(G))
    files["training/tutorial_adam.json"] = [tutorial_case(G)]
    for sub in ("optim", "training"):
        d = os.path.join(FIXTURES, sub)
        if os.path.isdir(d):
            for f in os.listdir(d):
                if f.endswith(".json"):
                    os.remove(os.path.join(d, f))
    for file, cases in files.items():
        if file.startswith("training/"):
            assert len(cases) == 1
            G.write_json(os.path.join(FIXTURES, file), cases[0])
        else:
            G.write_json(os.path.join(FIXTURES, file), cases)
    _update_readme(files)
    tut = files["training/tutorial_adam.json"][0]
    print(f"wrote {sum(len(v) for k, v in files.items() if k.startswith('optim/'))} optimizer/clip cases; "
          f"tutorial training: loss {tut['losses'].array[0]:.4f} -> {tut['losses'].array[-1]:.4f} in "
          f"{TUTORIAL_STEPS} steps, float32 deviation {tut['float32Deviation']}")


# ---------------------------------------------------------------------------------------------------
# self-check (check.py)
# ---------------------------------------------------------------------------------------------------

def _params(K, d, what):
    return {k: K.parse_tensor(t, f"{what} {k}") for k, t in d.items()}


def check_optimizer(K, c):
    name = c["name"]
    for key in ("op", "attrs", "torch", "lr", "params", "grads", "steps", "note"):
        if key not in c:
            raise K.Fail(f"{name}: missing {key}")
    if c["op"] not in ("sgd_update", "adam_update"):
        raise K.Fail(f"{name}: op {c['op']}")
    defaults = SGD_DEFAULTS if c["op"] == "sgd_update" else ADAM_DEFAULTS
    if set(c["attrs"]) != set(defaults):
        raise K.Fail(f"{name}: attrs must spell out {sorted(defaults)}")
    if not (len(c["lr"]) == len(c["grads"]) == len(c["steps"]) == 3):
        raise K.Fail(f"{name}: 3 steps expected")
    P0 = _params(K, c["params"], f"{name} param")
    G = [_params(K, g, f"{name} grad{s}") for s, g in enumerate(c["grads"])]
    want = [{"params": _params(K, s["params"], f"{name} step{i}"),
             "state": {slot: _params(K, d, f"{name} step{i} {slot}") for slot, d in s["state"].items()}}
            for i, s in enumerate(c["steps"])]
    for w in want:
        if set(w["state"]) != set(_slots(c)):
            raise K.Fail(f"{name}: state slots {sorted(w['state'])}, expected {_slots(c)}")
        for g in [w["params"]] + list(w["state"].values()):
            if set(g) != set(P0) or any(g[k].shape != P0[k].shape for k in P0):
                raise K.Fail(f"{name}: tensors must match the params")
    atol, rtol = K.tolerance(c)
    for tag, got, a, r in [("formulas float64", manual_optimizer(c, P0, G, c["lr"]), K.TIGHT_ATOL, K.TIGHT_RTOL),
                           ("torch.optim float64", run_torch_optimizer(c, P0, G, c["lr"], torch.float64), K.TIGHT_ATOL, K.TIGHT_RTOL),
                           ("torch.optim float32", run_torch_optimizer(c, P0, G, c["lr"], torch.float32), atol, rtol)]:
        for i, (gs, ws) in enumerate(zip(got, want)):
            for k in P0:
                K.compare(gs["params"][k].astype(np.float32), ws["params"][k], a, r, f"{name} [{tag}] step{i} {k}")
                for slot in ws["state"]:
                    K.compare(gs["state"][slot][k].astype(np.float32), ws["state"][slot][k], a, r,
                              f"{name} [{tag}] step{i} {slot} {k}")


def check_clip(K, c):
    name = c["name"]
    grads = [K.parse_tensor(t, f"{name} grad{i}") for i, t in enumerate(c["grads"])]
    clipped = [K.parse_tensor(t, f"{name} clipped{i}") for i, t in enumerate(c["clipped"])]
    total = K.parse_tensor(c["total_norm"], f"{name} total_norm")
    if len(grads) != len(clipped) or any(a.shape != b.shape for a, b in zip(grads, clipped)) or total.shape != ():
        raise K.Fail(f"{name}: shapes")
    if c["norm_type"] not in (2, "inf"):
        raise K.Fail(f"{name}: norm_type must be 2 or \"inf\"")
    atol, rtol = K.tolerance(c)
    nt = math.inf if c["norm_type"] == "inf" else 2.0
    runs = [("formulas float64", manual_clip(grads, c["max_norm"], c["norm_type"]), K.TIGHT_ATOL, K.TIGHT_RTOL),
            ("torch float64", run_clip(grads, c["max_norm"], nt, torch.float64), K.TIGHT_ATOL, K.TIGHT_RTOL),
            ("torch float32", run_clip(grads, c["max_norm"], nt, torch.float32), atol, rtol)]
    for tag, (gs, tn), a, r in runs:
        K.compare(np.asarray(tn).astype(np.float32), total, a, r, f"{name} [{tag}] total_norm")
        for i, (g, w) in enumerate(zip(gs, clipped)):
            K.compare(g.astype(np.float32), w, a, r, f"{name} [{tag}] clipped{i}")


def check_training(K, c):
    name = c["name"]
    if c["name"] != TUTORIAL_NAME or c["hyper"] != TUTORIAL_HYPER or c["steps"] != TUTORIAL_STEPS:
        raise K.Fail(f"{name}: name/hyper/steps differ from training.py")
    if c["source"] != tutorial_source():  # a snapshot: edits elsewhere in the file need not invalidate it
        print(f"note: {name}: {TUTORIAL_FILE} has changed since the fixture was generated (its `source` is the "
              f"snapshot that was trained); regenerate if the model itself changed")
    if not re.search(r"\bmodel\s+Tutorial\s*\(", c["source"]):
        raise K.Fail(f"{name}: model Tutorial not declared in source")
    W0 = _params(K, c["initialWeights"], f"{name} initial")
    W1 = _params(K, c["finalWeights"], f"{name} final")
    x = K.parse_tensor(c["inputs"]["x"], f"{name} x")
    t = K.parse_tensor(c["target"], f"{name} target")
    losses = K.parse_tensor(c["losses"], f"{name} losses")
    final_loss = K.parse_tensor(c["finalLoss"], f"{name} finalLoss")
    if list(W0) != [k for k, _ in TutorialTwin(**TUTORIAL_HYPER).named_parameters()] or set(W1) != set(W0):
        raise K.Fail(f"{name}: weight names must be the twin's state_dict keys")
    for k in W0:
        scope = k.split(".")[0]
        if not re.search(r"\bas\s+" + scope + r"\b", c["source"]):
            raise K.Fail(f"{name}: scope {scope!r} of {k} is not named with `as` in the source")
    # float64 re-runs (module, and the `.attn` semantics written a second way) agree to float32 rounding;
    # the manual run uses other op orderings, and Adam's normalisation amplifies ulps of tiny gradients over
    # 20 steps, hence a 1e-6 relative allowance there.
    for tag, (ls, ws, fl), a, r in [("module float64", train_twin(W0, x, t, torch.float64), K.TIGHT_ATOL, K.TIGHT_RTOL),
                                    (".attn semantics float64", train_manual(W0, x, t), 1e-7, 1e-6)]:
        K.compare(ls.astype(np.float32), losses, a, r, f"{name} [{tag}] losses")
        K.compare(np.array(fl, dtype=np.float32), final_loss, a, r, f"{name} [{tag}] finalLoss")
        for k in W1:
            K.compare(ws[k].astype(np.float32), W1[k], a, r, f"{name} [{tag}] {k}")
    ls, ws, _ = train_twin(W0, x, t, torch.float32)
    K.compare(ls.astype(np.float32), losses, 1e-4, 0, f"{name} [module float32] losses")
    for k in W1:
        K.compare(ws[k].astype(np.float32), W1[k], 1e-4, 0, f"{name} [module float32] {k}")


def check(K):
    """Checks fixtures/optim and fixtures/training; returns (number of cases, failures)."""
    failures, n, names = [], 0, set()
    for sub, fn in (("optim", None), ("training", check_training)):
        d = os.path.join(FIXTURES, sub)
        for f in sorted(os.listdir(d)):
            if not f.endswith(".json"):
                continue
            data = json.load(open(os.path.join(d, f)))
            cases = data if isinstance(data, list) else [data]
            if sub == "training" and isinstance(data, list):
                failures.append(f"{sub}/{f}: a training fixture is one JSON object")
            for c in cases:
                try:
                    if c["name"] in names:
                        raise K.Fail(f"duplicate case name {c['name']}")
                    names.add(c["name"])
                    if not c.get("note"):
                        raise K.Fail(f"{c['name']}: no note")
                    kind = c.get("kind")
                    if sub == "training":
                        if kind != "training":
                            raise K.Fail(f"{c['name']}: kind")
                        check_training(K, c)
                    elif kind == "optimizer":
                        check_optimizer(K, c)
                    elif kind == "clip_grad_norm":
                        check_clip(K, c)
                    else:
                        raise K.Fail(f"{c['name']}: kind {kind!r}")
                    n += 1
                except K.Fail as e:
                    failures.append(str(e))
    return n, failures

