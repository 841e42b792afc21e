import { Tensor, sizeOf } from "../tensor.js";
import type { Rng } from "./rng.js";

/**
 * How a parameter is initialised. Layers choose PyTorch's defaults (e.g. Linear: uniform ±1/√in), so
 * models start where their PyTorch twins do (in distribution; the generators differ).
 */
export type Initializer =
  | { readonly kind: "uniform"; readonly bound: number }
  | { readonly kind: "normal"; readonly std: number }
  | { readonly kind: "xavier_uniform" }
  | { readonly kind: "zeros" }
  | { readonly kind: "ones" };

export function describeInit(init: Initializer): string {
  switch (init.kind) {
    case "uniform":
      return `uniform(±${+init.bound.toPrecision(4)})`;
    case "normal":
      return `normal(0, ${+init.std.toPrecision(4)})`;
    default:
      return `${init.kind}()`;
  }
}

/** Draws a float32 tensor of `shape` (rows-first fan convention of PyTorch for xavier). */
export function initTensor(init: Initializer, shape: readonly number[], rng: Rng): Tensor {
  const t = new Tensor("float32", shape);
  const d = t.data as Float32Array;
  switch (init.kind) {
    case "zeros":
      break;
    case "ones":
      d.fill(1);
      break;
    case "uniform":
      for (let i = 0; i < d.length; i++) d[i] = (2 * rng.uniform() - 1) * init.bound;
      break;
    case "normal":
      for (let i = 0; i < d.length; i++) d[i] = rng.normal() * init.std;
      break;
    case "xavier_uniform": {
      const receptive = shape.length > 2 ? sizeOf(shape.slice(2)) : 1;
      const fanOut = (shape[0] ?? 1) * receptive;
      const fanIn = (shape[1] ?? 1) * receptive;
      const bound = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < d.length; i++) d[i] = (2 * rng.uniform() - 1) * bound;
      break;
    }
  }
  return t;
}
