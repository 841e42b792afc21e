import { compileFile, renderDiagnostics, type CompileResult } from "@attn/dsl";
import type { Graph } from "@attn/core";
import { CliError } from "./io.js";

export interface CompileFlags {
  model?: string;
  set?: Record<string, number | boolean | string>;
  color?: boolean;
}

/** Compiles a `.attn` file for a command that needs a graph; diagnostics become a CliError. */
export async function compileOrFail(path: string, flags: CompileFlags): Promise<{ graph: Graph; result: CompileResult }> {
  const result = await compileFile(path, { model: flags.model, hyper: flags.set });
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (!result.graph || errors.length) {
    throw new CliError(renderDiagnostics(result.diagnostics, result.sources, { color: flags.color ?? false }).trimEnd());
  }
  return { graph: result.graph, result };
}
