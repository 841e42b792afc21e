import type { Kernel } from "../../kernel.js";
import { gruCellKernel, gruKernel } from "./gru.js";
import { gruCellGradKernel, gruGradKernel } from "./gru-grad.js";
import { scanKernel } from "./scan.js";

/** The recurrent family's WGSL kernels, by IR op name. */
export const recurrentKernels: Readonly<Record<string, Kernel>> = {
  gru: gruKernel,
  gru_cell: gruCellKernel,
  gru_grad: gruGradKernel,
  gru_cell_grad: gruCellGradKernel,
  scan: scanKernel,
};
