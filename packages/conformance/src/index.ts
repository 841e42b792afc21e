/**
 * @attn/conformance: backend-agnostic test cases (op-level and model-level, PyTorch reference values)
 * and the runner every backend's tests call. The vitest wrapper lives at `@attn/conformance/vitest`.
 * @packageDocumentation
 */
export type { ConformanceCase, OpCase, ModelCase, CaseTolerance, OpGrad } from "./cases.js";
export { decodeTensor, type TensorJson } from "./tensor-json.js";
export { compareTensors, DEFAULT_TOLERANCE, type Tolerance } from "./compare.js";
export { loadCases, readCaseFile, FIXTURES_DIR } from "./load.js";
export { parseCases, sortCases } from "./parse.js";
export { runOptimizerCase, runClipCase, loadOptimizerCases, type OptimizerCase, type ClipCase } from "./optimizers.js";
export { runTrainingCase, loadTrainingCases, CURVE_ATOL, type TrainingCase } from "./training.js";
export { runCase, opCaseGraph, modelCaseGraph, opCaseGradientGraph, modelCaseGradientGraph, type CaseResult, type FileReader, type RunCaseOptions } from "./run-case.js";
