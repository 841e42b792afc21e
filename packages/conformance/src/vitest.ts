import { afterAll, describe, expect, it } from "vitest";
import type { Backend } from "@attn/core";
import { loadCases, readCaseFile } from "./load.js";
import { runCase } from "./run-case.js";
import { CURVE_ATOL, loadTrainingCases, runTrainingCase } from "./training.js";
import { loadOptimizerCases, runClipCase, runOptimizerCase } from "./optimizers.js";

/** Options a backend's test file passes to the shared suite. */
export interface ConformanceOptions {
  /** Case name (or name prefix ending in `/`) → why this backend skips it. Printed with the run. */
  readonly skip?: Readonly<Record<string, string>>;
  /**
   * Case name (or name prefix ending in `/`) → why this backend does not check that case's gradients
   * (its outputs are still checked). Same rules as `skip`: printed, and an entry matching no case fails.
   */
  readonly skipGradients?: Readonly<Record<string, string>>;
  /**
   * Per-case time limit in ms (vitest's default otherwise). Software GPU drivers compile each new
   * pipeline in 0.1–5 s, so a backend like webgpu-on-SwiftShader needs more than vitest's 5 s on a
   * loaded machine; a limit, never a speed assertion.
   */
  readonly timeoutMs?: number;
}

/**
 * What a test file registers when the runtime it tests (Chromium, a WebGPU adapter, …) is missing here, the
 * project's rule for backend tests: under `CI` a failing test named `ciTest` (CI installs the runtime, so a
 * missing one is a broken setup), elsewhere a skipped test whose reason `why` is also printed.
 */
export function describeMissingRuntime(label: string, why: string, ciTest: string): void {
  if (process.env.CI) {
    describe(label, () => it(ciTest, () => {
      throw new Error(why);
    }));
  } else {
    console.log(`[${label}] skipped: ${why}`);
    describe(label, () => it.skip(why, () => {}));
  }
}

/** The reason `list` gives for `name`: an exact entry, else the first prefix entry (ending in `/`) that matches. */
function reasonIn(list: Readonly<Record<string, string>>, name: string): string | undefined {
  return list[name] ?? Object.entries(list).find(([k]) => k.endsWith("/") && name.startsWith(k))?.[1];
}

/**
 * Registers the whole conformance suite for one backend (tfjs's `describeWithFlags` idea): every case is a
 * test; skips come only from this backend's list, each with its reason, and are printed. A skip entry that
 * matches no case fails, so lists cannot rot.
 */
export async function describeConformance(label: string, makeBackend: () => Backend | Promise<Backend>, opts: ConformanceOptions = {}): Promise<void> {
  const cases = await loadCases();
  const training = await loadTrainingCases();
  const { optimizers, clips } = await loadOptimizerCases();
  const skip = opts.skip ?? {};
  const skipGrads = opts.skipGradients ?? {};
  const matchesNoCase = (list: Readonly<Record<string, string>>) =>
    Object.keys(list).filter((k) => ![...cases, ...training, ...optimizers, ...clips].some((c) => c.name === k || (k.endsWith("/") && c.name.startsWith(k))));
  describe(`conformance: ${label}`, () => {
    let backend: Backend | undefined;
    const get = async () => (backend ??= await makeBackend());
    const skipped: string[] = [];
    it("has skip lists that name only existing cases", () => {
      expect(matchesNoCase(skip), "skip entries that match no case").toEqual([]);
      expect(matchesNoCase(skipGrads), "skipGradients entries that match no case").toEqual([]);
    });
    for (const c of cases) {
      const reason = reasonIn(skip, c.name);
      if (reason) {
        skipped.push(`${c.name}: ${reason}`);
        it.skip(`${c.name} (skipped on ${label}: ${reason})`, () => {});
        continue;
      }
      const gradReason = c.grad ? reasonIn(skipGrads, c.name) : undefined;
      if (gradReason) skipped.push(`${c.name} (gradients only): ${gradReason}`);
      it(gradReason ? `${c.name} (gradients skipped on ${label}: ${gradReason})` : c.name, async () => {
        const res = await runCase(await get(), c, (f) => readCaseFile(f), { gradients: !gradReason });
        expect(res.failures, res.failures.join("\n")).toEqual([]);
      }, opts.timeoutMs);
    }
    for (const c of [...optimizers, ...clips]) {
      const reason = reasonIn(skip, c.name);
      if (reason) {
        skipped.push(`${c.name}: ${reason}`);
        it.skip(`${c.name} (skipped on ${label}: ${reason})`, () => {});
        continue;
      }
      it(c.kind === "optimizer" ? `${c.name}: ${c.steps.length} updates match torch.optim` : `${c.name}: matches clip_grad_norm_`, async () => {
        const failures = c.kind === "optimizer" ? await runOptimizerCase(await get(), c) : await runClipCase(await get(), c);
        expect(failures, failures.join("\n")).toEqual([]);
      }, opts.timeoutMs);
    }
    for (const t of training) {
      const reason = reasonIn(skip, t.name);
      if (reason) {
        skipped.push(`${t.name}: ${reason}`);
        it.skip(`${t.name} (skipped on ${label}: ${reason})`, () => {});
        continue;
      }
      it(`${t.name}: ${t.steps} optimizer steps follow PyTorch's loss curve within ${CURVE_ATOL}`, async () => {
        const res = await runTrainingCase(await get(), t);
        expect(res.failures, res.failures.join("\n")).toEqual([]);
      }, opts.timeoutMs);
    }
    afterAll(() => {
      if (skipped.length) console.log(`[conformance:${label}] skipped ${skipped.length} case(s):\n  ${skipped.join("\n  ")}`);
    });
  });
}
