import type { AttrSchema } from "./attrs.js";
import type { OpDef } from "./op.js";

/** Ops that gradients are made of: helpers (zeros_like, erf, sign, pad) and fused backward ops (`*_grad`). */
export const gradOps: OpDef<AttrSchema>[] = [];
