/**
 * `@attn/backend-webgpu`: WGSL compute kernels for attn graphs, in browsers (`navigator.gpu`) and in Node
 * (the `webgpu` package, Dawn). First slice (#5): elementwise unary and binary ops with broadcasting,
 * tiled matmul and linear, softmax / log_softmax, transpose, views, constant and identity; inference only.
 *
 * @packageDocumentation
 */
export { WebGpuBackend, WebGpuExecutable, createWebGpuBackend } from "./backend.js";
export { NO_ADAPTER_MESSAGE, OPTIONAL_FEATURES, acquireDevice, webgpuAvailable, type DeviceOptions, type GpuContext, type OptionalFeature } from "./device.js";
export { BufferPool, GpuTensor, sizeClass, type BufferKind, type PoolStats } from "./buffers.js";
export { getKernel, supportedOps } from "./registry.js";
