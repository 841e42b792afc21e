import { formatType } from "../types.js";
import { formatSpan } from "../span.js";
import { describeInit } from "../init/initializer.js";
import { isGraph, type AttrValue, type Graph } from "./graph.js";

function formatAttr(v: AttrValue): string {
  if (isGraph(v)) return `<graph ${v.name}>`;
  if (Array.isArray(v)) return `[${v.map(formatAttr).join(", ")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, AttrValue>;
    if ("data" in o && "shape" in o && Array.isArray(o.data) && o.data.length > 8) {
      return `${o.dtype}[${(o.shape as number[]).join(", ")}] {${(o.data as number[]).slice(0, 4).join(", ")}, …}`;
    }
    return `{${Object.entries(o).map(([k, x]) => `${k}: ${formatAttr(x)}`).join(", ")}}`;
  }
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/**
 * A readable dump of a graph, one node a line with its source location:
 * `%ctx, %w = attention(%q, %k, %v) {scale: 0.125}   # model.attn:7:3`.
 */
export function printGraph(graph: Graph, indent = ""): string {
  const name = (id: number | null) => (id === null ? "_" : `%${graph.values[id].name}`);
  const lines: string[] = [];
  const ins = graph.inputs.map((id) => `${name(id)}: ${formatType(graph.values[id].type)}`).join(", ");
  const outs = graph.outputs.map((o) => `${o.name}: ${formatType(graph.values[o.value].type)}`).join(", ");
  lines.push(`${indent}graph ${graph.name}(${ins}) -> (${outs}) {`);
  if (graph.params.length) {
    lines.push(`${indent}  # parameters`);
    for (const p of graph.params) lines.push(`${indent}  ${name(p.value)}: ${formatType(graph.values[p.value].type)} = ${describeInit(p.init)}`);
    lines.push(`${indent}  # nodes`);
  }
  for (const n of graph.nodes) {
    const attrs = Object.entries(n.attrs).filter(([, v]) => !isGraph(v));
    const attrText = attrs.length ? ` {${attrs.map(([k, v]) => `${k}: ${formatAttr(v)}`).join(", ")}}` : "";
    const loc = n.span ? `   # ${formatSpan(n.span)}` : "";
    lines.push(`${indent}  ${n.outputs.map(name).join(", ")} = ${n.op}(${n.inputs.map(name).join(", ")})${attrText}${loc}`);
    for (const v of Object.values(n.attrs)) if (isGraph(v)) lines.push(printGraph(v, indent + "    "));
  }
  for (const u of graph.updates ?? []) lines.push(`${indent}  update ${u.param} <- ${name(u.value)}`);
  lines.push(`${indent}  return ${graph.outputs.map((o) => `${o.name} = ${name(o.value)}`).join(", ")}`);
  lines.push(`${indent}}`);
  return lines.join("\n");
}
