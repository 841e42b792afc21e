// Training utilities of @attn/core that are not the Trainer itself: gradient clipping as IR, learning-rate
// schedules and classification metrics (host-side). The loss and optimizer ops live in ops/training-ops.ts.
export { clipGradNorm, type ClipGradNormOptions, type ClippedGradients } from "./clip.js";
export { lrMultiplier, learningRate, makeSchedule, validateSchedule, type LrSchedule } from "./schedules.js";
export { accuracy, tokenAccuracy, binaryAccuracy, mergeAccuracy, type AccuracyResult, type AccuracyOptions } from "./metrics.js";
