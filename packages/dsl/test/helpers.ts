import { analyze, createMemoryReader, type Diagnostic } from "../src/index.js";

/** Analyzes `text` as `main.attn`, with `files` available for import. */
export async function diagnose(text: string, files: Record<string, string> = {}): Promise<Diagnostic[]> {
  const { diagnostics } = await analyze({ path: "main.attn", text }, { reader: createMemoryReader(files) });
  return diagnostics;
}

export function codes(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => d.code);
}

/** `model M(...) { <body> }` with a standard input `x: float32[B, S, 8]`. */
export function model(body: string, params = "hidden = 16"): string {
  return `model M(${params}) {\n  input x: float32[B, S, 8]\n${body
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n")}\n}\n`;
}
