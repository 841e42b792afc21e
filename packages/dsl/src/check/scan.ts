/** The rules of a scan body that are about its statements as a whole: `yield` and carried states. */
import type { ScanExpr, YieldStmt } from "../ast/ast.js";
import { statementsInScope } from "../ast/walk.js";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Diagnostics } from "../diagnostics/messages.js";

/**
 * One `yield`, as the last statement (none is fine: then only the carried states are results), and
 * every carried state reassigned somewhere in the body (else it never changes: a warning). Returns
 * the body's yields.
 */
export function checkScanBody(scan: ScanExpr, report: (d: Diagnostic) => void): YieldStmt[] {
  const statements = [...statementsInScope(scan.body)];
  const yields = statements.filter((s): s is YieldStmt => s.kind === "Yield");
  for (const extra of yields.slice(1)) {
    report(createDiagnostic(Diagnostics.DuplicateYield, {}, extra.span, { related: [{ message: "the first `yield`", span: yields[0].span }] }));
  }
  if (yields.length > 0 && scan.body[scan.body.length - 1] !== yields[0]) {
    report(createDiagnostic(Diagnostics.YieldNotLast, {}, yields[0].span));
  }
  for (const carry of scan.carries) {
    const name = carry.name.name;
    const rebound = statements.some((s) => s.kind === "Assign" && s.targets.some((t) => t.name === name));
    if (!rebound && name !== "_") {
      report(
        createDiagnostic(Diagnostics.CarryNotRebound, { name }, carry.name.span, {
          hint: `assign \`${name} = ...\` in the body, or it keeps its initial value at every step`,
        }),
      );
    }
  }
  return yields;
}
