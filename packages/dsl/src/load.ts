/**
 * Loading a program: the entry file and, transitively, every file it imports (paths relative to the
 * importing file), parsed and merged into one {@link Program}. Import cycles and missing files are
 * diagnostics, not exceptions.
 *
 * File access is injected ({@link SourceReader}) so this runs in browsers; only when no reader is
 * given is `node:fs` loaded, lazily.
 */
import type { BlockDecl, ImportDecl, ModelDecl, Program, SourceFile } from "./ast/ast.js";
import { createDiagnostic, sortDiagnostics, type Diagnostic } from "./diagnostics/diagnostic.js";
import { Diagnostics } from "./diagnostics/messages.js";
import { parse } from "./parse.js";
import { normalizePath, resolveImport } from "./paths.js";

/** Reads source files. `undefined` (or a rejected promise) means the file cannot be read. */
export interface SourceReader {
  readFile(path: string): string | undefined | Promise<string | undefined>;
}

export interface LoadOptions {
  /** Defaults to the file system (Node only). */
  reader?: SourceReader;
}

export interface LoadResult {
  program: Program;
  /** Syntax diagnostics of every file, plus import errors. Run `check(program)` for the rest. */
  diagnostics: Diagnostic[];
  /** The text of every file read, by normalised path (for `renderDiagnostics`). */
  sources: Map<string, string>;
}

/** A reader over in-memory files (tests, the playground). Keys are normalised like import paths. */
export function createMemoryReader(files: Readonly<Record<string, string>>): SourceReader {
  const map = new Map(Object.entries(files).map(([path, text]) => [normalizePath(path), text]));
  return { readFile: (path) => map.get(normalizePath(path)) };
}

async function nodeReader(): Promise<SourceReader> {
  const fs = await import("node:fs/promises");
  return {
    readFile: async (path) => {
      try {
        return await fs.readFile(path, "utf8");
      } catch {
        return undefined;
      }
    },
  };
}

async function read(reader: SourceReader, path: string): Promise<string | undefined> {
  try {
    return await reader.readFile(path);
  } catch {
    return undefined;
  }
}

export async function loadProgram(
  entry: string | { path: string; text: string },
  options: LoadOptions = {},
): Promise<LoadResult> {
  // node:fs only when a file must actually be read: a source given as text with no imports (what browsers
  // compile) never loads it.
  let reader = options.reader;
  const fileReader = async () => (reader ??= await nodeReader());
  const entryPath = normalizePath(typeof entry === "string" ? entry : entry.path);
  const sources = new Map<string, string>();
  const files = new Map<string, SourceFile>();
  const diagnostics: Diagnostic[] = [];

  const load = async (path: string, text: string, stack: readonly string[]): Promise<void> => {
    sources.set(path, text);
    const parsed = parse(text, path);
    diagnostics.push(...parsed.diagnostics);
    // Reserve the slot now so that imports are listed after the file that first reaches them.
    files.set(path, parsed.file);
    const imports: ImportDecl[] = [];
    for (const decl of parsed.file.imports) {
      const target = resolveImport(path, decl.path);
      const cycleStart = stack.indexOf(target);
      if (cycleStart >= 0) {
        const cycle = [...stack.slice(cycleStart), target].join(" → ");
        diagnostics.push(createDiagnostic(Diagnostics.ImportCycle, { cycle }, decl.pathSpan));
        imports.push({ ...decl, resolvedPath: target });
        continue;
      }
      if (!files.has(target)) {
        const imported = await read(await fileReader(), target);
        if (imported === undefined) {
          diagnostics.push(
            createDiagnostic(Diagnostics.ImportNotFound, { path: decl.path }, decl.pathSpan, { hint: `looked for ${target}` }),
          );
          imports.push(decl);
          continue;
        }
        await load(target, imported, [...stack, target]);
      }
      imports.push({ ...decl, resolvedPath: target });
    }
    files.set(path, { ...parsed.file, imports });
  };

  const text = typeof entry === "string" ? await read(await fileReader(), entryPath) : entry.text;
  if (text === undefined) {
    const span = { file: entryPath, line: 1, column: 1, length: 0, offset: 0, endOffset: 0 };
    diagnostics.push(createDiagnostic(Diagnostics.FileNotFound, { path: entryPath }, span));
  } else {
    await load(entryPath, text, [entryPath]);
  }

  const all = [...files.values()];
  const program: Program = {
    kind: "Program",
    entry: entryPath,
    files: all,
    models: all.flatMap((f): ModelDecl[] => [...f.models]),
    blocks: all.flatMap((f): BlockDecl[] => [...f.blocks]),
  };
  return { program, diagnostics: sortDiagnostics(diagnostics), sources };
}
