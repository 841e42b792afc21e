/**
 * The layer, function and attention catalogue of the `.attn` language: for every name a call may use,
 * its arguments (positional and named, types, required or default), whether it creates parameters
 * (and which, with PyTorch's names) and how many results it gives.
 *
 * This is the single source of truth: the checker (check/resolve.ts) validates calls against it, and
 * the lowering reads the same entries (defaults, parameter names) instead of repeating them.
 */

/** What an argument accepts. Checked without shapes: only literal kinds can be wrong here. */
export type ArgType =
  /** A tensor (a name bound to one, or any tensor expression); a number is a scalar constant. */
  | "tensor"
  | "int"
  /** Any number. */
  | "number"
  | "bool"
  | "string"
  /** `float32`, `int32` or `bool`. */
  | "dtype"
  /** An integer or a list of integers: `axis: 1`, `axis: [1, 2]`, `kernel: 3`, `kernel: [3, 5]`. */
  | "ints"
  /** A list of dimensions: integers, hyperparameters and symbolic dims (`[B, S, 4, hidden/4]`). */
  | "dims"
  /** One bare word from the list: `select: argmax`, `score: dot`. */
  | { readonly oneOf: readonly string[] };

export type LiteralValue = number | boolean | string | readonly number[];

export interface ArgSpec {
  readonly name: string;
  readonly type: ArgType;
  /** Can be given by position (positional arguments come first, in catalogue order). */
  readonly positional?: boolean;
  /** Can be given as `name: value` (default true; tensors are positional only). */
  readonly keyword?: boolean;
  /** Must be given (otherwise ATTN2005). An optional argument without `default` means "absent". */
  readonly required?: boolean;
  readonly default?: LiteralValue;
  readonly doc?: string;
}

/** A trainable tensor a layer creates in its scope (`<scope>.<name>`). */
export interface ParamSpec {
  /** PyTorch's name, e.g. `weight_ih_l0`. */
  readonly name: string;
  /** Shape in terms of the arguments and `in` (the input's last dim); documentation for lowering. */
  readonly shape: string;
  /** PyTorch's default initialiser. */
  readonly init: string;
  /** Created only when this boolean argument is true (e.g. `bias`, `bidirectional`). */
  readonly when?: string;
}

export interface LayerSpec {
  readonly name: string;
  readonly args: readonly ArgSpec[];
  /** Extra positional tensors after the fixed ones (`concat(a, b, c, ...)`). */
  readonly variadic?: { readonly name: string; readonly min: number };
  readonly params: readonly ParamSpec[];
  /**
   * Result names, in order. A statement may take a prefix of them (`y = gru(...)` or `y, h = gru(...)`).
   * `"per-size"`: one result per entry of `sizes` (split).
   */
  readonly results: readonly string[] | "per-size";
  readonly doc: string;
}

// ---- argument helpers (keep the table below readable) --------------------------------------------

const tensor = (name: string): ArgSpec => ({ name, type: "tensor", positional: true, keyword: false, required: true });
const req = (name: string, type: ArgType, doc?: string): ArgSpec => ({ name, type, required: true, doc });
const opt = (name: string, type: ArgType, value?: LiteralValue, doc?: string): ArgSpec =>
  value === undefined ? { name, type, doc } : { name, type, default: value, doc };

const uniformIn = "uniform(±1/√in)";
const x = tensor("x");

function layer(
  name: string,
  args: ArgSpec[],
  doc: string,
  extra: Partial<Pick<LayerSpec, "params" | "results" | "variadic">> = {},
): LayerSpec {
  return { name, args, doc, params: extra.params ?? [], results: extra.results ?? ["y"], ...(extra.variadic ? { variadic: extra.variadic } : {}) };
}

const gruParams = (suffix: string, when?: string): ParamSpec[] =>
  [
    { name: `weight_ih${suffix}`, shape: "[3*hidden, in]" },
    { name: `weight_hh${suffix}`, shape: "[3*hidden, hidden]" },
    { name: `bias_ih${suffix}`, shape: "[3*hidden]" },
    { name: `bias_hh${suffix}`, shape: "[3*hidden]" },
  ].map((p) => ({ ...p, init: "uniform(±1/√hidden)", ...(when ? { when } : {}) }));

const elementwise = ["relu", "tanh", "sigmoid", "exp", "log", "sqrt", "abs", "silu"].map((name) =>
  layer(name, [x], `elementwise ${name}`),
);

const reduction = (name: string, op: string) =>
  layer(name, [x, req("axis", "ints"), opt("keepdims", "bool", false)], `${op} over \`axis\` (one or a list)`);

const pool = (name: string, op: string) =>
  layer(
    name,
    [x, req("kernel", "ints"), opt("stride", "ints", undefined, "defaults to the kernel"), opt("padding", "ints", 0)],
    op,
  );

export const layers: readonly LayerSpec[] = [
  // ---- layers with parameters ----
  layer("embedding", [tensor("ids"), req("vocab", "int"), req("dim", "int")], "lookup table", {
    params: [{ name: "weight", shape: "[vocab, dim]", init: "normal(0, 1)" }],
  }),
  layer("linear", [x, req("out", "int"), opt("bias", "bool", true)], "y = x Wᵀ + b", {
    params: [
      { name: "weight", shape: "[out, in]", init: uniformIn },
      { name: "bias", shape: "[out]", init: uniformIn, when: "bias" },
    ],
  }),
  layer(
    "gru",
    [x, req("hidden", "int"), opt("bidirectional", "bool", false), opt("h0", "tensor", undefined, "initial state [dirs, B, hidden]")],
    "PyTorch nn.GRU (batch first)",
    { params: [...gruParams("_l0"), ...gruParams("_l0_reverse", "bidirectional")], results: ["y", "h_n"] },
  ),
  layer("gru_cell", [x, tensor("h"), req("hidden", "int")], "PyTorch nn.GRUCell: one step", {
    params: gruParams(""),
    results: ["h"],
  }),
  layer("layernorm", [x, opt("eps", "number", 1e-5)], "normalises over the last dim", {
    params: [
      { name: "weight", shape: "[in]", init: "ones" },
      { name: "bias", shape: "[in]", init: "zeros" },
    ],
  }),
  layer(
    "conv2d",
    [
      x,
      req("out", "int"),
      req("kernel", "ints"),
      opt("stride", "ints", 1),
      opt("padding", "ints", 0),
      opt("dilation", "ints", 1),
      opt("groups", "int", 1),
      opt("bias", "bool", true),
    ],
    "2-D convolution over [B, C, H, W]",
    {
      params: [
        { name: "weight", shape: "[out, in/groups, kh, kw]", init: "uniform(±1/√(in/groups·kh·kw))" },
        { name: "bias", shape: "[out]", init: "uniform(±1/√(in/groups·kh·kw))", when: "bias" },
      ],
    },
  ),
  // ---- functions (no parameters) ----
  layer("dropout", [x, opt("p", "number", 0.1)], "identity at inference"),
  ...elementwise,
  layer("gelu", [x, opt("approximate", { oneOf: ["none", "tanh"] }, "none")], "GELU (exact erf by default)"),
  layer("softmax", [x, opt("axis", "int", -1)], "softmax along `axis`"),
  layer("log_softmax", [x, opt("axis", "int", -1)], "log-softmax along `axis`"),
  layer("concat", [opt("axis", "int", -1)], "concatenates along `axis`", { variadic: { name: "xs", min: 1 } }),
  layer("split", [x, req("sizes", "dims"), opt("axis", "int", -1)], "one result per size", { results: "per-size" }),
  layer("reshape", [x, { name: "shape", type: "dims", positional: true, required: true }], "dims may be symbolic"),
  layer("transpose", [x, { name: "perm", type: "ints", positional: true, required: true }], "permutes the axes"),
  layer("squeeze", [x, req("axis", "ints")], "removes size-1 axes"),
  layer("unsqueeze", [x, req("axis", "ints")], "inserts size-1 axes"),
  layer(
    "slice",
    [x, req("axis", "int"), opt("start", "int", 0), opt("end", "int", undefined, "to the end"), opt("step", "int", 1)],
    "x[start:end:step] along `axis`",
  ),
  layer("select", [x, req("axis", "int"), req("index", "int")], "picks one index, removing the axis"),
  reduction("sum", "sum"),
  reduction("mean", "mean"),
  reduction("max", "maximum"),
  layer("argmax", [x, opt("axis", "int", -1), opt("keepdims", "bool", false)], "index of the maximum (int32)"),
  pool("maxpool2d", "2-D max pooling"),
  pool("avgpool2d", "2-D average pooling"),
  layer("patches", [x, req("size", "int")], "[B, C, H, W] → [B, (H/p)(W/p), C·p·p]"),
  layer("positional", [x], "adds the sinusoidal position encoding"),
  layer("cast", [x, req("to", "dtype")], "converts the dtype"),
];

// ---- attention -------------------------------------------------------------------------------------

export interface AttentionKindSpec {
  readonly name: string;
  /** The options this kind accepts (the positional query, keys, values are common to all). */
  readonly options: readonly ArgSpec[];
  readonly params: readonly ParamSpec[];
  readonly doc: string;
}

/** `attention KIND(query, keys[, values], ...)`: values default to keys. */
export const attentionPositional: readonly ArgSpec[] = [
  tensor("query"),
  tensor("keys"),
  { name: "values", type: "tensor", positional: true, keyword: false, doc: "defaults to keys" },
];

/** Results of every attention call: a statement may take the output alone or both. */
export const attentionResults = ["out", "weights"] as const;

const scoreKinds = ["dot", "scaled_dot"] as const;

const commonOptions: readonly ArgSpec[] = [
  opt("mask", "tensor", undefined, "bool [B, Tk] key padding; true = masked out"),
  opt("causal", "bool", false),
  opt("window", "int", undefined, "keys within |i − j| ≤ window"),
  opt("select", { oneOf: ["softmax", "argmax"] }, undefined, "softmax, or argmax for hard attention"),
  opt("topk", "int", undefined, "softmax over the k best scores"),
];
const scaleOption = opt("scale", "number", undefined, "overrides 1/√d");
const scoreOption = opt("score", { oneOf: scoreKinds }, undefined, "the score function");
const uniformW = "uniform(±1/√fan_in)";

export const attentionKinds: readonly AttentionKindSpec[] = [
  { name: "dot", options: [...commonOptions, scaleOption], params: [], doc: "qᵀk" },
  { name: "scaled_dot", options: [...commonOptions, scaleOption], params: [], doc: "qᵀk / √d" },
  {
    name: "general",
    options: [...commonOptions, scaleOption],
    params: [{ name: "W.weight", shape: "[dq, dk]", init: uniformW }],
    doc: "qᵀ W k (Luong)",
  },
  {
    name: "concat",
    options: [...commonOptions, req("units", "int")],
    params: [
      { name: "W.weight", shape: "[units, dq+dk]", init: uniformW },
      { name: "v.weight", shape: "[1, units]", init: uniformW },
    ],
    doc: "vᵀ tanh(W [q; k]) (Luong)",
  },
  {
    name: "additive",
    options: [...commonOptions, req("units", "int")],
    params: [
      { name: "W_q.weight", shape: "[units, dq]", init: uniformW },
      { name: "W_k.weight", shape: "[units, dk]", init: uniformW },
      { name: "v.weight", shape: "[1, units]", init: uniformW },
    ],
    doc: "vᵀ tanh(W_q q + W_k k) (Bahdanau)",
  },
  {
    name: "multihead",
    options: [...commonOptions, scaleOption, req("heads", "int")],
    params: [
      { name: "in_proj_weight", shape: "[3E, E]", init: "xavier_uniform" },
      { name: "in_proj_bias", shape: "[3E]", init: "zeros" },
      { name: "out_proj.weight", shape: "[E, E]", init: uniformW },
      { name: "out_proj.bias", shape: "[E]", init: "zeros" },
    ],
    doc: "PyTorch nn.MultiheadAttention; weights averaged over heads",
  },
  { name: "hard", options: [...commonOptions, scaleOption, scoreOption], params: [], doc: "argmax (or top-k) selection" },
  {
    name: "local",
    options: [...commonOptions.filter((o) => o.name !== "window"), req("window", "int"), scaleOption, scoreOption],
    params: [],
    doc: "scaled dot within a window",
  },
];

// ---- lookups -----------------------------------------------------------------------------------------

const layersByName = new Map(layers.map((l) => [l.name, l]));
const kindsByName = new Map(attentionKinds.map((k) => [k.name, k]));

export function findLayer(name: string): LayerSpec | undefined {
  return layersByName.get(name);
}

export function findAttentionKind(name: string): AttentionKindSpec | undefined {
  return kindsByName.get(name);
}

export function layerNames(): string[] {
  return layers.map((l) => l.name);
}

export function attentionKindNames(): string[] {
  return attentionKinds.map((k) => k.name);
}

/** Arguments that may be given positionally, in order. */
export function positionalArgs(args: readonly ArgSpec[]): ArgSpec[] {
  return args.filter((a) => a.positional === true);
}

/** Arguments that may be given as `name: value`. */
export function keywordArgs(args: readonly ArgSpec[]): ArgSpec[] {
  return args.filter((a) => a.keyword ?? true);
}

/** "an integer", "one of `softmax`, `argmax`", ... for messages. */
export function describeArgType(type: ArgType): string {
  if (typeof type === "object") return `one of ${type.oneOf.map((w) => `\`${w}\``).join(", ")}`;
  switch (type) {
    case "tensor":
      return "a tensor";
    case "int":
      return "an integer";
    case "number":
      return "a number";
    case "bool":
      return "`true` or `false`";
    case "string":
      return "a string";
    case "dtype":
      return "a dtype (`float32`, `int32` or `bool`)";
    case "ints":
      return "an integer or a list of integers";
    case "dims":
      return "a list of dimensions";
  }
}
