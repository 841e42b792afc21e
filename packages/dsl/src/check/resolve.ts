/**
 * Name resolution and scope checks for one model or block, without shapes: undefined names (with
 * did-you-mean), calls against the catalogue, block uses, parameter scopes, `_`, scan and yield rules,
 * outputs that are never assigned. Shapes and dtypes are the lowering's business (ATTN3xxx there).
 */
import type {
  Assign,
  AttentionExpr,
  BlockUse,
  CallExpr,
  Decl,
  Expr,
  NameExpr,
  RepeatExpr,
  ScanExpr,
  Stmt,
  Target,
} from "../ast/ast.js";
import { containsInvalid } from "../ast/walk.js";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Diagnostics, format, Hints } from "../diagnostics/messages.js";
import { suggest } from "../diagnostics/suggest.js";
import { attentionKindNames, attentionPositional, findAttentionKind, findLayer, layerNames } from "../layers/catalogue.js";
import type { SourceSpan } from "../span.js";
import { checkCallArgs, type ArgContext } from "./args.js";
import { checkBlockArgs } from "./block-args.js";
import type { DeclTable } from "./decls.js";
import { arithmeticKind, describeKind, Env, type ValueKind } from "./env.js";
import { checkScanBody } from "./scan.js";
import { checkShape, collectSymbols } from "./shapes.js";

/** What the value of a statement gives: how many results at most. */
interface Produces {
  /** The thing named in "gives at most N results" messages. */
  readonly what: string;
  /** Undefined when unknown (an unresolved callee, `split` with computed sizes). */
  readonly maxResults: number | undefined;
}

interface StatementState {
  readonly isYield: boolean;
  readonly parameterCalls: { callee: string; bare: string; span: SourceSpan }[];
  /** A callee could not be resolved, so whether the statement creates parameters is unknown. */
  unresolved: boolean;
}

const unknownProduces: Produces = { what: "this", maxResults: undefined };
const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
const quote = (name: string) => `\`${name}\``;

export function checkDeclaration(decl: Decl, table: DeclTable, report: (d: Diagnostic) => void): void {
  new DeclChecker(decl, table, report).run();
}

class DeclChecker implements ArgContext {
  /** The current value scope (swapped while inside a scan body). */
  private env = new Env();
  private readonly topLevel = this.env;
  /** Symbolic dimension names of this declaration (from its input and output types). */
  private readonly symbols = new Set<string>();
  /** Parameter scope paths created so far, for duplicate detection. */
  private readonly scopes = new Map<string, SourceSpan>();
  private readonly prefix: string[] = [];
  /** Hyperparameters not yet declared while defaults are checked (left to right). */
  private pendingParams = new Set<string>();
  /** Is a scan body being checked (for `yield`)? */
  private inScan = false;
  /** The statement being checked: its calls that create parameters (see `parameterCall`). */
  private statement: StatementState | undefined;
  /** First assignment of every name anywhere in the declaration (for "used before assigned"). */
  private readonly assignments = new Map<string, SourceSpan>();
  private readonly file: string;

  constructor(
    private readonly decl: Decl,
    private readonly table: DeclTable,
    readonly report: (d: Diagnostic) => void,
  ) {
    this.file = decl.span.file;
  }

  run(): void {
    this.collectAssignments(this.decl.body);
    this.checkParams();
    for (const symbol of collectSymbols(this.decl, this.env)) this.symbols.add(symbol);
    this.checkInputs();
    this.checkOutputTypes();
    this.statements(this.decl.body);
    for (const output of this.decl.outputs) {
      if (output.name.name !== "_" && this.topLevel.lookup(output.name.name) === undefined) {
        this.report(
          createDiagnostic(Diagnostics.OutputNotAssigned, { name: output.name.name }, output.name.span, {
            hint: `assign it in the body: \`${output.name.name} = ...\``,
          }),
        );
      }
    }
  }

  // ---- declarations ----------------------------------------------------------------------------------

  private collectAssignments(stmts: readonly Stmt[]): void {
    for (const stmt of stmts) {
      if (stmt.kind === "Scope") this.collectAssignments(stmt.body);
      if (stmt.kind !== "Assign") continue;
      for (const t of stmt.targets) if (!t.discard && !this.assignments.has(t.name)) this.assignments.set(t.name, t.span);
      if (stmt.value.kind === "Scan") this.collectAssignments(stmt.value.body);
    }
  }

  private checkParams(): void {
    const what = this.decl.kind === "Model" ? "hyperparameter" : "parameter";
    this.pendingParams = new Set(this.decl.params.map((p) => p.name.name));
    for (const param of this.decl.params) {
      const name = param.name.name;
      // Evaluated while `name` is still pending, so `a = a` is "used before it is defined".
      const valueKind = param.defaultValue ? this.expr(param.defaultValue) : "unknown";
      this.pendingParams.delete(name);
      if (name === "_") {
        this.report(createDiagnostic(Diagnostics.DiscardDeclared, { what: `a ${what}` }, param.name.span));
        continue;
      }
      if (!this.declare(what, param.name.name, param.name.span)) continue;
      this.env.bind(name, { kind: "hyperparameter", valueKind, span: param.name.span });
    }
    this.pendingParams.clear();
  }

  /** Reports a second declaration of `name`; returns false if it is one. */
  private declare(what: string, name: string, span: SourceSpan): boolean {
    const previous = this.env.own(name);
    if (previous === undefined) return true;
    this.report(
      createDiagnostic(Diagnostics.DuplicateDeclaration, { what, name }, span, {
        related: [{ message: `first declared here (as ${previous.kind === "input" ? "an input" : "a parameter"})`, span: previous.span }],
      }),
    );
    return false;
  }

  private checkInputs(): void {
    for (const input of this.decl.inputs) {
      if (input.name.name === "_") {
        this.report(createDiagnostic(Diagnostics.DiscardDeclared, { what: "an input" }, input.name.span));
        continue;
      }
      checkShape(input.type, this.env, this.report);
      if (this.declare("input", input.name.name, input.name.span)) {
        this.env.bind(input.name.name, { kind: "input", valueKind: "tensor", span: input.name.span });
      }
    }
  }

  private checkOutputTypes(): void {
    const seen = new Map<string, SourceSpan>();
    for (const output of this.decl.outputs) {
      const name = output.name.name;
      if (name === "_") {
        this.report(createDiagnostic(Diagnostics.DiscardDeclared, { what: "an output" }, output.name.span));
        continue;
      }
      const first = seen.get(name);
      if (first !== undefined) {
        this.report(
          createDiagnostic(Diagnostics.DuplicateDeclaration, { what: "output", name }, output.name.span, {
            related: [{ message: "first declared here", span: first }],
          }),
        );
      }
      seen.set(name, output.name.span);
      if (output.type) checkShape(output.type, this.env, this.report);
    }
  }

  // ---- statements ------------------------------------------------------------------------------------

  private statements(stmts: readonly Stmt[]): void {
    for (const stmt of stmts) {
      switch (stmt.kind) {
        case "Assign":
          this.assign(stmt);
          break;
        case "Scope":
          this.prefix.push(stmt.name.name);
          this.statements(stmt.body);
          this.prefix.pop();
          break;
        case "Yield":
          if (!this.inScan) this.report(createDiagnostic(Diagnostics.YieldOutsideScan, {}, stmt.span));
          this.asStatement(true, () => stmt.values.forEach((value) => this.expr(value)));
          break;
      }
    }
  }

  private assign(stmt: Assign): void {
    const value = stmt.value;
    let produces: Produces = unknownProduces;
    let valueKind: ValueKind = "tensor";
    const createsParams = this.asStatement(false, (state) => {
      if (value.kind === "Repeat") produces = this.repeat(value);
      else if (value.kind === "Scan") produces = this.scan(value);
      else {
        valueKind = this.expr(value);
        produces = this.produces(value);
      }
      return state.parameterCalls.length > 0 ? true : state.unresolved ? undefined : false;
    });

    this.checkTargets(stmt.targets, produces);
    const broken = value.kind !== "Repeat" && value.kind !== "Scan" && containsInvalid(value);
    this.nameScope(stmt, createsParams, broken);
    const single = stmt.targets.length === 1 && produces.maxResults === 1;
    for (const target of stmt.targets) {
      if (target.discard) continue;
      this.env.bind(target.name, { kind: "variable", valueKind: single ? valueKind : "tensor", span: target.span });
    }
  }

  private checkTargets(targets: readonly Target[], produces: Produces): void {
    const seen = new Set<string>();
    for (const target of targets) {
      if (target.discard) continue;
      if (seen.has(target.name)) {
        this.report(createDiagnostic(Diagnostics.DuplicateTarget, { name: target.name }, target.span));
      }
      seen.add(target.name);
      if (this.env.lookup(target.name)?.kind === "hyperparameter") {
        this.report(createDiagnostic(Diagnostics.AssignToHyperparameter, { name: target.name }, target.span));
      }
    }
    const max = produces.maxResults;
    if (max !== undefined && targets.length > max) {
      const expected = max === 0 ? "no results" : max === 1 ? "1 result" : `at most ${max} results`;
      const span = targets[max]?.span ?? targets[0].span;
      this.report(
        createDiagnostic(Diagnostics.ResultCount, { what: produces.what, expected, count: plural(targets.length, "target") }, span),
      );
    }
  }

  /** A statement that creates parameters names a scope: `as name`, else its first target. */
  private nameScope(stmt: Assign, createsParams: boolean | undefined, broken: boolean): void {
    if (createsParams === false && stmt.scopeName !== undefined && !broken) {
      this.report(createDiagnostic(Diagnostics.ScopeNameUnused, { name: stmt.scopeName.name }, stmt.scopeName.span));
      return;
    }
    if (createsParams !== true) return;
    const named = stmt.scopeName ?? stmt.targets[0];
    const name = named.name;
    if (name === "_") {
      this.report(createDiagnostic(Diagnostics.DiscardAsScope, {}, named.span, { hint: Hints.AddScopeName }));
      return;
    }
    const path = [...this.prefix, name].join(".");
    const first = this.scopes.get(path);
    if (first !== undefined) {
      this.report(
        createDiagnostic(Diagnostics.DuplicateScope, { path }, named.span, {
          hint: stmt.scopeName ? "choose another name" : Hints.AddScopeName,
          related: [{ message: "first used here", span: first }],
        }),
      );
      return;
    }
    this.scopes.set(path, named.span);
  }

  private produces(value: Expr): Produces {
    switch (value.kind) {
      case "Call": {
        const spec = findLayer(value.callee.name);
        if (spec === undefined) return unknownProduces;
        const sizes = value.named.find((a) => a.name.name === "sizes")?.value;
        const max = spec.results === "per-size" ? (sizes?.kind === "List" ? sizes.items.length : undefined) : spec.results.length;
        return { what: quote(spec.name), maxResults: max };
      }
      case "Attention":
        return { what: "attention", maxResults: 2 };
      case "BlockUse": {
        const decl = this.table.lookup(this.file, value.block.name);
        if (decl === undefined) return unknownProduces;
        return { what: `block ${quote(decl.name.name)}`, maxResults: decl.outputs.length };
      }
      case "Invalid":
        return unknownProduces;
      default:
        return { what: "this expression", maxResults: 1 };
    }
  }

  private repeat(repeat: RepeatExpr): Produces {
    const count = repeat.count;
    const kind = this.expr(count);
    const bad =
      count.kind === "Number" ? !count.isInteger || count.value < 1 : kind !== "int" && kind !== "unknown";
    if (bad) {
      const found = count.kind === "Number" ? quote(String(count.value)) : describeKind(kind);
      this.report(createDiagnostic(Diagnostics.InvalidRepeatCount, { found }, count.span));
    }
    this.blockUse(repeat.use);
    const decl = this.table.lookup(this.file, repeat.use.block.name);
    if (decl !== undefined && (decl.inputs.length === 0 || decl.outputs.length === 0)) {
      this.report(
        createDiagnostic(
          Diagnostics.RepeatNeedsInputAndOutput,
          { name: decl.name.name, inputs: plural(decl.inputs.length, "input"), outputs: plural(decl.outputs.length, "output") },
          repeat.use.block.span,
        ),
      );
    }
    return this.produces(repeat.use);
  }

  private scan(scan: ScanExpr): Produces {
    const outer = this.env;
    const inner = new Env(outer);
    if (scan.sequences.length === 0) {
      const keyword = { ...scan.span, length: 4, endOffset: scan.span.offset + 4 };
      this.report(createDiagnostic(Diagnostics.ScanWithoutSequence, {}, keyword));
    }
    const bindings = [...scan.sequences, ...scan.carries].sort((a, b) => a.span.offset - b.span.offset);
    for (const binding of bindings) {
      const valueKind = this.expr(binding.kind === "ScanSequence" ? binding.source : binding.init);
      const name = binding.name.name;
      if (name === "_") {
        this.report(createDiagnostic(Diagnostics.DiscardDeclared, { what: "a scan variable" }, binding.name.span));
        continue;
      }
      const previous = inner.own(name);
      if (previous !== undefined) {
        this.report(
          createDiagnostic(Diagnostics.DuplicateDeclaration, { what: "scan variable", name }, binding.name.span, {
            related: [{ message: "first declared here", span: previous.span }],
          }),
        );
        continue;
      }
      const kind = binding.kind === "ScanSequence" ? "sequence" : "carry";
      inner.bind(name, { kind, valueKind: kind === "sequence" ? "tensor" : valueKind, span: binding.name.span });
    }

    const wasInScan = this.inScan;
    this.env = inner;
    this.inScan = true;
    this.statements(scan.body);
    this.env = outer;
    this.inScan = wasInScan;

    const yields = checkScanBody(scan, this.report);
    const yielded = yields[0]?.values.length ?? 0;
    return { what: "this scan", maxResults: yielded + scan.carries.length };
  }

  // ---- expressions -----------------------------------------------------------------------------------

  /** Checks an expression and returns the kind of its value. */
  private expr(e: Expr): ValueKind {
    switch (e.kind) {
      case "Name":
        return this.name(e);
      case "Number":
        return e.isInteger ? "int" : "float";
      case "Bool":
        return "bool";
      case "String":
        return "string";
      case "Dtype":
        return "dtype";
      case "List":
        e.items.forEach((item) => this.expr(item));
        return "list";
      case "Unary":
        return arithmeticKind(this.expr(e.operand), "int");
      case "Binary": {
        const left = this.expr(e.left);
        const right = this.expr(e.right);
        if (e.op === "+" || e.op === "-" || e.op === "*" || e.op === "/") return arithmeticKind(left, right);
        return left === "tensor" || right === "tensor" ? "tensor" : "bool";
      }
      case "Call":
        return this.call(e);
      case "Attention":
        return this.attention(e);
      case "BlockUse":
        return this.blockUse(e);
      case "Invalid":
        return "unknown";
    }
  }

  private name(e: NameExpr): ValueKind {
    if (e.name === "_") {
      this.report(createDiagnostic(Diagnostics.DiscardRead, {}, e.span));
      return "unknown";
    }
    const binding = this.env.lookup(e.name);
    if (binding !== undefined) return binding.valueKind;
    if (this.decl.incomplete) return "unknown"; // it may be a parameter that a syntax error lost
    if (this.pendingParams.has(e.name)) {
      this.report(
        createDiagnostic(Diagnostics.HyperparameterBeforeDefinition, { name: e.name }, e.span, {
          hint: "defaults are evaluated left to right; move it earlier",
        }),
      );
      return "unknown";
    }
    if (this.symbols.has(e.name)) {
      this.report(
        createDiagnostic(Diagnostics.SymbolicDimensionAsValue, { name: e.name }, e.span, {
          hint: "symbolic dimensions can only appear in shapes: input and output types, `reshape` and `split` sizes",
        }),
      );
      return "unknown";
    }
    const assigned = this.assignments.get(e.name);
    if (assigned !== undefined && assigned.offset > e.span.offset) {
      this.report(
        createDiagnostic(Diagnostics.UsedBeforeAssignment, { name: e.name }, e.span, {
          related: [{ message: "assigned here", span: assigned }],
        }),
      );
      return "unknown";
    }
    const guess = suggest(e.name, this.env.visibleNames());
    const hint = guess
      ? format(Hints.DidYouMean, { name: guess })
      : findLayer(e.name)
        ? `\`${e.name}\` is a function; call it: \`${e.name}(...)\``
        : undefined;
    this.report(createDiagnostic(Diagnostics.UndefinedName, { name: e.name }, e.span, { hint }));
    return "unknown";
  }

  /** Records a call that creates parameters; `asStatement` judges them when the statement is done. */
  private parameterCall(callee: string, bare: string, span: SourceSpan): void {
    this.statement?.parameterCalls.push({ callee, bare, span });
  }

  /**
   * A statement names the parameters of one layer (its scope is the statement's `as` name or first
   * target), so a second call that creates parameters, or any in a `yield`, is an error.
   */
  private judgeParameterCalls(state: StatementState): void {
    const calls = [...state.parameterCalls].sort((a, b) => a.span.offset - b.span.offset);
    calls.forEach((call, i) => {
      const hint = format(Hints.BindFirst, { callee: call.bare });
      if (state.isYield) {
        this.report(createDiagnostic(Diagnostics.UnnamedParameters, { callee: call.callee }, call.span, { hint }));
      } else if (i > 0) {
        this.report(
          createDiagnostic(Diagnostics.SecondParameterLayer, { callee: call.callee, first: calls[0].callee }, call.span, {
            hint,
            related: [{ message: `${calls[0].callee} is called here`, span: calls[0].span }],
          }),
        );
      }
    });
  }

  /** Resolves names in arguments that cannot be checked against a signature (unknown callee). */
  private argsOnly(args: readonly Expr[], named: readonly { value: Expr }[]): void {
    for (const a of args) this.expr(a);
    for (const a of named) this.expr(a.value);
  }

  private call(e: CallExpr): ValueKind {
    const name = e.callee.name;
    const spec = findLayer(name);
    if (spec === undefined) {
      const block = this.table.lookup(this.file, name);
      if (block !== undefined) {
        this.report(createDiagnostic(Diagnostics.BlockUsedAsFunction, { name }, e.callee.span));
      } else {
        const guess = suggest(name, layerNames());
        const hint = guess
          ? format(Hints.DidYouMean, { name: guess })
          : attentionKindNames().includes(name)
            ? `attention is written \`attention ${name}(query, keys, ...)\``
            : undefined;
        this.report(createDiagnostic(Diagnostics.UnknownLayer, { name }, e.callee.span, { hint }));
      }
      this.unresolved();
      this.argsOnly(e.args, e.named);
      return "unknown";
    }
    checkCallArgs(this, { ...e, callee: quote(name), calleeName: e.callee }, spec.args, spec.variadic);
    if (spec.params.length > 0) this.parameterCall(quote(name), name, e.callee.span);
    return "tensor";
  }

  private attention(e: AttentionExpr): ValueKind {
    const kind = e.attentionKind.name;
    const spec = findAttentionKind(kind);
    if (spec === undefined) {
      const guess = suggest(kind, attentionKindNames());
      this.report(
        createDiagnostic(Diagnostics.UnknownAttentionKind, { name: kind }, e.attentionKind.span, {
          hint: guess ? format(Hints.DidYouMean, { name: guess }) : `the kinds are ${attentionKindNames().join(", ")}`,
        }),
      );
      this.unresolved();
      this.argsOnly(e.args, e.named);
      return "tensor";
    }
    const callee = `attention ${quote(kind)}`;
    checkCallArgs(this, { ...e, callee, calleeName: e.attentionKind }, [...attentionPositional, ...spec.options]);
    if (spec.params.length > 0) this.parameterCall(callee, `attention ${kind}`, e.attentionKind.span);
    return "tensor";
  }

  private blockUse(use: BlockUse): ValueKind {
    const name = use.block.name;
    const decl = this.table.lookup(this.file, name);
    if (decl === undefined) {
      const elsewhere = this.table.anywhere(name);
      const guess = suggest(name, this.table.visibleNames(this.file));
      const hint = findLayer(name)
        ? `\`${name}\` is a layer, not a block: call it with one argument list, \`${name}(...)\``
        : elsewhere
          ? `\`${name}\` is declared in ${elsewhere.span.file}; import that file`
          : guess
            ? format(Hints.DidYouMean, { name: guess })
            : undefined;
      this.report(createDiagnostic(Diagnostics.UnknownBlock, { name }, use.block.span, { hint }));
      this.unresolved();
      this.argsOnly([...use.args, ...use.inputs], use.named);
      return "unknown";
    }
    checkBlockArgs(this, use, decl);
    if (use.inputs.length !== decl.inputs.length && !(use.incomplete && use.inputs.length < decl.inputs.length)) {
      const span = use.inputs[decl.inputs.length]?.span ?? use.block.span;
      this.report(
        createDiagnostic(
          Diagnostics.BlockArity,
          { name, expected: plural(decl.inputs.length, "input"), count: use.inputs.length },
          span,
          { hint: decl.inputs.length > 0 ? `its inputs are ${decl.inputs.map((i) => quote(i.name.name)).join(", ")}` : undefined },
        ),
      );
    }
    for (const input of use.inputs) this.expr(input);
    if (this.table.hasParameters(decl)) this.parameterCall(`block ${quote(name)}`, `${name}(...)`, use.block.span);
    return "tensor";
  }

  private unresolved(): void {
    if (this.statement !== undefined) this.statement.unresolved = true;
  }

  /** Runs `check` as one statement (see `parameterCall`), restoring the enclosing one afterwards. */
  private asStatement<T>(isYield: boolean, check: (state: StatementState) => T): T {
    const outer = this.statement;
    const state: StatementState = { isYield, parameterCalls: [], unresolved: false };
    this.statement = state;
    try {
      return check(state);
    } finally {
      this.statement = outer;
      this.judgeParameterCalls(state);
    }
  }

  // ---- ArgContext ------------------------------------------------------------------------------------

  valueKind(expr: Expr): ValueKind {
    return this.expr(expr);
  }

  isBound(name: string): boolean {
    return this.env.lookup(name) !== undefined;
  }

  dimName(e: NameExpr): void {
    const binding = this.env.lookup(e.name);
    if (binding !== undefined) {
      if (binding.valueKind !== "int" && binding.valueKind !== "unknown") {
        this.report(createDiagnostic(Diagnostics.DimensionType, { name: e.name, found: describeKind(binding.valueKind) }, e.span));
      }
      return;
    }
    if (this.symbols.has(e.name) || this.decl.incomplete) return;
    const candidates = [...this.symbols, ...this.env.visibleNames().filter((n) => this.env.lookup(n)?.valueKind === "int")];
    const guess = suggest(e.name, candidates);
    this.report(
      createDiagnostic(Diagnostics.UnknownDimension, { name: e.name }, e.span, {
        hint: guess
          ? format(Hints.DidYouMean, { name: guess })
          : "a dimension must be an integer, a hyperparameter or a symbolic dimension of an input (such as `B`)",
      }),
    );
  }
}
