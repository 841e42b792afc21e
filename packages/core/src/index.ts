/**
 * @attn/core: the IR (typed graphs with symbolic shapes), the op catalogue, passes, tensors, weights
 * I/O, the seeded generator, the Backend interface and the inference Session. No backend, no heavy deps.
 * @packageDocumentation
 */
import "./ops/index.js";

export type { SourceSpan } from "./span.js";
export { formatSpan } from "./span.js";
export { AttnError, ShapeError, WeightsError, BackendError, GraphError } from "./errors.js";
export type { DType, AnyTypedArray } from "./dtype.js";
export { DTYPES, isDType, allocArray } from "./dtype.js";
export type { Dim } from "./dim.js";
export { parseDim, dimAdd, dimSub, dimMul, dimDiv, dimEquals, dimProduct, dimSymbols, substituteDim, isSymbolic, formatShape } from "./dim.js";
export { ShapeEnv } from "./shape-env.js";
export type { TensorType } from "./types.js";
export { formatType } from "./types.js";
export { Tensor, sizeOf, stridesOf } from "./tensor.js";

export type { Graph, Node, Value, ValueId, Param, Output, Update, Attrs, AttrValue } from "./ir/graph.js";
export { isGraph, producers, consumers } from "./ir/graph.js";
export { GraphBuilder } from "./ir/builder.js";
export { inferGraph, unifyType } from "./ir/infer.js";
export { validateGraph } from "./ir/validate.js";
export { graphToJson, graphFromJson, IR_JSON_VERSION } from "./ir/json.js";
export { printGraph } from "./ir/print.js";
export { graphToDot } from "./ir/dot.js";
export { topoSort } from "./ir/topo.js";
export { inlineGraph } from "./ir/inline.js";

export type { OpDef, InputSpec } from "./ops/op.js";
export { InferContext, getOp, hasOp, opNames, inferNode, registerOp, defineOp } from "./ops/op.js";
export { attr, normalizeAttrs } from "./ops/attrs.js";
export type { AttrSpec, AttrSchema, AttrsOf } from "./ops/attrs.js";
export { ALL_OPS } from "./ops/index.js";
export type { ConstantValue } from "./ops/constant.js";
export type { AttentionSelect } from "./ops/attention.js";
export { UNARY_FLOAT_OPS, ARITH_OPS, COMPARE_OPS, LOGICAL_OPS } from "./ops/elementwise.js";
export { REDUCE_OPS } from "./ops/reduce.js";

export { buildGradientGraph, gradName, registerGrad, getGrad, differentiableOps, GradContext, type GradientOptions, type GradFn, type ForwardNode } from "./autodiff/index.js";

export { dce } from "./passes/dce.js";
export { constantFold, type NodeEvaluator } from "./passes/constant-fold.js";
export { fuseAttention } from "./passes/fuse-attention.js";
export { hoistScanInvariants } from "./passes/hoist-scan-invariants.js";
export { optimize, type OptimizeOptions } from "./passes/optimize.js";

export { Rng } from "./init/rng.js";
export { dropoutUniform } from "./init/dropout-hash.js";
export type { Initializer } from "./init/initializer.js";
export { initTensor, describeInit } from "./init/initializer.js";
export { readSafetensors, writeSafetensors, type SafetensorsFile } from "./weights/safetensors.js";
export { bindParams, type BindParamsOptions } from "./weights/bind-params.js";

export type { Backend, Executable, CompileOptions, RunOptions } from "./backend.js";
export { replayGraph, type Replay } from "./ir/replay.js";
export {
  buildTrainingGraph, buildLossGraph, withTrainingDropout, globToRegExp, STEP_STATE, LR_INPUT, DROPOUT_STEP_INPUT,
  type LossSpec, type OptimizerSpec, type ParamGroup, type TrainingGraph, type TrainingGraphOptions,
} from "./train/training-graph.js";
export { Trainer, type TrainerOptions, type TrainerEvent, type FitOptions, type StepResult } from "./train/trainer.js";
export { encodeCheckpoint, decodeCheckpoint, type TrainingProgress, type DecodedCheckpoint } from "./train/checkpoint.js";
export { epochOrder, batchesOf, type Dataset } from "./train/dataset.js";
export { JsonlDataset, stack, type ExampleSchema } from "./train/jsonl-dataset.js";
export * from "./train/index.js";
export { bindFeeds } from "./runtime/feeds.js";
export { requestedOutputs, checkParamTensor, paramForWrite } from "./runtime/run-checks.js";
export { planLiveness, type LiveStep } from "./runtime/liveness.js";
export { Session, type SessionOptions } from "./runtime/session.js";
