import { attentionOps } from "./attention.js";
import { binaryOps, unaryOps } from "./elementwise.js";
import { constantOp } from "./constant.js";
import { imageOps } from "./image.js";
import { layoutOps } from "./layout.js";
import { linearOp, matmulOp } from "./matmul.js";
import { recurrentOps } from "./recurrent.js";
import { reduceOps } from "./reduce.js";
import { softmaxOps } from "./softmax.js";
import { gradOps } from "./grad-ops.js";
import { trainingOps } from "./training-ops.js";
import { registerOp, hasOp, type OpDef } from "./op.js";
import type { AttrSchema } from "./attrs.js";

/** Every op of the IR catalogue (docs/ir.md). */
export const ALL_OPS: readonly OpDef<AttrSchema>[] = [
  ...unaryOps,
  ...binaryOps,
  constantOp as OpDef<AttrSchema>,
  matmulOp as OpDef<AttrSchema>,
  linearOp as OpDef<AttrSchema>,
  ...layoutOps,
  ...reduceOps,
  ...softmaxOps,
  ...attentionOps,
  ...recurrentOps,
  ...imageOps,
  ...gradOps,
  ...trainingOps,
];

for (const op of ALL_OPS) if (!hasOp(op.name)) registerOp(op);
