import { Rng } from "@attn/core";
import { main } from "../src/index.js";

/** Runs the CLI in-process, capturing stdout and stderr (no TTY). */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s), rawErr: (s) => err.push(s), isTTY: false });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/**
 * A learnable regression task for the tutorial model, as JSONL: x [S, 8] with S in 4..6 and
 * y = tanh(mean of feature 0 − half of feature 1 at the last step).
 */
export function tutorialData(n: number, seed: number): string {
  const rng = new Rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const S = 4 + (i % 3);
    const x = Array.from({ length: S }, () => Array.from({ length: 8 }, () => rng.normal()));
    lines.push(JSON.stringify({ x, target: [Math.tanh(x.reduce((a, r) => a + r[0], 0) / S - 0.5 * x[S - 1][1])] }));
  }
  return lines.join("\n") + "\n";
}
