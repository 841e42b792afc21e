/**
 * @attn/cli: the `attn` command. `main(argv)` is exported for embedding and tests.
 * @packageDocumentation
 */
export { main, USAGE, type Io } from "./main.js";
export { summarize } from "./commands/check.js";
export { formatTensor } from "./format.js";
export { heatmap } from "./heatmap.js";
export { writeFileAtomic } from "./io.js";
export { attentionHeatmapSvg, heatColor, HEAT_DARK, type AttentionHeatmapOptions } from "./viz/attention-heatmap.js";
export { attentionMatrix, type AttentionMatrix } from "./viz/attention-matrix.js";
export { imageAttentionSvg, type ImageAttentionOptions } from "./viz/image-attention.js";
export { trainingCurvesSvg, parseJsonl, curveSeries, downsample, niceTicks, type CurvesOptions, type Series, type Ticks } from "./viz/curves.js";
