import { describe, expect, it } from "vitest";
import { BackendError, GraphBuilder, Tensor, type Graph } from "@attn/core";
import { createCpuBackend } from "@attn/backend-cpu";
import { NO_ADAPTER_MESSAGE, createWebGpuBackend, type WebGpuBackend } from "../src/index.js";
import { LONG_ROW } from "../src/kernels/softmax.js";
import { requireWebGpu, values } from "./helpers.js";

const f32 = (shape: number[], seed: number) => new Tensor("float32", shape, values(shape.reduce((p, d) => p * d, 1), seed, -4, 4));

function oneOp(op: string, shape: number[], attrs: Record<string, unknown>): Graph {
  const b = new GraphBuilder(op);
  const x = b.input("x", { dtype: "float32", shape });
  const [y] = b.add(op, [x], attrs as never);
  b.output("y", y);
  return b.build();
}

function mlp(): { graph: Graph; params: Map<string, Tensor> } {
  const b = new GraphBuilder("mlp");
  const x = b.input("x", { dtype: "float32", shape: [3, 4] });
  const w = b.param("fc.weight", { dtype: "float32", shape: [5, 4] }, { kind: "uniform", bound: 0.5 });
  const [h] = b.add("linear", [x, w, null]);
  const [y] = b.add("softmax", [h], { axis: -1 });
  b.output("y", y);
  return { graph: b.build(), params: new Map([["fc.weight", f32([5, 4], 3)]]) };
}

describe("no adapter", () => {
  it("compile rejects with the one-sentence NO_ADAPTER_MESSAGE when requestAdapter resolves null", async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    const err = await createWebGpuBackend({ gpu }).compile(mlp().graph, { params: mlp().params }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).detail).toBe(NO_ADAPTER_MESSAGE);
    // one sentence: a single full stop, at the end
    expect(NO_ADAPTER_MESSAGE.match(/\.(\s|$)/g)).toHaveLength(1);
  });
  it("and when requestAdapter rejects", async () => {
    const gpu = { requestAdapter: async () => Promise.reject(new Error("boom")) } as unknown as GPU;
    await expect(createWebGpuBackend({ gpu }).gpu()).rejects.toThrow(NO_ADAPTER_MESSAGE);
  });
});

if (await requireWebGpu("webgpu runtime")) {
  const cpu = createCpuBackend();

  describe("features", () => {
    it("records the optional features the adapter has (SwiftShader: subgroups, no shader-f16)", async () => {
      const ctx = await createWebGpuBackend().gpu();
      console.log(`[webgpu runtime] adapter: ${ctx.adapterInfo}; optional features enabled: ${[...ctx.features].join(", ") || "none"}`);
      for (const f of ctx.features) expect(ctx.device.features.has(f), f).toBe(true);
      if (/swiftshader/i.test(ctx.adapterInfo)) {
        expect(ctx.features.has("subgroups")).toBe(true);
        expect(ctx.features.has("shader-f16")).toBe(false);
      }
      ctx.device.destroy();
    });
    it("enables none with features: [] and names an unknown feature", async () => {
      const ctx = await createWebGpuBackend({ features: [] }).gpu();
      expect([...ctx.features]).toEqual([]);
      expect(ctx.device.features.has("subgroups")).toBe(false);
      ctx.device.destroy();
      await expect(createWebGpuBackend({ features: ["float64" as never] }).gpu()).rejects.toThrow(/unknown optional WebGPU feature "float64"/);
    });
  });

  describe("softmax: both layouts, and both reductions of the long-row layout, match the cpu backend", () => {
    const withSubgroups = createWebGpuBackend();
    const portable = createWebGpuBackend({ features: [] });
    /** Runs `op` on `backend` and on the cpu backend; float32 close, non-finite values exact. */
    async function agree(backend: WebGpuBackend, op: string, x: Tensor, axis: number): Promise<void> {
      const g = oneOp(op, [...x.shape], { axis });
      const want = (await (await cpu.compile(g, { params: new Map() })).run({ x })).y;
      const exe = await backend.compile(g, { params: new Map() });
      const got = (await exe.run({ x })).y;
      exe.dispose();
      for (let i = 0; i < want.size; i++) {
        const w = want.data[i];
        const v = got.data[i];
        if (!Number.isFinite(w)) expect(v, `${op} element ${i}`).toBe(w);
        else expect(Math.abs(v - w), `${op} element ${i}: got ${v}, want ${w}`).toBeLessThanOrEqual(2e-6 + 2e-6 * Math.abs(w));
      }
    }
    /** Six rows of `n`: plain, all −inf, plain, one NaN, one −inf entry, one large logit. */
    const special = (n: number) => () => {
      const t = f32([6, n], 9);
      const d = t.data as Float32Array;
      d.fill(-Infinity, n, 2 * n);
      d[3 * n + 5] = NaN;
      d[4 * n + n - 1] = -Infinity;
      d[5 * n + 3] = 60;
      return t;
    };
    const short: [string, () => Tensor, number][] = [
      ["short rows (n 7)", () => f32([5, 3, 7], 1), -1],
      ["short strided rows (a non-last axis)", () => f32([3, 13, 5], 3), 1],
      ["short rows: masked, NaN, −inf and large entries", special(70), -1],
    ];
    const long: [string, () => Tensor, number][] = [
      [`long rows (n ${LONG_ROW + 44}, not a multiple of the group)`, () => f32([3, LONG_ROW + 44], 2), -1],
      ["long strided rows (a non-last axis)", () => f32([2, LONG_ROW + 4, 3], 3), 1],
      ["long rows: masked, NaN, −inf and large entries", special(LONG_ROW + 1), -1],
    ];
    for (const op of ["softmax", "log_softmax"]) {
      for (const [what, make, axis] of short) it(`${op}, ${what}`, () => agree(portable, op, make(), axis));
      for (const [variant, backend] of [["subgroups", withSubgroups], ["workgroup memory", portable]] as const) {
        for (const [what, make, axis] of long) it(`${op}, ${what}, ${variant} reduction`, () => agree(backend, op, make(), axis));
      }
    }
    it("gives the portable backend no subgroups", async () => {
      expect((await portable.gpu()).device.features.has("subgroups")).toBe(false);
      if (!(await withSubgroups.gpu()).features.has("subgroups")) console.log("[webgpu runtime] this adapter has no subgroups: both variants ran the workgroup-memory reduction");
    });
    it("covers more rows than one dispatch dimension holds (66,000 short rows, 2-D grid)", () => agree(portable, "softmax", f32([66_000, 2], 4), -1), 60_000);
  });

  describe("lifetime", () => {
    it("dispose releases every buffer, and a disposed executable says so", async () => {
      const { graph, params } = mlp();
      const exe = await createWebGpuBackend().compile(graph, { params });
      await exe.run({ x: f32([3, 4], 5) });
      expect(exe.memory().buffersLive).toBeGreaterThan(0);
      exe.dispose();
      expect(exe.memory()).toMatchObject({ buffersLive: 0, bytesLive: 0, bytesInUse: 0, bytesPooled: 0 });
      await expect(exe.run({ x: f32([3, 4], 5) })).rejects.toThrow(/has been disposed/);
      exe.dispose(); // twice is fine
    });

    it("a lost device gives a clear BackendError on the next use; the backend then compiles on a new device", async () => {
      const { graph, params } = mlp();
      const backend = createWebGpuBackend();
      const exe = await backend.compile(graph, { params });
      const before = await exe.run({ x: f32([3, 4], 6) });
      const ctx = await backend.gpu();
      const inFlight = exe.run({ x: f32([3, 4], 6) }).catch((e: unknown) => e);
      ctx.device.destroy();
      // a run the loss interrupts may have finished first; if not, it reports the loss
      const r = await inFlight;
      if (r instanceof Error) expect(String(r)).toMatch(/the WebGPU device was lost \(destroyed\)/);
      const info = await ctx.device.lost;
      expect(info.reason).toBe("destroyed");
      for (const use of [() => exe.run({ x: f32([3, 4], 6) }), () => exe.readParams(), () => exe.writeParams(params)]) {
        const err = await use().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BackendError);
        expect(String(err)).toMatch(/the WebGPU device was lost \(destroyed\).*compile the graph again/);
      }
      const again = await backend.compile(graph, { params });
      expect(await backend.gpu()).not.toBe(ctx);
      expect(Array.from((await again.run({ x: f32([3, 4], 6) })).y.data)).toEqual(Array.from(before.y.data));
      again.dispose();
      exe.dispose();
    });
  });
}
