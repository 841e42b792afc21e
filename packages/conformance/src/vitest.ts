import { afterAll, describe, expect, it } from "vitest";
import type { Backend } from "@attn/core";
import { loadCases, readCaseFile } from "./load.js";
import { runCase } from "./run-case.js";

/** Options a backend's test file passes to the shared suite. */
export interface ConformanceOptions {
  /** Case name (or name prefix ending in `/`) → why this backend skips it. Printed with the run. */
  readonly skip?: Readonly<Record<string, string>>;
}

/**
 * Registers the whole conformance suite for one backend (tfjs's `describeWithFlags` idea): every case is a
 * test; skips come only from this backend's list, each with its reason, and are printed. A skip entry that
 * matches no case fails, so lists cannot rot.
 */
export async function describeConformance(label: string, makeBackend: () => Backend | Promise<Backend>, opts: ConformanceOptions = {}): Promise<void> {
  const cases = await loadCases();
  const skip = opts.skip ?? {};
  const reasonFor = (name: string) => skip[name] ?? Object.entries(skip).find(([k]) => k.endsWith("/") && name.startsWith(k))?.[1];
  describe(`conformance: ${label}`, () => {
    let backend: Backend | undefined;
    const get = async () => (backend ??= await makeBackend());
    const skipped: string[] = [];
    it("has a skip list that names only existing cases", () => {
      const unknown = Object.keys(skip).filter((k) => !cases.some((c) => c.name === k || (k.endsWith("/") && c.name.startsWith(k))));
      expect(unknown, "skip entries that match no case").toEqual([]);
    });
    for (const c of cases) {
      const reason = reasonFor(c.name);
      if (reason) {
        skipped.push(`${c.name}: ${reason}`);
        it.skip(`${c.name} (skipped on ${label}: ${reason})`, () => {});
        continue;
      }
      it(c.name, async () => {
        const res = await runCase(await get(), c, (f) => readCaseFile(f));
        expect(res.failures, res.failures.join("\n")).toEqual([]);
      });
    }
    afterAll(() => {
      if (skipped.length) console.log(`[conformance:${label}] skipped ${skipped.length} case(s):\n  ${skipped.join("\n  ")}`);
    });
  });
}
