/** The whole front end in one call: load (parse every file), then check. What `attn check` runs. */
import type { Program } from "./ast/ast.js";
import { check } from "./check/check.js";
import { sortDiagnostics, type Diagnostic } from "./diagnostics/diagnostic.js";
import { Diagnostics } from "./diagnostics/messages.js";
import { loadProgram, type LoadOptions } from "./load.js";

export interface AnalyzeResult {
  program: Program;
  /** Syntax, import and semantic diagnostics, sorted by file and position. */
  diagnostics: Diagnostic[];
  sources: Map<string, string>;
}

export async function analyze(
  entry: string | { path: string; text: string },
  options: LoadOptions = {},
): Promise<AnalyzeResult> {
  const loaded = await loadProgram(entry, options);
  // A syntax error may have swallowed the assignment of an output, so in a file with syntax errors
  // "output never assigned" is more likely a consequence than news.
  const broken = new Set(loaded.diagnostics.filter((d) => d.code.startsWith("ATTN1")).map((d) => d.span.file));
  const semantic = check(loaded.program).filter(
    (d) => !(d.code === Diagnostics.OutputNotAssigned.code && broken.has(d.span.file)),
  );
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...semantic]);
  return { program: loaded.program, diagnostics, sources: loaded.sources };
}
