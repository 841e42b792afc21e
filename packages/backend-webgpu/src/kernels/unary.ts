import { dispatch, FLAT_INDEX, groupsFor, inferOutputs, WG, WGSL_FLOAT, WGSL_UNIFORMS, type Kernel } from "../kernel.js";

/**
 * Elementwise float ops, one thread per element. NaN passes through; log and sqrt of negatives give NaN,
 * log(0) gives −inf. erf (its own op, the derivative of exact GELU, and inside GELU's exact form) is the
 * Maclaurin series up to x¹³ for |x| < 0.5, where it is accurate to f32 rounding and keeps the relative
 * error small near 0, and Abramowitz & Stegun 7.1.26 beyond (absolute error below 1.5e-7). sign gives −1,
 * 0 or 1 (−0 gives 0) and keeps NaN, as torch.sign.
 */
const BODIES: Readonly<Record<string, string>> = {
  relu: "return select(x, 0.0, x < 0.0);",
  tanh: "return tanh(clamp(x, -20.0, 20.0));",
  sigmoid: "return sigmoid(x);",
  exp: "if (x > 88.72284) { return pos_inf(); } return exp(x);",
  log: "if (x < 0.0) { return nan(); } if (x == 0.0) { return neg_inf(); } return log(x);",
  neg: "return -x;",
  sqrt: "if (x < 0.0) { return nan(); } return sqrt(x);",
  abs: "return abs(x);",
  silu: "return x * sigmoid(x);",
  gelu: "return 0.5 * x * (1.0 + erf(x * 0.70710678118654752));",
  erf: "return erf(x);",
  sign: "if (is_nan(x)) { return x; } if (x == 0.0) { return 0.0; } return select(-1.0, 1.0, x > 0.0);",
  gelu_tanh: "return 0.5 * x * (1.0 + tanh(clamp(0.79788456080286536 * (x + 0.044715 * x * x * x), -20.0, 20.0)));",
};

const HELPERS = `${WGSL_FLOAT}
fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn erf(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.5) {
    let z = x * x;
    let p = ((((((0.00012055332981789664 * z - 0.0008548327023450852) * z + 0.005223977625442188) * z - 0.026866170645131252) * z
      + 0.11283791670955126) * z - 0.37612638903183754) * z + 1.1283791670955126);
    return x * p;
  }
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let p = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  let y = 1.0 - p * exp(-a * a);
  return select(y, -y, x < 0.0);
}
`;

function shader(body: string, inType: string, outType: string): string {
  return `${WGSL_UNIFORMS}${HELPERS}
@group(0) @binding(1) var<storage, read> X: array<${inType}>;
@group(0) @binding(2) var<storage, read_write> Y: array<${outType}>;
fn f(x: ${inType}) -> ${outType} { ${body} }
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${FLAT_INDEX}
  if (i >= u(0)) { return; }
  Y[i] = f(X[i]);
}`;
}

function unaryKernel(name: string): Kernel {
  return (inputs, attrs, ctx) => {
    const { attrs: a, outputs } = inferOutputs<{ approximate?: string }>(ctx, inputs, attrs);
    const x = inputs[0]!;
    const o = outputs[0];
    const y = ctx.pool.tensor(o.dtype, o.shape);
    const variant = name === "gelu" && a.approximate === "tanh" ? "gelu_tanh" : name;
    const isNot = name === "logical_not";
    if (y.size > 0) {
      dispatch(ctx, `unary:${variant}`, () => (isNot ? shader("return select(0u, 1u, x == 0u);", "u32", "u32") : shader(BODIES[variant], "f32", "f32")), [x, y], [y.size], groupsFor(y.size));
    }
    return [y];
  };
}

/** The unary kernels, by IR op name. */
export const unaryKernels: Readonly<Record<string, Kernel>> = Object.fromEntries(
  [...Object.keys(BODIES).filter((k) => k !== "gelu_tanh"), "logical_not"].map((n) => [n, unaryKernel(n)]),
);
