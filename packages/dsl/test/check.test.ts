import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../src/index.js";
import { codes, diagnose, model } from "./helpers.js";

const brief = (d: Diagnostic) => `${d.code} ${d.span.line}:${d.span.column} ${d.message}`;

async function check(body: string, params?: string): Promise<Diagnostic[]> {
  return diagnose(model(body, params));
}

describe("names", () => {
  it("suggests the closest visible name for an undefined one", async () => {
    const [d] = await check("hiddn = relu(x)\ny = hidn + 1");
    expect(brief(d)).toBe("ATTN2001 4:7 `hidn` is not defined");
    expect(d.hint).toBe("did you mean `hiddn`?");
  });

  it("tells a function used as a value", async () => {
    const [d] = await check("y = relu");
    expect(d.hint).toBe("`relu` is a function; call it: `relu(...)`");
  });

  it("points at the later assignment of a name used too early", async () => {
    const [d] = await check("y = relu(z)\nz = relu(x)");
    expect(brief(d)).toBe("ATTN2002 3:12 `z` is used before it is assigned");
    expect(d.related?.[0]).toMatchObject({ message: "assigned here", span: { line: 4, column: 3 } });
  });

  it("allows rebinding; the newest binding wins", async () => {
    expect(await check("h = relu(x)\nh = tanh(h)\nh = h + 1")).toEqual([]);
  });

  it("keeps names bound in encoder, decoder and scope blocks visible after them", async () => {
    expect(await check("encoder {\n  a = relu(x)\n}\ndecoder {\n  b = a\n}\nscope s {\n  c = b\n}\ny = c")).toEqual([]);
  });

  it("does not leak names bound inside a scan body", async () => {
    const diagnostics = await check("hs, h = scan (e over x, h = x) {\n  t = e + h\n  h = t\n  yield h\n}\ny = t");
    expect(diagnostics.map(brief)).toEqual(["ATTN2001 8:7 `t` is not defined"]);
  });

  it("sees the scan's element and carried names inside its body only", async () => {
    expect(await check("hs, h = scan (e over x, h = x) {\n  h = e + h\n  yield h\n}")).toEqual([]);
    expect(codes(await check("hs, h = scan (e over x, h = x) {\n  h = e + h\n  yield h\n}\ny = e"))).toEqual(["ATTN2001"]);
  });

  it("rejects symbolic dimensions used as values, and unknown dimensions in shapes", async () => {
    const [d] = await check("y = x * S");
    expect(d.code).toBe("ATTN2016");
    expect(d.hint).toContain("can only appear in shapes");
    const [u] = await check("y = reshape(x, [B, S, hiden])");
    expect(brief(u)).toBe("ATTN2017 3:25 unknown dimension `hiden`");
    expect(u.hint).toBe("did you mean `hidden`?");
    expect((await check("y = reshape(x, [B, T])"))[0].hint).toBe(
      "a dimension must be an integer, a hyperparameter or a symbolic dimension of an input (such as `B`)",
    );
    expect(await check("y = reshape(x, [B, S * 8, hidden / 2, -1])")).toEqual([]);
  });

  it("checks hyperparameter defaults left to right", async () => {
    expect(await diagnose("model M(a = 2, b = 2*a, c = b + a) {}\n")).toEqual([]);
    expect((await diagnose("model M(a = b, b = 2) {}\n")).map(brief)).toEqual([
      "ATTN2034 1:13 hyperparameter `b` is used before it is defined",
    ]);
    expect(codes(await diagnose("model M(a = zz) {}\n"))).toEqual(["ATTN2001"]);
    expect(codes(await diagnose("model M(a = a) {}\n"))).toEqual(["ATTN2034"]);
  });

  it("rejects assigning to a hyperparameter", async () => {
    expect((await check("hidden = relu(x)")).map(brief)).toEqual(["ATTN2033 3:3 `hidden` is a hyperparameter and cannot be assigned"]);
  });
});

describe("declarations", () => {
  it("reports duplicate hyperparameters, inputs and outputs with the first one", async () => {
    const text = "model M(a = 1, a = 2) {\n  input x: float32[B]\n  input x: float32[B]\n  output y\n  output y\n  y = x\n}\n";
    const diagnostics = await diagnose(text);
    expect(diagnostics.map(brief)).toEqual([
      "ATTN2030 1:16 hyperparameter `a` is already declared",
      "ATTN2030 3:9 input `x` is already declared",
      "ATTN2030 5:10 output `y` is already declared",
    ]);
    expect(diagnostics[1].related?.[0]).toMatchObject({ message: "first declared here (as an input)", span: { line: 2 } });
  });

  it("reports duplicate models and blocks", async () => {
    expect((await diagnose("block A() {}\nmodel A() {}\n")).map(brief)).toEqual(["ATTN2030 2:7 model `A` is already declared"]);
  });

  it("reports outputs that are never assigned, but not outputs that are inputs", async () => {
    expect((await diagnose("model M() {\n  input x: float32[B]\n  output x\n  output y\n}\n")).map(brief)).toEqual([
      "ATTN2032 4:10 output `y` is never assigned",
    ]);
  });

  it("checks that dimensions are integers", async () => {
    const text = 'model M(f = 0.5, s = "a", n = 4) {\n  input x: float32[B, f, s, 2.5, n * 2]\n  input y: float32[x]\n}\n';
    expect((await diagnose(text)).map(brief)).toEqual([
      "ATTN3002 2:23 dimension `f` must be an integer, but it is a float",
      "ATTN3002 2:26 dimension `s` must be an integer, but it is a string",
      "ATTN3002 2:29 dimension `2.5` must be an integer, but it is a float",
      "ATTN3002 3:20 dimension `x` must be an integer, but it is a tensor",
    ]);
  });
});

describe("calls against the catalogue", () => {
  it("suggests layer names and points attention kinds to `attention`", async () => {
    expect((await check("y = lnear(x, out: 4)"))[0].hint).toBe("did you mean `linear`?");
    expect((await check("y = additive(x, x)"))[0].hint).toBe("attention is written `attention additive(query, keys, ...)`");
  });

  it("suggests argument names, or lists them", async () => {
    const [d] = await check("y, h = gru(x, hiden: 8)");
    expect(brief(d)).toBe("ATTN2004 3:17 `gru` has no argument `hiden`");
    expect(d.hint).toBe("did you mean `hidden`?");
    const [e] = await check("y = linear(x, out: 4, zzz: 1)");
    expect(e.hint).toBe("its named arguments are `out`, `bias`");
    const [r] = await check("y = relu(x, axis: 1)");
    expect(r.hint).toBe("it takes no named arguments");
  });

  it("reports missing, duplicate and surplus arguments", async () => {
    expect((await check("y = linear(x)")).map(brief)).toEqual(["ATTN2005 3:7 `linear` needs the argument `out`"]);
    expect((await check("y = gru_cell(x, hidden: 4)")).map(brief)).toEqual(["ATTN2005 3:7 `gru_cell` needs the argument `h`"]);
    expect((await check("y = relu(x, x, x)")).map(brief)).toEqual(["ATTN2006 3:15 `relu` takes 1 positional argument, not 3"]);
    expect((await check("y = concat(axis: 1)")).map(brief)).toEqual([
      "ATTN2006 3:7 `concat` takes at least 1 positional argument, not 0",
    ]);
    expect((await check("y = reshape(x, [B, 8], shape: [B, 8])")).map(brief)).toEqual([
      "ATTN2007 3:26 argument `shape` is given twice",
    ]);
  });

  it("accepts arguments that are both positional and named", async () => {
    expect(await check("y = reshape(x, shape: [B, S * 8])\nz = transpose(x, perm: [0, 2, 1])")).toEqual([]);
  });

  it("checks the kind of literal arguments", async () => {
    const cases: [string, string][] = [
      ['y = linear(x, out: "4")', "argument `out` of `linear` expects an integer, found a string"],
      ["y = linear(x, out: 4.5)", "argument `out` of `linear` expects an integer, found a float"],
      ["y = linear(x, out: 4, bias: 1)", "argument `bias` of `linear` expects `true` or `false`, found an integer"],
      ["y = linear(x, out: x)", "argument `out` of `linear` expects an integer, found a tensor"],
      ['y = relu("x")', "argument `x` of `relu` expects a tensor, found a string"],
      ["y = cast(x, to: float)", "argument `to` of `cast` expects a dtype (`float32`, `int32` or `bool`), found `float`"],
      ["y = attention hard(x, x, select: softmx)", "argument `select` of attention `hard` expects one of `softmax`, `argmax`, found `softmx`"],
      ["y = sum(x, axis: [1, 2.5])", "argument `axis` of `sum` expects an integer or a list of integers, found a float"],
      ["y = reshape(x, [B, 2.5])", "argument `shape` of `reshape` expects a list of dimensions, found the number 2.5"],
    ];
    for (const [line, message] of cases) {
      const diagnostics = await check(line);
      expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([`ATTN3001 ${message}`]);
    }
    expect((await check("y = cast(x, to: float)"))[0].hint).toBe("did you mean `float32`?");
  });

  it("takes hyperparameters and arithmetic over them as integer arguments", async () => {
    expect(await check("y = linear(x, out: 2 * hidden + 1)\nn = hidden / 2\nz = linear(x, out: n)")).toEqual([]);
  });

  it("accepts `none` for an optional tensor", async () => {
    expect(await check("y, h = gru(x, hidden: 4, h0: none)")).toEqual([]);
  });

  it("checks attention kinds and their options", async () => {
    const [d] = await check("y = attention additve(x, x, units: 4)");
    expect(brief(d)).toBe("ATTN2010 3:17 unknown attention kind `additve`");
    expect(d.hint).toBe("did you mean `additive`?");
    expect((await check("y = attention additive(x, x)")).map(brief)).toEqual([
      "ATTN2005 3:17 attention `additive` needs the argument `units`",
    ]);
    expect((await check("y = attention additive(x, x, units: 4, scale: 2.0)")).map(brief)).toEqual([
      "ATTN2004 3:42 attention `additive` has no argument `scale`",
    ]);
    expect((await check("y = attention dot(x)")).map(brief)).toEqual(["ATTN2005 3:17 attention `dot` needs the argument `keys`"]);
    expect(await check("y = attention local(x, x, window: 2, score: dot, causal: true)")).toEqual([]);
  });
});

describe("parameter scopes", () => {
  it("lets a statement hold one layer with parameters anywhere in its expression", async () => {
    expect(await check("y = tanh(linear(relu(x), out: 4)) as fc")).toEqual([]);
    const diagnostics = await check("y = linear(x, out: 4) + linear(x, out: 4) as fc");
    expect(diagnostics.map(brief)).toEqual([
      "ATTN2012 3:27 `linear` has parameters too, but a statement names the parameters of only one layer (this one already calls `linear`)",
    ]);
    expect(diagnostics[0].hint).toBe("give it a statement of its own, `t = linear(...) as name`, then use `t`");
  });

  it("counts attention kinds and blocks with parameters, but not those without", async () => {
    expect(await check("y = linear(attention dot(x, x), out: 4)")).toEqual([]);
    expect(codes(await check("y = linear(attention general(x, x), out: 4)"))).toEqual(["ATTN2012"]);
  });

  it("names scopes by `as`, else by the first target, under encoder/decoder/scope prefixes", async () => {
    expect(await check("h = linear(x, out: 4)\nencoder {\n  h = linear(h, out: 4)\n}\ndecoder {\n  h = linear(h, out: 4)\n}")).toEqual([]);
    const [d] = await check("h = linear(x, out: 4)\nh = linear(h, out: 4)");
    expect(brief(d)).toBe("ATTN2020 4:3 parameter scope `h` is already used");
    expect(d.hint).toBe("add `as name` to the statement to name its parameters");
    expect(await check("h = linear(x, out: 4)\nh = linear(h, out: 4) as second")).toEqual([]);
    const [s] = await check("scope a {\n  y = linear(x, out: 4) as fc\n}\nscope a {\n  z = linear(x, out: 4) as fc\n}");
    expect(s.message).toBe("parameter scope `a.fc` is already used");
  });

  it("shares the scope table with scan bodies", async () => {
    const text = "h0 = linear(x, out: 4) as cell\nhs, h = scan (e over x, h = h0) {\n  h = gru_cell(e, h, hidden: 4) as cell\n  yield h\n}";
    expect(codes(await check(text))).toEqual(["ATTN2020"]);
  });

  it("requires a name for parameters: `_` cannot be one", async () => {
    expect((await check("_ = linear(x, out: 4)")).map(brief)).toEqual(["ATTN2021 3:3 `_` cannot name a parameter scope"]);
    expect(await check("_ = linear(x, out: 4) as fc")).toEqual([]);
    expect(codes(await check("y = linear(x, out: 4) as _"))).toEqual(["ATTN2021"]);
  });

  it("warns about `as` on a statement without parameters", async () => {
    const [d] = await check("y = relu(x) as act");
    expect(d).toMatchObject({ code: "ATTN2024", severity: "warning", span: { line: 3, column: 18 } });
  });
});

describe("`_`", () => {
  it("discards results but cannot be read or declared", async () => {
    expect(await check("y, _ = gru(x, hidden: 4)\n_, z = gru(x, hidden: 4) as g2")).toEqual([]);
    expect((await check("y = _ + 1")).map(brief)).toEqual(["ATTN2022 3:7 `_` discards a value and cannot be read"]);
    expect((await diagnose("model M(_ = 1) {}\n")).map((d) => d.message)).toEqual(["`_` cannot name a hyperparameter"]);
    expect((await diagnose("model M() {\n  output _\n}\n")).map((d) => d.message)).toEqual(["`_` cannot name an output"]);
    expect((await check("hs = scan (_ over x) {\n  yield x\n}")).map((d) => d.message)).toEqual(["`_` cannot name a scan variable"]);
  });
});

describe("statement targets", () => {
  it("allows taking a prefix of the results", async () => {
    expect(await check("y = gru(x, hidden: 4)\nout = attention dot(x, x)\nout2, w = attention dot(x, x)")).toEqual([]);
  });

  it("reports too many targets, at the first extra one", async () => {
    expect((await check("a, b, c = gru(x, hidden: 4)")).map(brief)).toEqual([
      "ATTN2013 3:9 `gru` gives at most 2 results, but the statement has 3 targets",
    ]);
    expect((await check("a, b, c = attention dot(x, x)")).map((d) => d.message)).toEqual([
      "attention gives at most 2 results, but the statement has 3 targets",
    ]);
    expect((await check("a, b = x + 1")).map((d) => d.message)).toEqual([
      "this expression gives 1 result, but the statement has 2 targets",
    ]);
  });

  it("counts one result per size for split", async () => {
    expect(await check("a, b, c = split(x, sizes: [2, 2, 4])")).toEqual([]);
    expect(codes(await check("a, b, c = split(x, sizes: [4, 4])"))).toEqual(["ATTN2013"]);
  });

  it("reports a target listed twice", async () => {
    expect((await check("a, a = gru(x, hidden: 4)")).map(brief)).toEqual([
      "ATTN2031 3:6 `a` appears more than once among the targets",
    ]);
  });
});

describe("blocks", () => {
  const block = "block Enc(dim, heads = 2) {\n  input x: float32[B, S, dim]\n  input pad: bool[B, S]\n  output y\n  output w\n  y, w = attention multihead(x, x, heads: heads, mask: pad)\n}\n";

  it("binds parameters by position or name, and checks inputs and results", async () => {
    expect(await diagnose(block + model("pad = x > 0\ny, w = Enc(8, heads: 4)(x, pad) as enc\nz = Enc(dim: 8)(x, pad) as enc2"))).toEqual([]);
    const diagnostics = await diagnose(
      block + model("pad = x > 0\na = Enc()(x, pad) as e1\nb = Enc(8, 2, 3)(x, pad) as e2\nc = Enc(8, head: 2)(x, pad) as e3\nd = Enc(8, dim: 8)(x, pad) as e4\ne = Enc(8)(x) as e5\nf, g, h = Enc(8)(x, pad) as e6"),
    );
    expect(diagnostics.map(brief)).toEqual([
      "ATTN2005 11:7 block `Enc` needs the argument `dim`",
      "ATTN2006 12:17 block `Enc` takes 1 to 2 positional arguments, not 3",
      "ATTN2004 13:14 block `Enc` has no argument `head`",
      "ATTN2007 14:14 argument `dim` is given twice",
      "ATTN2011 15:7 block `Enc` takes 2 inputs, not 1",
      "ATTN2013 16:9 block `Enc` gives at most 2 results, but the statement has 3 targets",
    ]);
    expect(diagnostics[2].hint).toBe("did you mean `heads`?");
    expect(diagnostics[4].hint).toBe("its inputs are `x`, `pad`");
  });

  it("suggests block names and tells layers from blocks", async () => {
    const unknown = await diagnose(block + model("y = Encc(8)(x, x) as e"));
    expect(unknown.map(brief)).toEqual(["ATTN2008 10:7 unknown block `Encc`"]);
    expect(unknown[0].hint).toBe("did you mean `Enc`?");
    const layer = await diagnose(model("y = linear(4)(x)"));
    expect(layer[0].hint).toBe("`linear` is a layer, not a block: call it with one argument list, `linear(...)`");
    const asFunction = await diagnose(block + model("y = Enc(x)"));
    expect(asFunction.map((d) => d.message)).toEqual(["block `Enc` needs two argument lists: `Enc(parameters...)(inputs...)`"]);
  });

  it("uses models as blocks", async () => {
    const text = "model Inner(n = 4) {\n  input x: float32[B, 8]\n  output y\n  y = linear(x, out: n)\n}\n";
    expect(await diagnose(text + model("y = Inner(n: 2)(x) as inner"))).toEqual([]);
  });

  it("repeats blocks with one input and output, a positive integer of times", async () => {
    const layer = "block L(d) {\n  input x: float32[B, S, d]\n  output y\n  y = linear(x, out: d)\n}\n";
    expect(await diagnose(layer + model("y = repeat 3 L(8)(x) as layers\nz = repeat hidden L(8)(y) as more"))).toEqual([]);
    expect((await diagnose(layer + model("y = repeat 1.5 L(8)(x) as layers"))).map((d) => d.message)).toEqual([
      "`repeat` count must be a positive integer, found `1.5`",
    ]);
    expect((await diagnose(layer + model("y = repeat f L(8)(x) as layers", "f = 0.5"))).map((d) => d.message)).toEqual([
      "`repeat` count must be a positive integer, found a float",
    ]);
  });

  it("reports blocks that use themselves, through other blocks too", async () => {
    const text = "block A() {\n  input x: float32[B]\n  output y\n  y = B()(x)\n}\nblock B() {\n  input x: float32[B]\n  output y\n  y = A()(x)\n}\n";
    const diagnostics = await diagnose(text);
    expect(diagnostics.map(brief)).toEqual(["ATTN2014 9:7 block `A` uses itself: A → B → A"]);
  });
});

describe("scan and yield", () => {
  it("accepts the Bahdanau decoder of the language guide", async () => {
    const text = [
      "model D(hidden = 8) {",
      "  input tgt_emb: float32[B, T, 4]",
      "  input enc: float32[B, S, 8]",
      "  input h0: float32[B, 8]",
      "  input src_pad: bool[B, S]",
      "  output hs",
      "  output ws",
      "  output h_last",
      "  hs, ws, h_last = scan (e over tgt_emb, h = h0) {",
      "    ctx, w = attention additive(h, enc, enc, units: hidden, mask: src_pad) as attn",
      "    h = gru_cell(concat(e, ctx, axis: -1), h, hidden: hidden) as cell",
      "    yield h, w",
      "  }",
      "}",
    ].join("\n");
    expect(await diagnose(text)).toEqual([]);
  });

  it("counts the yields, then the carried states, as results", async () => {
    expect(codes(await check("a, b, c = scan (e over x, h = x) {\n  h = e\n  yield h\n}"))).toEqual(["ATTN2013"]);
  });

  it("warns when a carried state is never reassigned, even in a nested scope", async () => {
    const [d] = await check("hs, h = scan (e over x, h = x) {\n  yield e\n}");
    expect(d).toMatchObject({ code: "ATTN2043", severity: "warning", message: "carried state `h` is never reassigned in the scan body" });
    expect(await check("hs, h = scan (e over x, h = x) {\n  scope s {\n    h = e\n  }\n  yield h\n}")).toEqual([]);
  });

  it("requires one `yield`, last, and only inside a scan", async () => {
    expect((await check("yield x")).map(brief)).toEqual(["ATTN2040 3:3 `yield` is only allowed in the body of a `scan`"]);
    expect(codes(await check("hs, h = scan (e over x, h = x) {\n  yield h\n  h = e\n}"))).toEqual(["ATTN2042"]);
    expect(await check("h = scan (e over x, h = x) {\n  h = e\n}")).toEqual([]); // no yield: only carries
  });

  it("needs a sequence and distinct names", async () => {
    expect((await check("h = scan (h = x) {\n  h = h\n}")).map(brief)).toEqual([
      "ATTN2044 3:7 `scan` needs at least one sequence (`name over tensor`)",
    ]);
    expect(codes(await check("hs = scan (e over x, e over x) {\n  yield e\n}"))).toEqual(["ATTN2030"]);
  });

  it("rejects parameters in a `yield`", async () => {
    const [d] = await check("hs, h = scan (e over x, h = x) {\n  h = e\n  yield linear(h, out: 2)\n}");
    expect(brief(d)).toBe("ATTN2025 5:11 `linear` has parameters, but a `yield` cannot name them");
  });
});
