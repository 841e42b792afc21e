/**
 * Every implementation the harness can run, by id. Rows are labelled `<engine> <path> <threads>t`, so a
 * backend-cpu kernel path (`js`, `wasm-simd`, `wasm-simd-threads`) is one more entry here.
 */
export type ImplKind = "attn" | "ort" | "tfjs" | "selftest";

export interface ImplSpec {
  readonly id: string;
  readonly label: string;
  readonly kind: ImplKind;
  /** Ours (attn's backends) or a peer. */
  readonly ours: boolean;
  readonly threads: number;
  /** attn: which backend runs the graph. */
  readonly backend?: "cpu" | "onnx-node" | "onnx-web";
  /** attn cpu: the kernel path (`createCpuBackend({ kernels })`). */
  readonly kernelPath?: string;
  /** ort: which build, and the opset of the exported model (17 decomposed attention, 23 `Attention`). */
  readonly runtime?: "node" | "web";
  readonly opset?: 17 | 23;
  /** tfjs: the kernel backend. */
  readonly tfjsBackend?: "wasm" | "cpu";
  /** The npm packages whose versions the report records for this row. */
  readonly packages: readonly string[];
  /**
   * Parameters that override the case's: a reference row of another variant of the workload, measured in
   * the same case so that its turns alternate with the case's own rows (same machine load). Its output is
   * not checked against the case's reference (it computes something else).
   */
  readonly params?: Readonly<Record<string, number | boolean>>;
}

const ORT_NODE = ["onnxruntime-node"];
const ORT_WEB = ["onnxruntime-web"];
const TFJS = ["@tensorflow/tfjs-core"];

function build(): ImplSpec[] {
  const specs: ImplSpec[] = [
    // backend-cpu kernel paths (`createCpuBackend({ kernels, threads })`).
    { id: "attn-cpu-js", label: "attn cpu js 1t", kind: "attn", ours: true, threads: 1, backend: "cpu", kernelPath: "js", packages: [] },
    { id: "attn-cpu-wasm-simd", label: "attn cpu wasm-simd 1t", kind: "attn", ours: true, threads: 1, backend: "cpu", kernelPath: "wasm-simd", packages: [] },
    { id: "attn-cpu-wasm-simd-threads-2t", label: "attn cpu wasm-simd-threads 2t", kind: "attn", ours: true, threads: 2, backend: "cpu", kernelPath: "wasm-simd-threads", packages: [] },
  ];
  // The wasm kernel paths on the non-causal problem, as reference rows of the causal cases (targets.ts).
  for (const s of specs.filter((x) => x.kernelPath !== "js")) specs.push({ ...s, id: `${s.id}-noncausal`, label: `${s.label} non-causal`, ours: false, params: { causal: false } });
  for (const t of [1, 2]) {
    specs.push({ id: `attn-onnx-node-${t}t`, label: `attn onnx→ort-node ${t}t`, kind: "attn", ours: true, threads: t, backend: "onnx-node", packages: ORT_NODE });
    specs.push({ id: `attn-onnx-web-${t}t`, label: `attn onnx→ort-web ${t}t`, kind: "attn", ours: true, threads: t, backend: "onnx-web", packages: ORT_WEB });
    for (const opset of [17, 23] as const) {
      specs.push({ id: `ort-node-op${opset}-${t}t`, label: `ort-node op${opset} ${t}t`, kind: "ort", ours: false, threads: t, runtime: "node", opset, packages: ORT_NODE });
      specs.push({ id: `ort-web-op${opset}-${t}t`, label: `ort-web wasm op${opset} ${t}t`, kind: "ort", ours: false, threads: t, runtime: "web", opset, packages: ORT_WEB });
    }
  }
  // tfjs-backend-wasm runs single-threaded in Node (its thread pool needs a blob: worker); tfjs-cpu is plain JS.
  specs.push({ id: "tfjs-wasm-1t", label: "tfjs wasm 1t", kind: "tfjs", ours: false, threads: 1, tfjsBackend: "wasm", packages: [...TFJS, "@tensorflow/tfjs-backend-wasm"] });
  specs.push({ id: "tfjs-cpu-1t", label: "tfjs cpu 1t", kind: "tfjs", ours: false, threads: 1, tfjsBackend: "cpu", packages: [...TFJS, "@tensorflow/tfjs-backend-cpu"] });
  // Trivial implementations for the harness's own tests.
  for (const id of ["spin", "hang", "fail", "linger", "stamp", "noisy"]) specs.push({ id: `selftest-${id}`, label: `selftest ${id}`, kind: "selftest", ours: id === "spin", threads: 1, packages: [] });
  return specs;
}

export const IMPLS: readonly ImplSpec[] = build();

export function implById(id: string): ImplSpec {
  const s = IMPLS.find((x) => x.id === id);
  if (!s) throw new Error(`unknown implementation "${id}" (known: ${IMPLS.map((x) => x.id).join(", ")})`);
  return s;
}
