import type { Worker as NodeWorker } from "node:worker_threads";

/**
 * Where the `"wasm-simd-threads"` workers come from: Node's `worker_threads` (reached through
 * `process.getBuiltinModule`, so nothing Node-only is imported and bundlers see no built-in) or, in a
 * browser, Web Workers started from a Blob URL (no worker file to locate, no bundler configuration).
 * Both start the same program text and hand it the same init object; only the few lines that receive the
 * init differ.
 */

interface NodeThreads {
  Worker: new (src: string, opts: object) => NodeWorker;
}
interface NodeOs {
  availableParallelism?(): number;
  cpus(): unknown[];
}
/** The Web Worker API as far as this file uses it (the package compiles without the DOM library). */
interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  addEventListener(type: "error", listener: (e: { preventDefault(): void }) => void): void;
}
interface WebGlobals {
  process?: { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } };
  Worker?: new (url: string, opts?: { name?: string }) => WebWorker;
  Blob?: new (parts: string[], opts: { type: string }) => object;
  URL?: { createObjectURL?(blob: object): string; revokeObjectURL?(url: string): void };
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
}
const host = globalThis as unknown as WebGlobals;

/** A Node built-in module, or null outside Node (or on a Node without `process.getBuiltinModule`). */
export function builtin<T>(id: string): T | null {
  try {
    return (host.process?.getBuiltinModule?.(id) as T | undefined) ?? null;
  } catch {
    return null;
  }
}

/** A started worker, whichever runtime it runs on. */
export interface HostedWorker {
  /** A stable id for tests (Node: the worker's `threadId`; browsers: a counter). */
  readonly id: number;
  terminate(): Promise<void>;
}

/** Starts workers running `program` (a function's source text, called with the init object). */
export interface WorkerHost {
  /** `"node"`: worker_threads; `"web"`: Web Workers. */
  readonly kind: "node" | "web";
  /** Starts one worker; `init` must be structured-cloneable (WebAssembly modules, shared memory). */
  start(init: object, name: string): HostedWorker;
  /** Frees what the host holds for its workers (the Blob URL); the workers are terminated separately. */
  close(): void;
}

/**
 * Why workers cannot start on this thread, or null when they can. Node: `worker_threads` is missing
 * (Node < 20.16 lacks `process.getBuiltinModule`). Browsers: no `Worker` constructor, no Blob URLs, or a
 * page that is not cross-origin isolated (no SharedArrayBuffer to share with the workers).
 */
export function workersUnavailable(): string | null {
  if (builtin<NodeThreads>("node:worker_threads")) return null;
  const node = host.process?.versions?.node;
  if (node !== undefined && typeof host.Worker !== "function") return `Node ${node} has no process.getBuiltinModule (Node ≥ 20.16 is needed for worker_threads)`;
  if (typeof host.Worker !== "function") return "this thread has no Worker constructor (Web Workers)";
  if (typeof host.Blob !== "function" || typeof host.URL?.createObjectURL !== "function") return "this thread cannot make Blob URLs to start workers from";
  if (host.crossOriginIsolated !== true) {
    return "the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp), so there is no SharedArrayBuffer";
  }
  return null;
}

/** The runtime's parallelism: Node's `os.availableParallelism()`, a browser's `navigator.hardwareConcurrency`; 1 where unknown. */
export function hostParallelism(): number {
  const os = builtin<NodeOs>("node:os");
  if (os) return os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  return host.navigator?.hardwareConcurrency ?? 1;
}

/**
 * Which host would start workers here: `"node"` (they start on their own), `"web"` (a worker starts only
 * once the thread that created it returns to its event loop), or null (none: `workersUnavailable()`).
 */
export function workerHostKind(): "node" | "web" | null {
  if (builtin<NodeThreads>("node:worker_threads")) return "node";
  return workersUnavailable() === null ? "web" : null;
}

/** The host for `program` here, or null where `workersUnavailable()` says why not. */
export function workerHost(program: string): WorkerHost | null {
  const wt = builtin<NodeThreads>("node:worker_threads");
  if (wt) return nodeHost(wt, program);
  return workersUnavailable() === null ? webHost(program) : null;
}

function nodeHost(wt: NodeThreads, program: string): WorkerHost {
  // An eval worker (CommonJS): the init arrives as workerData, already there when the program starts.
  const source = `"use strict";\n(${program})(require("node:worker_threads").workerData);\n`;
  return {
    kind: "node",
    start(init, name) {
      const worker = new wt.Worker(source, { eval: true, workerData: init, name });
      worker.unref(); // workers never keep a process alive
      // A worker that fails outside a chunk (it cannot start, say) only leaves more chunks to the others.
      worker.on("error", () => {});
      return { id: worker.threadId, terminate: () => worker.terminate().then(() => undefined) };
    },
    close() {},
  };
}

let webIds = 0;
function webHost(program: string): WorkerHost {
  // A classic worker from a Blob URL: the init arrives as its first message (WebAssembly.Module and shared
  // memory are structured-cloneable), after which the program never returns to the worker's event loop.
  const source = `"use strict";\nself.onmessage = (e) => {\n  self.onmessage = null;\n  (${program})(e.data);\n};\n`;
  const url = host.URL!.createObjectURL!(new host.Blob!([source], { type: "text/javascript" }));
  return {
    kind: "web",
    start(init, name) {
      const worker = new host.Worker!(url, { name });
      // As in Node: a worker that fails outside a chunk is not an error of the page.
      worker.addEventListener("error", (e) => e.preventDefault());
      worker.postMessage(init);
      return {
        id: ++webIds,
        terminate: () => {
          worker.terminate();
          return Promise.resolve();
        },
      };
    },
    close() {
      host.URL!.revokeObjectURL?.(url);
    },
  };
}
