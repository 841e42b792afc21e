import { describe, expect, it } from "vitest";
import { parseCases, sortCases } from "../src/browser.js";

describe("parseCases (the browser-safe loader)", () => {
  it("takes one case or an array, and names the file of a malformed case", () => {
    const op = { name: "b/x", kind: "op", op: "relu", attrs: {}, inputs: [], outputs: [] };
    expect(parseCases(op, "ops/one.json").map((c) => c.name)).toEqual(["b/x"]);
    expect(parseCases([op, { ...op, name: "a/y" }], "ops/two.json")).toHaveLength(2);
    expect(() => parseCases([{ name: "z" }], "ops/bad.json")).toThrow(/ops\/bad\.json: every case needs a "name" and a "kind"/);
  });
  it("sorts by name and rejects duplicate names", () => {
    const c = (name: string) => ({ name, kind: "op" as const, op: "relu", attrs: {}, inputs: [], outputs: [] });
    expect(sortCases([c("b"), c("a")]).map((x) => x.name)).toEqual(["a", "b"]);
    expect(() => sortCases([c("a"), c("a")])).toThrow(/two conformance cases are named "a"/);
  });
});
