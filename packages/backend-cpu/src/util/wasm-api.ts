/**
 * The few members of the WebAssembly JS API the kernels use, typed locally: the package compiles against
 * ES2022 and @types/node, neither of which declares the `WebAssembly` global, and must not depend on the
 * DOM lib. Also the two steps every generated module goes through: decoding its base64 bytes
 * (scripts/build-wasm.mjs writes them into src/wasm/*.ts) and instantiating it with the stub runtime's
 * only import, `env.abort`.
 */

/** A `WebAssembly.Memory`. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** The `WebAssembly` namespace. */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}

const host = globalThis as unknown as { WebAssembly?: WasmApi; atob?: (s: string) => string };

/** The runtime's `WebAssembly`, or undefined where it has none. */
export function webAssembly(): WasmApi | undefined {
  return host.WebAssembly;
}

/** A module's bytes from its generated base64 text (`atob` exists in browsers and Node ≥ 16); `what` names it in errors. */
export function decodeModule(what: string, base64: string): Uint8Array {
  if (!host.atob) throw new Error(`${what}: this runtime has no atob to decode the module`);
  const s = host.atob(base64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/** The exports of a new instance of `module` (the stub runtime imports only `env.abort`). */
export function instantiate(what: string, module: object): unknown {
  const wa = host.WebAssembly;
  if (!wa) throw new Error(`${what}: this runtime has no WebAssembly`);
  return new wa.Instance(module, { env: { abort: () => { throw new Error(`${what}: abort`); } } }).exports;
}

/** `new WebAssembly.Module(bytes)`, with an error naming `what` where the runtime has no WebAssembly. */
export function compileModule(what: string, bytes: Uint8Array): object {
  const wa = host.WebAssembly;
  if (!wa) throw new Error(`${what}: this runtime has no WebAssembly`);
  return new wa.Module(bytes);
}
