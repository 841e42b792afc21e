import { describe, expect, it } from "vitest";
import { format, Hints, suggest } from "../src/index.js";
import { maxDistanceFor } from "../src/diagnostics/suggest.js";

describe("did you mean", () => {
  it("finds one-letter slips and swaps", () => {
    expect(suggest("hiden", ["hidden", "heads", "h0"])).toBe("hidden");
    expect(suggest("lnear", ["linear", "layernorm"])).toBe("linear");
    expect(suggest("addtiive", ["additive", "concat"])).toBe("additive");
    expect(suggest("softmx", ["softmax", "argmax"])).toBe("softmax");
  });

  it("prefers a case-only difference, and counts a prefix as one edit", () => {
    expect(suggest("Linear", ["linea", "linear"])).toBe("linear");
    expect(suggest("int", ["float32", "int32", "bool"])).toBe("int32");
    expect(suggest("bidir", ["bidirectional", "hidden"])).toBe("bidirectional");
  });

  it("refuses far-fetched suggestions; the threshold grows with the length", () => {
    expect(suggest("x", ["h", "y"])).toBeUndefined();
    expect(suggest("ab", ["ac"])).toBeUndefined();
    expect(suggest("mean", ["max"])).toBeUndefined();
    expect(suggest("gru", ["relu"])).toBeUndefined();
    expect(suggest("completely", ["different"])).toBeUndefined();
    expect([2, 4, 8, 12].map((n) => maxDistanceFor("x".repeat(n)))).toEqual([0, 1, 2, 3]);
  });

  it("never suggests the name itself, and prefers earlier candidates on ties", () => {
    expect(suggest("out", ["out"])).toBeUndefined();
    expect(suggest("cat", ["bat", "hat"])).toBe("bat");
  });

  it("has a catalogue hint to say it", () => {
    expect(format(Hints.DidYouMean, { name: "linear" })).toBe("did you mean `linear`?");
  });
});
