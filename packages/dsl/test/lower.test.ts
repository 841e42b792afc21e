import { describe, expect, it } from "vitest";
import { formatType, printGraph, type Graph } from "@attn/core";
import { compileFile, compileSource, createMemoryReader, Diagnostics, type CompileOptions } from "../src/index.js";

async function lower(source: string, opts: CompileOptions = {}) {
  return compileSource(source, { file: "m.attn", ...opts });
}

async function graphOf(source: string, opts: CompileOptions = {}): Promise<Graph> {
  const r = await lower(source, opts);
  expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return r.graph!;
}

const params = (g: Graph) => Object.fromEntries(g.params.map((p) => [p.name, g.values[p.value].type.shape]));
const outType = (g: Graph, name: string) => formatType(g.values[g.outputs.find((o) => o.name === name)!.value].type);

describe("lowering: parameters follow PyTorch names and scopes", () => {
  it("names layer parameters by scope path (statement target or `as`), with encoder/decoder prefixes", async () => {
    const g = await graphOf(`
model M(h = 4) {
  input x: float32[B, S, 3]
  input ids: int32[B, S]
  output y
  encoder {
    e = embedding(ids, vocab: 10, dim: 3)
    r, hn = gru(x + e, hidden: h, bidirectional: true) as rnn
  }
  y = relu(linear(r, out: 5)) as proj
}`);
    expect(params(g)).toEqual({
      "encoder.e.weight": [10, 3],
      "encoder.rnn.weight_ih_l0": [12, 3], "encoder.rnn.weight_hh_l0": [12, 4], "encoder.rnn.bias_ih_l0": [12], "encoder.rnn.bias_hh_l0": [12],
      "encoder.rnn.weight_ih_l0_reverse": [12, 3], "encoder.rnn.weight_hh_l0_reverse": [12, 4], "encoder.rnn.bias_ih_l0_reverse": [12], "encoder.rnn.bias_hh_l0_reverse": [12],
      "proj.weight": [5, 8], "proj.bias": [5],
    });
    expect(outType(g, "y")).toBe("float32[B, S, 5]");
  });

  it("gives every attention kind its documented parameters", async () => {
    const src = (kind: string, opts = "") => `
model M {
  input q: float32[B, T, 6]
  input k: float32[B, S, 4]
  output o
  o = attention ${kind}(q, k${opts}) as att
}`;
    expect(params(await graphOf(src("general")))).toEqual({ "att.W.weight": [6, 4] });
    expect(params(await graphOf(src("additive", ", units: 5")))).toEqual({ "att.W_q.weight": [5, 6], "att.W_k.weight": [5, 4], "att.v.weight": [1, 5] });
    expect(params(await graphOf(src("concat", ", units: 5")))).toEqual({ "att.W.weight": [5, 10], "att.v.weight": [1, 5] });
    const mh = await graphOf(`
model M {
  input x: float32[B, S, 8]
  output o
  o = attention multihead(x, x, x, heads: 2) as self_attn
}`);
    expect(params(mh)).toEqual({ "self_attn.in_proj_weight": [24, 8], "self_attn.in_proj_bias": [24], "self_attn.out_proj.weight": [8, 8], "self_attn.out_proj.bias": [8] });
  });

  it("names repeated blocks layers.0, layers.1 and renames block dims per use", async () => {
    const g = await graphOf(`
block Ff(d) {
  input x: float32[N, L, d]
  output y
  y = relu(linear(x, out: d)) as fc
}
model M {
  input a: float32[B, S, 4]
  input b: float32[B, T, 4]
  output ya
  output yb
  ya = repeat 2 Ff(4)(a) as layers
  yb = Ff(d: 4)(b) as single
}`);
    expect(Object.keys(params(g))).toEqual(["layers.0.fc.weight", "layers.0.fc.bias", "layers.1.fc.weight", "layers.1.fc.bias", "single.fc.weight", "single.fc.bias"]);
    // two uses with different sequence lengths do not force S = T
    expect(outType(g, "ya")).toBe("float32[B, S, 4]");
    expect(outType(g, "yb")).toBe("float32[B, T, 4]");
  });
});

describe("lowering: structure", () => {
  it("uses blocks imported from another file, with its diagnostics pointing into that file", async () => {
    const files = {
      "lib/blocks.attn": `block Proj(d) {\n  input x: float32[N, K]\n  output y\n  y = tanh(linear(x, out: d)) as fc\n}\n`,
      "main.attn": `import "lib/blocks.attn"\nmodel M {\n  input x: float32[B, 3]\n  output y\n  y = Proj(5)(x) as p\n}\n`,
    };
    const ok = await compileFile("main.attn", { reader: createMemoryReader(files) });
    expect(ok.diagnostics).toEqual([]);
    expect(ok.graph!.params.map((p) => p.name)).toEqual(["p.fc.weight", "p.fc.bias"]);
    const bad = await compileFile("main.attn", { reader: createMemoryReader({ ...files, "lib/blocks.attn": files["lib/blocks.attn"].replace("linear(x, out: d)", "linear(x, out: d) + x") }) });
    expect(bad.diagnostics.map((d) => [d.code, d.span.file, d.span.line])).toEqual([["ATTN3100", "lib/blocks.attn", 4]]);
  });

  it("lowers scan with the carry, the sequence slice and captured outer values and parameters", async () => {
    const g = await graphOf(`
model M {
  input xs: float32[B, T, 3]
  input mem: float32[B, S, 5]
  output hs
  output ws
  h0 = tanh(mean(mem, axis: 1))
  hs, ws, last = scan (x over xs, h = h0) {
    ctx, w = attention additive(h, mem, units: 4) as attn
    h = gru_cell(concat(x, ctx, axis: -1), h, hidden: 5) as cell
    yield h, w
  }
}`);
    const scan = g.nodes.find((n) => n.op === "scan")!;
    const body = scan.attrs.body as unknown as Graph;
    expect(body.inputs.map((i) => body.values[i].name).slice(0, 2)).toEqual(["h", "x"]);
    // mem and the 7 parameters (3 attention, 4 cell) are captures
    expect(scan.inputs.length).toBe(2 + 1 + 7);
    expect(body.params).toEqual([]);
    expect(g.params.map((p) => p.name)).toContain("cell.weight_ih");
    expect(outType(g, "hs")).toBe("float32[B, T, 5]");
    expect(outType(g, "ws")).toBe("float32[B, T, S]");
  });

  it("makes named attention weights extra outputs with the attention role", async () => {
    const g = await graphOf(`
model M {
  input x: float32[B, S, 4]
  output y
  y, align = attention dot(x, x)
}`);
    expect(g.outputs.map((o) => [o.name, o.role])).toEqual([["y", undefined], ["align", "attention"]]);
  });

  it("keeps symbolic reshape targets consistent with unification", async () => {
    const g = await graphOf(`
model M(h = 2) {
  input x: float32[B, S, 8]
  output y: float32[B, S, h, 4]
  y = reshape(x, [B, S, h, 8 / h])
}`);
    expect(printGraph(g)).toContain('reshape(%x) {shape: ["B", "S", 2, 4]}');
  });

  it("applies hyperparameter overrides", async () => {
    const src = `model M(h = 2) {\n  input x: float32[B, 3]\n  output y\n  y = linear(x, out: h) as fc\n}`;
    expect(outType(await graphOf(src, { hyper: { h: 7 } }), "y")).toBe("float32[B, 7]");
  });
});

/** Sources that must produce each lowering code (model selection and shape/type errors found with shapes). */
const triggers: Record<string, { source: string; opts?: CompileOptions; line?: number }> = {
  ATTN2060: { source: `block B() {\n  input x: float32[N]\n  output y\n  y = relu(x)\n}` },
  ATTN2061: { source: `model M {\n  input x: float32[N]\n  output y\n  y = relu(x)\n}`, opts: { model: "Nope" } },
  ATTN2062: { source: `model M {\n  input x: float32[N]\n  output y\n  y = relu(x)\n}\nmodel M2 {\n  input x: float32[N]\n  output y\n  y = relu(x)\n}` },
  ATTN2063: { source: `model M(hidden = 2) {\n  input x: float32[N]\n  output y\n  y = relu(x)\n}`, opts: { hyper: { hiden: 3 } } },
  ATTN2070: { source: `model M {\n  input x: float32[B, 3]\n  output y\n  y = relu(x)\n  train {\n    loss: mse(y)\n    epoch: 3\n  }\n}`, line: 7 },
  ATTN2071: { source: `model M {\n  input x: float32[B, 3]\n  output y\n  y = relu(x)\n  train {\n    loss: mse(y)\n    optimizer: adamm(lr: 0.1)\n  }\n}`, line: 7 },
  ATTN2072: { source: `model M {\n  input x: float32[B, 3]\n  output y\n  y = relu(x)\n  train {\n    loss: mse(z)\n  }\n}`, line: 6 },
  ATTN3120: { source: `model M {\n  input x: float32[B, 3]\n  output y\n  y = relu(x)\n  train {\n    loss: mse(y)\n    batch_size: 0.5\n  }\n}`, line: 7 },
  ATTN3100: { source: `model M {\n  input x: float32[B, 8]\n  input z: float32[B, 4]\n  output y\n  y = x + z\n}`, line: 5 },
  ATTN3101: { source: `model M {\n  input x: float32[B, S, 6]\n  output y\n  y = attention multihead(x, x, heads: 4) as mha\n}`, line: 4 },
  ATTN3102: { source: `model M {\n  input x: float32[B, D]\n  output y\n  y = linear(x, out: 2) as fc\n}`, line: 4 },
  ATTN3103: { source: `model M {\n  input q: float32[B]\n  input k: float32[B, S, 4]\n  output y\n  y = attention dot(q, k)\n}`, line: 5 },
  ATTN3104: { source: `model M {\n  input q: float32[B, T, 8]\n  input k: float32[B, S, 4]\n  output y\n  y = attention multihead(q, k, heads: 2) as mha\n}`, line: 5 },
  ATTN3105: { source: `model M {\n  input x: float32[B, 3]\n  output y: float32[B, 4]\n  y = relu(x)\n}`, line: 3 },
  ATTN3106: { source: `block F() {\n  input x: float32[N, 4]\n  output y\n  y = relu(x)\n}\nmodel M {\n  input a: float32[B, 3]\n  output y\n  y = F()(a) as f\n}`, line: 9 },
  ATTN3107: { source: `model M {\n  input t: int32[B, S]\n  output y\n  y = t + 1.5\n}`, line: 4 },
  ATTN3108: { source: `model M(h = 2) {\n  input x: float32[B, 3]\n  output y\n  y = linear(x, out: h) as fc\n}`, opts: { hyper: { h: 1.5 } } },
  ATTN3109: { source: `model M(h = 2) {\n  input x: float32[B, 3]\n  output y\n  y = h\n}`, line: 3 },
  ATTN3110: { source: `model M {\n  input x: float32[B, S / 2]\n  output y\n  y = relu(x)\n}`, line: 2 },
};

describe("train section", () => {
  it("reads loss, optimizer, schedule and run settings, with hyperparameters", async () => {
    const r = await lower(`
model M(rate = 0.02) {
  input x: float32[B, 3]
  output logits
  logits = linear(x, out: 4) as fc
  train {
    loss: cross_entropy(logits, ignore_index: 0, label_smoothing: 0.1)
    optimizer: adamw(lr: rate, betas: [0.9, 0.98], weight_decay: 0.01)
    schedule: cosine(warmup: 10)
    batch_size: 32
    epochs: 5
    clip: 1.0
    freeze: ["fc.bias"]
    early_stopping: "valid_loss"
    patience: 2
  }
}`);
    expect(r.diagnostics).toEqual([]);
    expect(r.train).toEqual({
      loss: { kind: "cross_entropy", output: "logits", ignoreIndex: 0, labelSmoothing: 0.1 },
      optimizer: { kind: "adamw", lr: 0.02, betas: [0.9, 0.98], weightDecay: 0.01 },
      schedule: { kind: "cosine", warmup: 10 },
      batchSize: 32, epochs: 5, clipNorm: 1, freeze: ["fc.bias"],
      earlyStopping: { metric: "valid_loss", mode: "min", patience: 2 },
    });
  });
  it("rejects a train section in a block and a second one", async () => {
    const r = await lower(`block F {\n  input x: float32[N]\n  output y\n  y = relu(x)\n  train {\n    loss: mse(y)\n  }\n}\nmodel M {\n  input x: float32[B]\n  output y\n  y = F()(x) as f\n}`);
    expect(r.diagnostics.map((d) => d.code)).toContain("ATTN1013");
  });
  it("suggests the closest setting and optimizer", async () => {
    expect((await lower(triggers.ATTN2070.source)).diagnostics[0].hint).toBe("did you mean `epochs`?");
    expect((await lower(triggers.ATTN2071.source)).diagnostics[0].hint).toBe("did you mean `adam`?");
  });
});

describe("lowering diagnostics", () => {
  it.each(Object.entries(triggers))("%s is reported at the right line", async (code, { source, opts, line }) => {
    const r = await lower(source, opts);
    expect(r.graph).toBeUndefined();
    const d = r.diagnostics.find((x) => x.code === code);
    expect(d, r.diagnostics.map((x) => `${x.code} ${x.message}`).join("\n")).toBeDefined();
    if (line) expect(d!.span.line).toBe(line);
  });

  it("every lowering code has a trigger", () => {
    const lowering = Object.values(Diagnostics).map((d) => d.code).filter((c) => /^ATTN(206|207|31)/.test(c));
    expect(lowering.filter((c) => !(c in triggers))).toEqual([]);
  });

  it("reports shape errors of independent statements separately, each at its own line, with the shapes", async () => {
    const r = await lower(`
model M {
  input x: float32[B, 8]
  output y
  a = linear(x, out: 4) as fc1
  b = a + x
  c = linear(a, out: 2) as fc2
  d = c * x
  y = c
}`);
    const shape = r.diagnostics.filter((d) => d.code === "ATTN3100");
    expect(shape.map((d) => d.span.line)).toEqual([6, 8]);
    expect(shape[0].message).toMatch(/add: broadcast dimension -1 .*\[B, 4\] vs \[B, 8\]/);
  });

  it("suggests the closest hyperparameter for a misspelled override", async () => {
    const r = await lower(triggers.ATTN2063.source, triggers.ATTN2063.opts);
    expect(r.diagnostics[0].hint).toBe("did you mean `hidden`?");
  });
});
