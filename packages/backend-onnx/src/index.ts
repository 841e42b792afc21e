/**
 * @attn/backend-onnx: exports attn IR graphs to standard ONNX (opset 17, or 23 with the standard `Attention`
 * op) and runs them on ONNX Runtime, native (`onnxruntime-node`) or wasm (`onnxruntime-web`).
 * @packageDocumentation
 */

/** IR graph → ONNX ModelProto bytes (symbolic dims as `dim_param`, parameters as initializers). */
export { exportModel, updatedName, type ExportOptions, type ExportResult, type OnnxExportContext } from "./export/exporter.js";
/** The per-op exporter interface and registry; `exportableOps()` lists the IR ops the exporter translates. */
export { exportableOps, registerExporter, getExporter, type ExportContext, type NodeView, type OnnxAttr, type OnnxNodeSpec, type OpExporter } from "./export/op-exporter.js";
/** The Backend running exported graphs on ONNX Runtime. */
export { OnnxBackend, OnnxExecutable, OnnxTrainingExecutable, createOnnxBackend, type OnnxBackendOptions } from "./runtime/backend.js";
/** Loading ONNX Runtime builds. */
export { loadOrt, type Ort, type OnnxRuntimeKind } from "./runtime/ort.js";
/** The compiled ONNX protobuf schema (for decoding exported files). */
export { onnx } from "./export/proto.js";
