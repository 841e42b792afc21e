import type { Graph } from "@attn/core";
import type * as A from "../ast/ast.js";
import { analyze } from "../analyze.js";
import { hasErrors, sortDiagnostics, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Diagnostics } from "../diagnostics/messages.js";
import type { LoadOptions } from "../load.js";
import { Lowerer, type HyperValues } from "./lower.js";

export interface CompileOptions extends LoadOptions {
  /** Which model to lower when the entry file declares several (default: its only model). */
  model?: string;
  /** Hyperparameter overrides. */
  hyper?: HyperValues;
}

export interface CompileResult {
  /** The IR graph, when there are no errors. */
  graph?: Graph;
  program: A.Program;
  /** Every diagnostic of every stage, sorted, without repeats. */
  diagnostics: Diagnostic[];
  /** File path → text, for rendering diagnostics. */
  sources: Map<string, string>;
}

/** Picks the model to lower: the one named, else the entry file's only model. */
function chooseModel(program: A.Program, name: string | undefined): A.ModelDecl | Diagnostic {
  const entry = program.files[0];
  const at = { file: program.entry, line: 1, column: 1, length: 1, offset: 0, endOffset: 1 };
  const fail = (entryDef: (typeof Diagnostics)[keyof typeof Diagnostics], message: string): Diagnostic => ({ code: entryDef.code, severity: "error", message, span: at });
  if (name !== undefined) {
    const m = program.models.find((d) => d.name.name === name);
    return m ?? fail(Diagnostics.ModelNotFound, `there is no model named \`${name}\` (models: ${program.models.map((d) => d.name.name).join(", ") || "none"})`);
  }
  const mine = entry?.models ?? [];
  if (mine.length === 1) return mine[0];
  if (mine.length === 0) return fail(Diagnostics.NoModel, `${program.entry} declares no model`);
  return fail(Diagnostics.AmbiguousModel, `${program.entry} declares several models (${mine.map((m) => m.name.name).join(", ")}); choose one`);
}

function dedupe(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const key = `${d.code}|${d.span.file}|${d.span.offset}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The whole pipeline for one file: load (with imports), check, lower one model to IR with shape inference.
 * Never throws for bad input: every problem is a diagnostic.
 */
export async function compileFile(entry: string | { path: string; text: string }, opts: CompileOptions = {}): Promise<CompileResult> {
  const a = await analyze(entry, opts);
  const result: CompileResult = { program: a.program, diagnostics: a.diagnostics, sources: a.sources };
  if (hasErrors(a.diagnostics)) return result;
  const model = chooseModel(a.program, opts.model);
  if (!("kind" in model)) return { ...result, diagnostics: sortDiagnostics([...a.diagnostics, model]) };
  const lowerer = new Lowerer(a.program);
  const graph = lowerer.lowerModel(model, opts.hyper);
  return { ...result, ...(graph ? { graph } : {}), diagnostics: dedupe(sortDiagnostics([...a.diagnostics, ...lowerer.diagnostics])) };
}

/** {@link compileFile} on text held in memory (`file` names it in diagnostics; imports go through `reader`). */
export function compileSource(text: string, opts: CompileOptions & { file?: string } = {}): Promise<CompileResult> {
  return compileFile({ path: opts.file ?? "input.attn", text }, opts);
}
