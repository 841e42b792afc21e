import type { ImplSpec } from "../catalog.js";
import { sampleOf, type Params } from "../protocol.js";
import { num, type Instance } from "./types.js";

/**
 * Trivial implementations for the harness's own tests: `spin` holds `mb` MB and busy-waits `ms` per run,
 * `hang` never finishes a run, `fail` throws during setup.
 */
export async function createSelftestInstance(spec: ImplSpec, _workload: string, params: Params): Promise<Instance> {
  if (spec.id === "selftest-fail") throw new Error("selftest-fail: setup failed on purpose");
  const ms = num(params, "ms");
  const held = Buffer.alloc(Math.round(num(params, "mb") * 1024 * 1024), 1);
  const busy = (t: number) => {
    const end = performance.now() + t;
    while (performance.now() < end) held[0] ^= 1;
  };
  return {
    detail: `holds ${held.length} bytes`,
    async run() {
      if (spec.id === "selftest-hang") for (;;) busy(1000);
      busy(ms);
    },
    sample: () => sampleOf([1, 2, 3, held.length]),
  };
}
