import { describe, expect, it } from "vitest";
import { tokenize } from "../src/lexer/lexer.js";

/** Token type names, with the inserted Newlines shown as `NL`. */
function types(text: string): string[] {
  return tokenize(text, "t.attn").tokens.map((t) => (t.tokenType.name === "Newline" ? "NL" : t.tokenType.name));
}

function images(text: string): string[] {
  return tokenize(text, "t.attn").tokens.map((t) => t.image);
}

describe("lexer", () => {
  it("tells keywords from identifiers that start with one", () => {
    expect(types("model models input_ids scope scoped as asx float32 float32x")).toEqual([
      "Model",
      "Identifier",
      "Identifier",
      "Scope",
      "Identifier",
      "As",
      "Identifier",
      "Float32",
      "Identifier",
      "NL",
    ]);
  });

  it("lexes every keyword", () => {
    const words =
      "model block input output import encoder decoder scope repeat scan over yield as attention true false float32 int32 bool";
    expect(types(words).filter((t) => t === "Identifier")).toEqual([]);
  });

  it("lexes integers, floats and scientific notation", () => {
    expect(types("3 0.5 1e-5 2E3 1.5e+2")).toEqual([
      "IntegerLiteral",
      "FloatLiteral",
      "FloatLiteral",
      "FloatLiteral",
      "FloatLiteral",
      "NL",
    ]);
    expect(images("1e-5")[0]).toBe("1e-5");
  });

  it("lexes operators, longest first", () => {
    expect(types("== != = < > + - * / ( ) [ ] { } , :").slice(0, 17)).toEqual([
      "EqualsEquals",
      "NotEquals",
      "Equals",
      "Less",
      "Greater",
      "Plus",
      "Minus",
      "Star",
      "Slash",
      "LParen",
      "RParen",
      "LBracket",
      "RBracket",
      "LBrace",
      "RBrace", // no statement in between, so no Newline
      "Comma",
      "Colon",
    ]);
  });

  it("skips comments and keeps string escapes in the image", () => {
    expect(images('x = "a \\" b" # comment "not a string"')).toEqual(["x", "=", '"a \\" b"', "\n"]);
  });

  it("reports a bad character with its position and keeps going", () => {
    const { tokens, diagnostics } = tokenize("y = x $ 2", "t.attn");
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: "ATTN1002", span: { line: 1, column: 7, length: 1 } });
    expect(tokens.map((t) => t.image)).toEqual(["y", "=", "x", "2", "\n"]);
  });

  it("reports a run of bad characters once", () => {
    const { diagnostics } = tokenize("y = x $$$ 2", "t.attn");
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0].span.length).toBe(3);
    expect(diagnostics[0].message).toBe("unexpected character `$$$` (3 characters)");
  });

  it("reports an unterminated string and hands the parser a string", () => {
    const { tokens, diagnostics } = tokenize('import "lib.attn\nmodel M() {}', "t.attn");
    expect(diagnostics.map((d) => d.code)).toEqual(["ATTN1003"]);
    expect(diagnostics[0].span).toMatchObject({ line: 1, column: 8, length: 9 });
    expect(tokens[1].tokenType.name).toBe("StringLiteral");
  });

  it("reports single quotes with a hint and treats the text as a string", () => {
    const { tokens, diagnostics } = tokenize("import 'lib.attn'", "t.attn");
    expect(diagnostics[0]).toMatchObject({ code: "ATTN1002", hint: 'strings use double quotes: "..."' });
    expect(tokens[1]).toMatchObject({ image: '"lib.attn"' });
  });

  it("has exact 1-based positions", () => {
    const { tokens } = tokenize("model M() {\n  y = gru(x)\n}", "t.attn");
    const gru = tokens.find((t) => t.image === "gru");
    expect(gru).toMatchObject({ startLine: 2, startColumn: 7, startOffset: 18 });
  });
});

describe("statement ends (inserted Newlines)", () => {
  it("ends a statement at the end of its line", () => {
    expect(types("a = b\nc = d")).toEqual(["Identifier", "Equals", "Identifier", "NL", "Identifier", "Equals", "Identifier", "NL"]);
  });

  it("continues a statement inside parentheses and brackets", () => {
    expect(types("y = f(a,\n  b)\nz = [1,\n 2]").filter((t) => t === "NL")).toHaveLength(2);
  });

  it("puts no Newline after `{` or before a `{` on the next line, and one before `}`", () => {
    expect(types("model M()\n{\n  y = x }")).toEqual([
      "Model",
      "Identifier",
      "LParen",
      "RParen",
      "LBrace",
      "Identifier",
      "Equals",
      "Identifier",
      "NL",
      "RBrace",
      "NL",
    ]);
  });

  it("collapses blank lines and comment lines into one Newline", () => {
    expect(types("a = b\n\n# note\n\nc = d").filter((t) => t === "NL")).toHaveLength(2);
  });

  it("takes an unclosed `(` as closed when the next line starts a new statement", () => {
    // `z = ...` cannot continue an argument list, so the `(` was left open by mistake.
    expect(types("y = f(a\nz = g(b)").filter((t) => t === "NL")).toHaveLength(2);
    expect(types("y = f(a\n  output z").filter((t) => t === "NL")).toHaveLength(2);
  });

  it("does not take `name =` inside a scan header or a parameter list as a new statement", () => {
    expect(types("h = scan (e over x,\n  h = h0) {\n}").filter((t) => t === "NL")).toHaveLength(1);
    expect(types("block B(p1,\n  p2 = 3) {\n}").filter((t) => t === "NL")).toHaveLength(1);
  });
});
