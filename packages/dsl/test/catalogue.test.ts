import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  attentionKindNames,
  attentionKinds,
  describeArgType,
  findAttentionKind,
  findLayer,
  keywordArgs,
  layerNames,
  layers,
  positionalArgs,
} from "../src/index.js";

const languageGuide = readFileSync(new URL("../../../docs/language.md", import.meta.url), "utf8");

/** The first-column names of the markdown table under `heading`. */
function tableNames(heading: string, pattern: RegExp): string[] {
  const section = languageGuide.split(/^## /m).find((s) => s.startsWith(heading)) ?? "";
  const rows = section.split("\n").filter((l) => l.startsWith("| `"));
  return rows.flatMap((row) => [...row.split("|")[1].matchAll(pattern)].map((m) => m[1]));
}

describe("layer catalogue", () => {
  it("has every layer and function of the language guide", () => {
    const documented = tableNames("Layers and functions", /`([a-z_0-9]+)[(`]/g);
    expect(documented.length).toBeGreaterThan(30);
    expect(documented.filter((n) => findLayer(n) === undefined)).toEqual([]);
  });

  it("has every attention kind of the language guide, and only those", () => {
    expect(tableNames("Attention", /`([a-z_]+)`/g).sort()).toEqual([...attentionKindNames()].sort());
  });

  it("is consistent: unique names, positional arguments first, required without default", () => {
    expect(new Set(layerNames()).size).toBe(layers.length);
    for (const layer of layers) {
      const names = layer.args.map((a) => a.name);
      expect(new Set(names).size, layer.name).toBe(names.length);
      const firstNamedOnly = layer.args.findIndex((a) => a.positional !== true);
      const lastPositional = layer.args.map((a) => a.positional === true).lastIndexOf(true);
      expect(firstNamedOnly === -1 || lastPositional < firstNamedOnly, layer.name).toBe(true);
      for (const arg of layer.args) expect(arg.required === true && arg.default !== undefined, `${layer.name}.${arg.name}`).toBe(false);
      expect(layer.results.length, layer.name).toBeGreaterThan(0);
    }
  });

  it("knows which layers create parameters, with PyTorch's names", () => {
    const withParams = layers.filter((l) => l.params.length > 0).map((l) => l.name);
    expect(withParams.sort()).toEqual(["conv2d", "embedding", "gru", "gru_cell", "layernorm", "linear"]);
    expect(findLayer("gru")?.params.map((p) => p.name)).toEqual([
      "weight_ih_l0",
      "weight_hh_l0",
      "bias_ih_l0",
      "bias_hh_l0",
      "weight_ih_l0_reverse",
      "weight_hh_l0_reverse",
      "bias_ih_l0_reverse",
      "bias_hh_l0_reverse",
    ]);
    expect(findLayer("linear")?.params.find((p) => p.name === "bias")?.when).toBe("bias");
    expect(findLayer("gru")?.results).toEqual(["y", "h_n"]);
  });

  it("records defaults and which arguments are positional or named", () => {
    const linear = findLayer("linear");
    expect(linear && positionalArgs(linear.args).map((a) => a.name)).toEqual(["x"]);
    expect(linear && keywordArgs(linear.args).map((a) => [a.name, a.required ?? false, a.default])).toEqual([
      ["out", true, undefined],
      ["bias", false, true],
    ]);
    expect(findLayer("layernorm")?.args.find((a) => a.name === "eps")?.default).toBe(1e-5);
    const reshape = findLayer("reshape");
    expect(reshape && keywordArgs(reshape.args).map((a) => a.name)).toEqual(["shape"]);
  });
});

describe("attention catalogue", () => {
  it("gives parameters to general, concat, additive and multihead only", () => {
    expect(attentionKinds.filter((k) => k.params.length > 0).map((k) => k.name)).toEqual(["general", "concat", "additive", "multihead"]);
    expect(findAttentionKind("additive")?.params.map((p) => p.name)).toEqual(["W_q.weight", "W_k.weight", "v.weight"]);
    expect(findAttentionKind("multihead")?.params.map((p) => p.name)).toEqual([
      "in_proj_weight",
      "in_proj_bias",
      "out_proj.weight",
      "out_proj.bias",
    ]);
  });

  it("has the common options on every kind and the specific ones where the guide says", () => {
    const options = (kind: string) => findAttentionKind(kind)?.options.map((o) => o.name) ?? [];
    for (const kind of attentionKindNames()) {
      expect(options(kind)).toEqual(expect.arrayContaining(["mask", "causal", "window", "select", "topk"]));
    }
    const required = (kind: string) => findAttentionKind(kind)?.options.filter((o) => o.required).map((o) => o.name);
    expect(required("additive")).toEqual(["units"]);
    expect(required("concat")).toEqual(["units"]);
    expect(required("multihead")).toEqual(["heads"]);
    expect(required("local")).toEqual(["window"]);
    expect(attentionKindNames().filter((k) => options(k).includes("score"))).toEqual(["hard", "local"]);
    expect(attentionKindNames().filter((k) => !options(k).includes("scale"))).toEqual(["concat", "additive"]);
  });

  it("describes argument types for messages", () => {
    expect(describeArgType("ints")).toBe("an integer or a list of integers");
    expect(describeArgType({ oneOf: ["dot", "scaled_dot"] })).toBe("one of `dot`, `scaled_dot`");
  });
});
