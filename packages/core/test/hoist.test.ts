import { describe, expect, it } from "vitest";
import { GraphBuilder, hoistScanInvariants, validateGraph, type Graph } from "../src/index.js";

/** A scan whose body projects a captured memory every step (the additive-attention key projection). */
function decoder(): Graph {
  const b = new GraphBuilder("g");
  const xs = b.input("xs", { dtype: "float32", shape: ["B", "T", 4] });
  const mem = b.input("mem", { dtype: "float32", shape: ["B", "S", 4] });
  const h0 = b.input("h0", { dtype: "float32", shape: ["B", 4] });
  const w = b.param("W_k.weight", { dtype: "float32", shape: [4, 4] }, { kind: "zeros" });
  const body = b.subgraph("step");
  const h = body.input("h", { dtype: "float32", shape: ["B", 4] });
  const x = body.input("x", { dtype: "float32", shape: ["B", 4] });
  const m = body.input("mem", { dtype: "float32", shape: ["B", "S", 4] });
  const bw = body.input("w", { dtype: "float32", shape: [4, 4] });
  const keys = body.add1("linear", [m, bw, null], {}, { name: "keys" });
  const q = body.add1("unsqueeze", [body.add1("add", [h, x])], { axes: [1] });
  const s = body.add1("matmul", [q, body.add1("transpose", [keys], { perm: [0, 2, 1] })]);
  const hn = body.add1("squeeze", [body.add1("matmul", [body.add1("softmax", [s], { axis: -1 }), m])], { axes: [1] });
  body.output("h", hn);
  body.output("y", hn);
  const [, ys] = b.add("scan", [h0, xs, mem, w], { body: body.build(), numCarries: 1, numSequences: 1 });
  b.output("ys", ys);
  return b.build();
}

describe("hoistScanInvariants", () => {
  it("moves work that depends only on captures out of the loop, keeping the graph valid", () => {
    const g = hoistScanInvariants(decoder());
    validateGraph(g);
    const scan = g.nodes.find((n) => n.op === "scan")!;
    const body = scan.attrs.body as unknown as Graph;
    // linear(mem, W) and its transpose now run once, before the scan, and enter as captures
    expect(g.nodes.map((n) => n.op)).toEqual(["linear", "transpose", "scan"]);
    expect(body.nodes.some((n) => n.op === "linear" || n.op === "transpose")).toBe(false);
    expect(scan.inputs.length).toBe(4 + 2);
    expect(body.inputs.length).toBe(4 + 2);
  });
  it("leaves a loop with nothing invariant untouched", () => {
    const g = decoder();
    const once = hoistScanInvariants(g);
    expect(hoistScanInvariants(once)).toBe(once);
  });
});
