import { readFileSync, writeFileSync } from "node:fs";
import { generateCstDts } from "chevrotain";
import { expect, it } from "vitest";
import { parser } from "../src/parser/parser.js";

const FILE = new URL("../src/parser/cst.generated.ts", import.meta.url);

it("src/parser/cst.generated.ts matches the grammar (regenerate: UPDATE_CST=1 pnpm vitest run --project dsl cst-types)", () => {
  const file = readFileSync(FILE, "utf8");
  const header = file.slice(0, file.indexOf("import type"));
  const generated = generateCstDts(parser.getGAstProductions());
  if (process.env.UPDATE_CST === "1") writeFileSync(FILE, header + generated);
  expect(file.slice(header.length)).toBe(generated);
});
