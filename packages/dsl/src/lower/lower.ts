import {
  AttnError, GraphBuilder, dimAdd, dimDiv, dimMul, dimSub, formatType, ShapeError,
  type Dim, type Graph, type TensorType, type ValueId,
} from "@attn/core";
import type * as A from "../ast/ast.js";
import { Diagnostics, Hints, format } from "../diagnostics/messages.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { suggest } from "../diagnostics/suggest.js";
import { attentionPositional, findAttentionKind, findLayer, type ArgSpec } from "../layers/catalogue.js";
import { Args } from "./args.js";
import type { EmitContext } from "./emit-context.js";
import { LowerEnv } from "./env.js";
import { Frame } from "./frame.js";
import { EMITTERS, emitAttention, type AttentionKind } from "./layers/index.js";
import { LowerError, PoisonedError } from "./lower-error.js";
import { describeVal, type ArgVal, type Val } from "./values.js";
import { readTrainConfig, type TrainConfig } from "./train-config.js";

/** Hyperparameter values given from outside (`attn run --set hidden=32`). */
export type HyperValues = Readonly<Record<string, number | boolean | string>>;

/** Where one statement is being lowered. */
interface StmtCtx {
  /** The parameter scope the statement creates (its `as` name or first target). */
  readonly scope: string | undefined;
  readonly frame: Frame;
  readonly env: LowerEnv;
}

const TENSOR_OPS: Record<A.BinaryExpr["op"], string> = {
  "+": "add", "-": "sub", "*": "mul", "/": "div", "==": "equal", "!=": "not_equal", "<": "less", ">": "greater",
};

/**
 * Lowers one model of a checked program to an IR graph. Shapes are inferred while nodes are added, so a
 * shape mistake is reported at the statement that made it; each failing statement becomes one diagnostic
 * and the rest of the model is still lowered (values of failed statements are "poisoned" and stay quiet).
 */
export class Lowerer {
  readonly diagnostics: Diagnostic[] = [];
  /** The model's `train { }` section, read after lowering. */
  train?: TrainConfig;
  private root!: Frame;
  private scopePath: string[] = [];
  private readonly attentionWeights = new Set<ValueId>();
  private fresh = 0;

  constructor(private readonly program: A.Program) {}

  lowerModel(decl: A.ModelDecl, overrides: HyperValues = {}): Graph | undefined {
    const symbols = new Map<string, Dim>();
    const env = new LowerEnv(symbols);
    this.bindHyperparameters(decl, env, overrides);
    for (const s of this.collectSymbols(decl, env)) symbols.set(s, s);
    this.root = new Frame(new GraphBuilder(decl.name.name));
    const b = this.root.builder;
    for (const inp of decl.inputs) {
      this.attempt(inp.span, () => {
        const type = this.tensorType(inp.type, env);
        env.bind(inp.name.name, { kind: "tensor", frame: this.root, id: b.input(inp.name.name, type) });
      }, () => env.bind(inp.name.name, { kind: "poison" }));
    }
    this.lowerStmts(decl.body, env, this.root, true);
    const declared = new Set<string>();
    for (const out of decl.outputs) {
      declared.add(out.name.name);
      this.attempt(out.span, () => {
        const id = this.outputValue(out, env, this.root, decl.name.name);
        b.output(out.name.name, id, this.attentionWeights.has(id) ? "attention" : undefined);
      });
    }
    // Attention weights named at the top level are inspectable: they become extra outputs.
    for (const [name, id] of this.namedWeights) if (!declared.has(name)) b.output(name, id, "attention");
    const train = decl.train;
    if (train) {
      this.attempt(train.span, () => {
        const sc: StmtCtx = { scope: undefined, frame: this.root, env };
        this.train = readTrainConfig(train, decl.name.name, decl.outputs.map((o) => o.name.name), (e) => this.expr1(e, sc));
      });
    }
    if (this.diagnostics.some((d) => d.severity === "error")) return undefined;
    return b.build(decl.span);
  }

  private readonly namedWeights = new Map<string, ValueId>();

  // ---- hyperparameters, symbols, types ---------------------------------------------------------------

  private bindHyperparameters(decl: A.ModelDecl, env: LowerEnv, overrides: HyperValues): void {
    const names = decl.params.map((p) => p.name.name);
    for (const key of Object.keys(overrides)) {
      if (!names.includes(key)) {
        const guess = suggest(key, names);
        this.report(new LowerError(Diagnostics.UnknownHyperparameter, { model: decl.name.name, name: key }, decl.name.span, guess ? format(Hints.DidYouMean, { name: guess }) : names.length ? `its hyperparameters are ${names.join(", ")}` : undefined), decl.span);
      }
    }
    const sc: StmtCtx = { scope: undefined, frame: undefined as unknown as Frame, env };
    for (const p of decl.params) {
      const given = overrides[p.name.name];
      this.attempt(p.span, () => {
        const dflt = p.defaultValue ? this.expr1(p.defaultValue, sc) : undefined;
        let value: Val;
        if (given === undefined) value = dflt ?? { kind: "poison" };
        else {
          value = typeof given === "number" ? { kind: "number", value: given } : typeof given === "boolean" ? { kind: "bool", value: given } : { kind: "string", value: given };
          const isInt = (v: Val) => v.kind === "number" && Number.isInteger(v.value);
          if (dflt && (dflt.kind !== value.kind || (isInt(dflt) && !isInt(value)))) {
            const expected = isInt(dflt) ? "an integer" : dflt.kind === "number" ? "a number" : dflt.kind === "bool" ? "true or false" : "a string";
            throw new LowerError(Diagnostics.HyperparameterValue, { name: p.name.name, expected, found: describeVal(value) }, p.name.span);
          }
        }
        env.bind(p.name.name, { kind: "value", value });
      }, () => env.bind(p.name.name, { kind: "poison" }));
    }
  }

  /** Names in input and output shapes that are not hyperparameters: the symbolic dims. */
  private collectSymbols(decl: A.Decl, env: LowerEnv): Set<string> {
    const out = new Set<string>();
    const walk = (e: A.Expr) => {
      if (e.kind === "Name" && !env.lookup(e.name)) out.add(e.name);
      else if (e.kind === "Binary") {
        walk(e.left);
        walk(e.right);
      } else if (e.kind === "Unary") walk(e.operand);
    };
    for (const io of [...decl.inputs, ...decl.outputs]) {
      if (io.type && io.type.kind === "TensorType") io.type.dims.forEach(walk);
    }
    return out;
  }

  private dim(e: A.Expr, env: LowerEnv): Dim {
    switch (e.kind) {
      case "Number":
        if (!Number.isInteger(e.value)) break;
        return e.value;
      case "Name": {
        const sym = env.symbol(e.name);
        if (sym !== undefined && !env.lookup(e.name)) return sym;
        const v = this.expr1(e, { scope: undefined, frame: this.root, env });
        if (v.kind === "number" && Number.isInteger(v.value)) return v.value;
        if (v.kind === "dim") return v.dim;
        throw new LowerError(Diagnostics.DimensionType, { name: e.name, found: describeVal(v) }, e.span);
      }
      case "Unary":
        return dimMul(-1, this.dim(e.operand, env));
      case "Binary": {
        const l = this.dim(e.left, env);
        const r = this.dim(e.right, env);
        if (e.op === "+") return dimAdd(l, r);
        if (e.op === "-") return dimSub(l, r);
        if (e.op === "*") return dimMul(l, r);
        if (e.op === "/") {
          const q = dimDiv(l, r);
          if (q !== undefined) return q;
        }
        break;
      }
    }
    throw new LowerError(Diagnostics.NonIntegerDimension, { dim: `\`${exprText(e)}\`` }, e.span);
  }

  private tensorType(t: A.TensorType | A.Invalid, env: LowerEnv): TensorType {
    if (t.kind === "Invalid") throw new PoisonedError();
    return { dtype: t.dtype, shape: t.dims.map((d) => this.dim(d, env)) };
  }

  // ---- statements --------------------------------------------------------------------------------------

  private lowerStmts(stmts: readonly A.Stmt[], env: LowerEnv, frame: Frame, topLevel: boolean): void {
    for (const s of stmts) {
      if (s.kind === "Assign") this.lowerAssign(s, env, frame, topLevel);
      else if (s.kind === "Scope") {
        this.scopePath.push(s.name.name);
        this.lowerStmts(s.body, env, frame, topLevel);
        this.scopePath.pop();
      }
    }
  }

  private lowerAssign(stmt: A.Assign, env: LowerEnv, frame: Frame, topLevel: boolean): void {
    const scope = stmt.scopeName?.name ?? stmt.targets.find((t) => !t.discard)?.name;
    const sc: StmtCtx = { scope, frame, env };
    this.attempt(stmt.span, () => {
      const results = this.value(stmt.value, sc);
      stmt.targets.forEach((t, i) => {
        if (t.discard) return;
        const v = results[i];
        if (!v) throw new LowerError(Diagnostics.ResultCount, { what: "this expression", expected: `${results.length} value(s)`, count: `${stmt.targets.length} targets` }, t.span);
        if (v.kind === "tensor") {
          frame.builder.rename(v.id, t.name);
          env.bind(t.name, { kind: "tensor", frame, id: v.id });
        } else env.bind(t.name, { kind: "value", value: v });
      });
      const w = stmt.targets[1];
      if (stmt.value.kind === "Attention" && w && !w.discard && results[1]?.kind === "tensor") {
        const id = results[1].id;
        if (frame === this.root) {
          this.attentionWeights.add(id);
          if (topLevel) this.namedWeights.set(w.name, id);
        }
      }
    }, () => stmt.targets.forEach((t) => !t.discard && env.bind(t.name, { kind: "poison" })));
  }

  /** Runs `fn`; a lowering or shape error becomes a diagnostic, and `onError` poisons what `fn` would bind. */
  private attempt(span: A.SourceSpan, fn: () => void, onError?: () => void): void {
    try {
      fn();
    } catch (e) {
      this.report(e, span);
      onError?.();
    }
  }

  private report(e: unknown, fallback: A.SourceSpan): void {
    if (e instanceof PoisonedError) return;
    if (e instanceof LowerError) {
      this.diagnostics.push({ code: e.code, severity: "error", message: e.message, span: e.span, ...(e.hint ? { hint: e.hint } : {}) });
      return;
    }
    if (e instanceof AttnError) {
      const span = (e.span as A.SourceSpan | undefined) ?? fallback;
      this.diagnostics.push({ code: Diagnostics.ShapeMismatch.code, severity: "error", message: e.detail, span });
      return;
    }
    throw e;
  }

  private value(v: A.Assign["value"], sc: StmtCtx): Val[] {
    if (v.kind === "Repeat") return this.repeat(v, sc);
    if (v.kind === "Scan") return this.scan(v, sc);
    return this.expr(v, sc);
  }

  // ---- expressions -----------------------------------------------------------------------------------

  private expr1(e: A.Expr, sc: StmtCtx): Val {
    const r = this.expr(e, sc)[0];
    if (!r) throw new LowerError(Diagnostics.ResultCount, { what: "this expression", expected: "no value", count: "one" }, e.span);
    return r;
  }

  private tensorOf(v: Val, span: A.SourceSpan, what = "this value"): ValueId {
    if (v.kind === "tensor") return v.id;
    if (v.kind === "poison") throw new PoisonedError();
    throw new LowerError(Diagnostics.ExpectedTensor, { what, found: describeVal(v) }, span);
  }

  private expr(e: A.Expr, sc: StmtCtx): Val[] {
    switch (e.kind) {
      case "Name":
        return [this.name(e, sc)];
      case "Number":
        return [{ kind: "number", value: e.value }];
      case "Bool":
        return [{ kind: "bool", value: e.value }];
      case "String":
        return [{ kind: "string", value: e.value }];
      case "Dtype":
        return [{ kind: "dtype", value: e.dtype }];
      case "List":
        return [{ kind: "list", items: e.items.map((i) => this.expr1(i, sc)) }];
      case "Unary": {
        const v = this.expr1(e.operand, sc);
        if (v.kind === "number") return [{ kind: "number", value: -v.value }];
        if (v.kind === "dim") return [{ kind: "dim", dim: dimMul(-1, v.dim) }];
        return [{ kind: "tensor", id: this.emit(sc, e.span, "-").add1("neg", [this.tensorOf(v, e.operand.span)]) }];
      }
      case "Binary":
        return [this.binary(e, sc)];
      case "Call":
        return this.call(e, sc);
      case "Attention":
        return this.attention(e, sc);
      case "BlockUse":
        return this.blockUse(e, sc, sc.scope);
      case "Invalid":
        throw new PoisonedError();
    }
  }

  private name(e: A.NameExpr, sc: StmtCtx): Val {
    const b = sc.env.lookup(e.name);
    if (b?.kind === "tensor") return { kind: "tensor", id: sc.frame.resolve(b.frame, b.id) };
    if (b?.kind === "value") return b.value;
    if (b?.kind === "poison") throw new PoisonedError();
    const sym = sc.env.symbol(e.name);
    if (sym !== undefined) return { kind: "dim", dim: sym };
    throw new LowerError(Diagnostics.UndefinedName, { name: e.name }, e.span);
  }

  private binary(e: A.BinaryExpr, sc: StmtCtx): Val {
    const l = this.expr1(e.left, sc);
    const r = this.expr1(e.right, sc);
    if (l.kind === "poison" || r.kind === "poison") throw new PoisonedError();
    if (l.kind === "tensor" || r.kind === "tensor") return this.tensorBinary(e, l, r, sc);
    const cmp = { "==": (a: number, b: number) => a === b, "!=": (a: number, b: number) => a !== b, "<": (a: number, b: number) => a < b, ">": (a: number, b: number) => a > b } as const;
    if (l.kind === "number" && r.kind === "number") {
      if (e.op in cmp) return { kind: "bool", value: cmp[e.op as keyof typeof cmp](l.value, r.value) };
      const v = e.op === "+" ? l.value + r.value : e.op === "-" ? l.value - r.value : e.op === "*" ? l.value * r.value : l.value / r.value;
      return { kind: "number", value: v };
    }
    if ((l.kind === "number" || l.kind === "dim") && (r.kind === "number" || r.kind === "dim") && e.op in { "+": 1, "-": 1, "*": 1, "/": 1 }) {
      const a = l.kind === "number" ? l.value : l.dim;
      const b = r.kind === "number" ? r.value : r.dim;
      const d = e.op === "+" ? dimAdd(a, b) : e.op === "-" ? dimSub(a, b) : e.op === "*" ? dimMul(a, b) : dimDiv(a, b);
      if (d !== undefined) return typeof d === "number" ? { kind: "number", value: d } : { kind: "dim", dim: d };
    }
    if (l.kind === "bool" && r.kind === "bool" && (e.op === "==" || e.op === "!=")) return { kind: "bool", value: (l.value === r.value) === (e.op === "==") };
    throw new LowerError(Diagnostics.OperandTypes, { op: e.op, left: describeVal(l), right: describeVal(r) }, e.span);
  }

  /** Tensor arithmetic and comparisons; a number or boolean operand becomes a scalar constant of the tensor's dtype. */
  private tensorBinary(e: A.BinaryExpr, l: Val, r: Val, sc: StmtCtx): Val {
    const ctx = this.emit(sc, e.span, `\`${e.op}\``);
    const dtypeOf = (v: Val) => (v.kind === "tensor" ? ctx.typeOf(v.id).dtype : undefined);
    const dtype = dtypeOf(l) ?? dtypeOf(r)!;
    const operand = (v: Val, span: A.SourceSpan): ValueId => {
      if (v.kind === "tensor") return v.id;
      if (v.kind === "number" && (dtype === "float32" || (dtype === "int32" && Number.isInteger(v.value)))) return ctx.constant([v.value], [], dtype);
      if (v.kind === "bool" && dtype === "bool") return ctx.constant([v.value ? 1 : 0], [], "bool");
      throw new LowerError(Diagnostics.OperandTypes, { op: e.op, left: l.kind === "tensor" ? `a ${dtype} tensor` : describeVal(l), right: r.kind === "tensor" ? `a ${dtype} tensor` : describeVal(r) }, span);
    };
    return { kind: "tensor", id: ctx.add1(TENSOR_OPS[e.op], [operand(l, e.left.span), operand(r, e.right.span)]) };
  }

  /** Evaluates call arguments against their catalogue specs (bare words for word options, `none` for absent tensors). */
  private args(callee: string, span: A.SourceSpan, specs: readonly ArgSpec[], positional: readonly A.Expr[], named: readonly A.NamedArg[], sc: StmtCtx): Args {
    const pos: ArgVal[] = positional.map((p) => ({ value: this.expr1(p, sc), span: p.span }));
    const byName = new Map<string, ArgVal>();
    for (const n of named) {
      const spec = specs.find((s) => s.name === n.name.name);
      const bare = n.value.kind === "Name" && !sc.env.lookup(n.value.name) ? n.value.name : undefined;
      if (spec && typeof spec.type === "object" && bare !== undefined) byName.set(n.name.name, { value: { kind: "string", value: bare }, span: n.value.span });
      else if (spec?.type === "tensor" && bare === "none") continue;
      else byName.set(n.name.name, { value: this.expr1(n.value, sc), span: n.value.span });
    }
    return new Args(callee, span, specs, pos, byName);
  }

  private call(e: A.CallExpr, sc: StmtCtx): Val[] {
    const name = e.callee.name;
    const spec = findLayer(name);
    const emitter = EMITTERS[name];
    if (!spec || !emitter) throw new LowerError(Diagnostics.UnknownLayer, { name }, e.callee.span);
    const args = this.args(name, e.span, spec.args, e.args, e.named, sc);
    return emitter(this.emit(sc, e.span, `\`${name}\``), args).map((id) => ({ kind: "tensor", id }));
  }

  private attention(e: A.AttentionExpr, sc: StmtCtx): Val[] {
    const kind = e.attentionKind.name;
    const spec = findAttentionKind(kind);
    if (!spec) throw new LowerError(Diagnostics.UnknownAttentionKind, { name: kind }, e.attentionKind.span);
    const callee = `\`attention ${kind}\``;
    const args = this.args(callee, e.span, [...attentionPositional, ...spec.options], e.args, e.named, sc);
    return emitAttention(kind as AttentionKind, this.emit(sc, e.span, callee), args).map((id) => ({ kind: "tensor", id }));
  }

  /** The emit context of one call: nodes carry the call's span; parameters go to the root graph, captured where needed. */
  private emit(sc: StmtCtx, span: A.SourceSpan, callee: string): EmitContext {
    const b = sc.frame.builder;
    const root = this.root;
    const path = [...this.scopePath];
    return {
      b,
      span,
      callee,
      param: (local, shape, init) => {
        if (!sc.scope) throw new LowerError(Diagnostics.DiscardAsScope, {}, span, format(Hints.AddScopeName, {}));
        const id = root.builder.param([...path, sc.scope, local].join("."), { dtype: "float32", shape }, init, span);
        return sc.frame.resolve(root, id);
      },
      constant: (data, shape, dtype = "float32") => b.add1("constant", [], { value: { dtype, shape, data } as never }, { span }),
      typeOf: (id) => b.typeOf(id),
      add: (op, inputs, attrs = {}) => b.add(op, inputs, attrs as never, { span }),
      add1: (op, inputs, attrs = {}) => b.add1(op, inputs, attrs as never, { span }),
    };
  }

  // ---- blocks, repeat, scan ------------------------------------------------------------------------

  private findDecl(name: string): A.Decl | undefined {
    return this.program.blocks.find((b) => b.name.name === name) ?? this.program.models.find((m) => m.name.name === name);
  }

  private repeat(r: A.RepeatExpr, sc: StmtCtx): Val[] {
    const count = this.expr1(r.count, sc);
    if (count.kind !== "number" || !Number.isInteger(count.value) || count.value < 1) {
      throw new LowerError(Diagnostics.InvalidRepeatCount, { found: describeVal(count) }, r.count.span);
    }
    const inputs = r.use.inputs.map((e) => this.tensorOf(this.expr1(e, sc), e.span, "a block input"));
    let outs: Val[] = [];
    for (let i = 0; i < count.value; i++) {
      outs = this.blockUse(r.use, sc, `${sc.scope}.${i}`, inputs);
      inputs[0] = this.tensorOf(outs[0], r.use.span);
    }
    return outs;
  }

  /** Inlines a block: binds its parameters and inputs (renaming its symbolic dims per use), lowers its body. */
  private blockUse(use: A.BlockUse, sc: StmtCtx, scope: string | undefined, given?: ValueId[]): Val[] {
    const decl = this.findDecl(use.block.name);
    if (!decl) throw new LowerError(Diagnostics.UnknownBlock, { name: use.block.name }, use.block.span);
    const inputs = given ?? use.inputs.map((e) => this.tensorOf(this.expr1(e, sc), e.span, "a block input"));
    const symbols = new Map<string, Dim>();
    const env = new LowerEnv(symbols);
    decl.params.forEach((p, i) => {
      const named = use.named.find((n) => n.name.name === p.name.name);
      const expr = named?.value ?? use.args[i];
      const value = expr ? this.expr1(expr, sc) : p.defaultValue ? this.expr1(p.defaultValue, { scope: undefined, frame: sc.frame, env }) : undefined;
      if (!value) throw new LowerError(Diagnostics.MissingArgument, { callee: `block \`${decl.name.name}\``, name: p.name.name }, use.span);
      env.bind(p.name.name, { kind: "value", value });
    });
    for (const s of this.collectSymbols(decl, env)) symbols.set(s, `${s}__${++this.fresh}`);
    const b = sc.frame.builder;
    decl.inputs.forEach((inp, i) => {
      const declared = this.tensorType(inp.type, env);
      const actual = b.typeOf(inputs[i]);
      const span = use.inputs[i]?.span ?? use.span;
      this.conform(declared, actual, b, () =>
        new LowerError(Diagnostics.BlockInputMismatch, { name: inp.name.name, block: decl.name.name, declared: formatType(this.display(declared, b)), actual: formatType(actual) }, span));
      env.bind(inp.name.name, { kind: "tensor", frame: sc.frame, id: inputs[i] });
    });
    const saved = this.scopePath;
    this.scopePath = scope === undefined ? [...saved] : [...saved, scope];
    try {
      this.lowerStmts(decl.body, env, sc.frame, false);
    } finally {
      this.scopePath = saved;
    }
    return decl.outputs.map((o) => ({ kind: "tensor", id: this.outputValue(o, env, sc.frame, `block \`${decl.name.name}\``) }));
  }

  /**
   * Makes a declared type (a block input, a typed output) agree with the actual one, binding the declared
   * side's symbols to the actual dims (not the other way round, so callers keep their names).
   */
  private conform(declared: TensorType, actual: TensorType, b: GraphBuilder, mismatch: () => LowerError): void {
    if (declared.dtype !== actual.dtype || declared.shape.length !== actual.shape.length) throw mismatch();
    try {
      declared.shape.forEach((d, k) => b.env.unify(actual.shape[k], d, "declared type"));
    } catch (e) {
      if (e instanceof ShapeError) throw mismatch();
      throw e;
    }
  }

  /** A type for messages, with per-use symbol names mapped back to what they were bound to. */
  private display(t: TensorType, b: GraphBuilder): TensorType {
    return { dtype: t.dtype, shape: t.shape.map((d) => b.env.resolve(d)) };
  }

  /** The value bound to an output, checked against its declared type. */
  private outputValue(o: A.OutputDecl, env: LowerEnv, frame: Frame, owner: string): ValueId {
    const bnd = env.lookup(o.name.name);
    if (!bnd || bnd.kind === "poison") throw new PoisonedError();
    if (bnd.kind !== "tensor") throw new LowerError(Diagnostics.ExpectedTensor, { what: `output \`${o.name.name}\` of ${owner}`, found: describeVal(bnd.value) }, o.name.span);
    const id = frame.resolve(bnd.frame, bnd.id);
    if (o.type) {
      const declared = this.tensorType(o.type, env);
      const actual = frame.builder.typeOf(id);
      this.conform(declared, actual, frame.builder, () =>
        new LowerError(Diagnostics.OutputTypeMismatch, { name: o.name.name, declared: formatType(this.display(declared, frame.builder)), actual: formatType(actual) }, o.type!.span));
    }
    return id;
  }

  /**
   * `scan (e over seq, h = h0) { ... yield ... }`: the body becomes a subgraph whose inputs are the carries,
   * one slice per sequence and the captured outer values; results are the stacked yields, then the final carries.
   */
  private scan(s: A.ScanExpr, sc: StmtCtx): Val[] {
    const parent = sc.frame;
    const pb = parent.builder;
    const seqs = s.sequences.map((q) => ({ name: q.name.name, id: this.tensorOf(this.expr1(q.source, sc), q.source.span, `sequence \`${q.name.name}\``), span: q.source.span }));
    const carries = s.carries.map((c) => ({ name: c.name.name, id: this.tensorOf(this.expr1(c.init, sc), c.init.span, `initial value of \`${c.name.name}\``) }));
    const body = new Frame(pb.subgraph(`${sc.scope ?? "scan"}_step`), parent);
    const env = new LowerEnv(new Map(), sc.env);
    for (const c of carries) env.bind(c.name, { kind: "tensor", frame: body, id: body.builder.input(c.name, pb.typeOf(c.id)) });
    for (const q of seqs) {
      const t = pb.typeOf(q.id);
      if (t.shape.length < 2) throw new LowerError(Diagnostics.ExpectedTensor, { what: `sequence \`${q.name}\` (scanned along axis 1)`, found: `a tensor of type ${formatType(t)}` }, q.span);
      env.bind(q.name, { kind: "tensor", frame: body, id: body.builder.input(q.name, { dtype: t.dtype, shape: t.shape.filter((_, k) => k !== 1) }) });
    }
    this.lowerStmts(s.body, env, body, false);
    const inner: StmtCtx = { scope: undefined, frame: body, env };
    const y = s.body.find((st): st is A.YieldStmt => st.kind === "Yield");
    const yields = (y?.values ?? []).map((v) => this.tensorOf(this.expr1(v, inner), v.span, "a yielded value"));
    const finals = carries.map((c) => this.tensorOf(this.name({ kind: "Name", name: c.name, span: s.span }, inner), s.span));
    finals.forEach((id, i) => body.builder.output(carries[i].name, id));
    yields.forEach((id, i) => body.builder.output(`yield_${i}`, id));
    const graph = body.builder.build(s.span);
    const outs = pb.add("scan", [...carries.map((c) => c.id), ...seqs.map((q) => q.id), ...body.captureOrder], { body: graph as never, numCarries: carries.length, numSequences: seqs.length }, { span: s.span });
    return [...outs.slice(carries.length), ...outs.slice(0, carries.length)].map((id) => ({ kind: "tensor", id }));
  }
}

/** A dimension expression as written (for messages). */
function exprText(e: A.Expr): string {
  switch (e.kind) {
    case "Number":
      return String(e.value);
    case "Name":
      return e.name;
    case "Unary":
      return `-${exprText(e.operand)}`;
    case "Binary":
      return `${exprText(e.left)} ${e.op} ${exprText(e.right)}`;
    default:
      return "…";
  }
}
