import { describe, expect, it } from "vitest";
import { analyze, createMemoryReader, loadProgram, normalizePath, resolveImport, type SourceReader } from "../src/index.js";

const block = (name: string) => `block ${name}() {\n  input x: float32[B]\n  output y\n  y = relu(x)\n}\n`;
const use = (name: string) => `model M() {\n  input x: float32[B]\n  output y\n  y = ${name}()(x)\n}\n`;

describe("loadProgram", () => {
  it("loads imports relative to the importing file and merges their declarations", async () => {
    const reader = createMemoryReader({
      "app/main.attn": 'import "lib/a.attn"\n' + use("A"),
      "app/lib/a.attn": 'import "../common/b.attn"\n' + block("A"),
      "app/common/b.attn": block("B"),
    });
    const { program, diagnostics, sources } = await loadProgram("app/main.attn", { reader });
    expect(diagnostics).toEqual([]);
    expect(program.entry).toBe("app/main.attn");
    expect(program.files.map((f) => f.path)).toEqual(["app/main.attn", "app/lib/a.attn", "app/common/b.attn"]);
    expect(program.models.map((m) => m.name.name)).toEqual(["M"]);
    expect(program.blocks.map((b) => [b.name.name, b.span.file])).toEqual([
      ["A", "app/lib/a.attn"],
      ["B", "app/common/b.attn"],
    ]);
    expect(program.files[1].imports[0]).toMatchObject({ path: "../common/b.attn", resolvedPath: "app/common/b.attn" });
    expect([...sources.keys()]).toEqual(["app/main.attn", "app/lib/a.attn", "app/common/b.attn"]);
  });

  it("accepts the entry as text, and an async reader", async () => {
    const reader: SourceReader = { readFile: async (path) => (path === "lib.attn" ? block("A") : undefined) };
    const { program, diagnostics } = await loadProgram({ path: "main.attn", text: 'import "lib.attn"\n' + use("A") }, { reader });
    expect(diagnostics).toEqual([]);
    expect(program.blocks).toHaveLength(1);
  });

  it("loads a file imported twice only once", async () => {
    const reader = createMemoryReader({
      "main.attn": 'import "a.attn"\nimport "b.attn"\n',
      "a.attn": 'import "c.attn"\n',
      "b.attn": 'import "c.attn"\n',
      "c.attn": block("C"),
    });
    const { program } = await loadProgram("main.attn", { reader });
    expect(program.files.map((f) => f.path)).toEqual(["main.attn", "a.attn", "c.attn", "b.attn"]);
    expect(program.blocks).toHaveLength(1);
  });

  it("reports a missing import at its path, with where it looked", async () => {
    const { diagnostics } = await loadProgram({ path: "dir/main.attn", text: 'import "../lib/x.attn"\n' }, { reader: createMemoryReader({}) });
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: "ATTN2050",
        message: "cannot find imported file `../lib/x.attn`",
        hint: "looked for lib/x.attn",
        span: expect.objectContaining({ file: "dir/main.attn", line: 1, column: 8, length: 15 }),
      }),
    ]);
  });

  it("treats a reader that throws as a missing file", async () => {
    const reader: SourceReader = {
      readFile: () => {
        throw new Error("EACCES");
      },
    };
    const { diagnostics } = await loadProgram({ path: "main.attn", text: 'import "x.attn"\n' }, { reader });
    expect(diagnostics.map((d) => d.code)).toEqual(["ATTN2050"]);
  });

  it("reports import cycles once, at the import that closes them", async () => {
    const reader = createMemoryReader({
      "a.attn": 'import "b.attn"\n' + block("A"),
      "b.attn": 'import "a.attn"\n' + block("B"),
    });
    const { program, diagnostics } = await loadProgram("a.attn", { reader });
    expect(diagnostics.map((d) => `${d.code} ${d.span.file}:${d.span.line}:${d.span.column} ${d.message}`)).toEqual([
      "ATTN2051 b.attn:1:8 import cycle: a.attn → b.attn → a.attn",
    ]);
    expect(program.files.map((f) => f.path)).toEqual(["a.attn", "b.attn"]);
  });

  it("reports an entry file that cannot be read", async () => {
    const { diagnostics, program } = await loadProgram("nope.attn", { reader: createMemoryReader({}) });
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([["ATTN2052", "cannot read `nope.attn`"]]);
    expect(program.files).toEqual([]);
  });

  it("reads from the file system by default", async () => {
    const { diagnostics } = await loadProgram("/definitely/not/here.attn");
    expect(diagnostics.map((d) => d.code)).toEqual(["ATTN2052"]);
  });

  it("collects syntax diagnostics from every file", async () => {
    const reader = createMemoryReader({ "main.attn": 'import "lib.attn"\n', "lib.attn": "block B( {\n}\n" });
    const { diagnostics } = await loadProgram("main.attn", { reader });
    expect(diagnostics.map((d) => `${d.span.file} ${d.code} ${d.message}`)).toEqual([
      "lib.attn ATTN1001 expected `,` or `)` but found `{`",
    ]);
  });
});

describe("visibility across files", () => {
  it("sees the blocks of directly imported files only, and says which file to import", async () => {
    const reader = createMemoryReader({
      "main.attn": 'import "a.attn"\n' + use("B"),
      "a.attn": 'import "b.attn"\n' + block("A"),
      "b.attn": block("B"),
    });
    const { diagnostics } = await analyze("main.attn", { reader });
    expect(diagnostics.map((d) => [d.code, d.message, d.hint])).toEqual([
      ["ATTN2008", "unknown block `B`", "`B` is declared in b.attn; import that file"],
    ]);
  });

  it("reports a name declared in two files", async () => {
    const reader = createMemoryReader({ "main.attn": 'import "a.attn"\n' + block("A"), "a.attn": block("A") });
    const { diagnostics } = await analyze("main.attn", { reader });
    expect(diagnostics.map((d) => [d.code, d.span.file, d.related?.[0].span.file])).toEqual([["ATTN2030", "a.attn", "main.attn"]]);
  });
});

describe("paths", () => {
  it("normalises like POSIX paths, accepting backslashes", () => {
    expect(normalizePath("a/./b/../c//d.attn")).toBe("a/c/d.attn");
    expect(normalizePath("../x/../y.attn")).toBe("../y.attn");
    expect(normalizePath("/a/../../b")).toBe("/b");
    expect(normalizePath("a\\b\\c.attn")).toBe("a/b/c.attn");
  });

  it("resolves imports relative to the importing file", () => {
    expect(resolveImport("models/main.attn", "lib/x.attn")).toBe("models/lib/x.attn");
    expect(resolveImport("models/main.attn", "../x.attn")).toBe("x.attn");
    expect(resolveImport("main.attn", "x.attn")).toBe("x.attn");
    expect(resolveImport("/abs/main.attn", "x.attn")).toBe("/abs/x.attn");
    expect(resolveImport("models/main.attn", "/abs/x.attn")).toBe("/abs/x.attn");
  });
});
