import { describe, expect, it } from "vitest";
import {
  createDiagnostic,
  diagnosticByCode,
  Diagnostics,
  DslError,
  format,
  hasErrors,
  sortDiagnostics,
  type SourceSpan,
} from "../src/index.js";

const span = (file: string, offset: number): SourceSpan => ({ file, line: 1, column: offset + 1, length: 1, offset, endOffset: offset + 1 });

describe("the catalogue", () => {
  it("fills templates, and the types require every placeholder", () => {
    expect(format(Diagnostics.UnknownArgument, { callee: "`gru`", name: "hiden" })).toBe("`gru` has no argument `hiden`");
    // @ts-expect-error -- `name` is missing: a compile error, and a runtime one too.
    expect(() => format(Diagnostics.UnknownLayer, {})).toThrow("missing {name}");
  });

  it("finds entries by code", () => {
    expect(diagnosticByCode("ATTN2003")).toMatchObject({ name: "UnknownLayer", severity: "error" });
    expect(diagnosticByCode("ATTN9999")).toBeUndefined();
  });

  it("marks only a few diagnostics as warnings", () => {
    const warnings = Object.entries(Diagnostics)
      .filter(([, d]) => d.severity === "warning")
      .map(([name]) => name);
    expect(warnings).toEqual(["ScopeNameUnused", "CarryNotRebound"]);
  });
});

describe("diagnostics", () => {
  const a = createDiagnostic(Diagnostics.UndefinedName, { name: "a" }, span("b.attn", 3));
  const b = createDiagnostic(Diagnostics.ScopeNameUnused, { name: "b" }, span("a.attn", 9), { hint: undefined, related: [] });

  it("are plain data without empty extras", () => {
    expect(b).toEqual({ code: "ATTN2024", severity: "warning", message: "`as b` has no effect: this statement creates no parameters", span: span("a.attn", 9) });
  });

  it("sort by file and position, and tell errors from warnings", () => {
    expect(sortDiagnostics([a, b])).toEqual([b, a]);
    expect(hasErrors([b])).toBe(false);
    expect(hasErrors([a, b])).toBe(true);
  });

  it("can be thrown together as a DslError", () => {
    const error = new DslError([a, b]);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("DslError");
    expect(error.message).toBe("b.attn:1:4: ATTN2001: `a` is not defined (and 1 more)");
    expect(error.diagnostics).toHaveLength(2);
  });
});
