/**
 * The `.attn` abstract syntax tree: plain, JSON-serialisable data, every node with a `kind` tag and
 * an exact {@link SourceSpan}. It is the contract between the front end (parse, check) and lowering.
 *
 * Shape of a program:
 * ```text
 * Program ─ files: SourceFile[] ─ imports: ImportDecl[]
 *         ├ models: ModelDecl[] ┐ name, params (hyperparameters with defaults),
 *         └ blocks: BlockDecl[] ┘ inputs, outputs, body: Stmt[]
 * Stmt     = Assign (targets = value [as scopeName]) | ScopeBlock (encoder/decoder/scope) | Yield
 * value    = Expr | RepeatExpr | ScanExpr
 * Expr     = Name | Number | Bool | String | Dtype | List | Unary | Binary
 *          | Call (layer or function) | BlockUse | Attention | Invalid
 * ```
 *
 * Guarantees lowering can rely on when `check` reported no errors: no `Invalid` nodes anywhere;
 * positional arguments come before named ones; every `Call` callee is in the layer catalogue, every
 * `Attention` kind in the attention catalogue and every `BlockUse` names a visible block or model;
 * dimension expressions (in `TensorType.dims`) contain only integer `Number`s, `Name`s and
 * `Binary` `+ - * /`.
 */
import type { SourceSpan } from "../span.js";

export type { SourceSpan } from "../span.js";

interface NodeBase {
  readonly span: SourceSpan;
}

/** A name as written, with its own span (declaration names, callees, argument keys). */
export interface Identifier extends NodeBase {
  readonly kind: "Identifier";
  readonly name: string;
}

// ---- program and files ---------------------------------------------------------------------------

/** Every file reachable from the entry, with their declarations merged (see `loadProgram`). */
export interface Program {
  readonly kind: "Program";
  /** Path of the entry file (as given, normalised). */
  readonly entry: string;
  /** The entry first, then imported files in the order they were first reached. */
  readonly files: readonly SourceFile[];
  /** All models of all files; each one's `span.file` says where it came from. */
  readonly models: readonly ModelDecl[];
  /** All blocks of all files. */
  readonly blocks: readonly BlockDecl[];
}

export interface SourceFile extends NodeBase {
  readonly kind: "SourceFile";
  readonly path: string;
  readonly imports: readonly ImportDecl[];
  readonly models: readonly ModelDecl[];
  readonly blocks: readonly BlockDecl[];
}

export interface ImportDecl extends NodeBase {
  readonly kind: "Import";
  /** The path as written (relative to the importing file). */
  readonly path: string;
  readonly pathSpan: SourceSpan;
  /** Set by `loadProgram`: the normalised path of the imported file, if it was found. */
  readonly resolvedPath?: string;
}

interface DeclBase extends NodeBase {
  readonly name: Identifier;
  /** Model hyperparameters (all with defaults) or block parameters (defaults optional). */
  readonly params: readonly ParamDecl[];
  /** In declaration order; for a block, its positional inputs. */
  readonly inputs: readonly InputDecl[];
  /** In declaration order; for a block, what a use returns. */
  readonly outputs: readonly OutputDecl[];
  /** Statements in source order (inputs and outputs are hoisted out of it). */
  readonly body: readonly Stmt[];
  /** The model's `train { ... }` section, if any (hoisted like inputs and outputs). */
  readonly train?: TrainSection;
  /**
   * Set when a syntax error broke the header (`model M h = 4) {`): the parameters it declares are
   * unknown, so the checks do not report names in the body as undefined.
   */
  readonly incomplete?: true;
}

export interface ModelDecl extends DeclBase {
  readonly kind: "Model";
}

export interface BlockDecl extends DeclBase {
  readonly kind: "Block";
}

export type Decl = ModelDecl | BlockDecl;

export interface ParamDecl extends NodeBase {
  readonly kind: "Param";
  readonly name: Identifier;
  /** Evaluated in order: may refer to earlier parameters (`h2 = 2*h1`). */
  readonly defaultValue?: Expr;
}

export type DtypeName = "float32" | "int32" | "bool";

export interface TensorType extends NodeBase {
  readonly kind: "TensorType";
  readonly dtype: DtypeName;
  /** Integer literals, names (hyperparameters or symbolic dims) and `+ - * /` over them. */
  readonly dims: readonly Expr[];
}

export interface InputDecl extends NodeBase {
  readonly kind: "Input";
  readonly name: Identifier;
  readonly type: TensorType | Invalid;
}

export interface OutputDecl extends NodeBase {
  readonly kind: "Output";
  readonly name: Identifier;
  /** Present for `output y: float32[B, 1]`; then checked against inference. */
  readonly type?: TensorType | Invalid;
}

/** `train { loss: ..., optimizer: ..., ... }`. Keys and values are checked when the model is lowered. */
export interface TrainSection extends NodeBase {
  readonly kind: "Train";
  readonly entries: readonly TrainEntry[];
}

export interface TrainEntry extends NodeBase {
  readonly kind: "TrainEntry";
  readonly key: Identifier;
  readonly value: Expr;
}

// ---- statements ----------------------------------------------------------------------------------

export type Stmt = Assign | ScopeBlock | YieldStmt;

export interface Target extends NodeBase {
  readonly kind: "Target";
  readonly name: string;
  /** `_`: the result is dropped. */
  readonly discard: boolean;
}

/** `targets = value [as scopeName]`. */
export interface Assign extends NodeBase {
  readonly kind: "Assign";
  readonly targets: readonly Target[];
  readonly value: Expr | RepeatExpr | ScanExpr;
  /** `as name`; otherwise a layer's scope is named by the first target. */
  readonly scopeName?: Identifier;
}

/** `encoder { }`, `decoder { }`, `scope name { }`: prefixes parameter names, not visibility. */
export interface ScopeBlock extends NodeBase {
  readonly kind: "Scope";
  readonly scopeKind: "encoder" | "decoder" | "scope";
  /** The prefix: `encoder`, `decoder`, or the scope's name (for the keywords, spanning the keyword). */
  readonly name: Identifier;
  readonly body: readonly Stmt[];
}

/** `yield a, b`: the per-step outputs of the enclosing scan (checked to be its last statement). */
export interface YieldStmt extends NodeBase {
  readonly kind: "Yield";
  readonly values: readonly Expr[];
}

// ---- statement-level values ----------------------------------------------------------------------

/** `repeat count Block(args)(inputs)`: scopes `name.0`, `name.1`, ... */
export interface RepeatExpr extends NodeBase {
  readonly kind: "Repeat";
  readonly count: Expr;
  readonly use: BlockUse;
}

/** `scan (e over seq, h = h0) { ... yield ... }`. */
export interface ScanExpr extends NodeBase {
  readonly kind: "Scan";
  /** `e over seq`, in source order. */
  readonly sequences: readonly ScanSequence[];
  /** `h = h0`, in source order. */
  readonly carries: readonly ScanCarry[];
  readonly body: readonly Stmt[];
}

export interface ScanSequence extends NodeBase {
  readonly kind: "ScanSequence";
  readonly name: Identifier;
  readonly source: Expr;
}

export interface ScanCarry extends NodeBase {
  readonly kind: "ScanCarry";
  readonly name: Identifier;
  readonly init: Expr;
}

// ---- expressions ---------------------------------------------------------------------------------

export type Expr =
  | NameExpr
  | NumberLiteral
  | BoolLiteral
  | StringLiteral
  | DtypeLiteral
  | ListExpr
  | UnaryExpr
  | BinaryExpr
  | CallExpr
  | BlockUse
  | AttentionExpr
  | Invalid;

export interface NameExpr extends NodeBase {
  readonly kind: "Name";
  readonly name: string;
}

export interface NumberLiteral extends NodeBase {
  readonly kind: "Number";
  /** Negative literals are folded: `-1` is one Number. */
  readonly value: number;
  /** Written without `.` or exponent (`3`, not `3.0` or `1e3`). */
  readonly isInteger: boolean;
}

export interface BoolLiteral extends NodeBase {
  readonly kind: "Bool";
  readonly value: boolean;
}

export interface StringLiteral extends NodeBase {
  readonly kind: "String";
  /** With escapes resolved. */
  readonly value: string;
}

/** A dtype used as a value: `cast(x, to: int32)`. */
export interface DtypeLiteral extends NodeBase {
  readonly kind: "Dtype";
  readonly dtype: DtypeName;
}

export interface ListExpr extends NodeBase {
  readonly kind: "List";
  readonly items: readonly Expr[];
}

export interface UnaryExpr extends NodeBase {
  readonly kind: "Unary";
  readonly op: "-";
  readonly operand: Expr;
}

export type ArithmeticOp = "+" | "-" | "*" | "/";
export type ComparisonOp = "==" | "!=" | "<" | ">";

export interface BinaryExpr extends NodeBase {
  readonly kind: "Binary";
  readonly op: ArithmeticOp | ComparisonOp;
  readonly left: Expr;
  readonly right: Expr;
}

export interface NamedArg extends NodeBase {
  readonly kind: "NamedArg";
  readonly name: Identifier;
  readonly value: Expr;
}

/**
 * Set on a call whose argument list a syntax error cut short (no closing `)`): checks that need every
 * argument ("missing argument `out`") skip it.
 */
interface MaybeIncomplete {
  readonly incomplete?: true;
}

/** A layer or function from the catalogue: `linear(x, out: 4)`. */
export interface CallExpr extends NodeBase, MaybeIncomplete {
  readonly kind: "Call";
  readonly callee: Identifier;
  readonly args: readonly Expr[];
  readonly named: readonly NamedArg[];
}

/** `Block(params...)(inputs...)`: `args`/`named` bind the block's parameters, `inputs` its inputs. */
export interface BlockUse extends NodeBase, MaybeIncomplete {
  readonly kind: "BlockUse";
  readonly block: Identifier;
  readonly args: readonly Expr[];
  readonly named: readonly NamedArg[];
  readonly inputs: readonly Expr[];
}

/** `attention additive(q, k, v, units: 16)`. */
export interface AttentionExpr extends NodeBase, MaybeIncomplete {
  readonly kind: "Attention";
  readonly attentionKind: Identifier;
  readonly args: readonly Expr[];
  readonly named: readonly NamedArg[];
}

/**
 * Stands in for a piece the parser could not recover (a syntax error has been reported for it).
 * Checks skip it silently, so one typo does not cascade into "undefined name" noise.
 */
export interface Invalid extends NodeBase {
  readonly kind: "Invalid";
}

export type Node =
  | Program
  | SourceFile
  | ImportDecl
  | Decl
  | ParamDecl
  | InputDecl
  | OutputDecl
  | TensorType
  | TrainSection
  | TrainEntry
  | Stmt
  | Target
  | RepeatExpr
  | ScanExpr
  | ScanSequence
  | ScanCarry
  | Expr
  | NamedArg
  | Identifier;
