/// <reference types="webgpu" />
import { BackendError } from "@attn/core";

/** The one sentence shown when no WebGPU adapter can be had. */
export const NO_ADAPTER_MESSAGE =
  "No WebGPU adapter: in Node install Debian's chromium (SwiftShader) and libvulkan1, or run on a machine with a GPU; in a browser enable WebGPU.";

const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

/** A GPUDevice with what the backend learned about it. */
export interface GpuContext {
  readonly device: GPUDevice;
  /**
   * Optional features found on the adapter and enabled (never required): `subgroups` selects the
   * subgroup variants of the row reductions (softmax) when their pipelines are built; `shader-f16` is
   * only recorded: every kernel computes in f32 (SwiftShader has no f16, and the conformance tolerances
   * are f32's).
   */
  readonly features: ReadonlySet<string>;
  /** The adapter's description (vendor, architecture, whether it is a software fallback). */
  readonly adapterInfo: string;
  /** Set once the device is lost; every later use throws this error. */
  lost: BackendError | null;
}

/** Options for acquiring a device. */
export interface DeviceOptions {
  /** A GPU object to use (default: `navigator.gpu` in browsers, the `webgpu` package in Node). */
  readonly gpu?: GPU;
  /**
   * The optional features to enable when the adapter has them (default: all of
   * {@link OPTIONAL_FEATURES}). `[]` keeps every kernel on its portable path (tests use it to run the
   * workgroup-memory fallbacks on an adapter that has subgroups).
   */
  readonly features?: readonly OptionalFeature[];
}

/** The optional features the backend asks for: it uses them when present and runs without them. */
export const OPTIONAL_FEATURES = ["shader-f16", "subgroups"] as const;

/** One of {@link OPTIONAL_FEATURES}. */
export type OptionalFeature = (typeof OPTIONAL_FEATURES)[number];

let nodeGpu: Promise<GPU | null> | null = null;

/**
 * `navigator.gpu` where it exists, else Dawn through the `webgpu` package (loaded lazily, Node only, one
 * instance per process: Dawn aborts the process when several instances are torn down).
 */
function findGpu(): Promise<GPU | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return Promise.resolve(nav.gpu);
  return (nodeGpu ??= createNodeGpu());
}

async function createNodeGpu(): Promise<GPU | null> {
  const proc = (globalThis as { process?: { versions?: { node?: string }; env: Record<string, string | undefined> } }).process;
  if (!proc?.versions?.node) return null;
  try {
    if (!proc.env.VK_ICD_FILENAMES) {
      const { existsSync } = await import("node:fs");
      // Debian's chromium ships SwiftShader, a software Vulkan driver Dawn accepts (Mesa's lavapipe it rejects).
      if (existsSync(SWIFTSHADER_ICD)) proc.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    }
    if (!proc.env.XDG_RUNTIME_DIR) {
      // Dawn probes for a Wayland display; libwayland prints "error: XDG_RUNTIME_DIR is invalid" to stderr
      // on headless machines without it. Any directory with no display socket makes the probe fail quietly.
      const { tmpdir } = await import("node:os");
      proc.env.XDG_RUNTIME_DIR = tmpdir();
    }
    const { create, globals } = await import("webgpu");
    Object.assign(globalThis, globals);
    return create([]);
  } catch {
    return null;
  }
}

/**
 * Acquires a GPUDevice (requesting `shader-f16` and `subgroups` when the adapter has them) with the
 * adapter's storage limits. Rejects with a BackendError carrying {@link NO_ADAPTER_MESSAGE} when there
 * is no adapter.
 */
export async function acquireDevice(opts: DeviceOptions = {}): Promise<GpuContext> {
  const gpu = opts.gpu ?? (await findGpu());
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  if (!adapter) throw new BackendError(NO_ADAPTER_MESSAGE);
  const wanted = opts.features ?? OPTIONAL_FEATURES;
  for (const f of wanted) {
    if (!(OPTIONAL_FEATURES as readonly string[]).includes(f)) throw new BackendError(`unknown optional WebGPU feature "${f}" (known: ${OPTIONAL_FEATURES.join(", ")})`);
  }
  const features = new Set<string>(wanted.filter((f) => adapter.features.has(f)));
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: [...features] as GPUFeatureName[],
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    },
  });
  const info = adapter.info;
  const ctx: GpuContext = {
    device,
    features,
    adapterInfo: [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") + (info.isFallbackAdapter ? " (fallback adapter)" : ""),
    lost: null,
  };
  // Once lost, a device never comes back: every later use of this context throws this error (the
  // backend acquires a fresh device for later compiles).
  void device.lost.then((e) => {
    ctx.lost = new BackendError(`the WebGPU device was lost (${e.reason}): ${e.message || "no message"}; compile the graph again to continue on a new device`);
  });
  return ctx;
}

/** Whether a WebGPU adapter can be created here (for tests and capability checks). */
export async function webgpuAvailable(): Promise<boolean> {
  try {
    const ctx = await acquireDevice();
    ctx.device.destroy();
    return true;
  } catch {
    return false;
  }
}
