// dropout_mask: training-mode dropout's keep-mask, as the same counter-based hash every backend computes
// (`dropoutUniform` of @attn/core: murmur3's fmix32 over a key mixed from step, salt and element index).
import { BackendError, formatSpan } from "@attn/core";
import { registerExporter } from "../op-exporter.js";
import { ELEM } from "../proto.js";
import { full, input, out } from "./util.js";
import type { OnnxExportContext } from "../exporter.js";

const UINT32 = 12;
/** The opset that added BitwiseXor (BitShift is from 11, uint32 Mul/Add wrap modulo 2³²). */
const MIN_OPSET = 18;

/**
 * dropout_mask(x, step) = 1/(1 − p) where dropoutUniform(step, salt, i) ≥ p, else 0, bit for bit. All
 * arithmetic is uint32 (ONNX Mul/Add on uint32 wrap modulo 2³², as Math.imul and `>>> 0`), so:
 *
 *   key = fmix32((u32(step) · 0x9e3779b9) ^ u32(salt · 0x85ebca6b))   (a scalar; the salt term is a constant)
 *   h_i = fmix32((key ^ u32(i) · 0xc2b2ae35) + 0x27d4eb2f)            (i: Range over x's elements, shaped like x)
 *   keep_i = h_i ≥ ⌈p · 2³²⌉                                          (u = h / 2³² ≥ p exactly, for integer h)
 *
 * fmix32(h) = h ^= h >> 16; h ·= 0x85ebca6b; h ^= h >> 13; h ·= 0xc2b2ae35; h ^= h >> 16. The keep value is
 * 1/(1 − p) rounded to float32, as the CPU kernel stores it. Needs BitwiseXor (opset 18): at opset 17 the
 * export fails naming the node and telling to export at opset 23.
 */
registerExporter("dropout_mask", (c, node) => {
  const ctx = full(c);
  const p = node.attrs.p as number;
  const salt = (node.attrs.salt as number | undefined) ?? 0;
  if (ctx.opset < MIN_OPSET) {
    const at = node.span ? formatSpan(node.span) : "<no span>";
    throw new BackendError(
      `cannot export dropout_mask (at ${at}) at ONNX opset ${ctx.opset}: its counter-based hash needs the bitwise integer ops of opset ${MIN_OPSET} (BitwiseXor); export with --opset 23 (exportModel/createOnnxBackend option opset: 23)`,
      node.span,
    );
  }
  const x = input(node, 0);
  const consts = new Map<number, string>();
  const u32 = (v: number) => consts.get(v) ?? consts.set(v, u32Const(ctx, v)).get(v)!;
  const shr = (h: string, k: number) => ctx.op("BitShift", [h, u32(k)], { direction: { string: "RIGHT" } })[0];
  const xor = (a: string, b: string) => ctx.op("BitwiseXor", [a, b])[0];
  const mul = (a: string, k: number) => ctx.op("Mul", [a, u32(k)])[0];
  const fmix32 = (h: string) => {
    h = xor(h, shr(h, 16));
    h = mul(h, 0x85ebca6b);
    h = xor(h, shr(h, 13));
    h = mul(h, 0xc2b2ae35);
    return xor(h, shr(h, 16));
  };

  const step = ctx.op("Cast", [input(node, 1)], { to: { int: UINT32 } })[0];
  const key = fmix32(xor(mul(step, 0x9e3779b9), u32(Math.imul(salt >>> 0, 0x85ebca6b) >>> 0)));

  // Element indices 0 … n−1 in x's shape (row-major, as the CPU kernel's flat index); int64 → uint32 keeps
  // the low 32 bits, as `index >>> 0`.
  const shape = ctx.op("Shape", [x])[0];
  const n = ctx.op("Size", [x])[0];
  const range = ctx.op("Range", [ctx.constInt64([0], []), n, ctx.constInt64([1], [])])[0];
  const index = ctx.op("Cast", [ctx.op("Reshape", [range, shape])[0]], { to: { int: UINT32 } })[0];

  const h = fmix32(ctx.op("Add", [xor(key, mul(index, 0xc2b2ae35)), u32(0x27d4eb2f)])[0]);
  const threshold = Math.ceil(p * 4294967296);
  const keep = Math.fround(1 / (1 - p));
  if (threshold > 0xffffffff) {
    // p so close to 1 that no 32-bit draw reaches it: every element is dropped.
    ctx.node({ opType: "Expand", inputs: [ctx.constFloat([0], []), shape], outputs: [out(node)] });
    return;
  }
  const kept = ctx.op("GreaterOrEqual", [h, u32(threshold)])[0];
  ctx.node({ opType: "Where", inputs: [kept, ctx.constFloat([keep], []), ctx.constFloat([0], [])], outputs: [out(node)] });
});

/**
 * A uint32 scalar constant. The exporter's initializers are int64/int32/float/bool, so it is an int64
 * initializer Cast to uint32 (in range, so exact); ONNX Runtime folds the Cast when it loads the model.
 */
function u32Const(ctx: OnnxExportContext, v: number): string {
  return ctx.op("Cast", [ctx.constOf(ELEM.INT64, [v >>> 0], [])], { to: { int: UINT32 } })[0];
}
