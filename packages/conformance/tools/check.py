#!/usr/bin/python3
"""Self-check of the committed fixtures: reload every JSON (and the safetensors file) and re-derive it.

    /usr/bin/python3 packages/conformance/tools/check.py

For every op case:
  * format: tensor dtypes/shapes/data lengths, one gradient entry per input, op name and attr names
    present in docs/ir.md's catalogue;
  * float64 re-run with reference.py (for gru / gru_cell that is the textbook equations, independent
    of the nn.GRU / nn.GRUCell that produced the fixture) matches the stored values to float32 rounding;
  * float32 PyTorch re-run passes the case's own tolerance (the check a backend has to pass).
For loss op cases (training.py): outputs and gradients also re-derived from docs/ir.md's formulas in NumPy.
For fixtures/optim and fixtures/training (training.py ``check``): optimizer steps re-derived with the update
formulas in NumPy and with torch.optim (float64, and float32 within the tolerance); clip_grad_norm the same
way; the tutorial training run re-trained in float64 (module, and the `.attn` semantics with a hand-written
Adam) and float32.
For every model case:
  * weights load strictly into the PyTorch module (same names, same shapes); the safetensors file is
    read back with a hand-written reader;
  * the PyTorch module in float64 reproduces outputs and gradients to float32 rounding;
  * a second implementation written from the `.attn` text with reference.py's op semantics
    (models.py ``manual``) reproduces them too;
  * the module in float32 passes the case tolerance;
  * every scope name in the weight names occurs in the `.attn` source.
"""

import sys

sys.dont_write_bytecode = True

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import struct  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from reference import NON_DIFFERENTIABLE, OPS  # noqa: E402
from models import SPECS  # noqa: E402
import training  # noqa: E402  (also registers the loss ops in reference.OPS)

TOOLS = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(TOOLS)
REPO = os.path.dirname(os.path.dirname(PKG))
FIXTURES = os.path.join(PKG, "fixtures")
IR_DOC = os.path.join(REPO, "docs", "ir.md")

TIGHT_ATOL, TIGHT_RTOL = 1e-9, 3e-7  # float64 re-derivations: equal up to float32 rounding
NP = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}


class Fail(Exception):
    pass


INDEPENDENT_SEEN = set()


def ir_catalogue():
    text = open(IR_DOC).read()
    cat = text[text.index("## Op catalogue"):text.index("## Parameters")]
    ops = {}
    for line in cat.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = line.split("|")
            names = re.findall(r"`([a-z_0-9]+)`", cells[1])
            attrs = set(re.findall(r"`([a-zA-Z_]+)", cells[3])) if len(cells) > 3 else set()
            for n in names:
                if n != "op":
                    ops[n] = attrs
    return ops


def parse_tensor(t, what):
    if t is None:
        return None
    if set(t) != {"dtype", "shape", "data"}:
        raise Fail(f"{what}: tensor keys {sorted(t)}")
    if t["dtype"] not in NP:
        raise Fail(f"{what}: dtype {t['dtype']}")
    n = int(np.prod(t["shape"])) if t["shape"] else 1
    if len(t["data"]) != n:
        raise Fail(f"{what}: {len(t['data'])} values for shape {t['shape']}")
    if t["dtype"] == "float32":
        conv = {"inf": np.inf, "-inf": -np.inf, "nan": np.nan}
        vals = [conv[x] if isinstance(x, str) else float(x) for x in t["data"]]
        return np.array(vals, dtype=np.float64).astype(np.float32).reshape(t["shape"])
    for x in t["data"]:
        if not isinstance(x, int) or isinstance(x, bool) or (t["dtype"] == "bool" and x not in (0, 1)):
            raise Fail(f"{what}: bad {t['dtype']} value {x!r}")
    return np.array(t["data"], dtype=np.int64).astype(NP[t["dtype"]]).reshape(t["shape"])


def to_torch(a, dtype, grad):
    if a is None:
        return None
    t = torch.from_numpy(np.array(a, copy=True))
    if a.dtype == np.float32:
        t = t.to(dtype).requires_grad_(grad)
    return t


def to_np(t):
    t = t.detach()
    if t.dtype == torch.bool:
        return t.numpy()
    if t.is_floating_point():
        return t.double().numpy().astype(np.float32)
    return t.numpy().astype(np.int32)


def compare(got, want, atol, rtol, what):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        raise Fail(f"{what}: shape {got.shape} != {want.shape}")
    if want.dtype != np.float32 or got.dtype != np.float32:
        if got.dtype != want.dtype or not np.array_equal(got, want):
            raise Fail(f"{what}: exact values differ")
        return
    nonfin = ~np.isfinite(want)
    if not np.array_equal(got[nonfin], want[nonfin], equal_nan=True) or not np.all(np.isfinite(got[~nonfin])):
        raise Fail(f"{what}: non-finite entries differ")
    g, w = got[~nonfin].astype(np.float64), want[~nonfin].astype(np.float64)
    bad = np.abs(g - w) > atol + rtol * np.abs(w)
    if bad.any():
        i = int(np.argmax(np.abs(g - w) - rtol * np.abs(w)))
        raise Fail(f"{what}: {int(bad.sum())} entries beyond atol {atol:g} rtol {rtol:g}, e.g. got {g[i]!r} want {w[i]!r}")


def vjp(outs, leaves, ups, dtype):
    pairs = [(o, u) for o, u in zip(outs, ups) if u is not None]
    idx = [i for i, leaf in enumerate(leaves) if leaf is not None and leaf.is_floating_point()]
    gs = torch.autograd.grad([o for o, _ in pairs], [leaves[i] for i in idx],
                             grad_outputs=[torch.from_numpy(u).to(dtype) for _, u in pairs], allow_unused=True)
    res = [None] * len(leaves)
    for i, g in zip(idx, gs):
        res[i] = to_np(torch.zeros_like(leaves[i]) if g is None else g)
    return res


# ---------------------------------------------------------------------------------------------------
# independent forward references: plain NumPy loops written from the text of docs/ir.md, no torch
# ---------------------------------------------------------------------------------------------------

def _row_select(row, select):
    out = np.zeros_like(row)
    fin = row > -np.inf
    if not fin.any():
        return out
    if select == "softmax":
        e = np.where(fin, np.exp(np.where(fin, row - row[fin].max(), 0.0)), 0.0)
        return e / e.sum()
    if select == "argmax":
        best = 0
        for j in range(len(row)):
            if row[j] > row[best]:
                best = j  # strictly greater: the first maximum wins ties
        out[best] = 1.0
        return out
    k = select["topk"]
    kept = []
    for _ in range(k):
        cand = [j for j in range(len(row)) if fin[j] and j not in kept]
        if not cand:
            break
        best = cand[0]
        for j in cand:
            if row[j] > row[best]:
                best = j
        kept.append(best)
    sub = np.full_like(row, -np.inf)
    sub[kept] = row[kept]
    return _row_select(sub, "softmax")


def _rows(x, axis, f):
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    out = np.stack([f(r) for r in x.reshape(-1, x.shape[-1])]).reshape(x.shape)
    return np.moveaxis(out, -1, axis)


def _full_mask(shape, mask, causal, window):
    m = np.zeros(shape, dtype=bool)
    for idx in np.ndindex(*shape):
        i, j = idx[-2], idx[-1]
        hide = (causal and j > i) or (window is not None and (
            (i - j > window) if causal else abs(i - j) > window))
        if mask is not None:
            if mask.ndim == 2:
                hide = hide or bool(mask[idx[0], j])
            else:
                hide = hide or bool(mask[tuple(0 if mask.shape[d] == 1 else idx[d] for d in range(len(shape)))])
        m[idx] = hide
    return m


def _ind_pool(x, a, kind):
    kh, kw = a["kernel"]
    sh, sw = a.get("stride") or a["kernel"]
    ph, pw = a.get("padding", [0, 0])
    b, c, h, w = x.shape
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    out = np.zeros((b, c, oh, ow))
    for n, ch, i, j in np.ndindex(b, c, oh, ow):
        vals = []
        for di, dj in np.ndindex(kh, kw):
            y, z = i * sh - ph + di, j * sw - pw + dj
            inside = 0 <= y < h and 0 <= z < w
            vals.append(float(x[n, ch, y, z]) if inside else (-np.inf if kind == "max" else 0.0))
        out[n, ch, i, j] = max(vals) if kind == "max" else sum(vals) / (kh * kw)
    return out


def independent(op, xs, a):
    """Float64 outputs from NumPy loops, or None where this op has no independent version here."""
    x = None if not xs else xs[0]
    if op in ("softmax", "hardmax"):
        return [_rows(x, a["axis"], lambda r: _row_select(r, "softmax" if op == "softmax" else "argmax"))]
    if op == "topk_softmax":
        return [_rows(x, a["axis"], lambda r: _row_select(r, {"topk": a["k"]}))]
    if op == "log_softmax":
        def lsm(r):
            fin = r > -np.inf
            if not fin.any():
                return np.full_like(r, -np.inf)
            m = r[fin].max()
            return r - m - np.log(np.exp(r[fin] - m).sum())
        return [_rows(x, a["axis"], lsm)]
    if op in ("attention", "attention_mask"):
        if op == "attention":
            q, k, v, mask = [None if t is None else np.asarray(t, dtype=np.float64 if t.dtype == np.float32 else t.dtype)
                             for t in xs]
            s = np.einsum("...id,...jd->...ij", q, k) * a["scale"]
        else:
            s, mask = np.asarray(xs[0], dtype=np.float64), xs[1]
        s = np.where(_full_mask(s.shape, mask, a["causal"], a["window"]), -np.inf, s)
        if op == "attention_mask":
            return [s]
        w = _rows(s, -1, lambda r: _row_select(r, a["select"]))
        out = np.einsum("...ij,...jd->...id", w, v)
        return [out, w] if a["weights"] else [out]
    if op == "patches":
        p = a["size"]
        b, c, h, w = x.shape
        out = np.zeros((b, (h // p) * (w // p), c * p * p))
        for n, i, j, ch, di, dj in np.ndindex(b, h // p, w // p, c, p, p):
            out[n, i * (w // p) + j, (ch * p + di) * p + dj] = x[n, ch, i * p + di, j * p + dj]
        return [out]
    if op == "positional_encoding":
        b, s_, d = x.shape
        pe = np.zeros((s_, d))
        for pos, dim in np.ndindex(s_, d):
            angle = pos / 10000 ** ((dim - dim % 2) / d)
            pe[pos, dim] = np.sin(angle) if dim % 2 == 0 else np.cos(angle)
        return [x.astype(np.float64) + pe]
    if op in ("max_pool2d", "avg_pool2d"):
        return [_ind_pool(x, a, "max" if op == "max_pool2d" else "avg")]
    return None


def tolerance(case):
    t = case.get("tolerance")
    if t is None:
        return 1e-5, 1e-4
    if not t.get("reason"):
        raise Fail(f"{case['name']}: loosened tolerance without a reason")
    return t["atol"], t["rtol"]


def check_op(case, catalogue):
    name, op, attrs = case["name"], case["op"], case["attrs"]
    if op not in catalogue:
        raise Fail(f"{name}: op {op!r} is not in docs/ir.md")
    extra = set(attrs) - catalogue[op]
    if extra:
        raise Fail(f"{name}: attrs {sorted(extra)} not documented for {op}")
    inputs = [parse_tensor(t, f"{name} input{i}") for i, t in enumerate(case["inputs"])]
    outputs = [parse_tensor(t, f"{name} output{i}") for i, t in enumerate(case["outputs"])]
    grad = case.get("grad")
    if grad is not None:
        ups = [parse_tensor(t, f"{name} upstream{i}") for i, t in enumerate(grad["upstream"])]
        gin = [parse_tensor(t, f"{name} grad{i}") for i, t in enumerate(grad["inputs"])]
        if len(ups) != len(outputs) or len(gin) != len(inputs):
            raise Fail(f"{name}: grad arity")
        for a, g, i in zip(inputs, gin, range(len(inputs))):
            want_null = a is None or a.dtype != np.float32
            if want_null != (g is None) or (g is not None and g.shape != a.shape):
                raise Fail(f"{name}: grad{i} must be {'null' if want_null else 'shaped like its input'}")
        for o, u in zip(outputs, ups):
            if (o.dtype == np.float32) != (u is not None) or (u is not None and u.shape != o.shape):
                raise Fail(f"{name}: upstream must match float outputs")
    elif op not in NON_DIFFERENTIABLE and op != "log_softmax" and name not in training.FORWARD_ONLY and any(
            a is not None and a.dtype == np.float32 for a in inputs):
        raise Fail(f"{name}: differentiable op on float inputs without grad")
    atol, rtol = tolerance(case)
    ind = independent(op, inputs, attrs)
    if ind is not None:
        INDEPENDENT_SEEN.add(op)
        for i, (o, w) in enumerate(zip(ind, outputs)):
            compare(o.astype(np.float32), w, TIGHT_ATOL, TIGHT_RTOL, f"{name} [numpy loops] output{i}")
    loss_ind = training.independent(op, inputs, attrs)  # loss ops: formulas of docs/ir.md, outputs and gradients
    if loss_ind is not None:
        INDEPENDENT_SEEN.add(op)
        louts, lgrad = loss_ind
        for i, (o, w) in enumerate(zip(louts, outputs)):
            compare(np.asarray(o).astype(np.float32), w, TIGHT_ATOL, TIGHT_RTOL, f"{name} [formulas] output{i}")
        if grad is not None:
            for i, (g, w) in enumerate(zip(lgrad(ups[0]), gin)):
                if w is not None:
                    compare(np.asarray(g).astype(np.float32), w, TIGHT_ATOL, TIGHT_RTOL, f"{name} [formulas] grad{i}")
    for dtype, a, r, tag in [(torch.float64, TIGHT_ATOL, TIGHT_RTOL, "float64"), (torch.float32, atol, rtol, "float32")]:
        leaves = [to_torch(x, dtype, grad is not None) for x in inputs]
        outs = OPS[op](leaves, attrs)
        if len(outs) != len(outputs):
            raise Fail(f"{name}: {len(outs)} outputs, fixture has {len(outputs)}")
        for i, (o, w) in enumerate(zip(outs, outputs)):
            compare(to_np(o), w, a, r, f"{name} [{tag}] output{i}")
        if grad is not None:
            for i, (g, w) in enumerate(zip(vjp(outs, leaves, ups, dtype), gin)):
                if w is not None:
                    compare(g, w, a, r, f"{name} [{tag}] grad{i}")


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    if n % 8:
        raise Fail(f"{path}: header length {n} not 8-aligned")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    body = raw[8 + n:]
    out, end = {}, 0
    names = sorted(k for k in header if k != "__metadata__")
    for k in names:
        h = header[k]
        b, e = h["data_offsets"]
        if h["dtype"] != "F32" or b != end:
            raise Fail(f"{path}: {k} not F32 or not contiguous in sorted order")
        out[k] = np.frombuffer(body[b:e], dtype="<f4").reshape(h["shape"]).astype(np.float32)
        end = e
    if end != len(body):
        raise Fail(f"{path}: {len(body) - end} trailing bytes")
    return out


def check_model(case, path):
    name = case["name"]
    spec = {s.name: s for s in SPECS}.get(name)
    if spec is None:
        raise Fail(f"{name}: no spec")
    if case["source"] != spec.source or case["model"] != spec.model or case["hyper"] != spec.hyper:
        raise Fail(f"{name}: source/model/hyper differ from models.py")
    if not re.search(r"\bmodel\s+" + case["model"] + r"\s*\(", case["source"]):
        raise Fail(f"{name}: model {case['model']} not declared in source")
    if ("weights" in case) == ("weightsFile" in case):
        raise Fail(f"{name}: exactly one of weights / weightsFile")
    if "weightsFile" in case:
        W = read_safetensors(os.path.join(os.path.dirname(path), case["weightsFile"]))
    else:
        W = {k: parse_tensor(t, f"{name} weight {k}") for k, t in case["weights"].items()}
    for k in W:
        for part in k.split(".")[:-1]:
            if part.isdigit() or part in ("W", "W_q", "W_k", "v", "out_proj"):
                continue
            if not re.search(r"\b" + re.escape(part) + r"\b", case["source"]):
                raise Fail(f"{name}: scope {part!r} of {k} does not occur in the source")
    I = {k: parse_tensor(t, f"{name} input {k}") for k, t in case["inputs"].items()}
    O = {k: parse_tensor(t, f"{name} output {k}") for k, t in case["outputs"].items()}
    G = case["grad"]
    U = {k: parse_tensor(t, f"{name} upstream {k}") for k, t in G["upstream"].items()}
    GI = {k: parse_tensor(t, f"{name} dinput {k}") for k, t in G["inputs"].items()}
    GP = {k: parse_tensor(t, f"{name} dparam {k}") for k, t in G["params"].items()}
    if set(U) != set(O) or set(GP) != set(W) or set(GI) != {k for k, v in I.items() if v.dtype == np.float32}:
        raise Fail(f"{name}: grad keys")
    atol, rtol = tolerance(case)
    fin = list(GI)
    onames = list(O)

    def verify(outs, gin_leaves, par_leaves, dtype, a, r, tag):
        if set(outs) != set(O):
            raise Fail(f"{name} [{tag}]: outputs {sorted(outs)}")
        for k in onames:
            compare(to_np(outs[k]), O[k], a, r, f"{name} [{tag}] {k}")
        g = vjp([outs[k] for k in onames], gin_leaves + par_leaves, [U[k] for k in onames], dtype)
        wants = [GI[k] for k in fin] + [GP[k] for k in GP]
        for k, gv, w in zip(fin + list(GP), g, wants):
            compare(gv, w, a, r, f"{name} [{tag}] d{k}")

    for dtype, a, r, tag in [(torch.float64, TIGHT_ATOL, TIGHT_RTOL, "module float64"),
                             (torch.float32, atol, rtol, "module float32")]:
        mod = spec.build(spec.hyper)
        mod.load_state_dict({k: torch.from_numpy(v) for k, v in W.items()}, strict=True)
        mod = mod.to(dtype).eval()
        It = {k: to_torch(v, dtype, True) for k, v in I.items()}
        params = dict(mod.named_parameters())
        verify(mod(**It), [It[k] for k in fin], [params[k] for k in GP], dtype, a, r, tag)
    # the `.attn` semantics written a second way
    P = {k: to_torch(v, torch.float64, True) for k, v in W.items()}
    It = {k: to_torch(v, torch.float64, True) for k, v in I.items()}
    verify(spec.manual(P, It, spec.hyper), [It[k] for k in fin], [P[k] for k in GP], torch.float64,
           TIGHT_ATOL, TIGHT_RTOL, ".attn semantics float64")


def main(argv):
    torch.set_num_threads(1)
    catalogue = ir_catalogue()
    failures, n_op, n_model, names, ops_seen = [], 0, 0, set(), set()
    total = 0
    for sub in ("ops", "models"):
        d = os.path.join(FIXTURES, sub)
        for f in sorted(os.listdir(d)):
            path = os.path.join(d, f)
            total += os.path.getsize(path)
            if not f.endswith(".json"):
                continue
            cases = json.load(open(path))
            if not isinstance(cases, list):
                failures.append(f"{path}: not a JSON array")
                continue
            for case in cases:
                try:
                    if case["name"] in names:
                        raise Fail(f"duplicate case name {case['name']}")
                    names.add(case["name"])
                    if not case.get("note"):
                        raise Fail(f"{case['name']}: no note")
                    if sub == "ops":
                        if case["kind"] != "op":
                            raise Fail(f"{case['name']}: kind")
                        check_op(case, catalogue)
                        ops_seen.add(case["op"])
                        n_op += 1
                    else:
                        if case["kind"] != "model":
                            raise Fail(f"{case['name']}: kind")
                        check_model(case, path)
                        n_model += 1
                except Fail as e:
                    failures.append(str(e))
    n_train, train_failures = training.check(sys.modules[__name__])
    failures += train_failures
    for sub in ("optim", "training"):
        d = os.path.join(FIXTURES, sub)
        total += sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f"checked {n_train} optimizer, clip_grad_norm and training cases (fixtures/optim, fixtures/training)")
    print(f"checked {n_op} op cases ({len(ops_seen)} ops) and {n_model} model cases; "
          f"fixtures total {total / 1024:.1f} KiB")
    print("ops also checked against NumPy loops:", ", ".join(sorted(INDEPENDENT_SEEN)))
    print("ops in docs/ir.md without a case:", ", ".join(sorted(set(catalogue) - ops_seen)) or "none")
    for f in failures:
        print("FAIL", f)
    print("OK" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
