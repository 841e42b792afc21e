// Gradients of the loss ops (ops/training-ops.ts).
export {};
