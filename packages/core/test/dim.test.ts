import { describe, expect, it } from "vitest";
import { dimAdd, dimDiv, dimEquals, dimMul, dimSub, dimSymbols, parseDim, substituteDim, ShapeEnv, ShapeError } from "../src/index.js";

describe("symbolic dims", () => {
  it("canonicalises polynomials so equal dims compare equal", () => {
    expect(parseDim("S * 2")).toBe("2*S");
    expect(parseDim("2*S + S")).toBe("3*S");
    expect(parseDim("S*B")).toBe("B*S");
    expect(parseDim("(S+1)*2")).toBe("2*S+2");
    expect(parseDim("S-S+4")).toBe(4);
    expect(dimEquals("2*S", "S+S")).toBe(true);
    expect(dimEquals("S", "T")).toBe(false);
  });
  it("does arithmetic, with exact division only", () => {
    expect(dimAdd("S", 1)).toBe("S+1");
    expect(dimSub("S", "S")).toBe(0);
    expect(dimMul(4, "H")).toBe("4*H");
    expect(dimDiv("4*H", 4)).toBe("H");
    expect(dimDiv("B*S", "S")).toBe("B");
    expect(dimDiv("2*S+2", "S+1")).toBe(2);
    expect(dimDiv("S", 2)).toBeUndefined();
    expect(dimDiv(7, 2)).toBeUndefined();
    expect(dimSymbols("B*S+T")).toEqual(["B", "S", "T"]);
    expect(substituteDim("2*S+1", new Map([["S", 3]]))).toBe(7);
  });
  it("rejects malformed text", () => {
    expect(() => parseDim("S +")).toThrow(/invalid dimension/);
    expect(() => parseDim("S/2")).toThrow(/not exact/);
  });
});

describe("ShapeEnv unification", () => {
  it("binds lone symbols and resolves through chains", () => {
    const env = new ShapeEnv();
    env.unify("S", "T", "keys");
    env.unify("T", 5, "len");
    expect(env.resolve("S")).toBe(5);
    expect(env.resolve("2*S+1")).toBe(11);
  });
  it("reports provable mismatches with context", () => {
    const env = new ShapeEnv();
    expect(() => env.unify(4, 5, "inner dims")).toThrow(ShapeError);
    expect(() => env.unify(4, 5, "inner dims")).toThrow(/inner dims must match, but got 4 and 5/);
    env.unify("S", 3, "x");
    expect(() => env.unify("2*S", 7, "y")).toThrow(/2\*S \(= 6\) and 7/);
  });
});
