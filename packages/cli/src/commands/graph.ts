import { graphToDot, graphToJson, optimize, printGraph } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { compileOrFail, type CompileFlags } from "../compile.js";
import { CliError } from "../io.js";

/** `attn graph FILE [--format text|dot|json] [--optimized]`: the IR, as lowered or after the passes. */
export async function graph(path: string, opts: CompileFlags & { format: string; optimized: boolean }, out: (s: string) => void): Promise<number> {
  const { graph: g0 } = await compileOrFail(path, opts);
  const backend = createCpuBackend();
  const g = opts.optimized ? optimize(g0, { evaluate: backend.evaluateNode.bind(backend) }) : g0;
  switch (opts.format) {
    case "text":
      out(printGraph(g));
      break;
    case "dot":
      out(graphToDot(g));
      break;
    case "json":
      out(graphToJson(g, 2));
      break;
    default:
      throw new CliError(`--format must be text, dot or json, got "${opts.format}"`);
  }
  return 0;
}
