import { describe, expect, it } from "vitest";
import {
  createDiagnostic,
  Diagnostics,
  diagnosticsToJson,
  renderDiagnostic,
  renderDiagnostics,
  renderDiagnosticsJson,
  summarize,
  type Diagnostic,
  type SourceSpan,
} from "../src/index.js";

const text = "model M() {\n  y = lnear(x, out: 4)\n}\n";
const span = (line: number, column: number, length: number, offset = 0): SourceSpan => ({
  file: "m.attn",
  line,
  column,
  length,
  offset,
  endOffset: offset + length,
});
const unknown = createDiagnostic(Diagnostics.UnknownLayer, { name: "lnear" }, span(2, 7, 5, 18), { hint: "did you mean `linear`?" });

/** The column (1-based) of the first caret in a rendered caret line. */
function caretColumn(rendered: string, gutterWidth: number): number {
  const caretLine = rendered.split("\n").find((l) => l.includes("^"));
  if (caretLine === undefined) throw new Error("no caret line");
  return caretLine.indexOf("^") - (2 + gutterWidth + 3) + 1;
}

describe("renderDiagnostic", () => {
  it("prints location, severity, code, message, source line, caret and hint", () => {
    expect(renderDiagnostic(unknown, { "m.attn": text })).toBe(
      [
        "m.attn:2:7: error ATTN2003: unknown layer or function `lnear`",
        "  2 |   y = lnear(x, out: 4)",
        "    |       ^~~~~",
        "  hint: did you mean `linear`?",
      ].join("\n"),
    );
  });

  it("puts the caret under the span's column", () => {
    for (const column of [1, 3, 7, 12]) {
      const d = createDiagnostic(Diagnostics.UndefinedName, { name: "q" }, span(2, column, 1));
      expect(caretColumn(renderDiagnostic(d, { "m.attn": text }), 1)).toBe(column);
    }
  });

  it("widens the gutter for long files and keeps tabs so the caret lines up", () => {
    const lines = Array.from({ length: 120 }, () => "");
    lines[99] = "\ty = relu(q)";
    const d = createDiagnostic(Diagnostics.UndefinedName, { name: "q" }, span(100, 11, 1));
    const out = renderDiagnostic(d, new Map([["m.attn", lines.join("\n")]]));
    expect(out).toContain("  100 | \ty = relu(q)\n      | \t         ^");
  });

  it("cuts a multi-line span at the end of its first line, and marks empty spans with one caret", () => {
    const multi = createDiagnostic(Diagnostics.UndefinedName, { name: "x" }, span(2, 3, 40));
    expect(renderDiagnostic(multi, { "m.attn": text }).split("\n")[2]).toBe("    |   ^~~~~~~~~~~~~~~~~~~~");
    const empty = createDiagnostic(Diagnostics.UndefinedName, { name: "x" }, span(2, 23, 0));
    expect(renderDiagnostic(empty, { "m.attn": text }).split("\n")[2]).toBe("    |                       ^");
  });

  it("prints warnings, related notes and works without the source", () => {
    const d: Diagnostic = {
      ...createDiagnostic(Diagnostics.ScopeNameUnused, { name: "act" }, span(2, 7, 5)),
      related: [{ message: "first used here", span: span(1, 1, 5) }],
    };
    const out = renderDiagnostic(d, (file) => (file === "m.attn" ? text : undefined));
    expect(out).toContain("m.attn:2:7: warning ATTN2024:");
    expect(out).toContain("  note: first used here (m.attn:1:1)\n    1 | model M() {\n      | ^~~~~");
    expect(renderDiagnostic(unknown, {})).toBe(
      "m.attn:2:7: error ATTN2003: unknown layer or function `lnear`\n  hint: did you mean `linear`?",
    );
  });

  it("colours only when asked", () => {
    expect(renderDiagnostic(unknown, { "m.attn": text })).not.toContain("\u001b[");
    expect(renderDiagnostic(unknown, { "m.attn": text }, { color: true })).toContain("\u001b[1;31merror\u001b[0m");
  });
});

describe("renderDiagnostics", () => {
  it("sorts by file and position, separates with blank lines and summarises", () => {
    const later = createDiagnostic(Diagnostics.UndefinedName, { name: "q" }, span(3, 1, 1, 40));
    const warning = createDiagnostic(Diagnostics.ScopeNameUnused, { name: "a" }, span(1, 1, 1, 0));
    const out = renderDiagnostics([later, unknown, warning], { "m.attn": text });
    const headers = out.split("\n").filter((l) => l.startsWith("m.attn:"));
    expect(headers.map((h) => h.split(" ")[0])).toEqual(["m.attn:1:1:", "m.attn:2:7:", "m.attn:3:1:"]);
    expect(out.endsWith("\n\n2 errors, 1 warning")).toBe(true);
    expect(renderDiagnostics([], {})).toBe("");
    expect(summarize([unknown])).toBe("1 error");
  });
});

describe("JSON form", () => {
  it("is versioned, sorted and plain data", () => {
    const json = diagnosticsToJson([unknown]);
    expect(json).toEqual({
      format: "attn-diagnostics",
      version: 1,
      diagnostics: [
        {
          code: "ATTN2003",
          severity: "error",
          message: "unknown layer or function `lnear`",
          span: span(2, 7, 5, 18),
          hint: "did you mean `linear`?",
        },
      ],
    });
    expect(JSON.parse(renderDiagnosticsJson([unknown]))).toEqual(json);
  });
});
