import { formatType } from "../types.js";
import { isGraph, type Graph } from "./graph.js";

const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

/**
 * Graphviz DOT for a graph: inputs and parameters as ellipses, ops as boxes, edges labelled with types;
 * scan bodies as clusters. Render with `dot -Tsvg`.
 */
export function graphToDot(graph: Graph): string {
  const lines = [`digraph "${esc(graph.name)}" {`, "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=8];'];
  let cluster = 0;
  const emit = (g: Graph, prefix: string, indent: string) => {
    const vid = (id: number) => `${prefix}v${id}`;
    const producer = new Map<number, string>();
    for (const id of g.inputs) {
      lines.push(`${indent}${vid(id)} [label="${esc(g.values[id].name)}\\n${esc(formatType(g.values[id].type))}", shape=ellipse, style=filled, fillcolor="#e8f0fe"];`);
      producer.set(id, vid(id));
    }
    for (const p of g.params) {
      lines.push(`${indent}${vid(p.value)} [label="${esc(p.name)}\\n${esc(formatType(g.values[p.value].type))}", shape=ellipse, style=filled, fillcolor="#fef7e0"];`);
      producer.set(p.value, vid(p.value));
    }
    for (const n of g.nodes) {
      const nid = `${prefix}n${n.id}`;
      const fill = n.op.startsWith("attention") ? "#fce8e6" : "#ffffff";
      lines.push(`${indent}${nid} [label="${esc(n.op)}", shape=box, style="rounded,filled", fillcolor="${fill}"];`);
      for (const i of n.inputs) {
        if (i === null) continue;
        lines.push(`${indent}${producer.get(i) ?? vid(i)} -> ${nid} [label="${esc(formatType(g.values[i].type))}"];`);
      }
      for (const o of n.outputs) producer.set(o, nid);
      for (const a of Object.values(n.attrs)) {
        if (!isGraph(a)) continue;
        const c = cluster++;
        lines.push(`${indent}subgraph cluster_${c} {`, `${indent}  label="${esc(n.op)} body: ${esc(a.name)}"; style=dashed;`);
        emit(a, `${prefix}c${c}_`, indent + "  ");
        lines.push(`${indent}}`);
      }
    }
    for (const o of g.outputs) {
      const oid = `${prefix}out_${esc(o.name)}`;
      lines.push(`${indent}"${oid}" [label="${esc(o.name)}", shape=doubleoctagon];`);
      lines.push(`${indent}${producer.get(o.value) ?? vid(o.value)} -> "${oid}" [label="${esc(formatType(g.values[o.value].type))}"];`);
    }
  };
  emit(graph, "", "  ");
  lines.push("}");
  return lines.join("\n");
}
