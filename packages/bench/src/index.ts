/**
 * @attn/bench: the `pnpm bench` harness (private). The pieces are exported for its tests and for tools
 * that read its results.
 * @packageDocumentation
 */
export { median, summarize, speedRatio, type Summary } from "./stats.js";
export { formatMs, formatRate, formatRatio, formatKb, textTable, markdownTable } from "./format.js";
export { sampleOf, compareSamples, type Sample, type Tolerance, type Check, type Params } from "./protocol.js";
export { IMPLS, implById, type ImplSpec } from "./catalog.js";
export { measureCase, CHILD_SCRIPT, type ImplResult, type RunOptions, type CaseImpl, type Status } from "./runner.js";
export { planCases, WORKLOADS, attentionFlops, decomposedScoresBytes, type CaseDef } from "./workloads.js";
export { evaluateTargets, type TargetResult, type TargetStatus } from "./targets.js";
export { caseTable, consoleReport, markdownReport, machineInfo, writeFileAtomic, type RunReport } from "./report.js";
export type { CaseResult } from "./results.js";
export { parseArgs, checkCase, main } from "./cli.js";
