/**
 * `@attn/conformance/browser`: the harness without the file system, for pages that fetch the fixture
 * JSON themselves (the WebGPU backend's Chromium test). Everything here is also exported from the main
 * entry; this entry only leaves out `loadCases` / `readCaseFile` and the optimizer and training loaders,
 * which read the fixtures folder through `node:fs`.
 * @packageDocumentation
 */
export type { ConformanceCase, OpCase, ModelCase, CaseTolerance, OpGrad } from "./cases.js";
export { decodeTensor, type TensorJson } from "./tensor-json.js";
export { compareTensors, DEFAULT_TOLERANCE, type Tolerance } from "./compare.js";
export { parseCases, sortCases } from "./parse.js";
export { runCase, opCaseGraph, modelCaseGraph, opCaseGradientGraph, modelCaseGradientGraph, type CaseResult, type FileReader, type RunCaseOptions } from "./run-case.js";
