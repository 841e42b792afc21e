import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { reverseDigitExamples, reverseDigitsJsonl } from "@attn/models";
import { CliError, writeFileAtomic } from "../io.js";

export interface DataFlags {
  out?: string;
  train: number;
  valid: number;
  test: number;
  seed: number;
}

/**
 * `attn data reverse-digits --out DIR`: writes train/valid/test JSONL for the digit-reversal task
 * (strings of 5–12 digits; valid and test strings never occur in train).
 */
export async function data(task: string, f: DataFlags, err: (s: string) => void): Promise<number> {
  if (task !== "reverse-digits") throw new CliError(`unknown task "${task}" (available: reverse-digits)`);
  if (!f.out) throw new CliError("attn data needs --out DIR");
  await mkdir(f.out, { recursive: true });
  const train = reverseDigitExamples(f.train, f.seed);
  const seen = new Set(train.map((e) => e.digits.join("")));
  const valid = reverseDigitExamples(f.valid, f.seed + 1, { exclude: seen });
  for (const e of valid) seen.add(e.digits.join(""));
  const test = reverseDigitExamples(f.test, f.seed + 2, { exclude: seen });
  for (const [name, ex] of [["train", train], ["valid", valid], ["test", test]] as const) {
    await writeFileAtomic(join(f.out, `${name}.jsonl`), reverseDigitsJsonl(ex));
  }
  err(`wrote ${train.length} train, ${valid.length} valid, ${test.length} test examples to ${f.out}`);
  return 0;
}
