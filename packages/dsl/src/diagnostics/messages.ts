/**
 * THE catalogue of `.attn` diagnostics: every code the front end (and later the lowering) can
 * report, each with exactly one message template, in the manner of TypeScript's
 * `diagnosticMessages.json`. Codes are stable: never renumber or reuse one; retire it instead.
 *
 * - `ATTN1xxx` syntax (lexer, parser, structure of the tree)
 * - `ATTN2xxx` names and scopes (resolution, imports, parameter scopes)
 * - `ATTN3xxx` shapes and types (here only the ones that need no shapes: literal argument types)
 *
 * Templates use `{placeholder}`s; {@link format} fills them, and the types make a missing one a
 * compile error. Placeholders that describe a thing are passed already worded and quoted, so one
 * template reads well for every case: `{found}` is "`)`" or "end of line", `{callee}` is "`linear`",
 * "attention `additive`" or "block `Enc`". Bare names (`{name}`, `{arg}`) are quoted by the template.
 */

export type Severity = "error" | "warning";

export interface DiagnosticTemplate<T extends string = string> {
  readonly code: `ATTN${number}`;
  readonly severity: Severity;
  readonly template: T;
}

const error = <T extends string>(code: `ATTN${number}`, template: T): DiagnosticTemplate<T> => ({
  code,
  severity: "error",
  template,
});
const warning = <T extends string>(code: `ATTN${number}`, template: T): DiagnosticTemplate<T> => ({
  code,
  severity: "warning",
  template,
});

export const Diagnostics = {
  // ---- ATTN1xxx: syntax ----------------------------------------------------------------------------
  UnexpectedToken: error("ATTN1001", "expected {expected} but found {found}"),
  UnexpectedCharacter: error("ATTN1002", "unexpected character {found}"),
  UnterminatedString: error("ATTN1003", "unterminated string: it needs a closing `\"` on the same line"),
  UnclosedDelimiter: error("ATTN1004", "expected {close} to close {construct} opened at {location}"),
  ExpectedExpression: error("ATTN1005", "expected an expression but found {found}"),
  ExpectedDimension: error(
    "ATTN1006",
    "expected a dimension (integer, name or expression) in the shape of {owner} but found {found}",
  ),
  ExpectedDeclaration: error("ATTN1007", "expected `import`, `block` or `model` but found {found}"),
  ExpectedStatement: error("ATTN1008", "expected a statement in {owner} but found {found}"),
  ExpectedDtype: error("ATTN1009", "expected a dtype (`float32`, `int32` or `bool`) for {owner} but found {found}"),
  KeywordAsName: error("ATTN1010", "`{keyword}` is a keyword and cannot be used as a name"),
  PositionalAfterNamed: error("ATTN1011", "positional argument after the named argument `{name}`"),
  MissingHyperparameterDefault: error("ATTN1012", "hyperparameter `{name}` of model `{model}` needs a default value"),
  MisplacedDeclaration: error(
    "ATTN1013",
    "`{keyword}` declarations belong directly in a model or block body, not inside {place}",
  ),
  NamedBlockInput: error("ATTN1014", "inputs of block `{block}` are positional; `{name}:` is not allowed here"),
  ExpectedScanBinding: error(
    "ATTN1015",
    "expected `name over sequence` or `name = initial value` in the scan header but found {found}",
  ),

  // ---- ATTN2xxx: names and scopes --------------------------------------------------------------------
  UndefinedName: error("ATTN2001", "`{name}` is not defined"),
  UsedBeforeAssignment: error("ATTN2002", "`{name}` is used before it is assigned"),
  UnknownLayer: error("ATTN2003", "unknown layer or function `{name}`"),
  UnknownArgument: error("ATTN2004", "{callee} has no argument `{name}`"),
  MissingArgument: error("ATTN2005", "{callee} needs the argument `{name}`"),
  PositionalArity: error("ATTN2006", "{callee} takes {expected}, not {count}"),
  DuplicateArgument: error("ATTN2007", "argument `{name}` is given twice"),
  UnknownBlock: error("ATTN2008", "unknown block `{name}`"),
  BlockUsedAsFunction: error("ATTN2009", "block `{name}` needs two argument lists: `{name}(parameters...)(inputs...)`"),
  UnknownAttentionKind: error("ATTN2010", "unknown attention kind `{name}`"),
  BlockArity: error("ATTN2011", "block `{name}` takes {expected}, not {count}"),
  SecondParameterLayer: error(
    "ATTN2012",
    "{callee} has parameters too, but a statement names the parameters of only one layer (this one already calls {first})",
  ),
  ResultCount: error("ATTN2013", "{what} gives {expected}, but the statement has {count}"),
  RecursiveBlock: error("ATTN2014", "block `{name}` uses itself: {cycle}"),
  RepeatNeedsInputAndOutput: error(
    "ATTN2015",
    "`repeat` needs a block with at least one input and one output; `{name}` has {inputs} and {outputs}",
  ),
  SymbolicDimensionAsValue: error("ATTN2016", "`{name}` is a symbolic dimension and has no value here"),
  UnknownDimension: error("ATTN2017", "unknown dimension `{name}`"),
  DuplicateScope: error("ATTN2020", "parameter scope `{path}` is already used"),
  DiscardAsScope: error("ATTN2021", "`_` cannot name a parameter scope"),
  DiscardRead: error("ATTN2022", "`_` discards a value and cannot be read"),
  DiscardDeclared: error("ATTN2023", "`_` cannot name {what}"),
  ScopeNameUnused: warning("ATTN2024", "`as {name}` has no effect: this statement creates no parameters"),
  UnnamedParameters: error("ATTN2025", "{callee} has parameters, but a `yield` cannot name them"),
  DuplicateDeclaration: error("ATTN2030", "{what} `{name}` is already declared"),
  DuplicateTarget: error("ATTN2031", "`{name}` appears more than once among the targets"),
  OutputNotAssigned: error("ATTN2032", "output `{name}` is never assigned"),
  AssignToHyperparameter: error("ATTN2033", "`{name}` is a hyperparameter and cannot be assigned"),
  HyperparameterBeforeDefinition: error("ATTN2034", "hyperparameter `{name}` is used before it is defined"),
  YieldOutsideScan: error("ATTN2040", "`yield` is only allowed in the body of a `scan`"),
  DuplicateYield: error("ATTN2041", "a scan body has only one `yield`"),
  YieldNotLast: error("ATTN2042", "`yield` must be the last statement of the scan body"),
  CarryNotRebound: warning("ATTN2043", "carried state `{name}` is never reassigned in the scan body"),
  ScanWithoutSequence: error("ATTN2044", "`scan` needs at least one sequence (`name over tensor`)"),
  ImportNotFound: error("ATTN2050", "cannot find imported file `{path}`"),
  ImportCycle: error("ATTN2051", "import cycle: {cycle}"),
  FileNotFound: error("ATTN2052", "cannot read `{path}`"),

  // ---- ATTN3xxx: shapes and types ---------------------------------------------------------------------
  ArgumentType: error("ATTN3001", "argument `{arg}` of {callee} expects {expected}, found {found}"),
  DimensionType: error("ATTN3002", "dimension `{name}` must be an integer, but it is {found}"),
  InvalidRepeatCount: error("ATTN3003", "`repeat` count must be a positive integer, found {found}"),

  // ---- lowering: model selection (ATTN206x) and shapes and types found with shapes (ATTN31xx) ----------
  NoModel: error("ATTN2060", "{file} declares no model"),
  ModelNotFound: error("ATTN2061", "there is no model named `{name}`"),
  AmbiguousModel: error("ATTN2062", "{file} declares several models ({names}); choose one"),
  UnknownHyperparameter: error("ATTN2063", "model `{model}` has no hyperparameter `{name}`"),
  UnknownTrainKey: error("ATTN2070", "`train` has no setting `{name}`"),
  UnknownTrainChoice: error("ATTN2071", "unknown {what} `{name}`"),
  LossOutputNotFound: error("ATTN2072", "the loss reads `{name}`, which is not an output of model `{model}`"),
  ShapeMismatch: error("ATTN3100", "{message}"),
  InvalidArgument: error("ATTN3101", "argument `{arg}` of {callee} {problem}"),
  NeedsConcreteDim: error("ATTN3102", "{callee} needs a concrete size for {what}, but its input is {type}"),
  AttentionRanks: error("ATTN3103", "{callee}: the query {query} must have the rank of the keys {keys}, or one less for a single step"),
  MultiheadDims: error("ATTN3104", "{callee}: keys {keys} and values {values} must have the query's feature size {e}"),
  OutputTypeMismatch: error("ATTN3105", "output `{name}` is declared {declared}, but the model computes {actual}"),
  BlockInputMismatch: error("ATTN3106", "input `{name}` of block `{block}` is declared {declared}, but it is given {actual}"),
  OperandTypes: error("ATTN3107", "`{op}` cannot combine {left} and {right}"),
  HyperparameterValue: error("ATTN3108", "hyperparameter `{name}` must be {expected}, found {found}"),
  ExpectedTensor: error("ATTN3109", "{what} must be a tensor, found {found}"),
  NonIntegerDimension: error("ATTN3110", "dimension {dim} is not an integer expression"),
  TrainValue: error("ATTN3120", "`train` setting `{key}` expects {expected}, found {found}"),
} as const;

/** Hints (the `hint:` line) that several checks share. One-off hints are written where they are used. */
export const Hints = {
  DidYouMean: "did you mean `{name}`?",
  Found: "found {found} instead",
  BindFirst: "give it a statement of its own, `t = {callee}(...) as name`, then use `t`",
  AddScopeName: "add `as name` to the statement to name its parameters",
  RenameKeyword: "keywords are reserved; try `{name}_`",
  PositionalFirst: "positional arguments come before named ones",
} as const;

export type DiagnosticName = keyof typeof Diagnostics;

/** The `{placeholder}` names in a template string, as a union type. */
export type Placeholders<T extends string> = T extends `${string}{${infer P}}${infer Rest}`
  ? P | Placeholders<Rest>
  : never;

/** The arguments a template needs: one string or number per placeholder. */
export type TemplateArgs<T extends string> = { readonly [K in Placeholders<T>]: string | number };

/**
 * Fills a template's `{placeholder}`s. Accepts a catalogue entry or a bare template (for hints).
 * A placeholder without a value is a programming error, so it throws rather than printing `{x}`.
 */
export function format<T extends string>(entry: DiagnosticTemplate<T> | T, args: TemplateArgs<T>): string {
  const template: string = typeof entry === "string" ? entry : entry.template;
  const values = args as Record<string, string | number>;
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`diagnostic template is missing {${key}}: ${template}`);
    return String(values[key]);
  });
}

/** Every catalogue entry by code, e.g. for `attn explain ATTN2003` or a docs page. */
export function diagnosticByCode(code: string): (DiagnosticTemplate & { name: DiagnosticName }) | undefined {
  for (const [name, entry] of Object.entries(Diagnostics)) {
    if (entry.code === code) return { ...entry, name: name as DiagnosticName };
  }
  return undefined;
}
