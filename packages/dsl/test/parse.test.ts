import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { analyze, parse, type Assign, type Expr, type ModelDecl, type Stmt } from "../src/index.js";

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** The AST without positions, for structural comparisons. */
function shape(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === "span" || key === "pathSpan" ? undefined : v)));
}

function parseOk(text: string) {
  const result = parse(text, "t.attn");
  expect(result.diagnostics).toEqual([]);
  return result.file;
}

function body(lines: string): readonly Stmt[] {
  return parseOk(`model M(h = 2) {\n${lines}\n}\n`).models[0].body;
}

function rhs(line: string): Expr {
  const value = (body(`  y = ${line}`)[0] as Assign).value;
  if (value.kind === "Repeat" || value.kind === "Scan") throw new Error("not an expression");
  return value;
}

const name = (n: string) => ({ kind: "Name", name: n });
const num = (value: number, isInteger = true) => ({ kind: "Number", value, isInteger });
const ident = (n: string) => ({ kind: "Identifier", name: n });

describe("declarations", () => {
  it("parses imports, models and blocks with their parameters", () => {
    const file = parseOk(
      'import "lib/blocks.attn"\nimport "other.attn"\n\nblock B(p1, p2 = 3) {\n}\nmodel M(h1 = 4, h2 = 2*h1) {\n}\n',
    );
    expect(file.imports.map((i) => i.path)).toEqual(["lib/blocks.attn", "other.attn"]);
    expect(shape(file.blocks[0].params)).toEqual([
      { kind: "Param", name: ident("p1") },
      { kind: "Param", name: ident("p2"), defaultValue: num(3) },
    ]);
    expect(shape(file.models[0].params[1])).toEqual({
      kind: "Param",
      name: ident("h2"),
      defaultValue: { kind: "Binary", op: "*", left: num(2), right: name("h1") },
    });
  });

  it("hoists inputs and outputs, with dtypes and dimension arithmetic", () => {
    const m = parseOk(
      "model M(hidden = 8) {\n  input x: float32[B, S + 1, 2*hidden, (S+1)/2]\n  input ids: int32[B]\n  input pad: bool[]\n  output y: float32[B, 1]\n  output w\n  y = x\n  w = x\n}\n",
    ).models[0];
    expect(m.inputs.map((i) => i.name.name)).toEqual(["x", "ids", "pad"]);
    expect(shape(m.inputs[0].type)).toEqual({
      kind: "TensorType",
      dtype: "float32",
      dims: [
        name("B"),
        { kind: "Binary", op: "+", left: name("S"), right: num(1) },
        { kind: "Binary", op: "*", left: num(2), right: name("hidden") },
        { kind: "Binary", op: "/", left: { kind: "Binary", op: "+", left: name("S"), right: num(1) }, right: num(2) },
      ],
    });
    expect(shape(m.inputs[2].type)).toEqual({ kind: "TensorType", dtype: "bool", dims: [] });
    expect(shape(m.outputs)).toEqual([
      { kind: "Output", name: ident("y"), type: { kind: "TensorType", dtype: "float32", dims: [name("B"), num(1)] } },
      { kind: "Output", name: ident("w") },
    ]);
    expect(m.body).toHaveLength(2);
  });
});

describe("statements", () => {
  it("parses several targets, `_` and `as`", () => {
    expect(shape(body("  h, _ = gru(x, hidden: h) as rnn")[0])).toEqual({
      kind: "Assign",
      targets: [
        { kind: "Target", name: "h", discard: false },
        { kind: "Target", name: "_", discard: true },
      ],
      value: {
        kind: "Call",
        callee: ident("gru"),
        args: [name("x")],
        named: [{ kind: "NamedArg", name: ident("hidden"), value: name("h") }],
      },
      scopeName: ident("rnn"),
    });
  });

  it("parses encoder, decoder and scope blocks, nested", () => {
    const stmts = body("  encoder {\n    a = x\n    scope inner { b = a }\n  }\n  decoder {\n  }");
    expect(shape(stmts)).toEqual([
      {
        kind: "Scope",
        scopeKind: "encoder",
        name: ident("encoder"),
        body: [
          { kind: "Assign", targets: [{ kind: "Target", name: "a", discard: false }], value: name("x") },
          {
            kind: "Scope",
            scopeKind: "scope",
            name: ident("inner"),
            body: [{ kind: "Assign", targets: [{ kind: "Target", name: "b", discard: false }], value: name("a") }],
          },
        ],
      },
      { kind: "Scope", scopeKind: "decoder", name: ident("decoder"), body: [] },
    ]);
  });

  it("parses `repeat N Block(args)(inputs) as name`", () => {
    const stmt = body("  y = repeat 2*h Layer(8, heads: 2)(x, pad) as layers")[0] as Assign;
    expect(shape(stmt.value)).toEqual({
      kind: "Repeat",
      count: { kind: "Binary", op: "*", left: num(2), right: name("h") },
      use: {
        kind: "BlockUse",
        block: ident("Layer"),
        args: [num(8)],
        named: [{ kind: "NamedArg", name: ident("heads"), value: num(2) }],
        inputs: [name("x"), name("pad")],
      },
    });
    expect(stmt.scopeName?.name).toBe("layers");
  });

  it("parses a single block use", () => {
    expect(shape(rhs("Enc()(x)"))).toEqual({ kind: "BlockUse", block: ident("Enc"), args: [], named: [], inputs: [name("x")] });
  });

  it("parses `attention KIND(...)`", () => {
    expect(shape(rhs("attention additive(q, k, v, units: 16, mask: pad)"))).toEqual({
      kind: "Attention",
      attentionKind: ident("additive"),
      args: [name("q"), name("k"), name("v")],
      named: [
        { kind: "NamedArg", name: ident("units"), value: num(16) },
        { kind: "NamedArg", name: ident("mask"), value: name("pad") },
      ],
    });
  });

  it("parses a scan with sequences, carries, a body and `yield`", () => {
    const stmt = body(
      "  hs, ws, h_last = scan (e over emb, h = h0, c = zeros) {\n    h = gru_cell(e, h, hidden: 4) as cell\n    yield h, c\n  }",
    )[0] as Assign;
    expect(stmt.targets.map((t) => t.name)).toEqual(["hs", "ws", "h_last"]);
    const scan = stmt.value;
    if (scan.kind !== "Scan") throw new Error("expected a scan");
    expect(shape(scan.sequences)).toEqual([{ kind: "ScanSequence", name: ident("e"), source: name("emb") }]);
    expect(shape(scan.carries)).toEqual([
      { kind: "ScanCarry", name: ident("h"), init: name("h0") },
      { kind: "ScanCarry", name: ident("c"), init: name("zeros") },
    ]);
    expect(scan.body.map((s) => s.kind)).toEqual(["Assign", "Yield"]);
    expect(shape(scan.body[1])).toEqual({ kind: "Yield", values: [name("h"), name("c")] });
  });

  it("lets a call span several lines inside its parentheses", () => {
    const stmts = body("  ctx, w = attention additive(h, enc, enc,\n      units: 8) as attn\n  z = ctx");
    expect(stmts).toHaveLength(2);
  });
});

describe("expressions", () => {
  it("gives `*` and `/` precedence over `+` and `-`, left-associative", () => {
    expect(shape(rhs("a + b * c - d / e"))).toEqual({
      kind: "Binary",
      op: "-",
      left: { kind: "Binary", op: "+", left: name("a"), right: { kind: "Binary", op: "*", left: name("b"), right: name("c") } },
      right: { kind: "Binary", op: "/", left: name("d"), right: name("e") },
    });
    expect(shape(rhs("a - b - c"))).toEqual({
      kind: "Binary",
      op: "-",
      left: { kind: "Binary", op: "-", left: name("a"), right: name("b") },
      right: name("c"),
    });
  });

  it("gives comparisons the lowest precedence, and parentheses group", () => {
    expect(shape(rhs("(a + b) * 2 > c"))).toEqual({
      kind: "Binary",
      op: ">",
      left: { kind: "Binary", op: "*", left: { kind: "Binary", op: "+", left: name("a"), right: name("b") }, right: num(2) },
      right: name("c"),
    });
    for (const op of ["==", "!=", "<", ">"]) expect(rhs(`a ${op} b`)).toMatchObject({ kind: "Binary", op });
  });

  it("folds unary minus into number literals and keeps it on other operands", () => {
    expect(shape(rhs("-1"))).toEqual(num(-1));
    expect(shape(rhs("-2.5e-3"))).toEqual(num(-0.0025, false));
    expect(shape(rhs("-x"))).toEqual({ kind: "Unary", op: "-", operand: name("x") });
  });

  it("parses literals: numbers, booleans, strings with escapes, dtypes, lists", () => {
    expect(shape(rhs("[1, 2.0, 1e-5, true, false, \"a\\\"b\\n\", int32, []]"))).toEqual({
      kind: "List",
      items: [
        num(1),
        num(2, false),
        num(1e-5, false),
        { kind: "Bool", value: true },
        { kind: "Bool", value: false },
        { kind: "String", value: 'a"b\n' },
        { kind: "Dtype", dtype: "int32" },
        { kind: "List", items: [] },
      ],
    });
  });

  it("parses nested calls with positional and named arguments", () => {
    expect(shape(rhs("linear(relu(x), out: 4, bias: false)"))).toEqual({
      kind: "Call",
      callee: ident("linear"),
      args: [{ kind: "Call", callee: ident("relu"), args: [name("x")], named: [] }],
      named: [
        { kind: "NamedArg", name: ident("out"), value: num(4) },
        { kind: "NamedArg", name: ident("bias"), value: { kind: "Bool", value: false } },
      ],
    });
  });
});

describe("spans", () => {
  const text = "model M(h = 2) {\n  input x: float32[B, 8]\n  y = linear(relu(x), out: 4) as fc   # comment\n}\n";
  const m: ModelDecl = parseOk(text).models[0];
  const stmt = m.body[0] as Assign;
  const slice = (s: { offset: number; endOffset: number }) => text.slice(s.offset, s.endOffset);

  it("are exact for declarations, statements and expressions", () => {
    expect(m.name.span).toMatchObject({ file: "t.attn", line: 1, column: 7, length: 1 });
    expect(slice(m.inputs[0].span)).toBe("input x: float32[B, 8]");
    expect(stmt.span).toMatchObject({ line: 3, column: 3 });
    expect(slice(stmt.span)).toBe("y = linear(relu(x), out: 4) as fc");
    expect(slice(stmt.value.span)).toBe("linear(relu(x), out: 4)");
    if (stmt.value.kind !== "Call") throw new Error("expected a call");
    expect(stmt.value.callee.span).toMatchObject({ line: 3, column: 7, length: 6 });
    expect(slice(stmt.value.args[0].span)).toBe("relu(x)");
    expect(slice(stmt.value.named[0].span)).toBe("out: 4");
    expect(stmt.scopeName?.span).toMatchObject({ line: 3, column: 34, length: 2 });
    expect(slice(m.span)).toBe(text.trimEnd());
  });

  it("cover both operands of a binary expression", () => {
    const value = rhs("a * (b + c)");
    expect(value.span).toMatchObject({ column: 7, length: 11 });
  });
});

describe("line endings", () => {
  it("handles CRLF files like LF ones", async () => {
    const text = "model M() {\r\n  input x: float32[B]\r\n  y = relu(q)   # comment\r\n}\r\n";
    const { diagnostics } = await analyze({ path: "crlf.attn", text });
    expect(diagnostics.map((d) => [d.code, d.span.line, d.span.column])).toEqual([["ATTN2001", 3, 12]]);
  });
});

describe("fixtures", () => {
  const files = readdirSync(fixtures).filter((f) => f.endsWith(".attn"));

  it.each(files)("%s parses and checks without diagnostics", async (file) => {
    expect(parse(readFileSync(fixtures + file, "utf8"), file).diagnostics).toEqual([]);
    const { diagnostics } = await analyze(fixtures + file);
    expect(diagnostics).toEqual([]);
  });

  it("kitchen-sink uses every construct of the language", () => {
    const text = readFileSync(fixtures + "kitchen-sink.attn", "utf8");
    for (const construct of ["import", "block", "model", "input", "output", "scope", "repeat", "attention", " as ", " _", "1e-5", '"', "==", "!=", "<", ">"]) {
      expect(text).toContain(construct);
    }
    const others = readFileSync(fixtures + "translator.attn", "utf8") + readFileSync(fixtures + "classifier.attn", "utf8");
    for (const construct of ["encoder {", "decoder {", "scan (", " over ", "yield", "int32", "bool"]) expect(others).toContain(construct);
  });
});
