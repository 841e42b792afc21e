import type { Graph } from "@attn/core";
import type * as A from "../ast/ast.js";
import { analyze } from "../analyze.js";
import { createDiagnostic, hasErrors, sortDiagnostics, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Diagnostics, Hints, format } from "../diagnostics/messages.js";
import { suggest } from "../diagnostics/suggest.js";
import type { LoadOptions } from "../load.js";
import { Lowerer, type HyperValues } from "./lower.js";
import type { TrainConfig } from "./train-config.js";

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
  /** The model's `train { }` section, when it has one. */
  train?: TrainConfig;
}

/** Picks the model to lower: the one named, else the entry file's only model. */
function chooseModel(program: A.Program, name: string | undefined): A.ModelDecl | Diagnostic {
  const mine = program.files[0]?.models ?? [];
  const at = mine[0]?.name.span ?? { file: program.entry, line: 1, column: 1, length: 1, offset: 0, endOffset: 1 };
  const names = (ms: readonly A.ModelDecl[]) => ms.map((m) => m.name.name).join(", ");
  if (name !== undefined) {
    const found = program.models.find((d) => d.name.name === name);
    if (found) return found;
    const guess = suggest(name, program.models.map((m) => m.name.name));
    return createDiagnostic(Diagnostics.ModelNotFound, { name }, at, {
      hint: guess ? format(Hints.DidYouMean, { name: guess }) : `the models are ${names(program.models) || "none"}`,
    });
  }
  if (mine.length === 1) return mine[0];
  if (mine.length === 0) return createDiagnostic(Diagnostics.NoModel, { file: program.entry }, at, { hint: "declare one with `model Name { ... }`" });
  return createDiagnostic(Diagnostics.AmbiguousModel, { file: program.entry, names: names(mine) }, at, { hint: "pass the model's name (`--model Name` on the command line)" });
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
  return { ...result, ...(graph ? { graph } : {}), ...(lowerer.train ? { train: lowerer.train } : {}), diagnostics: dedupe(sortDiagnostics([...a.diagnostics, ...lowerer.diagnostics])) };
}

/** {@link compileFile} on text held in memory (`file` names it in diagnostics; imports go through `reader`). */
export function compileSource(text: string, opts: CompileOptions & { file?: string } = {}): Promise<CompileResult> {
  return compileFile({ path: opts.file ?? "input.attn", text }, opts);
}
