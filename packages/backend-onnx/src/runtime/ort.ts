import type * as OrtNode from "onnxruntime-node";

/** The ONNX Runtime JS API (onnxruntime-node and onnxruntime-web share it, from onnxruntime-common). */
export type Ort = typeof OrtNode;

/** Which ONNX Runtime build runs the model: native (`onnxruntime-node`) or wasm (`onnxruntime-web`). */
export type OnnxRuntimeKind = "node" | "web";

const loaded = new Map<OnnxRuntimeKind, Promise<Ort>>();

/**
 * Loads an ONNX Runtime build (once per process). Rejects with the import error when the package or its
 * native binary / wasm file is missing.
 */
export function loadOrt(kind: OnnxRuntimeKind): Promise<Ort> {
  let p = loaded.get(kind);
  if (!p) {
    p = (kind === "node" ? import("onnxruntime-node") : (import("onnxruntime-web") as unknown as Promise<Ort>)).then((m) => {
      const mod = m as Ort & { default?: Ort };
      return (mod.InferenceSession ? mod : mod.default!) as Ort;
    });
    p.catch(() => loaded.delete(kind));
    loaded.set(kind, p);
  }
  return p;
}
