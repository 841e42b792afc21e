/**
 * Mutation testing of the whole front end: single-character edits of the fixtures (deterministic
 * seed) must never crash it, always give well-formed diagnostics, and not cascade.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { analyze, createMemoryReader } from "../src/index.js";

const dir = fileURLToPath(new URL("./fixtures/", import.meta.url));
const texts = readdirSync(dir)
  .filter((f) => f.endsWith(".attn"))
  .map((f) => readFileSync(dir + f, "utf8"));
const reader = createMemoryReader({ "lib/transformer.attn": readFileSync(dir + "lib/transformer.attn", "utf8") });
const inserts = ["(", ")", "[", "]", "{", "}", ",", ":", "=", "\n", " as ", "_", "-", '"', "#", "scan", "yield"];

it("survives 400 single edits of the fixtures with few, well-formed diagnostics each", async () => {
  let seed = 20261121;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let i = 0; i < 400; i++) {
    const original = texts[random(texts.length)];
    const at = random(original.length);
    const text =
      random(2) === 0 ? original.slice(0, at) + original.slice(at + 1) : original.slice(0, at) + inserts[random(inserts.length)] + original.slice(at);
    const { diagnostics } = await analyze({ path: "f.attn", text }, { reader });
    for (const d of diagnostics) {
      if (d.span.file !== "f.attn") continue;
      expect(d.span.line, text).toBeGreaterThanOrEqual(1);
      expect(d.span.column).toBeGreaterThanOrEqual(1);
      expect(d.span.offset).toBeGreaterThanOrEqual(0);
      expect(d.span.offset).toBeLessThanOrEqual(text.length + 1);
      expect(d.span.endOffset - d.span.offset).toBe(d.span.length);
      expect(d.message).not.toMatch(/\{\w+\}|undefined|NaN/);
    }
    expect(diagnostics.length, text).toBeLessThanOrEqual(6);
  }
});
