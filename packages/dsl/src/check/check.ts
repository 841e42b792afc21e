/**
 * `check(program)`: every semantic check that needs no shapes, over a whole program (see resolve.ts
 * for the per-declaration checks and decls.ts for the program-wide ones).
 */
import type { Program } from "../ast/ast.js";
import { sortDiagnostics, type Diagnostic } from "../diagnostics/diagnostic.js";
import { DeclTable } from "./decls.js";
import { checkDeclaration } from "./resolve.js";

export function check(program: Program): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const report = (d: Diagnostic) => diagnostics.push(d);
  const table = new DeclTable(program, report);
  const decls = [...program.models, ...program.blocks];
  // First, so recursion is reported once, at the block that closes the cycle.
  for (const decl of decls) table.hasParameters(decl);
  for (const decl of decls) checkDeclaration(decl, table, report);
  return sortDiagnostics(diagnostics);
}
