import { describe, expect, it } from "vitest";
import { parse, renderDiagnostics, type Diagnostic } from "../src/index.js";
import { diagnose } from "./helpers.js";

function syntax(text: string): Diagnostic[] {
  return parse(text, "t.attn").diagnostics;
}

/** `code line:col message` for compact assertions. */
function brief(d: Diagnostic): string {
  return `${d.code} ${d.span.line}:${d.span.column} ${d.message}`;
}

describe("syntax errors read like a compiler's", () => {
  it("names the unclosed call and where it was opened, pointing just after the last argument", () => {
    const text = "model M() {\n  input x: float32[B, 8]\n\n  y = linear(x, out: 4\n  z = relu(y)\n}\n";
    const [d] = syntax(text);
    expect(brief(d)).toBe("ATTN1004 4:23 expected `)` to close the call to `linear` opened at 4:13");
    expect(d.hint).toBe("found end of line instead");
    expect(d.related).toEqual([{ message: "`(` opened here", span: expect.objectContaining({ line: 4, column: 13 }) }]);
  });

  it("names attention calls, block inputs, parameter lists and scan headers", () => {
    const cases: [string, string][] = [
      ["  a = attention dot(x, x", "the call to attention `dot`"],
      ["  a = Enc()(x", "the inputs of block `Enc`"],
      ["  a = scan (e over x", "the scan header"],
      ["  a = [1, 2", "the list"],
      ["  a = (x + 1", "the parenthesis"],
    ];
    for (const [line, construct] of cases) {
      const [d] = syntax(`model M() {\n${line}\n  b = x\n}\n`);
      expect(d.message).toContain(`to close ${construct} opened at 2:`);
    }
    expect(syntax("block B(a, b\n")[0].message).toContain("to close the parameters of block `B` opened at 1:8");
  });

  it("names the shape of an input", () => {
    const [d] = syntax("model M() {\n  input x: float32[B, S\n  y = x\n}\n");
    expect(brief(d)).toBe("ATTN1004 2:24 expected `]` to close the shape of input `x` opened at 2:19");
  });

  it("reports an unclosed body at the end of the file", () => {
    const [d] = syntax("model M() {\n  input x: float32[B]\n  y = x\n");
    expect(brief(d)).toBe("ATTN1004 3:8 expected `}` to close the body of model `M` opened at 1:11");
    expect(d.hint).toBe("found end of file instead");
  });

  it("recovers from an unclosed body at the next declaration", () => {
    const result = parse("model A() {\n  y = x\nmodel B() {\n  z = x\n}\n", "t.attn");
    expect(result.diagnostics.map(brief)).toEqual(["ATTN1004 2:8 expected `}` to close the body of model `A` opened at 1:11"]);
    expect(result.file.models.map((m) => m.name.name)).toEqual(["A", "B"]);
    expect(result.file.models[1].body).toHaveLength(1);
  });

  it("asks for a dimension in the shape of the right input", () => {
    const [d] = syntax("model M() {\n  input mask: bool[B, , S]\n}\n");
    expect(brief(d)).toBe(
      "ATTN1006 2:23 expected a dimension (integer, name or expression) in the shape of input `mask` but found `,`",
    );
  });

  it("suggests a dtype", () => {
    const [d] = syntax("model M() {\n  output y: int[B]\n}\n");
    expect(brief(d)).toBe("ATTN1009 2:13 expected a dtype (`float32`, `int32` or `bool`) for output `y` but found `int`");
    expect(d.hint).toBe("did you mean `int32`?");
  });

  it("says `,` or `)` when an argument list goes on without a comma", () => {
    expect(syntax("model M() {\n  y = linear(x out: 4)\n}\n").map(brief)).toEqual([
      "ATTN1001 2:16 expected `,` or `)` but found `out`",
    ]);
  });

  it("reports a missing token by name when recovery can insert it", () => {
    const result = parse("model M() {\n  input x float32[B]\n  y = x\n}\n", "t.attn");
    expect(result.diagnostics.map(brief)).toEqual(["ATTN1001 2:11 expected `:` but found `float32`"]);
    expect(result.file.models[0].inputs[0].type).toMatchObject({ kind: "TensorType", dtype: "float32" });
  });

  it("reports keywords used as names, wherever they are", () => {
    expect(syntax("model M() {\n  scope = relu(x)\n}\n").map(brief)).toEqual([
      "ATTN1010 2:3 `scope` is a keyword and cannot be used as a name",
    ]);
    expect(syntax("model M() {\n  input output: float32[B]\n}\n").map(brief)).toEqual([
      "ATTN1010 2:9 `output` is a keyword and cannot be used as a name",
    ]);
    expect(syntax("model M() {\n  h, yield = gru(x, hidden: 2)\n}\n").map(brief)).toEqual([
      "ATTN1010 2:6 `yield` is a keyword and cannot be used as a name",
    ]);
    expect(syntax("model M() {\n  encoder = relu(x)\n}\n")[0].hint).toBe("keywords are reserved; try `encoder_`");
  });

  it("reports tokens after a complete statement as one error", () => {
    const [d] = syntax("model M() {\n  y = relu(x)) + 1\n}\n");
    expect(brief(d)).toBe("ATTN1001 2:14 expected end of line but found `)`");
    expect(d.span.length).toBe(5);
  });

  it("asks for one statement per line", () => {
    expect(syntax("model M() {\n  a = x b = x\n}\n").map(brief)).toEqual(["ATTN1001 2:9 expected end of line but found `b`"]);
  });

  it("reports a dangling operator at the end of its line", () => {
    expect(syntax("model M() {\n  z = x +\n  w = x\n}\n").map(brief)).toEqual([
      "ATTN1005 2:10 expected an expression but found end of line",
    ]);
  });

  it("reports stray tokens in a body and at the top level, and goes on", () => {
    const result = parse("junk here\nmodel M() {\n  ) y = x\n}\nmodel N() {}\n", "t.attn");
    expect(result.diagnostics.map(brief)).toEqual([
      "ATTN1007 1:1 expected `import`, `block` or `model` but found `junk`",
      "ATTN1008 3:3 expected a statement in the body of model `M` but found `)`",
    ]);
    expect(result.file.models.map((m) => m.name.name)).toEqual(["M", "N"]);
    expect(result.file.models[0].body).toHaveLength(1);
  });

  it("explains scan headers, and keeps checking the scan body", async () => {
    const diagnostics = await diagnose("model M() {\n  input x: float32[B, S, 4]\n  y = scan (e in x) {\n    yield e + q\n  }\n}\n");
    expect(diagnostics.map(brief)).toEqual([
      "ATTN1015 3:15 expected `name over sequence` or `name = initial value` in the scan header but found `in`",
      "ATTN2001 4:15 `q` is not defined",
    ]);
    expect(diagnostics[0].hint).toBe("a sequence is written `e over seq`");
  });

  it("reports structural mistakes the grammar lets through", () => {
    expect(syntax("model M() {\n  y = linear(out: 4, x)\n}\n").map(brief)).toEqual([
      "ATTN1011 2:22 positional argument after the named argument `out`",
    ]);
    expect(syntax("model M(a = 1, b) {}\n").map(brief)).toEqual([
      "ATTN1012 1:16 hyperparameter `b` of model `M` needs a default value",
    ]);
    expect(syntax("block B(a, b) {}\n")).toEqual([]); // block parameters may be required
    expect(syntax("model M() {\n  y = scan (e over x) {\n    output z\n  }\n}\n").map(brief)).toEqual([
      "ATTN1013 3:5 `output` declarations belong directly in a model or block body, not inside the scan body",
    ]);
    expect(syntax("model M() {\n  scope s {\n    input z: float32[B]\n  }\n}\n")[0].message).toContain("not inside scope `s`");
    expect(syntax("model M() {\n  y = Enc()(x: x)\n}\n").map(brief)).toEqual([
      "ATTN1014 2:13 inputs of block `Enc` are positional; `x:` is not allowed here",
    ]);
  });

  it("keeps one error per line: the rest of a broken line is consequences", () => {
    expect(syntax("model M() {\n  y = = ) ( ,\n}\n")).toHaveLength(1);
    // A lexer error and the parse error it causes on the same line count once.
    expect(syntax("model M() {\n  y = x; z = x\n}\n").map((d) => d.code)).toEqual(["ATTN1002"]);
  });
});

describe("error recovery", () => {
  it("reports every independent mistake in a file, each with position, caret and hint", async () => {
    const text = [
      "model Broken(hidden = 16) {", //                                       1
      "  input x: float32[B, S, 8]", //                                       2
      "  output y", //                                                        3
      "  h, _ = gru(x, hiden: hidden) as rnn", //                            4  misspelt argument
      "  ctx = attention additive(h, h, units: hidden", //                   5  missing `)`
      "  pooled = meen(ctx, axis: 1)", //                                     6  unknown function
      "  y = linear(poled, out: 1) as head", //                              7  undefined variable
      "}",
    ].join("\n");
    const diagnostics = await diagnose(text);
    expect(diagnostics.map(brief)).toEqual([
      "ATTN2004 4:17 `gru` has no argument `hiden`",
      "ATTN1004 5:47 expected `)` to close the call to attention `additive` opened at 5:27",
      "ATTN2003 6:12 unknown layer or function `meen`",
      "ATTN2001 7:14 `poled` is not defined",
    ]);
    expect(diagnostics.map((d) => d.hint)).toEqual([
      "did you mean `hidden`?",
      "found end of line instead",
      "did you mean `mean`?",
      "did you mean `pooled`?",
    ]);

    const rendered = renderDiagnostics(diagnostics, { "main.attn": text });
    expect(rendered).toContain(
      [
        "main.attn:6:12: error ATTN2003: unknown layer or function `meen`",
        "  6 |   pooled = meen(ctx, axis: 1)",
        "    |            ^~~~",
        "  hint: did you mean `mean`?",
      ].join("\n"),
    );
    // The caret for the missing `)` sits just after the last argument.
    expect(rendered).toContain(
      [
        "main.attn:5:47: error ATTN1004: expected `)` to close the call to attention `additive` opened at 5:27",
        "  5 |   ctx = attention additive(h, h, units: hidden",
        "    |                                               ^",
        "  hint: found end of line instead",
      ].join("\n"),
    );
    expect(rendered.endsWith("4 errors")).toBe(true);
  });

  it("still checks the statements around a syntax error", async () => {
    const diagnostics = await diagnose("model M() {\n  y = relu(\n  z = lnear(y)\n}\n");
    // No "`relu` needs the argument `x`": the unclosed call may lack arguments the user meant to write.
    expect(diagnostics.map((d) => d.code)).toEqual(["ATTN1004", "ATTN2003"]);
  });

  it("does not report the parameters a broken header lost as undefined names", async () => {
    const diagnostics = await diagnose("model M h = 4, w = 2) {\n  input x: float32[B, w]\n  output y\n  y = linear(x, out: h)\n}\n");
    expect(diagnostics.map(brief)).toEqual(["ATTN1001 1:9 expected `(` but found `h`"]);
  });

  it("reports a mangled declaration once, with a hint", () => {
    const result = parse("odel M() {\n  input x: float32[B]\n  y = x\n}\nmodel N() {}\n", "t.attn");
    expect(result.diagnostics.map(brief)).toEqual(["ATTN1007 1:1 expected `import`, `block` or `model` but found `odel`"]);
    expect(result.diagnostics[0].hint).toBe("did you mean `model`?");
    expect(result.file.models.map((m) => m.name.name)).toEqual(["N"]);
  });

  it("keeps the structure of a block whose keyword is misspelt", async () => {
    const text = "model M() {\n  input x: float32[B, 4]\n  output y\n  encodr {\n    h = linear(x, out: 4)\n  }\n  y = relu(h)\n}\n";
    const diagnostics = await diagnose(text);
    expect(diagnostics.map(brief)).toEqual(["ATTN1008 4:3 expected a statement in the body of model `M` but found `encodr`"]);
    expect(diagnostics[0].hint).toBe("did you mean `encoder`?");
  });

  it("does not let a stray `{` in junk swallow the `}` of the enclosing block", async () => {
    const text = "model M() {\n  input x: float32[B, 4]\n  output y\n  scope s {\n    h = relu{(x)\n  }\n  y = relu(x)\n}\n";
    const diagnostics = await diagnose(text);
    expect(diagnostics.map((d) => d.code)).toEqual(["ATTN2001", "ATTN1001"]); // `relu` as a value, then the junk
    expect(diagnostics[1].span).toMatchObject({ line: 5, column: 13 });
  });

  it("does not blame a missing output assignment on a file with syntax errors", async () => {
    const text = "model M() {\n  input x: float32[B, 4]\n  output y\n  y relu(x)\n}\n";
    expect((await diagnose(text)).map(brief)).toEqual(["ATTN1001 4:5 expected `=` but found `relu`"]);
  });

  it("never throws, whatever the input", () => {
    const samples = ["", "}", "{", "model", "model M(", "model M() { y = ", "(((((", "model M() {\n  y = [1, (2\n", "\u0000\u00ff"];
    for (const text of samples) expect(() => parse(text, "t.attn")).not.toThrow();
  });
});
