/**
 * @attn/backend-cpu: the reference CPU backend of attn.
 *
 * Float32 kernels for every op of the IR catalogue (docs/ir.md), one file per kernel under `kernels/`,
 * a registry keyed by op name, and an executor that runs a compiled graph node by node: it binds the
 * feeds with core's `bindFeeds`, runs only what the requested outputs need, drops each intermediate after
 * its last reader, and runs `scan` by executing the body graph once per step. Every kernel takes its
 * output shapes from core's shape function (`inferNode`), so shape errors read the same on every backend;
 * errors raised while running a node carry the node's `.attn` span.
 *
 * ```ts
 * import { Session } from "@attn/core";
 * import { createCpuBackend } from "@attn/backend-cpu";
 * const session = await Session.create(graph, createCpuBackend(), { weights });
 * const { out } = await session.run({ x });
 * ```
 * @packageDocumentation
 */
export { CpuBackend, createCpuBackend, resolveKernels, resolveThreads, type CpuBackendOptions, type CpuKernels } from "./backend.js";
export { defaultThreads, ThreadedGemm, ThreadPool, threadsSupported, threadsUnavailable, workerHostKind } from "./threads/index.js";
export { jsGemm, WasmGemm, wasmSimdSupported, type Gemm, type GemmArgs, type KernelPath } from "./gemm/index.js";
export { CpuExecutable } from "./executor.js";
export type { Kernel, KernelContext } from "./kernel.js";
export { formatProfile, type CpuProfile, type ProfileEntry } from "./profile.js";
export { getKernel, supports, supportedOps } from "./registry.js";
export { erf } from "./util/erf.js";
