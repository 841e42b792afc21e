/** Small traversal helpers over the AST, shared by the checks and (later) the lowering. */
import type { Expr, Stmt } from "./ast.js";

/** The direct sub-expressions of an expression, in source order. */
export function childExpressions(expr: Expr): readonly Expr[] {
  switch (expr.kind) {
    case "List":
      return expr.items;
    case "Unary":
      return [expr.operand];
    case "Binary":
      return [expr.left, expr.right];
    case "Call":
    case "Attention":
      return [...expr.args, ...expr.named.map((a) => a.value)];
    case "BlockUse":
      return [...expr.args, ...expr.named.map((a) => a.value), ...expr.inputs];
    default:
      return [];
  }
}

/** Visits `stmts` and every nested scope block body, depth first, in source order (not scan bodies). */
export function* statementsInScope(stmts: readonly Stmt[]): Generator<Stmt> {
  for (const stmt of stmts) {
    yield stmt;
    if (stmt.kind === "Scope") yield* statementsInScope(stmt.body);
  }
}

/** True if the expression (or anything in it) is `Invalid`, i.e. came out of error recovery. */
export function containsInvalid(expr: Expr): boolean {
  return expr.kind === "Invalid" || childExpressions(expr).some(containsInvalid);
}

/** Every expression node in `stmts`, nested ones included, scan headers and bodies included. */
export function* expressionsIn(stmts: readonly Stmt[]): Generator<Expr> {
  for (const stmt of stmts) {
    switch (stmt.kind) {
      case "Scope":
        yield* expressionsIn(stmt.body);
        break;
      case "Yield":
        for (const v of stmt.values) yield* subtree(v);
        break;
      case "Assign": {
        const value = stmt.value;
        if (value.kind === "Repeat") {
          yield* subtree(value.count);
          yield* subtree(value.use);
        } else if (value.kind === "Scan") {
          for (const s of value.sequences) yield* subtree(s.source);
          for (const c of value.carries) yield* subtree(c.init);
          yield* expressionsIn(value.body);
        } else {
          yield* subtree(value);
        }
        break;
      }
    }
  }
}

function* subtree(expr: Expr): Generator<Expr> {
  yield expr;
  for (const child of childExpressions(expr)) yield* subtree(child);
}
