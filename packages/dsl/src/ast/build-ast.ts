/**
 * CST → AST. A chevrotain CST visitor (one method per grammar rule, checked by `validateVisitor`)
 * that produces the typed, span-carrying AST of ast.ts.
 *
 * The CST may come from error recovery, so any child may be missing and a token may be virtual
 * (inserted by the parser, without a position). The rules here: a missing expression becomes an
 * `Invalid` node (a syntax error was already reported for it), a declaration without its name is
 * dropped, and names that were declared keep being declared (a broken `h = ...` still binds `h`) so
 * one typo does not cascade into "undefined name" errors further down.
 *
 * It also reports the few structural errors that the grammar accepts on purpose to word them well
 * (a name where a dtype belongs, misplaced `input`, positional-after-named arguments, ...).
 */
import type { CstNode, IToken } from "chevrotain";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Diagnostics, format, Hints } from "../diagnostics/messages.js";
import { suggest } from "../diagnostics/suggest.js";
import { dtypeSpellings } from "../lexer/tokens.js";
import type * as C from "../parser/cst.generated.js";
import { parser } from "../parser/parser.js";
import { isVirtualToken, joinSpans, spanOfToken, type SourceSpan } from "../span.js";
import type * as A from "./ast.js";

/** CST children as they may really be after error recovery: every child optional. */
type Loose<T> = { [K in keyof T]?: T[K] };

/** Where a body sits: models and blocks collect inputs/outputs; nested bodies must not have any. */
interface BodyContext {
  /** Undefined for a model/block body; otherwise "the `encoder` block", "the scan body", ... */
  readonly nestedIn: string | undefined;
  /** "the body of model `M`", "scope `s`", ... for messages. */
  readonly owner: string;
  readonly inputs: A.InputDecl[];
  readonly outputs: A.OutputDecl[];
  /** `train { }` sections met in this body (only a model's own body may have one). */
  readonly train?: A.TrainSection[];
}

interface ArgList {
  args: A.Expr[];
  named: A.NamedArg[];
  incomplete?: true;
}

const BaseVisitor = parser.getBaseCstVisitorConstructor();

class AstBuilder extends BaseVisitor {
  /** Last good position seen, for nodes that recovery left without one. */
  private lastSpan: SourceSpan;

  constructor(
    private readonly path: string,
    private readonly diagnostics: Diagnostic[],
    /** Offsets of tokens the parser choked on or skipped: a node around one is incomplete. */
    private readonly errorOffsets: readonly number[],
  ) {
    super();
    this.lastSpan = { file: path, line: 1, column: 1, length: 0, offset: 0, endOffset: 0 };
    this.validateVisitor();
  }

  // ---- positions ----------------------------------------------------------------------------------

  /** Spans of the CST nodes being visited, innermost last (chevrotain passes methods only the children). */
  private readonly spans: SourceSpan[] = [];

  override visit(node: CstNode | CstNode[], param?: unknown): unknown {
    const n = Array.isArray(node) ? node[0] : node;
    if (n === undefined) return undefined;
    this.spans.push(this.span(n));
    try {
      return super.visit(n, param);
    } finally {
      this.spans.pop();
    }
  }

  /** The span of the node whose rule method is running. */
  private here(): SourceSpan {
    return this.spans[this.spans.length - 1] ?? this.lastSpan;
  }

  private span(node: CstNode): SourceSpan {
    const loc = node.location;
    if (loc === undefined || Number.isNaN(loc.startOffset) || loc.endOffset === undefined || Number.isNaN(loc.endOffset)) {
      return this.lastSpan;
    }
    const span: SourceSpan = {
      file: this.path,
      line: loc.startLine ?? 1,
      column: loc.startColumn ?? 1,
      offset: loc.startOffset,
      endOffset: loc.endOffset + 1,
      length: loc.endOffset + 1 - loc.startOffset,
    };
    this.lastSpan = span;
    return span;
  }

  private tokenSpan(token: IToken): SourceSpan {
    return isVirtualToken(token) ? this.lastSpan : spanOfToken(this.path, token);
  }

  /** The token, unless recovery left it out or invented it. */
  private real(tokens: IToken[] | undefined, index = 0): IToken | undefined {
    const token = tokens?.[index];
    return token !== undefined && !isVirtualToken(token) ? token : undefined;
  }

  private identifier(token: IToken | undefined): A.Identifier | undefined {
    if (token === undefined) return undefined;
    return { kind: "Identifier", name: token.image, span: this.tokenSpan(token) };
  }

  private invalid(span: SourceSpan): A.Invalid {
    return { kind: "Invalid", span };
  }

  private report(diagnostic: Diagnostic): void {
    this.diagnostics.push(diagnostic);
  }

  // ---- typed wrappers around `visit` --------------------------------------------------------------

  private expr(nodes: CstNode[] | undefined, fallback: SourceSpan): A.Expr {
    const node = nodes?.[0];
    return node === undefined ? this.invalid(fallback) : (this.visit(node) as A.Expr);
  }

  private args(nodes: C.ArgListCstNode[] | undefined): ArgList {
    const node = nodes?.[0];
    return node === undefined ? { args: [], named: [] } : (this.visit(node) as ArgList);
  }

  private statements(nodes: C.BodyCstNode[] | undefined, body: BodyContext): A.Stmt[] {
    const node = nodes?.[0];
    return node === undefined ? [] : (this.visit(node, body) as A.Stmt[]);
  }

  // ---- files and declarations ---------------------------------------------------------------------

  file(ctx: Loose<C.FileCstChildren>): Omit<A.SourceFile, "path" | "span" | "kind"> {
    const pick = <T>(nodes: CstNode[] | undefined) =>
      (nodes ?? []).map((n) => this.visit(n) as T | undefined).filter((d): d is T => d !== undefined);
    return {
      imports: pick<A.ImportDecl>(ctx.importDecl),
      models: pick<A.ModelDecl>(ctx.modelDecl),
      blocks: pick<A.BlockDecl>(ctx.blockDecl),
    };
  }

  importDecl(ctx: Loose<C.ImportDeclCstChildren>): A.ImportDecl | undefined {
    const path = this.real(ctx.StringLiteral);
    const keyword = this.real(ctx.Import);
    if (path === undefined || keyword === undefined) return undefined;
    const pathSpan = spanOfToken(this.path, path);
    return { kind: "Import", path: unquote(path.image), pathSpan, span: joinSpans(spanOfToken(this.path, keyword), pathSpan) };
  }

  modelDecl(ctx: Loose<C.ModelDeclCstChildren>): A.ModelDecl | undefined {
    const decl = this.declaration("Model", ctx);
    if (decl === undefined) return undefined;
    for (const p of decl.params) {
      if (p.defaultValue === undefined) {
        this.report(
          createDiagnostic(Diagnostics.MissingHyperparameterDefault, { name: p.name.name, model: decl.name.name }, p.name.span, {
            hint: `write \`${p.name.name} = 4\`; \`attn run --set ${p.name.name}=...\` overrides it`,
          }),
        );
      }
    }
    return decl;
  }

  blockDecl(ctx: Loose<C.BlockDeclCstChildren>): A.BlockDecl | undefined {
    return this.declaration("Block", ctx);
  }

  private declaration<K extends "Model" | "Block">(
    kind: K,
    ctx: Loose<C.ModelDeclCstChildren> | Loose<C.BlockDeclCstChildren>,
  ): (A.Decl & { kind: K }) | undefined {
    const span = this.here();
    const name = this.identifier(this.real(ctx.Identifier));
    if (name === undefined) return undefined;
    const params = ctx.optionalParams?.[0] ? (this.visit(ctx.optionalParams[0]) as A.ParamDecl[]) : [];
    const body: BodyContext = { nestedIn: undefined, owner: `the body of ${kind.toLowerCase()} \`${name.name}\``, inputs: [], outputs: [], ...(kind === "Model" ? { train: [] } : {}) };
    const statements = this.statements(ctx.body, body);
    // A syntax error between the name and the `{` may have lost parameters.
    const brace = ctx.body?.[0]?.children.LBrace?.[0];
    const headerEnd = brace !== undefined && !isVirtualToken(brace) ? brace.startOffset : span.endOffset;
    const broken = this.errorOffsets.some((o) => o >= span.offset && o < headerEnd);
    const decl = { kind, name, params, inputs: body.inputs, outputs: body.outputs, body: statements, span, ...(body.train?.[0] ? { train: body.train[0] } : {}) };
    return (broken ? { ...decl, incomplete: true } : decl) as A.Decl & { kind: K };
  }

  optionalParams(ctx: Loose<C.OptionalParamsCstChildren>): A.ParamDecl[] {
    return ctx.paramList?.[0] ? (this.visit(ctx.paramList[0]) as A.ParamDecl[]) : [];
  }

  paramList(ctx: Loose<C.ParamListCstChildren>): A.ParamDecl[] {
    return (ctx.paramDecl ?? []).map((p) => this.visit(p) as A.ParamDecl | undefined).filter((p) => p !== undefined);
  }

  paramDecl(ctx: Loose<C.ParamDeclCstChildren>): A.ParamDecl | undefined {
    const span = this.here();
    const name = this.identifier(this.real(ctx.Identifier));
    if (name === undefined) return undefined;
    if (ctx.Equals === undefined) return { kind: "Param", name, span };
    return { kind: "Param", name, defaultValue: this.expr(ctx.expression, span), span };
  }

  // ---- bodies -------------------------------------------------------------------------------------

  body(ctx: Loose<C.BodyCstChildren>, body: BodyContext): A.Stmt[] {
    return (ctx.member ?? []).map((m) => this.visit(m, body) as A.Stmt | undefined).filter((s) => s !== undefined);
  }

  endOfLine(): undefined {
    return undefined; // junk on the line is reported by the parser stage (syntax-errors.ts)
  }

  member(ctx: Loose<C.MemberCstChildren>, body: BodyContext): A.Stmt | undefined {
    const declaration = ctx.inputDecl ?? ctx.outputDecl;
    if (declaration?.[0] !== undefined) {
      const decl = this.visit(declaration[0]) as A.InputDecl | A.OutputDecl | undefined;
      if (decl === undefined) return undefined;
      if (body.nestedIn !== undefined) {
        const keyword = decl.kind === "Input" ? "input" : "output";
        this.report(createDiagnostic(Diagnostics.MisplacedDeclaration, { keyword, place: body.nestedIn }, decl.span));
      } else if (decl.kind === "Input") {
        body.inputs.push(decl);
      } else {
        body.outputs.push(decl);
      }
      return undefined;
    }
    if (ctx.trainSection?.[0] !== undefined) {
      const section = this.visit(ctx.trainSection[0]) as A.TrainSection;
      if (body.nestedIn !== undefined || body.train === undefined) {
        this.report(createDiagnostic(Diagnostics.MisplacedDeclaration, { keyword: "train", place: body.nestedIn ?? "a block (only models train)" }, section.span));
      } else if (body.train.length > 0) {
        this.report(createDiagnostic(Diagnostics.DuplicateDeclaration, { what: "section", name: "train" }, section.span));
      } else {
        body.train.push(section);
      }
      return undefined;
    }
    const stmt = ctx.scopeStmt ?? ctx.yieldStmt ?? ctx.assignment;
    return stmt?.[0] === undefined ? undefined : (this.visit(stmt[0], body) as A.Stmt | undefined);
  }

  trainSection(ctx: Loose<C.TrainSectionCstChildren>): A.TrainSection {
    const span = this.here();
    const entries = (ctx.trainEntry ?? []).map((e) => this.visit(e) as A.TrainEntry | undefined).filter((e) => e !== undefined);
    return { kind: "Train", entries, span };
  }

  trainEntry(ctx: Loose<C.TrainEntryCstChildren>): A.TrainEntry | undefined {
    const span = this.here();
    const key = this.identifier(this.real(ctx.Identifier));
    if (key === undefined) return undefined;
    return { kind: "TrainEntry", key, value: this.expr(ctx.expression, span), span };
  }

  inputDecl(ctx: Loose<C.InputDeclCstChildren>): A.InputDecl | undefined {
    const span = this.here();
    const name = this.identifier(this.real(ctx.Identifier));
    if (name === undefined) return undefined;
    const owner = `input \`${name.name}\``;
    const type = ctx.tensorType?.[0] ? (this.visit(ctx.tensorType[0], owner) as A.TensorType | A.Invalid) : this.invalid(span);
    return { kind: "Input", name, type, span };
  }

  outputDecl(ctx: Loose<C.OutputDeclCstChildren>): A.OutputDecl | undefined {
    const span = this.here();
    const name = this.identifier(this.real(ctx.Identifier));
    if (name === undefined) return undefined;
    if (ctx.Colon === undefined) return { kind: "Output", name, span };
    const owner = `output \`${name.name}\``;
    const type = ctx.tensorType?.[0] ? (this.visit(ctx.tensorType[0], owner) as A.TensorType | A.Invalid) : this.invalid(span);
    return { kind: "Output", name, type, span };
  }

  /** `owner` ("input `x`") words the dtype error. */
  tensorType(ctx: Loose<C.TensorTypeCstChildren>, owner: string): A.TensorType | A.Invalid {
    const span = this.here();
    const dtype = ctx.dtype?.[0] ? (this.visit(ctx.dtype[0], owner) as A.DtypeName | undefined) : undefined;
    const dims = (ctx.dim ?? []).map((d) => this.visit(d) as A.Expr);
    if (dtype === undefined) return this.invalid(span);
    return { kind: "TensorType", dtype, dims, span };
  }

  dtype(ctx: Loose<C.DtypeCstChildren>, owner: string): A.DtypeName | undefined {
    const keyword = this.real(ctx.Dtype);
    if (keyword !== undefined) return keyword.image as A.DtypeName;
    const name = this.real(ctx.Identifier);
    if (name !== undefined) {
      const guess = suggest(name.image, dtypeSpellings);
      this.report(
        createDiagnostic(Diagnostics.ExpectedDtype, { owner, found: `\`${name.image}\`` }, this.tokenSpan(name), {
          hint: guess !== undefined ? format(Hints.DidYouMean, { name: guess }) : undefined,
        }),
      );
    }
    return undefined;
  }

  dim(ctx: Loose<C.DimCstChildren>): A.Expr {
    return this.leftFold(ctx.dimTerm, ctx.AddOp, this.here());
  }

  dimTerm(ctx: Loose<C.DimTermCstChildren>): A.Expr {
    return this.leftFold(ctx.dimAtom, ctx.MulOp, this.here());
  }

  dimAtom(ctx: Loose<C.DimAtomCstChildren>): A.Expr {
    const span = this.here();
    const literal = this.real(ctx.IntegerLiteral) ?? this.real(ctx.FloatLiteral);
    if (literal !== undefined) return numberLiteral(literal, this.tokenSpan(literal));
    const name = this.real(ctx.Identifier);
    if (name !== undefined) return { kind: "Name", name: name.image, span: this.tokenSpan(name) };
    return this.expr(ctx.dim, span);
  }

  scopeStmt(ctx: Loose<C.ScopeStmtCstChildren>, outer: BodyContext): A.ScopeBlock | undefined {
    const span = this.here();
    const keyword = this.real(ctx.Encoder) ?? this.real(ctx.Decoder);
    const scopeKind = ctx.Encoder ? "encoder" : ctx.Decoder ? "decoder" : "scope";
    const misspelt = this.real(ctx.misspelt);
    if (misspelt !== undefined) {
      // `encodr { ... }`: report it, then check the block as `scope encodr { ... }`.
      const guess = suggest(misspelt.image, ["encoder", "decoder", "scope"]);
      this.report(
        createDiagnostic(
          Diagnostics.ExpectedStatement,
          { owner: outer.owner, found: `\`${misspelt.image}\`` },
          this.tokenSpan(misspelt),
          { hint: guess ? format(Hints.DidYouMean, { name: guess }) : "a named scope is written `scope name { ... }`" },
        ),
      );
    }
    const name = this.identifier(keyword ?? this.real(ctx.Identifier) ?? misspelt);
    const place = scopeKind === "scope" ? `scope \`${name?.name ?? "?"}\`` : `the \`${scopeKind}\` block`;
    const body = this.statements(ctx.body, { nestedIn: place, owner: place, inputs: [], outputs: [] });
    if (name === undefined) return undefined;
    return { kind: "Scope", scopeKind, name, body, span };
  }

  yieldStmt(ctx: Loose<C.YieldStmtCstChildren>): A.YieldStmt {
    const span = this.here();
    return { kind: "Yield", values: (ctx.expression ?? []).map((e) => this.visit(e) as A.Expr), span };
  }

  assignment(ctx: Loose<C.AssignmentCstChildren>): A.Assign | undefined {
    const span = this.here();
    const targets: A.Target[] = (ctx.Identifier ?? [])
      .filter((t) => !isVirtualToken(t))
      .map((t) => ({ kind: "Target", name: t.image, discard: t.image === "_", span: this.tokenSpan(t) }));
    // Without `=` this was not an assignment at all; the syntax error says so.
    if (targets.length === 0 || ctx.Equals === undefined) return undefined;
    const value = ctx.rhs?.[0]
      ? (this.visit(ctx.rhs[0]) as A.Assign["value"])
      : this.invalid(this.tokenSpan(ctx.Equals[0]));
    const scopeName = this.identifier(this.real(ctx.scopeName));
    return scopeName ? { kind: "Assign", targets, value, scopeName, span } : { kind: "Assign", targets, value, span };
  }

  rhs(ctx: Loose<C.RhsCstChildren>): A.Assign["value"] {
    const inner = ctx.repeatExpr ?? ctx.scanExpr ?? ctx.expression;
    return inner?.[0] ? (this.visit(inner[0]) as A.Assign["value"]) : this.invalid(this.here());
  }

  repeatExpr(ctx: Loose<C.RepeatExprCstChildren>): A.RepeatExpr | A.Invalid {
    const span = this.here();
    const block = this.identifier(this.real(ctx.Identifier));
    const count = this.expr(ctx.count, span);
    if (block === undefined) return this.invalid(span);
    const use = this.blockUse(block, ctx.args, ctx.inputs, span);
    return { kind: "Repeat", count, use, span };
  }

  scanExpr(ctx: Loose<C.ScanExprCstChildren>): A.ScanExpr {
    const span = this.here();
    const sequences: A.ScanSequence[] = [];
    const carries: A.ScanCarry[] = [];
    for (const b of ctx.scanBinding ?? []) {
      const binding = this.visit(b) as A.ScanSequence | A.ScanCarry | undefined;
      if (binding?.kind === "ScanSequence") sequences.push(binding);
      else if (binding?.kind === "ScanCarry") carries.push(binding);
    }
    const body = this.statements(ctx.body, { nestedIn: "the scan body", owner: "the scan body", inputs: [], outputs: [] });
    return { kind: "Scan", sequences, carries, body, span };
  }

  scanBinding(ctx: Loose<C.ScanBindingCstChildren>): A.ScanSequence | A.ScanCarry | undefined {
    const span = this.here();
    const name = this.identifier(this.real(ctx.Identifier));
    if (name === undefined) return undefined;
    if (ctx.Equals !== undefined) return { kind: "ScanCarry", name, init: this.expr(ctx.init, span), span };
    // `e over seq`, or a binding broken beyond repair: keep the name bound either way.
    return { kind: "ScanSequence", name, source: this.expr(ctx.sequence, span), span };
  }

  // ---- expressions --------------------------------------------------------------------------------

  expression(ctx: Loose<C.ExpressionCstChildren>): A.Expr {
    const span = this.here();
    const left = this.expr(ctx.left, span);
    const op = ctx.CompareOp?.[0];
    if (op === undefined) return left;
    const right = this.expr(ctx.right, span);
    return { kind: "Binary", op: op.image as A.ComparisonOp, left, right, span };
  }

  additive(ctx: Loose<C.AdditiveCstChildren>): A.Expr {
    return this.leftFold(ctx.operands, ctx.AddOp, this.here());
  }

  multiplicative(ctx: Loose<C.MultiplicativeCstChildren>): A.Expr {
    return this.leftFold(ctx.operands, ctx.MulOp, this.here());
  }

  /** `a - b + c` as `(a - b) + c`: operands and operators come as parallel arrays. */
  private leftFold(operands: CstNode[] | undefined, ops: IToken[] | undefined, span: SourceSpan): A.Expr {
    const items = (operands ?? []).map((o) => this.visit(o) as A.Expr);
    if (items.length === 0) return this.invalid(span);
    return items.slice(1).reduce<A.Expr>(
      (left, right, i) => ({
        kind: "Binary",
        op: (ops?.[i]?.image ?? "+") as A.ArithmeticOp,
        left,
        right,
        span: joinSpans(left.span, right.span),
      }),
      items[0],
    );
  }

  unary(ctx: Loose<C.UnaryCstChildren>): A.Expr {
    const span = this.here();
    if (ctx.Minus === undefined) return this.expr(ctx.primary, span);
    const operand = this.expr(ctx.unary, span);
    // Fold `-1` into one literal: axes and defaults are written that way all the time.
    if (operand.kind === "Number") return { ...operand, value: -operand.value, span };
    return { kind: "Unary", op: "-", operand, span };
  }

  primary(ctx: Loose<C.PrimaryCstChildren>): A.Expr {
    const span = this.here();
    const number = this.real(ctx.IntegerLiteral) ?? this.real(ctx.FloatLiteral);
    if (number !== undefined) return numberLiteral(number, span);
    const string = this.real(ctx.StringLiteral);
    if (string !== undefined) return { kind: "String", value: unquote(string.image), span };
    if (ctx.True !== undefined || ctx.False !== undefined) return { kind: "Bool", value: ctx.True !== undefined, span };
    const dtype = this.real(ctx.Dtype);
    if (dtype !== undefined) return { kind: "Dtype", dtype: dtype.image as A.DtypeName, span };
    const inner = ctx.list ?? ctx.parenthesized ?? ctx.attentionExpr ?? ctx.callOrName;
    return this.expr(inner, span);
  }

  list(ctx: Loose<C.ListCstChildren>): A.ListExpr {
    const span = this.here();
    return { kind: "List", items: (ctx.expression ?? []).map((e) => this.visit(e) as A.Expr), span };
  }

  /** `(e)` is `e`, spanning the parentheses so that `a * (b + c)` covers the `)`. */
  parenthesized(ctx: Loose<C.ParenthesizedCstChildren>): A.Expr {
    const span = this.here();
    return { ...this.expr(ctx.expression, span), span };
  }

  attentionExpr(ctx: Loose<C.AttentionExprCstChildren>): A.Expr {
    const span = this.here();
    const attentionKind = this.identifier(this.real(ctx.Identifier));
    if (attentionKind === undefined) return this.invalid(span);
    return { kind: "Attention", attentionKind, ...this.args(ctx.argList), span };
  }

  callOrName(ctx: Loose<C.CallOrNameCstChildren>): A.Expr {
    const span = this.here();
    const callee = this.identifier(this.real(ctx.Identifier));
    if (callee === undefined) return this.invalid(span);
    if (ctx.args === undefined) return { kind: "Name", name: callee.name, span: callee.span };
    if (ctx.inputs !== undefined) return this.blockUse(callee, ctx.args, ctx.inputs, span);
    return { kind: "Call", callee, ...this.args(ctx.args), span };
  }

  private blockUse(
    block: A.Identifier,
    params: C.ArgListCstNode[] | undefined,
    inputs: C.ArgListCstNode[] | undefined,
    span: SourceSpan,
  ): A.BlockUse {
    const given = this.args(inputs);
    for (const arg of given.named) {
      this.report(createDiagnostic(Diagnostics.NamedBlockInput, { block: block.name, name: arg.name.name }, arg.name.span));
      given.args.push(arg.value); // keep it as the input it was meant to be, so arity still adds up
    }
    const { args, named, incomplete: paramsIncomplete } = this.args(params);
    const incomplete = given.incomplete ?? paramsIncomplete;
    return { kind: "BlockUse", block, args, named, inputs: given.args, span, ...(incomplete ? { incomplete } : {}) };
  }

  argList(ctx: Loose<C.ArgListCstChildren>): ArgList {
    // Without a real `)` (missing, or inserted by recovery) or with tokens skipped inside, the list
    // may lack arguments the user meant to write: "missing argument" checks must not run on it.
    const open = this.real(ctx.LParen);
    const close = this.real(ctx.RParen);
    const cut =
      close === undefined ||
      (open !== undefined && this.errorOffsets.some((o) => o > open.startOffset && o < close.startOffset));
    const result: ArgList = cut ? { args: [], named: [], incomplete: true } : { args: [], named: [] };
    for (const a of ctx.argument ?? []) {
      const arg = this.visit(a) as A.Expr | A.NamedArg;
      if (arg.kind === "NamedArg") {
        result.named.push(arg);
        continue;
      }
      const lastNamed = result.named[result.named.length - 1];
      if (lastNamed !== undefined) {
        this.report(
          createDiagnostic(Diagnostics.PositionalAfterNamed, { name: lastNamed.name.name }, arg.span, {
            hint: Hints.PositionalFirst,
          }),
        );
      }
      result.args.push(arg);
    }
    return result;
  }

  argument(ctx: Loose<C.ArgumentCstChildren>): A.Expr | A.NamedArg {
    const span = this.here();
    const value = this.expr(ctx.expression, span);
    const key = this.identifier(this.real(ctx.key));
    return key === undefined ? value : { kind: "NamedArg", name: key, value, span };
  }
}

function numberLiteral(token: IToken, span: SourceSpan): A.NumberLiteral {
  return { kind: "Number", value: Number(token.image), isInteger: /^\d+$/.test(token.image), span };
}

/** The value of a string literal: quotes removed, `\"`, `\\`, `\n`, `\t` resolved. */
function unquote(image: string): string {
  const escapes: Record<string, string> = { n: "\n", t: "\t" };
  return image.slice(1, -1).replace(/\\(.)/g, (_, c: string) => escapes[c] ?? c);
}

export interface BuildResult {
  file: A.SourceFile;
  diagnostics: Diagnostic[];
}

/** Builds the AST of one file from its CST (as returned by `parseTokens`). */
export function buildAst(
  cst: CstNode,
  path: string,
  textLength: number,
  errorOffsets: readonly number[] = [],
): BuildResult {
  const diagnostics: Diagnostic[] = [];
  const builder = new AstBuilder(path, diagnostics, errorOffsets);
  const parts = builder.visit(cst) as Omit<A.SourceFile, "path" | "span" | "kind">;
  const span: SourceSpan = { file: path, line: 1, column: 1, offset: 0, endOffset: textLength, length: textLength };
  return { file: { kind: "SourceFile", path, ...parts, span }, diagnostics };
}
