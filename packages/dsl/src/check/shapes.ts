/**
 * Declared tensor types of a model or block: which names in them are symbolic dimensions, and that
 * every dimension is an integer (a literal, an integer hyperparameter, or a symbol).
 */
import type { Decl, Expr, Invalid, TensorType } from "../ast/ast.js";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Diagnostics } from "../diagnostics/messages.js";
import { describeKind, type Env } from "./env.js";

/** Names in the input and output types that are neither hyperparameters nor inputs: `B`, `S`, ... */
export function collectSymbols(decl: Decl, env: Env): Set<string> {
  const inputs = new Set(decl.inputs.map((i) => i.name.name));
  const symbols = new Set<string>();
  const visit = (e: Expr): void => {
    if (e.kind === "Name" && env.lookup(e.name) === undefined && !inputs.has(e.name)) symbols.add(e.name);
    if (e.kind === "Binary") [e.left, e.right].forEach(visit);
    if (e.kind === "Unary") visit(e.operand);
  };
  for (const d of [...decl.inputs, ...decl.outputs]) {
    if (d.type?.kind === "TensorType") d.type.dims.forEach(visit);
  }
  return symbols;
}

/** Dimensions must be integers: literals, integer hyperparameters, or symbolic names. */
export function checkShape(type: TensorType | Invalid, env: Env, report: (d: Diagnostic) => void): void {
  if (type.kind === "Invalid") return;
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case "Number":
        if (!e.isInteger) report(createDiagnostic(Diagnostics.DimensionType, { name: String(e.value), found: "a float" }, e.span));
        return;
      case "Name": {
        const binding = env.lookup(e.name);
        if (binding !== undefined && binding.valueKind !== "int" && binding.valueKind !== "unknown") {
          report(createDiagnostic(Diagnostics.DimensionType, { name: e.name, found: describeKind(binding.valueKind) }, e.span));
        }
        return;
      }
      case "Binary":
        visit(e.left);
        visit(e.right);
        return;
      case "Unary":
        visit(e.operand);
    }
  };
  type.dims.forEach(visit);
}
