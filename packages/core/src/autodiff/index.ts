import "./grads/index.js";

export { buildGradientGraph, gradName, type GradientOptions } from "./backward.js";
export { registerGrad, getGrad, differentiableOps, type GradFn, type ForwardNode } from "./grad-registry.js";
export { GradContext } from "./grad-context.js";
