import type { AttrSchema } from "./attrs.js";
import type { OpDef } from "./op.js";

/** Losses and optimizer updates, as IR ops so a training step runs on any backend. */
export const trainingOps: OpDef<AttrSchema>[] = [];
