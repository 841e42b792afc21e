/**
 * @attn/cli: the `attn` command. `main(argv)` is exported for embedding and tests.
 * @packageDocumentation
 */
export { main, USAGE, type Io } from "./main.js";
export { summarize } from "./commands/check.js";
export { formatTensor } from "./format.js";
export { heatmap } from "./heatmap.js";
export { writeFileAtomic } from "./io.js";
