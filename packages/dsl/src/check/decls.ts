/**
 * The program-wide table of models and blocks: unique names, which ones each file can see (its own
 * and those of the files it imports directly), and which ones create parameters (transitively through
 * the blocks they use), with recursion reported.
 */
import type { BlockUse, Decl, Program } from "../ast/ast.js";
import { expressionsIn } from "../ast/walk.js";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Diagnostics } from "../diagnostics/messages.js";
import { findAttentionKind, findLayer } from "../layers/catalogue.js";
import { formatPosition } from "../span.js";

export class DeclTable {
  private readonly byName = new Map<string, Decl>();
  private readonly visible = new Map<string, Map<string, Decl>>();
  private readonly params = new Map<Decl, boolean>();
  private readonly reportedCycles = new Set<string>();

  constructor(
    program: Program,
    private readonly report: (d: Diagnostic) => void,
  ) {
    const declsOf = new Map<string, Decl[]>();
    for (const file of program.files) {
      const decls = [...file.models, ...file.blocks].sort((a, b) => a.span.offset - b.span.offset);
      declsOf.set(file.path, decls);
      for (const decl of decls) {
        const first = this.byName.get(decl.name.name);
        if (first === undefined) {
          this.byName.set(decl.name.name, decl);
          continue;
        }
        this.report(
          createDiagnostic(
            Diagnostics.DuplicateDeclaration,
            { what: decl.kind === "Model" ? "model" : "block", name: decl.name.name },
            decl.name.span,
            { related: [{ message: "first declared here", span: first.name.span }] },
          ),
        );
      }
    }
    for (const file of program.files) {
      const seen = new Map<string, Decl>();
      const sources = [file.path, ...file.imports.map((i) => i.resolvedPath).filter((p) => p !== undefined)];
      for (const path of sources) {
        for (const decl of declsOf.get(path) ?? []) {
          if (!seen.has(decl.name.name) && this.byName.get(decl.name.name) === decl) seen.set(decl.name.name, decl);
        }
      }
      this.visible.set(file.path, seen);
    }
  }

  /** The model or block `name` as seen from `file`. */
  lookup(file: string, name: string): Decl | undefined {
    return this.visible.get(file)?.get(name);
  }

  /** Declared somewhere in the program, visible or not (for "import it" hints). */
  anywhere(name: string): Decl | undefined {
    return this.byName.get(name);
  }

  visibleNames(file: string): string[] {
    return [...(this.visible.get(file)?.keys() ?? [])];
  }

  /** Does using `decl` create parameters? Reports recursion (a block using itself) on the way. */
  hasParameters(decl: Decl, stack: Decl[] = []): boolean {
    const known = this.params.get(decl);
    if (known !== undefined) return known;
    stack.push(decl);
    let result = false;
    for (const expr of expressionsIn(decl.body)) {
      if (expr.kind === "Call") result ||= (findLayer(expr.callee.name)?.params.length ?? 0) > 0;
      else if (expr.kind === "Attention") result ||= (findAttentionKind(expr.attentionKind.name)?.params.length ?? 0) > 0;
      else if (expr.kind === "BlockUse") result = this.useHasParameters(decl, expr, stack) || result;
    }
    stack.pop();
    this.params.set(decl, result);
    return result;
  }

  private useHasParameters(from: Decl, use: BlockUse, stack: Decl[]): boolean {
    const target = this.lookup(from.span.file, use.block.name);
    if (target === undefined) return false;
    const at = stack.indexOf(target);
    if (at < 0) return this.hasParameters(target, stack);
    const cycle = [...stack.slice(at), target].map((d) => d.name.name);
    const key = [...new Set(cycle)].sort().join(",");
    if (!this.reportedCycles.has(key)) {
      this.reportedCycles.add(key);
      this.report(
        createDiagnostic(Diagnostics.RecursiveBlock, { name: target.name.name, cycle: cycle.join(" → ") }, use.block.span, {
          hint: `blocks are expanded at every use, so they cannot be recursive (\`${target.name.name}\` is declared at ${formatPosition(target.name.span)})`,
        }),
      );
    }
    return false;
  }
}
