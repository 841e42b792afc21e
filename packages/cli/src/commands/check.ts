import { compileFile, renderDiagnostics, diagnosticsToJson } from "@attn/dsl";
import { formatType, type Graph } from "@attn/core";
import { parameterCount } from "@attn/models";

/** One line a person can read at a glance: params, inputs, outputs. */
export function summarize(graph: Graph): string {
  const count = parameterCount(graph);
  const io = (ids: readonly { name: string; value: number }[]) => ids.map((o) => `${o.name}: ${formatType(graph.values[o.value].type)}`).join(", ");
  const inputs = io(graph.inputs.map((id) => ({ name: graph.values[id].name, value: id })));
  const tensors = `${graph.params.length} tensor${graph.params.length === 1 ? "" : "s"}`;
  return `ok: model ${graph.name}: ${count.toLocaleString("en-US")} parameters in ${tensors}; inputs ${inputs || "none"}; outputs ${io(graph.outputs)}`;
}

/** `attn check FILE`: exit 0 and a summary when valid; every diagnostic and exit 1 otherwise. */
export async function check(path: string, opts: { json: boolean; model?: string; set?: Record<string, number | boolean | string>; color: boolean }, out: (s: string) => void): Promise<number> {
  const result = await compileFile(path, { model: opts.model, hyper: opts.set });
  const failed = !result.graph || result.diagnostics.some((d) => d.severity === "error");
  if (opts.json) {
    const summary = result.graph && !failed ? summarize(result.graph) : undefined;
    out(JSON.stringify({ ...diagnosticsToJson(result.diagnostics), ok: !failed, file: path, ...(summary ? { summary } : {}) }, null, 2));
    return failed ? 1 : 0;
  }
  if (result.diagnostics.length) out(renderDiagnostics(result.diagnostics, result.sources, { color: opts.color }).trimEnd());
  if (failed) return 1;
  out(summarize(result.graph!));
  return 0;
}
