import type { Dim } from "../dim.js";
import type { InferContext } from "./op.js";

/** NumPy broadcasting of two (possibly symbolic) shapes. Equal symbolic dims must unify. */
export function broadcastShapes(ctx: InferContext, a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : ctx.env.resolve(a[i - (rank - a.length)]);
    const db = i < rank - b.length ? 1 : ctx.env.resolve(b[i - (rank - b.length)]);
    if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else out.push(ctx.unify(da, db, `broadcast dimension ${i - rank} ([${a.join(", ")}] vs [${b.join(", ")}])`));
  }
  return out;
}
