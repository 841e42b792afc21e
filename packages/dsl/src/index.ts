/**
 * `@attn/dsl`: the front end of the `.attn` language.
 *
 * ```ts
 * import { analyze, renderDiagnostics } from "@attn/dsl";
 * const { program, diagnostics, sources } = await analyze("model.attn");
 * console.log(renderDiagnostics(diagnostics, sources));
 * ```
 *
 * Stages, each usable on its own: {@link parse} (one file: lexer → parser with recovery → AST),
 * {@link loadProgram} (a file and its imports), {@link check} (names, scopes, catalogue, no shapes).
 * @packageDocumentation
 */

// ---- stages ----------------------------------------------------------------------------------------

/**
 * Parses one file into an AST with exact spans, plus its syntax diagnostics. Never throws on bad
 * input: errors are recovered from, so all independent mistakes are reported, and the AST is partial
 * (with `Invalid` nodes) where the text was broken. Imports are not followed; see {@link loadProgram}.
 */
export { parse, type ParseResult } from "./parse.js";

/**
 * Loads an entry file and every file it imports (relative to the importing file) into one
 * {@link Program}, with syntax, missing-import and import-cycle diagnostics. The reader is injected
 * (`{ reader }`), so it works in browsers; without one it reads from `node:fs`.
 */
export { loadProgram, createMemoryReader, type SourceReader, type LoadOptions, type LoadResult } from "./load.js";

/**
 * Checks a loaded program without shapes: names and scopes (undefined names with did-you-mean,
 * duplicate declarations and parameter scopes, `_` rules), calls against the layer catalogue,
 * block uses, `scan`/`yield` rules, outputs never assigned. Returns sorted diagnostics.
 */
export { check } from "./check/check.js";

/** {@link loadProgram} then {@link check}: every front-end diagnostic of a program in one call. */
export { analyze, type AnalyzeResult } from "./analyze.js";

// ---- diagnostics -----------------------------------------------------------------------------------

/**
 * Renders diagnostics as text: `file:line:col: error ATTN2003: message`, the source line, a caret
 * line under the span, a `hint:` line and related notes, then a summary. Sources come from a map,
 * a record or a function (e.g. `LoadResult.sources`).
 */
export {
  renderDiagnostics,
  renderDiagnostic,
  renderDiagnosticsJson,
  diagnosticsToJson,
  summarize,
  type SourceLookup,
  type RenderOptions,
  type DiagnosticsJson,
} from "./diagnostics/render.js";

/** The diagnostic type, its constructor from a catalogue entry, and the error that carries them. */
export {
  createDiagnostic,
  hasErrors,
  sortDiagnostics,
  DslError,
  type Diagnostic,
  type DiagnosticExtras,
  type RelatedInformation,
  type Severity,
} from "./diagnostics/diagnostic.js";

/**
 * The diagnostic catalogue: every code with its one message template (`Diagnostics.UnknownLayer` is
 * `ATTN2003`, "unknown layer or function `{name}`"), shared hint templates, and `format`.
 */
export {
  Diagnostics,
  Hints,
  format,
  diagnosticByCode,
  type DiagnosticTemplate,
  type DiagnosticName,
  type TemplateArgs,
} from "./diagnostics/messages.js";

/** Did-you-mean: the closest candidate within an edit distance that grows with the name's length. */
export { suggest } from "./diagnostics/suggest.js";

// ---- catalogue -------------------------------------------------------------------------------------

/**
 * The layer, function and attention catalogue: argument signatures, parameters (PyTorch names) and
 * results. The checker validates calls against it; the lowering reads the same entries.
 */
export {
  layers,
  attentionKinds,
  attentionPositional,
  attentionResults,
  findLayer,
  findAttentionKind,
  layerNames,
  attentionKindNames,
  positionalArgs,
  keywordArgs,
  describeArgType,
  type ArgSpec,
  type ArgType,
  type LayerSpec,
  type AttentionKindSpec,
  type ParamSpec,
  type LiteralValue,
} from "./layers/catalogue.js";

// ---- AST -------------------------------------------------------------------------------------------

/** The AST node types (plain data with `kind` tags and spans). See ast/ast.ts for the guarantees. */
export type * from "./ast/ast.js";

/** Traversal helpers over the AST. */
export { childExpressions, expressionsIn, statementsInScope, containsInvalid } from "./ast/walk.js";

/**
 * Source positions. `SourceSpan` is defined here until `@attn/core` exports it (then it moves there and
 * is re-exported).
 */
export { type SourceSpan, formatPosition } from "./span.js";

/** Import path arithmetic (POSIX-style, browser-safe). */
export { normalizePath, resolveImport } from "./paths.js";

// ---- lowering --------------------------------------------------------------------------------------

/**
 * The whole pipeline: load, check and lower one model to an `@attn/core` IR graph with inferred
 * shapes. `compileFile("m.attn", { model, hyper })` never throws on bad input; read `diagnostics`.
 */
export { compileFile, compileSource, type CompileOptions, type CompileResult } from "./lower/compile.js";
export { Lowerer, type HyperValues } from "./lower/lower.js";
export type { TrainConfig, ScheduleSpec } from "./lower/train-config.js";
export { trainerOptions, scheduleOf } from "./lower/trainer-options.js";
